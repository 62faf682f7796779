// What every browser script shares: Debian's Chromium, and screenshots when asked for.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
}

/**
 * A function that saves the page, scrolled to the top, as NAME + SUFFIX.png in the
 * directory COMANDA_SCREENSHOTS names, and does nothing when it names none.
 */
export function shooter() {
  const dir = process.env.COMANDA_SCREENSHOTS;
  const suffix = process.env.COMANDA_SCREENSHOT_SUFFIX || '';
  if (dir) mkdirSync(dir, { recursive: true });
  return async (page, name) => {
    if (!dir) return;
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(dir, `${name}${suffix}.png`) });
  };
}

/** Signs in on the sign-in page and waits for the app it lands on to be ready. */
export async function signIn(page, login, password, landing = /\/pos$/) {
  await page.goto(`${process.env.COMANDA_URL}/app/login`);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(landing), page.click('#login-submit')]);
  await page.waitForSelector('body[data-ready="true"]');
}

/**
 * Makes a script error on `page` fail the run, and notes in `troubles` every request
 * refused or failed (renewing an expired session is expected and left out): when a
 * step times out, the reason is usually there.
 */
export function watch(page, who, troubles = []) {
  page.on('pageerror', (e) => {
    throw new Error(`${who}: page error: ${e.message}`);
  });
  page.on('response', async (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/app/session/refresh')) {
      troubles.push(`${who}: ${r.request().method()} ${r.url()} -> ${r.status()} ${await r.text().catch(() => '')}`);
    }
  });
  page.on('requestfailed', (r) => troubles.push(`${who}: ${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`));
  return troubles;
}

/**
 * Runs a script's `steps`, then prints `result` as the one JSON line the Rust test reads.
 * On a failure it prints what was refused or failed on the way (`troubles`) and what was
 * seen so far, then fails. The browser is closed either way.
 */
export async function report(browser, result, troubles, steps) {
  try {
    await steps();
    console.log(JSON.stringify(result));
  } catch (e) {
    console.error(troubles.join('\n'));
    console.error(JSON.stringify(result));
    throw e;
  } finally {
    await browser.close();
  }
}

/** A manager signed in on `page` registers the browser as the terminal `name`. */
export async function registerTerminal(page, name) {
  await page.click('#register-terminal');
  await page.fill('#terminal-name-input', name);
  await page.click('#terminal-dialog button[value=apply]');
  await page.waitForSelector('#register-terminal[hidden]', { state: 'attached' });
}

/** On a terminal's PIN screen: taps the person whose name starts with `name`, types `pin`. */
export async function pinSignIn(page, name, pin) {
  await page.locator('[data-test=staff]', { hasText: new RegExp('^' + name) }).click();
  for (const digit of pin) await page.locator('#keypad button', { hasText: digit }).click();
  await Promise.all([page.waitForURL(/\/pos$/), page.click('#pin-submit')]);
  await page.waitForSelector('body[data-ready="true"]');
}

/** A new browser context at a tablet's size in English, `login` signed in on its page. */
export async function person(browser, troubles, login, password, landing = /\/pos$/) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'en-US' });
  const page = await context.newPage();
  watch(page, login, troubles);
  await signIn(page, login, password, landing);
  return page;
}
