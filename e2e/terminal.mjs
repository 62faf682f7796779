// A browser becomes a terminal: the manager registers it, a cashier signs in on it by
// tapping her name and typing her PIN on the keypad, opens the drawer's shift with a
// float, sells at the counter for cash, and closes the shift with the count. Prints
// one JSON line of what it saw.
//
// Environment: COMANDA_URL, COMANDA_STORE, COMANDA_PASSWORD (the manager's),
// COMANDA_PIN (the cashier's), COMANDA_SCREENSHOTS (optional), CHROMIUM.
import { launch, pinSignIn, registerTerminal, report, shooter, signIn, watch } from './browser.mjs';

const base = process.env.COMANDA_URL;
const browser = await launch();
const result = {};
const shot = shooter();
const troubles = [];

await report(browser, result, troubles, async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'en-US' });
  const page = await context.newPage();
  watch(page, 'terminal', troubles);
  await signIn(page, 'gerente', process.env.COMANDA_PASSWORD);
  await registerTerminal(page, 'Caixa 1');
  await page.click('#sign-out');
  await page.waitForURL(/\/app\/login/);

  // Staff sign-in with the PIN.
  await page.click('#pin-link');
  await page.waitForSelector('body[data-ready="true"]');
  await shot(page, 'pin-staff');
  result.staff = await page.locator('[data-test=staff]').allInnerTexts();
  await pinSignIn(page, 'Carla', process.env.COMANDA_PIN);

  // The drawer's shift.
  await page.waitForSelector('#shift:not([hidden])');
  await page.click('#shift');
  await page.fill('#shift-amount', '100.00');
  await page.click('#shift-dialog button[value=apply]');
  await page.waitForSelector('#shift[data-state="open"]');
  result.shift_button = await page.locator('#shift').innerText();

  // A counter sale for cash.
  await page.click('#counter-order');
  await page.locator('[data-test=product]', { hasText: 'Pão de queijo' }).click();
  await page.click('#send');
  await page.waitForSelector('#pay:not([disabled])');
  await page.click('#pay');
  await page.fill('#pay-amount', '20.00');
  await page.click('#take-payment');
  await page.waitForSelector('#close-order:not([disabled])');
  result.change = (await page.locator('#pay-change').innerText()).trim();
  await page.click('#close-order');
  await page.waitForSelector('#receipt:not([hidden])');

  // Closing the shift with the count.
  await page.click('#shift');
  await page.waitForFunction(() => document.getElementById('shift-expected').textContent !== '');
  result.expected = (await page.locator('#shift-expected').innerText()).trim();
  await shot(page, 'pos-shift-close');
  await page.fill('#shift-amount', '109.00');
  await page.click('#shift-dialog button[value=apply]');
  await page.waitForSelector('#shift[data-state="closed"]');
  result.closed_toast = await page.locator('.toast.ok').last().innerText();
  // A second drawer opened and left open: the office will close it.
  await page.click('#shift');
  await page.fill('#shift-amount', '50.00');
  await page.click('#shift-dialog button[value=apply]');
  await page.waitForSelector('#shift[data-state="open"]');

  // The manager reads the drawer's day in the back office.
  await page.click('#sign-out');
  await page.waitForURL(/\/app\/login/);
  await signIn(page, 'gerente', process.env.COMANDA_PASSWORD);
  await page.goto(page.url().replace(/\/pos$/, '/office#reports'));
  await page.waitForSelector('body[data-ready="true"][data-tab="reports"]');
  const rows = async () => (await page.locator('[data-test=shift-row]').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
  result.office_shifts = await rows();

  // Closing the day waits for the open drawer, which the office closes with its count.
  page.on('dialog', (d) => d.accept());
  await page.click('#close-day');
  await page.waitForFunction(() => document.getElementById('report-error').textContent !== '');
  result.day_blocked = await page.locator('#report-error').innerText();
  await page.click('[data-test=close-shift]');
  await page.fill('#shift-close-amount', '50.00');
  await page.click('#shift-close-dialog button[value=apply]');
  await page.waitForSelector('[data-test=close-shift]', { state: 'detached' });
  result.office_closed_toast = await page.locator('.toast.ok').last().innerText();
  result.office_shifts_after = await rows();

  // Two screens close the day at once: one Z, and both say so.
  const second = await page.context().newPage();
  await second.goto(page.url());
  await second.waitForSelector('body[data-ready="true"][data-tab="reports"]');
  second.on('dialog', (d) => d.accept());
  await Promise.all([page.click('#close-day'), second.click('#close-day')]);
  for (const p of [page, second]) await p.waitForSelector('[data-test=z-row]');
  result.z_toasts = [];
  for (const p of [page, second]) result.z_toasts.push(await p.locator('.toast.ok').last().innerText());
  result.z_rows = await page.locator('[data-test=z-row]').count();

  // The terminal, listed in the office, is revoked there.
  await page.goto(page.url().replace(/#.*$/, '') + '#people');
  await page.waitForSelector('body[data-ready="true"][data-tab="people"]');
  await page.locator('[data-test=terminal-row]').first().waitFor();
  result.terminals = (await page.locator('[data-test=terminal-row]').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
  await page.click('[data-test=revoke-terminal]');
  await page.locator('[data-test=terminal-row]', { hasText: 'Revoked' }).waitFor();
  result.terminal_revoked = (await page.locator('[data-test=terminal-row]').innerText()).replace(/\s+/g, ' ').trim();

  // Stock: what is counted, goods received, a count.
  await page.goto(page.url().replace(/#.*$/, '') + '#stock');
  await page.waitForSelector('body[data-ready="true"][data-tab="stock"]');
  const stockRows = async () => (await page.locator('[data-test=stock-row]').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
  result.stock_before = await stockRows();
  const stockShows = (text) =>
    page.waitForFunction((t) => [...document.querySelectorAll('[data-test=stock-row]')].some((r) => r.innerText.replace(/\s+/g, ' ').trim().startsWith(t)), text);
  await shot(page, 'office-stock');
  await page.selectOption('#stock-variant', { label: 'Picanha' });
  await page.selectOption('#stock-action', 'receipt');
  await page.fill('#stock-quantity', '5');
  await page.click('#stock-form button[type=submit]');
  await stockShows('Picanha 5 ');
  await page.selectOption('#stock-variant', { label: 'Costela' });
  await page.selectOption('#stock-action', 'count');
  await page.fill('#stock-quantity', '0');
  await page.click('#stock-form button[type=submit]');
  await stockShows('Costela 0 ');
  result.stock_after = await stockRows();
});
