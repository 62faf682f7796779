// The POS on a cheap tablet, for `comanda bench web`: Chromium's CPU slowed down
// COMANDA_THROTTLE times (Chrome DevTools' way, Emulation.setCPUThrottlingRate), a
// 1024x768 screen. Measures, COMANDA_RUNS times each: a cold load of the POS (navigation
// to the floor drawn, nothing cached); a tap on a table until its order screen shows the
// tab's lines; Send of one line until the floor is back. And what another terminal's
// floor downloads when one order changes, against the whole floor. Prints one JSON line.
//
// Environment: COMANDA_URL, COMANDA_STORE, COMANDA_LOGIN, COMANDA_PASSWORD, COMANDA_RUNS,
// COMANDA_THROTTLE, CHROMIUM.
import { launch, signIn } from './browser.mjs';

const base = process.env.COMANDA_URL;
const store = process.env.COMANDA_STORE;
const runs = Number(process.env.COMANDA_RUNS || 5);
const throttle = Number(process.env.COMANDA_THROTTLE || 4);
const browser = await launch();
const result = { cold_load_ms: [], tap_table_ms: [], send_ms: [] };

async function tablet() {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'pt-BR' });
  const page = await context.newPage();
  await signIn(page, process.env.COMANDA_LOGIN, process.env.COMANDA_PASSWORD);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  await cdp.send('Network.enable');
  return { page, cdp };
}

/** The time from now until `condition` holds in the page, measured in the page. */
async function until(page, action, condition) {
  await page.evaluate(() => {
    window.__t0 = performance.now();
  });
  await action();
  await page.waitForFunction(condition, null, { polling: 'raf' });
  return page.evaluate(() => performance.now() - window.__t0);
}

try {
  const { page, cdp } = await tablet();
  const pos = `${base}/app/stores/${store}/pos`;

  // Cold loads: nothing cached, bytes counted on the first.
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0;
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
  });
  for (let i = 0; i < runs; i++) {
    bytes = 0;
    const started = Date.now();
    await page.goto(pos);
    await page.waitForSelector('body[data-ready="true"]');
    result.cold_load_ms.push(Date.now() - started);
    if (i === 0) result.cold_bytes = bytes;
  }
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });

  // Tap a table with a tab; back to the floor between runs.
  for (let i = 0; i < runs; i++) {
    const table = page.locator('[data-test=table]', { hasText: `Mesa ${(i % 10) + 1}` }).first();
    result.tap_table_ms.push(
      await until(page, () => table.click(), () => document.body.dataset.view === 'order' && document.querySelectorAll('[data-test=line]').length > 0),
    );
    await page.click('#to-floor');
    await page.waitForSelector('#floor:not([hidden])');
  }

  // Another terminal watches the floor while this one sends.
  const other = await tablet();
  const heard = [];
  other.page.on('requestfinished', async (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith('/api/') || url.pathname.endsWith('/stream')) return;
    const sizes = await request.sizes().catch(() => ({ responseBodySize: 0, responseHeadersSize: 0 }));
    heard.push(sizes.responseBodySize + sizes.responseHeadersSize);
  });

  // Send: a line added at a table, then Send until the floor shows again.
  for (let i = 0; i < runs; i++) {
    await page.locator('[data-test=table]', { hasText: `Mesa ${(i % 10) + 1}` }).first().click();
    await page.waitForSelector('#order:not([hidden]) [data-test=line]');
    await page.locator('[data-test=product]').nth(i % 5).click();
    if (await page.locator('#modifiers[open]').count()) {
      // "Ponto" needs one choice.
      await page.locator('#groups fieldset').first().locator('input').first().check();
      await page.click('#modifiers-add');
    }
    await page.waitForSelector('[data-test=pending-line]');
    result.send_ms.push(await until(page, () => page.click('#send'), () => document.body.dataset.view === 'floor'));
  }
  await other.page.waitForTimeout(1000);
  result.floor_requests_per_change = Number((heard.length / runs).toFixed(1));
  result.floor_bytes_per_change = Math.round(heard.reduce((a, b) => a + b, 0) / runs);

  // The whole floor, as a full reload reads it (for comparison).
  heard.length = 0;
  await other.page.evaluate(() => loadTables());
  await other.page.waitForTimeout(500);
  result.floor_full_bytes = heard.reduce((a, b) => a + b, 0);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
