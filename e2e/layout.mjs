// The POS laid out at a tablet (1024x768), a phone (390x844) and a small phone
// (360x740), in each language: no page wider than the screen, a header of one row, a
// ticket of five lines whose Send and Pay stay on screen, and every dialog (modifiers with
// two groups, move, more, line actions) with its actions on screen and tappable. Prints
// one JSON line: for each size and language, what did not hold (empty when all did).
//
// Environment: COMANDA_URL, COMANDA_PASSWORD (everyone's), COMANDA_SCREENSHOTS
// (optional), CHROMIUM.
import { launch, report, shooter, signIn, watch } from './browser.mjs';

const browser = await launch();
const troubles = [];
const shot = shooter();
const sizes = [
  ['tablet', { width: 1024, height: 768 }],
  ['phone', { width: 390, height: 844 }],
  ['small-phone', { width: 360, height: 740 }],
];
const result = {};

/** What on `page` breaks the layout rules now, described in words. */
async function problems(page, where) {
  return page.evaluate((where) => {
    const found = [];
    const width = window.innerWidth;
    if (document.scrollingElement.scrollWidth > width + 1) {
      found.push(`${where}: the page is ${document.scrollingElement.scrollWidth}px wide on a ${width}px screen`);
    }
    const bar = document.querySelector('header.bar');
    if (bar && bar.offsetHeight > 64) found.push(`${where}: the header is ${bar.offsetHeight}px tall`);
    const reachable = (button) => {
      const r = button.getBoundingClientRect();
      if (r.width === 0) return true;
      if (r.top < 0 || r.bottom > window.innerHeight + 1 || r.left < 0 || r.right > width + 1) return false;
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return !!hit && (hit === button || button.contains(hit));
    };
    const dialog = document.querySelector('dialog[open]');
    const buttons = dialog
      ? [...dialog.querySelectorAll('form > .actions:last-child button')]
      : document.body.dataset.view === 'order'
        ? [...document.querySelectorAll('#send, #pay')]
        : [];
    for (const b of buttons) {
      if (!reachable(b)) found.push(`${where}: "${b.textContent.trim()}" cannot be tapped`);
    }
    return found;
  }, where);
}

await report(browser, result, troubles, async () => {
  for (const lang of ['en-US', 'pt-BR', 'id-ID']) {
    for (const [name, viewport] of sizes) {
      const context = await browser.newContext({ viewport, locale: lang, hasTouch: name !== 'tablet' });
      await context.addCookies([{ name: 'comanda_lang', value: lang, url: process.env.COMANDA_URL }]);
      const page = await context.newPage();
      watch(page, `${lang} ${name}`, troubles);
      await signIn(page, 'gerente', process.env.COMANDA_PASSWORD);
      const found = [...(await problems(page, 'floor'))];
      await page.locator('[data-test=table]').first().click();
      await page.waitForSelector('#order:not([hidden])');
      // Five lines on the ticket, one through the modifiers dialog (two groups).
      await page.locator('[data-test=product]', { hasText: 'Hambúrguer' }).click();
      await page.waitForSelector('#modifiers[open]');
      found.push(...(await problems(page, 'modifiers')));
      await shot(page, `layout-modifiers-${name}-${lang}`);
      await page.click('#modifiers-add');
      for (const product of ['Caipirinha', 'Pão de queijo', 'Pão de queijo', 'Caipirinha']) {
        await page.locator('[data-test=product]', { hasText: product }).click();
        if (await page.locator('#modifiers[open]').count()) await page.click('#modifiers-add');
      }
      await page.waitForSelector('[data-test=pending-line] >> nth=4');
      found.push(...(await problems(page, 'five lines')));
      await shot(page, `layout-ticket-${name}-${lang}`);
      await page.click('#send');
      await page.waitForSelector('#floor:not([hidden])');
      await page.locator('[data-test=table]').first().click();
      await page.waitForSelector('[data-test=line-actions]');
      for (const [button, dialog] of [['#move', '#move-dialog'], ['#order-more', '#order-dialog']]) {
        await page.click(button);
        await page.waitForSelector(`${dialog}[open]`);
        found.push(...(await problems(page, dialog)));
        await shot(page, `layout-${dialog.slice(1)}-${name}-${lang}`);
        await page.keyboard.press('Escape');
      }
      await page.locator('[data-test=line-actions]').first().click();
      await page.waitForSelector('#line-dialog[open]');
      found.push(...(await problems(page, '#line-dialog')));
      await page.keyboard.press('Escape');
      await page.click('#pay');
      await page.waitForSelector('#payment:not([hidden])');
      found.push(...(await problems(page, 'payment')));
      await shot(page, `layout-payment-${name}-${lang}`);
      result[`${lang} ${name}`] = found;
      await context.close();
    }
  }
});
