// Sessions that last a service. A waiter with an unsent line reloads the POS three times,
// each time after her access cookie expired; seven idle tablets, their access cookies
// expired, hear of another terminal's order at once (each renews while reloading its
// floor) and are then tapped; a terminal whose staff session is ended goes back to its
// PIN screen, and the lines it had not sent are there again after the PIN. Prints one
// JSON line of what it saw.
//
// An access cookie "expires" here by being deleted, which is what the browser does at
// its Max-Age: the next call is refused and the page renews from the refresh cookie.
//
// Environment: COMANDA_URL, COMANDA_STORE, COMANDA_PASSWORD (everyone's), COMANDA_PIN
// (the waiter's), CHROMIUM.
import { launch, person, pinSignIn, registerTerminal, report, signIn, watch } from './browser.mjs';

const base = process.env.COMANDA_URL;
const store = process.env.COMANDA_STORE;
const password = process.env.COMANDA_PASSWORD;
const browser = await launch();
const result = {};
const troubles = [];

const tablet = () => person(browser, troubles, 'garcom', password);

async function expire(page) {
  await page.context().clearCookies({ name: 'comanda_access' });
}

async function addCaipirinha(page, table) {
  await page.locator('[data-test=table]', { hasText: table }).click();
  await page.waitForSelector('#order:not([hidden])');
  await page.locator('[data-test=product]', { hasText: 'Caipirinha' }).click();
  await page.click('#modifiers-add');
  await page.waitForSelector('[data-test=pending-line]');
}

await report(browser, result, troubles, async () => {
  // Three reloads, each past the access token's life, with a line not yet sent.
  const waiter = await tablet('reloads');
  await addCaipirinha(waiter, 'Mesa 1');
  result.reloads = [];
  for (let i = 0; i < 3; i++) {
    await expire(waiter);
    await waiter.reload();
    await waiter.waitForURL(/\/app\//);
    await waiter.waitForSelector('body[data-ready="true"]');
    result.reloads.push({
      path: new URL(waiter.url()).pathname,
      unsent: await waiter.locator('[data-test=pending-line]').count(),
    });
  }
  // And a tap on the screen that was left after them still works.
  await waiter.click('#send');
  await waiter.waitForSelector('#floor:not([hidden])');
  result.sent_after_reloads = true;

  // Seven idle tablets, past their access tokens' life.
  const tablets = [];
  for (let i = 0; i < 7; i++) tablets.push(await tablet(`tablet ${i + 1}`));
  for (const page of tablets) await expire(page);
  // Another terminal's order: every floor reloads (two calls at once, both refused).
  await waiter.locator('[data-test=table]', { hasText: 'Mesa 2' }).click();
  await waiter.waitForSelector('#order:not([hidden])');
  await waiter.locator('[data-test=product]', { hasText: 'Pão de queijo' }).click();
  await waiter.click('#send');
  await waiter.waitForSelector('#floor:not([hidden])');
  for (const page of tablets) {
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-test=table]')].some((t) => t.textContent.includes('Mesa 2') && t.dataset.state !== 'free'),
    );
  }
  for (const page of tablets) await expire(page);
  result.tablets = [];
  for (const page of tablets) {
    await page.locator('[data-test=table]', { hasText: 'Mesa 2' }).click();
    await page.waitForSelector('#order:not([hidden]) [data-test=line]');
    result.tablets.push(new URL(page.url()).pathname);
  }

  // A terminal: the manager registers it, the waiter signs in there with her PIN, adds a
  // line, and her session is ended (as a manager would from the office).
  const terminal = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'en-US' });
  const till = await terminal.newPage();
  watch(till, 'terminal', troubles);
  await signIn(till, 'gerente', password);
  await registerTerminal(till, 'Salão');
  await till.click('#sign-out');
  await till.waitForURL(/\/app\/login/);
  await till.click('#pin-link');
  await till.waitForSelector('body[data-ready="true"]');
  const pin = () => pinSignIn(till, 'Ana', process.env.COMANDA_PIN);
  await pin();
  result.waiter_shift_button_hidden = await till.locator('#shift').isHidden();
  result.errors_at_sign_in = await till.locator('.toast.error').allInnerTexts();
  await addCaipirinha(till, 'Mesa 1');
  // The session ends: both of its cookies go, as they do when it is revoked or runs out.
  await terminal.clearCookies({ name: 'comanda_access' });
  await terminal.clearCookies({ name: 'comanda_refresh' });
  await till.click('#to-floor');
  await till.waitForURL(/\/app\/pin/);
  await till.waitForSelector('body[data-ready="true"]');
  result.after_session_end = new URL(till.url()).pathname;
  await pin();
  result.unsent_after_pin = await till.locator('[data-test=pending-line]').count();
  result.title_after_pin = await till.locator('#order-title').innerText();
});
