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
  /** What the other terminal's API calls since `since` brought in (Resource Timing:
   * headers and body as sent), calls of the live stream left out. */
  const readSince = (since) =>
    other.page.evaluate((since) => {
      const calls = performance
        .getEntriesByType('resource')
        .filter((e) => e.startTime >= since && e.name.includes('/api/') && !e.name.includes('/stream'));
      return { requests: calls.length, bytes: calls.reduce((sum, e) => sum + e.transferSize, 0) };
    }, since);
  const mark = () =>
    other.page.evaluate(() => {
      performance.setResourceTimingBufferSize(100000);
      return performance.now();
    });
  let since = await mark();

  // Send: a line added at a table, then Send until the floor shows again.
  let last = null;
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
    last = await page.evaluate(() => ({ id: S.order.id, version: S.order.version }));
  }
  // The other floor has read the last send once it holds that version of the order.
  await other.page.waitForFunction(
    (last) => S.tables.some((tb) => (tb.orders || []).some((o) => o.id === last.id && o.version >= last.version)),
    last,
  );
  const perChange = await readSince(since);
  result.floor_requests_per_change = Number((perChange.requests / runs).toFixed(1));
  result.floor_bytes_per_change = Math.round(perChange.bytes / runs);

  // The whole floor, as a full reload reads it (for comparison): loadTables returns once
  // every answer is in.
  since = await mark();
  await other.page.evaluate(() => loadTables());
  result.floor_full_bytes = (await readSince(since)).bytes;
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
