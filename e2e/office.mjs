// The back office in the browser: the owner signs in, is made to set up two-factor
// authentication (scanning is done here by computing the code from the key shown), keeps
// the recovery codes, then adds a product, a tax, a person and a station, marks the
// product sold out, reads the sales dashboard and the security log, signs out, and signs
// in again with password and a recovery code. Prints one JSON line of what it saw.
//
// Environment: COMANDA_URL, COMANDA_STORE, COMANDA_OWNER, COMANDA_OWNER_PASSWORD,
// COMANDA_LANG, COMANDA_SCREENSHOTS (optional), CHROMIUM.
import { createHmac } from 'node:crypto';
import { launch, shooter, watch } from './browser.mjs';

const base = process.env.COMANDA_URL;
const store = process.env.COMANDA_STORE;
const lang = process.env.COMANDA_LANG || 'en-US';

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v >= 0) bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238: HMAC-SHA1, 30-second steps, 6 digits, as an authenticator app computes it. */
function totp(secret) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1e6).padStart(6, '0');
}

const browser = await launch();
const result = {};
const shot = shooter();

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: lang });
  const page = await context.newPage();
  watch(page, 'owner');
  await page.goto(`${base}/app/login`);
  await page.fill('#login', process.env.COMANDA_OWNER);
  await page.fill('#password', process.env.COMANDA_OWNER_PASSWORD);
  await Promise.all([page.waitForURL(/\/app\/account/), page.click('#login-submit')]);
  await page.waitForSelector('body[data-ready="true"]');

  // Two-factor set-up is required before anything else.
  result.blocked = await page.goto(`${base}/app/stores/${store}/office`).then(() => page.url());
  await page.waitForSelector('#totp-start:not([hidden])');
  await page.click('#totp-start');
  await page.waitForSelector('#totp-enrol:not([hidden])');
  const secret = (await page.locator('#totp-secret').innerText()).trim();
  await shot(page, 'account-totp');
  await page.fill('#totp-code', totp(secret));
  await page.click('#totp-form button[type=submit]');
  await page.waitForSelector('#totp-codes:not([hidden])');
  const codes = await page.locator('#recovery-codes code').allInnerTexts();
  result.recovery_codes = codes.length;
  await page.waitForSelector('#account-continue:not([hidden])');

  const office = async (tab) => {
    await page.goto(`${base}/app/stores/${store}/office#${tab}`);
    await page.waitForSelector(`body[data-ready="true"][data-tab="${tab}"]`);
  };

  // The floor: an area and a table in it.
  await office('floor');
  await page.fill('#area-name', 'Varanda');
  await page.click('#area-form button[type=submit]');
  await page.locator('[data-test=area-row]', { hasText: 'Varanda' }).waitFor();
  await page.fill('#table-name', 'Varanda 1');
  await page.selectOption('#table-area', { label: 'Varanda' });
  await page.click('#table-form button[type=submit]');
  await page.locator('[data-test=table-row]', { hasText: 'Varanda 1' }).waitFor();
  result.table_row = (await page.locator('[data-test=table-row]', { hasText: 'Varanda 1' }).innerText()).replace(/\s+/g, ' ');
  await shot(page, 'office-floor');

  // The catalog: a tax, a category, a modifier group, then products.
  await office('catalog');
  await page.fill('#tax-name', 'ISS');
  await page.fill('#tax-rate', '5');
  await page.click('#tax-form button[type=submit]');
  await page.locator('#taxes-list tr', { hasText: 'ISS' }).waitFor();
  await page.fill('#category-name', 'Bebidas');
  await page.fill('#category-station', 'bar');
  await page.click('#category-form button[type=submit]');
  await page.locator('[data-test=category-row]', { hasText: 'Bebidas' }).waitFor();
  await page.fill('#group-name', 'Gelo');
  await page.fill('#group-min', '1');
  await page.fill('#group-max', '1');
  await page.fill('#group-options', 'Sem gelo; 0\nPouco gelo; 0\nCom limão; 1.50');
  await page.click('#group-form button[type=submit]');
  await page.locator('[data-test=group-row]', { hasText: 'Gelo' }).waitFor();
  await page.locator('#product-groups label', { hasText: 'Gelo' }).waitFor();

  // A juice in two sizes, with the ice choice and the tax.
  await page.fill('#product-name', 'Suco de laranja');
  await page.selectOption('#product-category', { label: 'Bebidas' });
  await page.locator('.variant-name').first().fill('300 ml');
  await page.locator('.variant-price').first().fill('8.00');
  await page.click('#add-variant');
  await page.locator('.variant-name').nth(1).fill('500 ml');
  await page.locator('.variant-price').nth(1).fill('12.00');
  await page.locator('#product-groups label', { hasText: 'Gelo' }).locator('input').check();
  await page.locator('#product-taxes label', { hasText: 'ISS' }).locator('input').check();
  await page.click('#product-form button[type=submit]');
  await page.locator('[data-test=product-row]', { hasText: 'Suco de laranja' }).waitFor();
  result.juice_row = (await page.locator('[data-test=product-row]', { hasText: 'Suco de laranja' }).innerText()).replace(/\s+/g, ' ');

  await page.fill('#product-name', 'Açaí');
  await page.locator('.variant-price').first().fill(process.env.COMANDA_PRICE || '12.50');
  await page.fill('#product-station', 'bar');
  await page.click('#product-form button[type=submit]');
  const row = page.locator('[data-test=product-row]', { hasText: 'Açaí' });
  await row.waitFor();
  result.product_row = (await row.innerText()).replace(/\s+/g, ' ');
  await page.fill('#product-search', 'suco');
  result.search_shows = (await page.locator('[data-test=product-row]:visible').allInnerTexts()).length;
  await page.fill('#product-search', '');
  // Sold out, and saved before the product is edited.
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/availability') && r.request().method() === 'PUT'),
    row.locator('input[type=checkbox]').uncheck(),
  ]);
  await row.locator('[data-test=edit-product]').click();
  await page.fill('#edit-price-0', process.env.COMANDA_NEW_PRICE || '13.90');
  await page.click('#product-dialog button[value=apply]');
  await page.locator('[data-test=product-row]', { hasText: '13.90' }).waitFor();
  result.edited_row = (await row.innerText()).replace(/\s+/g, ' ');
  await shot(page, 'office-catalog');

  await office('people');
  await page.fill('#person-name', 'Eva');
  await page.fill('#person-login', 'eva');
  await page.selectOption('#person-role', 'waiter');
  await page.fill('#person-password', 'first passphrase 99');
  await page.click('#person-form button[type=submit]');
  await page.locator('[data-test=person-row]', { hasText: 'eva' }).waitFor();
  result.people = await page.locator('[data-test=person-row]').count();
  // Eva moves to the till, and gets a PIN for the terminals.
  const eva = () => page.locator('[data-test=person-row]', { hasText: 'eva' });
  await eva().locator('[data-test=person-role]').selectOption('cashier');
  await page.locator('.toast.ok', { hasText: 'Eva' }).first().waitFor();
  await eva().locator('[data-test=set-pin]').click();
  await page.fill('#staff-pin', '4826');
  await page.click('#pin-dialog button[value=apply]');
  await page.locator('[data-test=person-row]', { hasText: 'has a PIN' }).waitFor();
  result.eva_row = (await eva().innerText()).replace(/\s+/g, ' ');
  await shot(page, 'office-people');

  // A password reset for Eva.
  await eva().locator('[data-test=reset-password]').click();
  await page.fill('#reset-password', 'temporary passphrase 7');
  await page.click('#password-dialog button[value=apply]');
  const resetToast = page.locator('.toast.ok', { hasText: 'Password' });
  await resetToast.waitFor();
  result.reset_toast = await resetToast.innerText();

  // The restaurant's first order, at the new table, from the POS.
  await page.goto(`${base}/app/stores/${store}/pos`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.locator('[data-test=table]', { hasText: 'Varanda 1' }).click();
  await page.waitForSelector('#order:not([hidden])');
  await page.locator('[data-test=product]', { hasText: 'Suco de laranja' }).click();
  await page.waitForSelector('#modifiers[open]');
  await page.locator('#variant-choice label', { hasText: '500 ml' }).locator('input').check();
  await page.locator('#groups label', { hasText: 'Pouco gelo' }).locator('input').check();
  await page.click('#modifiers-add');
  await page.click('#send');
  await page.waitForSelector('#floor:not([hidden])');
  result.first_order = await page.evaluate(async () => {
    const page = await api('GET', '/orders?status=sent');
    const o = page.items[0];
    return { table: tableName(o.table_id), line: o.lines[0].name, modifiers: o.lines[0].modifiers.map((m) => m.name), total: o.totals.total };
  });

  await office('stations');
  await page.fill('#station-code', 'bar');
  await page.fill('#station-name', 'Bar');
  await page.click('#station-form button[type=submit]');
  await page.locator('#stations-list tr', { hasText: 'Bar' }).waitFor();

  await office('sales');
  result.sales_today = (await page.locator('[data-test=sales-today]').innerText()).trim();
  result.chart_bars = await page.locator('#sales-chart rect').count();
  await shot(page, 'office-sales');

  await office('webhooks');
  result.webhooks_error = await page.locator('#office-error').innerText();

  await office('audit');
  result.audit_text = (await page.locator('#audit-list').innerText()).replace(/\s+/g, ' ');
  await shot(page, 'office-audit');

  // Signing in again asks for the code; a recovery code does instead.
  await page.click('#sign-out');
  await page.waitForURL(/\/app\/login/);
  await page.fill('#login', process.env.COMANDA_OWNER);
  await page.fill('#password', process.env.COMANDA_OWNER_PASSWORD);
  await page.click('#login-submit');
  await page.waitForSelector('#totp-row:not([hidden])');
  result.totp_prompt = (await page.locator('#login-error').innerText()).trim();
  await page.fill('#totp', codes[0]);
  await Promise.all([page.waitForURL(/\/app\/stores\//), page.click('#login-submit')]);
  result.after_recovery = new URL(page.url()).pathname;

  // Her own language, saved on her account: it beats what this browser last chose.
  await page.goto(`${base}/app/account`);
  await page.waitForSelector('body[data-ready="true"]');
  await Promise.all([page.waitForEvent('load'), page.selectOption('#my-language', 'id-ID')]);
  await page.context().addCookies([{ name: 'comanda_lang', value: 'en-US', url: base }]);
  await page.goto(`${base}${result.after_recovery.replace(/\/[a-z]+$/, '/office')}`);
  await page.waitForSelector('body[data-ready="true"]');
  result.own_language = await page.getAttribute('html', 'lang');
  result.own_language_title = await page.title();
  result.saved_language = await page.evaluate(async () => (await api('GET', '/api/v1/me')).locale);

  // The store's own settings, and a second store.
  await page.goto(page.url().replace(/#.*$/, '') + '#store');
  await page.waitForSelector('body[data-ready="true"][data-tab="store"]');
  await page.fill('#store-name-input', 'Centro Norte');
  await page.click('#store-form button[type=submit]');
  await page.locator('.toast.ok').first().waitFor();
  await shot(page, 'office-store');
  await page.fill('#new-store-code', 'praia');
  await page.fill('#new-store-name', 'Praia');
  await page.fill('#new-store-currency', 'brl');
  await page.fill('#new-store-timezone', 'America/Sao_Paulo');
  await page.click('#new-store-form button[type=submit]');
  await page.locator('.toast.ok', { hasText: 'Praia' }).waitFor();
  result.stores = await page.evaluate(async () => (await api('GET', '/api/v1/stores')).items.map((s) => `${s.name} ${s.currency} ${s.locale}`));
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
