// One evening in the browser, end to end: a waiter takes a table's order with a
// modifier and a note, the kitchen screen shows it, the cook bumps it with the bump
// bar's keys, the waiter is told it is ready, the cashier takes cash and gives change,
// and the manager's Z report shows the sale. Run by crates/comanda/tests/web_e2e.rs
// against a real server; prints one JSON line of what it saw and measured.
//
// Environment: COMANDA_URL, COMANDA_STORE, COMANDA_LANG (the language picked on the
// sign-in page), COMANDA_TABLE, COMANDA_PRODUCT, COMANDA_OPTION, COMANDA_NOTE,
// COMANDA_CASH (what the customer hands over, as typed), COMANDA_PASSWORD (everyone's),
// COMANDA_SCREENSHOTS (a directory; none taken without it), CHROMIUM.
import { launch, shooter, watch } from './browser.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env('COMANDA_URL');
const store = env('COMANDA_STORE');
const lang = env('COMANDA_LANG');
const password = env('COMANDA_PASSWORD');
const browser = await launch();
const result = { lang };
// Requests that failed or were refused, by whom: shown when a step times out.
const troubles = [];

const shot = shooter();

/** A person signed in through the sign-in page, in the language chosen there. */
async function person(login, viewport) {
  const context = await browser.newContext({ viewport, locale: lang });
  const page = await context.newPage();
  watch(page, login, troubles);
  await page.goto(`${base}/app/login`);
  if ((await page.locator('#language').inputValue()) !== lang) {
    await Promise.all([page.waitForEvent('load'), page.selectOption('#language', lang)]);
  }
  if (login === 'garcom') await shot(page, 'login');
  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/\/app\/stores\//), page.click('#login-submit')]);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

try {
  // Page weight and time to interactive of the POS, on a cold cache.
  const waiter = await person('garcom', { width: 1280, height: 800 });
  let bytes = 0;
  const cdp = await waiter.context().newCDPSession(waiter);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
  });
  const started = Date.now();
  await waiter.goto(`${base}/app/stores/${store}/pos`);
  await waiter.waitForSelector('body[data-ready="true"]');
  result.pos_interactive_ms = Date.now() - started;
  result.pos_bytes = bytes;
  result.lang_attribute = await waiter.getAttribute('html', 'lang');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  await cdp.detach();

  const cook = await person('cozinha', { width: 1280, height: 800 });
  const cashier = await person('caixa', { width: 1280, height: 800 });
  const manager = await person('gerente', { width: 1280, height: 800 });
  await manager.goto(`${base}/app/stores/${store}/office`);
  await manager.waitForSelector('body[data-ready="true"]');
  await shot(waiter, 'pos-floor');
  await shot(cook, 'kds-empty');

  // The waiter takes table's order: the product, a modifier, a note.
  const table = waiter.locator('[data-test=table]', { hasText: env('COMANDA_TABLE') });
  await table.click();
  await waiter.waitForSelector('#order:not([hidden])');
  const soldOut = waiter.locator('[data-test=product]', { hasText: 'Picanha' });
  result.sold_out_disabled = await soldOut.isDisabled();
  result.sold_out_text = (await soldOut.locator('.price').innerText()).trim();
  // Two of the last one: the send is refused, the toast says how many are left, and the
  // waiter takes the lines off.
  const costela = waiter.locator('[data-test=product]', { hasText: 'Costela' });
  await costela.click();
  await costela.click();
  await waiter.click('#send');
  const refused = waiter.locator('.toast.error').last();
  await refused.waitFor();
  result.out_of_stock_toast = (await refused.innerText()).trim();
  while (await waiter.locator('[data-test=pending-line] .remove').count()) {
    await waiter.locator('[data-test=pending-line] .remove').first().click();
  }
  await refused.click();
  await waiter.locator('[data-test=product]', { hasText: env('COMANDA_PRODUCT') }).click();
  await waiter.locator('#modifiers .option', { hasText: env('COMANDA_OPTION') }).locator('input').check();
  await waiter.fill('#line-notes', env('COMANDA_NOTE'));
  await shot(waiter, 'pos-modifiers');
  await waiter.click('#modifiers-add');
  await waiter.waitForSelector('[data-test=pending-line]');
  await shot(waiter, 'pos-order');

  // The kitchen screen notes the moment the ticket appears.
  await cook.evaluate(() => {
    window.__ticketSeen = new Promise((resolve) => {
      const seen = () => document.querySelector('[data-test=ticket]');
      if (seen()) return resolve(Date.now());
      setTimeout(() => resolve(null), 10000);
      new MutationObserver((_, observer) => {
        if (seen()) {
          observer.disconnect();
          resolve(Date.now());
        }
      }).observe(document.body, { childList: true, subtree: true });
    });
  });
  const sentAt = await waiter.evaluate(() => Date.now());
  await waiter.click('#send');
  const seenAt = await cook.evaluate(() => window.__ticketSeen);
  if (seenAt === null) {
    const pos = await waiter.locator('#lines').innerText();
    const live = await cook.locator('#live').getAttribute('data-state');
    const notices = await waiter.locator('.toast').allInnerTexts();
    throw new Error(`no ticket reached the kitchen screen within 10 s; the ticket on the POS: ${pos}; the kitchen screen's stream: ${live}; notices: ${notices}; requests: ${troubles.join(' | ')}`);
  }
  result.kitchen_latency_ms = seenAt - sentAt;
  const ticket = cook.locator('[data-test=ticket]').first();
  result.ticket_text = (await ticket.innerText()).replace(/\s+/g, ' ');
  await shot(cook, 'kds-ticket');

  // The cook bumps it from the bump bar: select ticket 1, press Enter.
  await cook.keyboard.press('1');
  await cook.keyboard.press('Enter');
  await cook.waitForSelector('[data-test=ticket]', { state: 'detached' });

  // The waiter hears about it without reloading.
  const notice = waiter.locator('.toast.ready').first();
  await notice.waitFor({ timeout: 5000 });
  result.ready_text = await notice.innerText();
  await waiter.waitForSelector('[data-test=table].state-ready');
  await shot(waiter, 'pos-ready');

  // The cashier's floor shows it too, live, and she takes cash and gives change, closes
  // the order, shows the receipt.
  const cashierTable = cashier.locator('[data-test=table]', { hasText: env('COMANDA_TABLE') });
  try {
    await cashier.locator('[data-test=table].state-ready', { hasText: env('COMANDA_TABLE') }).waitFor({ timeout: 5000 });
  } catch (e) {
    const tiles = await cashier.locator('[data-test=table]').allInnerTexts();
    const live = await cashier.locator('#live').getAttribute('data-state');
    throw new Error(`the cashier's floor did not show the table ready: ${tiles}; stream ${live}; requests: ${troubles.join(' | ')}`);
  }
  await cashierTable.click();
  await cashier.waitForSelector('#order:not([hidden])');
  await cashier.click('#pay');
  await cashier.waitForSelector('#payment:not([hidden])');
  await cashier.fill('#pay-amount', env('COMANDA_CASH'));
  await cashier.click('#take-payment');
  await cashier.waitForSelector('#close-order:not([disabled])');
  result.change_text = (await cashier.locator('#pay-change').innerText()).trim();
  result.due_text = (await cashier.locator('#pay-due').innerText()).trim();
  await shot(cashier, 'pos-payment');
  await cashier.click('#close-order');
  await cashier.waitForSelector('#receipt:not([hidden])');
  const receipt = cashier.frameLocator('#receipt-frame');
  await receipt.locator('body').waitFor();
  result.receipt_text = (await receipt.locator('body').innerText()).replace(/\s+/g, ' ');
  await shot(cashier, 'pos-receipt');

  // The manager closes the day; the Z report lists the sale.
  manager.on('dialog', (dialog) => dialog.accept());
  const before = await manager.locator('[data-test=z-row]').count();
  await manager.click('#close-day');
  await manager.waitForFunction((n) => document.querySelectorAll('[data-test=z-row]').length > n, before);
  // Newest first: the report just issued.
  result.z_total_text = (await manager.locator('[data-test=z-total]').first().innerText()).trim();
  result.x_after_text = (await manager.locator('#x-report').innerText()).replace(/\s+/g, ' ');
  await shot(manager, 'office-reports');

  // A network drop at the kitchen: the screen says so, and what was sent meanwhile is
  // there once the network is back.
  await cook.context().setOffline(true);
  await cook.waitForSelector('#live[data-state="offline"]', { timeout: 15000 });
  result.offline_text = await cook.locator('#live').innerText();
  await waiter.locator('[data-test=table]', { hasText: env('COMANDA_TABLE') }).click();
  await waiter.waitForSelector('#order:not([hidden])');
  await waiter.locator('[data-test=product]', { hasText: env('COMANDA_PRODUCT') }).click();
  await waiter.click('#modifiers-add');
  await waiter.click('#send');
  await waiter.waitForSelector('#floor:not([hidden])');
  await cook.waitForTimeout(300);
  result.tickets_while_offline = await cook.locator('[data-test=ticket]').count();
  await cook.context().setOffline(false);
  await cook.waitForSelector('[data-test=ticket]', { timeout: 20000 });
  await cook.waitForSelector('#live[data-state="online"]');
  result.tickets_after_drop = await cook.locator('[data-test=ticket]').count();
  // Made and bumped, so the next run finds an empty screen.
  await cook.keyboard.press('1');
  await cook.keyboard.press('Enter');
  await cook.waitForSelector('[data-test=ticket]', { state: 'detached' });
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
