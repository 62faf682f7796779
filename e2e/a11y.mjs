// axe-core over every page state of the apps: sign-in, PIN, the POS (floor, order,
// modifiers, line and order actions, payment, receipt), the kitchen screen, every tab
// of the back office, the account page. Prints one JSON line: each violation of impact
// critical or serious with the state it was found in, and how many of each impact.
//
// Environment: COMANDA_URL, COMANDA_PASSWORD (everyone's), COMANDA_PIN (the waiter's),
// CHROMIUM.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { launch, person, registerTerminal, report } from './browser.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const base = process.env.COMANDA_URL;
const password = process.env.COMANDA_PASSWORD;
const browser = await launch();
const troubles = [];
const result = { states: [], serious: [], counts: { critical: 0, serious: 0, moderate: 0, minor: 0 } };

/** Runs axe on the page as it is now, under the name of the state it is in. */
async function audit(page, state) {
  // The pages allow only their own scripts: axe is evaluated through the debugger.
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  result.states.push(state);
  for (const v of found) {
    result.counts[v.impact] = (result.counts[v.impact] || 0) + 1;
    if (v.impact === 'critical' || v.impact === 'serious') result.serious.push({ state, ...v });
    else result.other = [...(result.other || []), `${state}: ${v.impact} ${v.id} ${v.nodes.join(', ')}`];
  }
}


await report(browser, result, troubles, async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'en-US' });
  const signedOut = await context.newPage();
  await signedOut.goto(`${base}/app/login`);
  await signedOut.waitForSelector('body[data-ready="true"], #login-form');
  await audit(signedOut, 'sign-in');

  // The POS as a manager, through each of its states.
  const pos = await person(browser, troubles, 'gerente', password);
  await audit(pos, 'pos floor');
  await pos.locator('[data-test=table]').first().click();
  await pos.waitForSelector('#order:not([hidden])');
  await audit(pos, 'pos order');
  await pos.locator('[data-test=product]', { hasText: 'Caipirinha' }).click();
  await pos.waitForSelector('#modifiers[open]');
  await audit(pos, 'pos modifiers');
  await pos.click('#modifiers-add');
  await pos.click('#send');
  await pos.waitForSelector('#floor:not([hidden])');
  // The kitchen screen, with that ticket on it.
  const cook = await person(browser, troubles, 'cozinha', password, /\/kds\//);
  await cook.waitForSelector('[data-test=ticket]');
  await audit(cook, 'kitchen');

  await pos.locator('[data-test=table]').first().click();
  await pos.waitForSelector('[data-test=line-actions]');
  await audit(pos, 'pos sent order');
  await pos.locator('[data-test=line-actions]').first().click();
  await pos.waitForSelector('#line-dialog[open]');
  await audit(pos, 'pos line actions');
  await pos.keyboard.press('Escape');
  await pos.click('#order-more');
  await pos.waitForSelector('#order-dialog[open]');
  await audit(pos, 'pos order actions');
  await pos.keyboard.press('Escape');
  await pos.click('#pay');
  await pos.waitForSelector('#payment:not([hidden])');
  await audit(pos, 'pos payment');
  await pos.click('.tender-kind[data-kind="external_card"]');
  await pos.click('#take-payment');
  await pos.waitForSelector('#close-order:not([disabled])');
  await pos.click('#close-order');
  await pos.waitForSelector('#receipt:not([hidden])');
  await audit(pos, 'pos receipt');

  // The back office, tab by tab.
  const office = pos;
  const officeUrl = office.url().replace(/\/pos$/, '/office');
  for (const tab of ['reports', 'sales', 'floor', 'catalog', 'stock', 'people', 'stations', 'webhooks', 'audit', 'store']) {
    await office.goto(`${officeUrl}#${tab}`);
    await office.waitForSelector(`body[data-ready="true"][data-tab="${tab}"]`);
    await audit(office, `office ${tab}`);
  }
  await office.goto(`${base}/app/account`);
  await office.waitForSelector('body[data-ready="true"]');
  await audit(office, 'account');

  // A terminal's PIN screen.
  await office.goto(officeUrl.replace(/\/office$/, '/pos'));
  await office.waitForSelector('body[data-ready="true"]');
  await registerTerminal(office, 'Caixa');
  await office.goto(`${base}/app/pin`);
  await office.waitForSelector('body[data-ready="true"]');
  await audit(office, 'pin staff');
  await office.locator('[data-test=staff]').first().click();
  await audit(office, 'pin keypad');
});
