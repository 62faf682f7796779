// The floor as two terminals see it: the map grouped by the store's areas; a waiter's
// order at a table changes one tile on the other terminal, which reads that one order
// and nothing else; "ready" is told to the waiter who took the order, not to the
// cashier. Prints one JSON line of what it saw.
//
// Environment: COMANDA_URL, COMANDA_STORE, COMANDA_PASSWORD (everyone's), CHROMIUM.
import { launch, person, report } from './browser.mjs';

const password = process.env.COMANDA_PASSWORD;
const browser = await launch();
const result = {};
const troubles = [];


/** The API calls `page` makes from now on: method, path and bytes received. */
function calls(page) {
  const seen = [];
  page.on('requestfinished', async (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith('/api/') || url.pathname.endsWith('/stream')) return;
    const sizes = await request.sizes().catch(() => ({ responseBodySize: 0 }));
    seen.push({ call: `${request.method()} ${url.pathname.replace(/^\/api\/v1\/stores\/[^/]+/, '')}${url.search}`, bytes: sizes.responseBodySize });
  });
  return seen;
}

await report(browser, result, troubles, async () => {
  const waiter = await person(browser, troubles, 'garcom', password);
  const cashier = await person(browser, troubles, 'caixa', password);
  result.areas = await cashier.locator('[data-test=area] .area-name').allInnerTexts();
  result.area_tables = await cashier.locator('[data-test=area]').evaluateAll((areas) =>
    areas.map((a) => [...a.querySelectorAll('[data-test=table] strong')].map((s) => s.textContent)),
  );

  // The waiter's order at the veranda; the cashier's floor follows it.
  const heard = calls(cashier);
  await waiter.locator('[data-test=table]', { hasText: 'Varanda 1' }).click();
  await waiter.waitForSelector('#order:not([hidden])');
  await waiter.locator('[data-test=product]', { hasText: 'Pão de queijo' }).click();
  await waiter.click('#send');
  await waiter.waitForSelector('#floor:not([hidden])');
  await cashier.waitForSelector('[data-test=table][data-state="sent"]');
  result.cashier_tile = await cashier.locator('[data-test=table][data-state="sent"]').innerText();
  result.cashier_calls = heard.map((c) => c.call);
  result.cashier_bytes = heard.reduce((sum, c) => sum + c.bytes, 0);

  // The kitchen finishes it: the waiter is told, the cashier is not.
  const orderId = await waiter.evaluate(() => S.order.id);
  const cook = await person(browser, troubles, 'cozinha', password, /\/kds\//);
  await cook.evaluate(async (id) => {
    const order = await api('GET', at('/orders/{order_id}', { order_id: id }));
    await api('POST', at('/orders/{order_id}/ready', { order_id: id }), { version: order.version });
  }, orderId);
  await waiter.waitForSelector('.toast.ready');
  result.waiter_ready = await waiter.locator('.toast.ready').innerText();
  await cashier.waitForSelector('[data-test=table][data-state="ready"]');
  result.cashier_ready_toasts = await cashier.locator('.toast.ready').count();
});
