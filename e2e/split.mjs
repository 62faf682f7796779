// Splitting bills at the POS: a table's tab split by seat (the table then holds two
// bills and the waiter picks one), a bill split into equal shares paid one by one, and
// items of a counter order moved onto a new bill that waits among the open orders.
// Prints one JSON line of what it saw.
//
// Environment: COMANDA_URL, COMANDA_STORE, COMANDA_PASSWORD (the manager's),
// COMANDA_SCREENSHOTS (optional), CHROMIUM.
import { launch, shooter, signIn, watch } from './browser.mjs';

const base = process.env.COMANDA_URL;
const browser = await launch();
const result = {};
const shot = shooter();

async function addOnSeat(page, product, seat) {
  await page.locator('[data-test=product]', { hasText: product }).click();
  await page.fill('#line-seat', String(seat));
  await page.click('#modifiers-add');
}

async function splitBy(page, way) {
  await page.click('#split');
  await page.check(`input[name=split-way][value=${way}]`);
}

let page;
let troubles = [];
try {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'en-US' });
  page = await context.newPage();
  troubles = watch(page, 'gerente');
  await signIn(page, 'gerente', process.env.COMANDA_PASSWORD);

  // Two guests at Mesa 2, one bill each.
  await page.locator('[data-test=table]', { hasText: 'Mesa 2' }).click();
  await page.waitForSelector('#order:not([hidden])');
  await addOnSeat(page, 'Caipirinha', 1);
  await addOnSeat(page, 'Caipirinha', 2);
  await page.click('#send');
  await page.waitForSelector('#floor:not([hidden])');
  await page.locator('[data-test=table]', { hasText: 'Mesa 2' }).click();
  await page.waitForSelector('#split:not([disabled])');
  await splitBy(page, 'seat');
  await page.click('#split-dialog button[value=apply]');
  await page.waitForSelector('#floor:not([hidden])');
  const mesa2 = page.locator('[data-test=table]', { hasText: 'Mesa 2' });
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-test=table]')].some((t) => t.textContent.includes('Mesa 2') && t.textContent.includes(' · ')),
  );
  result.table_tile = await mesa2.innerText();
  await mesa2.click();
  await page.waitForSelector('#bills-dialog[open] [data-test=bill]');
  result.bills = await page.locator('[data-test=bill]').allInnerTexts();
  await shot(page, 'pos-bills');

  // The second guest pays half now and half later (the same card, say, or a friend).
  await page.locator('[data-test=bill]').last().click();
  await page.waitForSelector('#split:not([disabled])');
  await splitBy(page, 'parts');
  await page.fill('#split-parts', '2');
  await page.click('#split-dialog button[value=apply]');
  await page.waitForSelector('#payment:not([hidden]) #pay-share:not([hidden])');
  result.first_share = await page.locator('#pay-share').innerText();
  result.first_amount = await page.inputValue('#pay-amount');
  await page.click('#take-payment');
  await page.waitForFunction((first) => document.getElementById('pay-share').textContent !== first, result.first_share);
  result.second_share = await page.locator('#pay-share').innerText();
  await shot(page, 'pos-split-shares');
  await page.click('#take-payment');
  await page.waitForSelector('#close-order:not([disabled])');
  await page.click('#close-order');
  await page.waitForSelector('#receipt:not([hidden])');
  await page.click('#receipt-done');

  // At the counter: one pão de queijo goes onto its own bill.
  await page.click('#counter-order');
  await page.locator('[data-test=product]', { hasText: 'Pão de queijo' }).click();
  await page.locator('[data-test=product]', { hasText: 'Pão de queijo' }).click();
  await page.locator('[data-test=product]', { hasText: 'Caipirinha' }).click();
  await page.click('#modifiers-add');
  await page.click('#send');
  await page.waitForSelector('#split:not([disabled])');
  await splitBy(page, 'lines');
  await page.locator('[data-test=split-line]').first().check();
  await shot(page, 'pos-split-lines');
  await page.click('#split-dialog button[value=apply]');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=line]').length === 2);
  result.left_on_order = await page.locator('[data-test=line]').count();
  await page.click('#to-floor');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=open-order]').length === 2);
  result.open_orders = await page.locator('[data-test=open-order]').allInnerTexts();
  await shot(page, 'pos-open-orders');

  // The guest left at Mesa 2 moves to Mesa 1, and the counter order joins her tab.
  await page.locator('[data-test=table]', { hasText: 'Mesa 2' }).click();
  await page.waitForSelector('#move:not([disabled])');
  await page.click('#move');
  await page.locator('[data-test=move-target]', { hasText: 'Mesa 1' }).click();
  await page.waitForFunction(() => document.getElementById('order-title').textContent.includes('Mesa 1'));
  await page.click('#to-floor');
  await page.locator('[data-test=open-order]', { hasText: '27.00' }).click();
  await page.waitForSelector('#move:not([disabled])');
  await page.click('#move');
  await page.waitForSelector('#move-dialog[open] [data-test=join-target]');
  result.move_targets = await page.locator('#move-targets button').allInnerTexts();
  await shot(page, 'pos-move');
  await page.locator('[data-test=join-target]', { hasText: 'Mesa 1' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-test=line]').length === 3);
  result.joined_title = await page.locator('#order-title').innerText();
  result.joined_total = await page.locator('[data-total=totals-total]').innerText();
  console.log(JSON.stringify(result));
} catch (e) {
  // What the screen said is usually why.
  if (page) {
    const screen = await page.evaluate(() => [...document.querySelectorAll('.toast, #payment dd, #pay-share, #order-title, [data-test=line], #move-targets button')].map((e) => `${e.id || e.className}=${e.textContent}`));
    console.error('on screen:', screen, 'requests:', troubles);
  }
  throw e;
} finally {
  await browser.close();
}
