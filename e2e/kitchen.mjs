// The kitchen screen read from two metres on a 1920x1080 screen: eleven tickets, each
// with a key (the 10th is 0, the 11th A), items in large type, the allergy note on amber,
// lateness in words, a rush badge that leaves the timer inside its card; the text size
// switch; a chime when a new ticket arrives with the sound on. Prints one JSON line.
//
// The Rust test sends the tickets (one rushed, with a note) and makes the station "late"
// after 0 s; this script has a waiter send one more order while the screen watches.
//
// Environment: COMANDA_URL, COMANDA_STORE, COMANDA_PASSWORD (everyone's), CHROMIUM.
import { launch, report, shooter, signIn, watch } from './browser.mjs';

const browser = await launch();
const troubles = [];
const result = {};
const shot = shooter();

await report(browser, result, troubles, async () => {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'en-US' });
  const page = await context.newPage();
  watch(page, 'cook', troubles);
  await signIn(page, 'cozinha', process.env.COMANDA_PASSWORD, /\/kds\//);
  await page.waitForSelector('[data-test=ticket] >> nth=10');
  result.keys = await page.locator('[data-test=ticket] .key').allInnerTexts();
  result.item_px = await page.locator('.kline strong').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
  const note = page.locator('.kline .note').first();
  result.note = await note.innerText();
  result.note_background = await note.evaluate((e) => getComputedStyle(e).backgroundColor);
  result.lateness = await page.locator('[data-test=lateness]').first().innerText();
  // The rushed ticket: its timer stays inside the card.
  const rushed = page.locator('[data-test=ticket].rush').first();
  result.timer_inside = await rushed.evaluate((card) => {
    const c = card.getBoundingClientRect();
    const timer = card.querySelector('.timer').getBoundingClientRect();
    return timer.right <= c.right && timer.left >= c.left;
  });

  await shot(page, 'kds-far');
  await page.keyboard.press('0');
  result.selected_by_0 = await page.locator('[data-test=ticket].selected .key').innerText();
  await page.keyboard.press('a');
  result.selected_by_a = await page.locator('[data-test=ticket].selected .key').innerText();

  await page.selectOption('#size', 'l');
  result.item_px_large = await page.locator('.kline strong').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize));

  // The sound on, then one more order: a chime.
  await page.click('#sound');
  result.sound_button = await page.locator('#sound').innerText();
  const floor = await (await browser.newContext({ locale: 'en-US' })).newPage();
  watch(floor, 'waiter', troubles);
  await signIn(floor, 'garcom', process.env.COMANDA_PASSWORD);
  await floor.evaluate(async () => {
    const menu = await api('GET', '/catalog/menu');
    const product = menu.products.find((p) => p.name === 'Pão de queijo');
    const order = await api('POST', '/orders', { kind: 'counter', lines: [{ product_id: product.id, quantity: 1 }] });
    await api('POST', at('/orders/{order_id}/send', { order_id: order.id }), { version: order.version });
  });
  await page.waitForSelector('[data-test=ticket] >> nth=11');
  await page.waitForFunction(() => Number(document.body.dataset.chimed || 0) > 0, null, { timeout: 5000 }).catch(() => {});
  result.chimes = Number(await page.evaluate(() => document.body.dataset.chimed || 0));
});
