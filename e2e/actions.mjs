// Fixing mistakes at the POS, on a terminal with a waiter signed in by PIN: a table's
// order of two courses, course 2 fired early; a drink voided with the manager's PIN
// (the store wants approval); a dish marked sold out (86); the ticket's lines and totals
// checked against the API's order; then a quick sale at the counter paid without a
// separate send. Prints one JSON line of what it saw.
//
// Environment: COMANDA_URL, COMANDA_STORE, COMANDA_PASSWORD (the manager's),
// COMANDA_PIN (the waiter's), COMANDA_MANAGER_PIN, CHROMIUM.
import { launch, pinSignIn, registerTerminal, report, shooter, signIn, watch } from './browser.mjs';

const browser = await launch();
const result = {};
const troubles = [];
const shot = shooter();

/** What the ticket shows of each line, and what the API says the same order holds. */
async function ticketAgainstApi(page) {
  return page.evaluate(async () => {
    const fresh = await api('GET', at('/orders/{order_id}', { order_id: S.order.id }));
    const gross = new Map(fresh.totals.lines.map((l) => [l.line_id, l.gross]));
    // A line that is not counted (voided) shows its amount struck through.
    const shown = [...document.querySelectorAll('[data-test=line]')].map((li) => ({
      line: li.dataset.lineId,
      amount: li.querySelector('.amount s') ? 'not counted' : li.querySelector('.amount').textContent,
    }));
    return {
      lines: shown.map((s) => ({ shown: s.amount, api: gross.has(s.line) ? money(gross.get(s.line)) : 'not counted' })),
      total: { shown: document.querySelector('[data-total="totals-total"]').textContent, api: money(fresh.totals.total) },
      subtotal: { shown: document.querySelector('[data-total="totals-subtotal"]').textContent, api: money(fresh.totals.subtotal) },
    };
  });
}

await report(browser, result, troubles, async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'en-US' });
  const page = await context.newPage();
  watch(page, 'terminal', troubles);
  await signIn(page, 'gerente', process.env.COMANDA_PASSWORD);
  await registerTerminal(page, 'Salão');
  await page.click('#sign-out');
  await page.waitForURL(/\/app\/login/);
  const pinIn = async (name, pin) => {
    await page.goto(`${process.env.COMANDA_URL}/app/pin`);
    await page.waitForSelector('body[data-ready="true"]');
    await pinSignIn(page, name, pin);
  };
  // The manager opens the terminal's drawer for the evening, then the waiter signs in.
  await pinIn('Davi', process.env.COMANDA_MANAGER_PIN);
  await page.waitForSelector('#shift:not([hidden])');
  await page.click('#shift');
  await page.fill('#shift-amount', '100.00');
  await page.click('#shift-dialog button[value=apply]');
  await page.waitForSelector('#shift[data-state="open"]');
  await page.click('#sign-out');
  await page.waitForURL(/\/app\/login/);
  await pinIn('Ana', process.env.COMANDA_PIN);

  // Two courses at Mesa 1: a drink first, then a dish.
  await page.locator('[data-test=table]', { hasText: 'Mesa 1' }).click();
  await page.waitForSelector('#order:not([hidden])');
  await page.locator('[data-test=product]', { hasText: 'Caipirinha' }).click();
  await page.fill('#line-seat', '1');
  await page.fill('#line-course', '1');
  await page.click('#modifiers-add');
  await page.locator('[data-test=product]', { hasText: 'Pão de queijo' }).click();
  await page.waitForSelector('[data-test=pending-line] >> nth=1');
  await page.click('#send');
  await page.waitForSelector('#floor:not([hidden])');
  await page.locator('[data-test=table]', { hasText: 'Mesa 1' }).click();
  await page.waitForSelector('[data-test=line]');
  result.seat_course = await page.locator('[data-test=line] .where').first().innerText();

  // The dish, course 1 by default here, was sent with the drink; fire course 2 needs a
  // course-2 line: add one and send it, then fire it early.
  await page.locator('[data-test=product]', { hasText: 'Caipirinha' }).click();
  await page.fill('#line-course', '2');
  await page.click('#modifiers-add');
  await page.click('#send');
  await page.waitForSelector('#floor:not([hidden])');
  await page.locator('[data-test=table]', { hasText: 'Mesa 1' }).click();
  await page.waitForSelector('[data-test=line]');
  result.held_before = await page.locator('[data-test=line]', { hasText: 'held' }).count();
  await page.click('#order-more');
  await shot(page, 'pos-order-actions');
  await page.click('[data-test=fire-course]');
  await page.waitForFunction(() => !S.order.lines.some((l) => l.held));
  result.fired_toast = await page.locator('.toast.ok').last().innerText();

  // Void the first drink: the store wants a manager's approval.
  await page.locator('[data-test=line]', { hasText: 'Caipirinha' }).first().locator('[data-test=line-actions]').click();
  await page.fill('#line-reason', 'wrong drink');
  await shot(page, 'pos-line-actions');
  await page.click('#line-void');
  await page.waitForSelector('#approval-dialog[open]');
  await shot(page, 'pos-approval');
  result.approvers = await page.locator('#approval-who option').allInnerTexts();
  await page.fill('#approval-pin', process.env.COMANDA_MANAGER_PIN);
  await page.click('#approval-dialog button[value=apply]');
  await page.waitForSelector('[data-test=line].status-voided');
  result.voided = await page.locator('[data-test=line].status-voided').innerText();

  // 86 the dish.
  await page.locator('[data-test=line]', { hasText: 'Pão de queijo' }).locator('[data-test=line-actions]').click();
  await page.click('#line-86');
  await page.waitForSelector('[data-test=product][disabled]:has-text("Pão de queijo")');
  result.sold_out = true;

  result.check = await ticketAgainstApi(page);
  await shot(page, 'pos-ticket-fixed');

  // A quick sale: one drink at the counter, paid without a separate send.
  let taps = 0;
  const tap = async (selector) => {
    taps++;
    await page.click(selector);
  };
  await tap('#counter-order');
  await page.waitForSelector('#order:not([hidden])');
  await page.locator('[data-test=product]', { hasText: 'Caipirinha' }).click();
  taps++;
  await tap('#modifiers-add');
  await tap('#pay');
  await page.waitForSelector('#payment:not([hidden])');
  await tap('#take-payment');
  await page.waitForSelector('#close-order:not([disabled])');
  await tap('#close-order');
  await page.waitForSelector('#receipt:not([hidden])');
  result.quick_sale_taps = taps;
  result.receipt_print = await page.locator('#receipt-print').isVisible();
});
