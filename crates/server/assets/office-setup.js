// Setting a restaurant up from the back office, carrying on from office.js: the floor
// (areas and tables), the catalog's categories and modifier groups, products with
// several variants, modifier groups and taxes, a search over products, and the
// terminals (listed, revoked) and password resets of the people tab.
'use strict';

// ---- floor -------------------------------------------------------------------------

/** @type {ServiceArea[]} */
let areas = [];

async function loadFloor() {
  const [areaPage, tables] = await Promise.all([api('GET', '/areas'), api('GET', '/tables')]);
  areas = areaPage.items.filter((a) => !a.archived);
  const areaName = new Map(areas.map((a) => [a.id, a.name]));
  document.getElementById('areas-list').replaceChildren(
    ...areas.map((a) => el('tr', { dataset: { test: 'area-row' } }, el('td', {}, a.name), el('td', {}, String(a.position)))),
  );
  document.getElementById('floor-tables-list').replaceChildren(
    ...tables.items
      .filter((tb) => !tb.archived)
      .map((tb) =>
        el(
          'tr',
          { dataset: { test: 'table-row' } },
          el('td', {}, tb.name),
          el('td', {}, (tb.area_id && areaName.get(tb.area_id)) || ''),
          el('td', {}, String(tb.seats)),
          // What a QR code at the table will carry (issue 31's ordering page reads it).
          el('td', {}, el('code', { class: 'table-code' }, tb.id.slice(-8))),
        ),
      ),
  );
  const select = /** @type {HTMLSelectElement} */ (document.getElementById('table-area'));
  select.replaceChildren(el('option', { value: '' }, t('floor-no-area')), ...areas.map((a) => el('option', { value: a.id }, a.name)));
}

async function addArea(event) {
  event.preventDefault();
  try {
    await api('POST', '/areas', {
      name: value('area-name'),
      position: Number(value('area-position') || areas.length + 1),
    });
    /** @type {HTMLFormElement} */ (event.target).reset();
    toast(t('catalog-saved'), 'ok');
    await loadFloor();
  } catch (e) {
    showError(e);
  }
}

async function addTable(event) {
  event.preventDefault();
  const area = value('table-area');
  try {
    await api('POST', '/tables', {
      name: value('table-name'),
      seats: Number(value('table-seats') || 4),
      area_id: area || null,
    });
    /** @type {HTMLFormElement} */ (event.target).reset();
    toast(t('catalog-saved'), 'ok');
    await loadFloor();
  } catch (e) {
    showError(e);
  }
}

/** The trimmed value of the input or select `id`. */
function value(id) {
  return /** @type {HTMLInputElement} */ (document.getElementById(id)).value.trim();
}

// ---- categories, modifier groups, and the product form's choices -----------------------

async function loadCatalogSetup() {
  const [categories, groups, taxes] = await Promise.all([
    api('GET', '/catalog/categories'),
    api('GET', '/catalog/modifier-groups'),
    api('GET', '/catalog/tax-rates'),
  ]);
  const categoryItems = categories.items;
  const groupItems = groups.items;
  const taxItems = Array.isArray(taxes) ? taxes : taxes.items;
  document.getElementById('categories-list').replaceChildren(
    ...categoryItems.map((c) => el('tr', { dataset: { test: 'category-row' } }, el('td', {}, c.name), el('td', {}, c.station || ''))),
  );
  document.getElementById('groups-list').replaceChildren(
    ...groupItems.map((g) =>
      el(
        'tr',
        { dataset: { test: 'group-row' } },
        el('td', {}, g.name),
        el('td', {}, `${g.min_choices}–${g.max_choices}`),
        el('td', {}, g.options.map((o) => o.name + (o.price_delta && o.price_delta.amount ? ' +' + money(o.price_delta.amount) : '')).join(', ')),
      ),
    ),
  );
  const category = /** @type {HTMLSelectElement} */ (document.getElementById('product-category'));
  category.replaceChildren(el('option', { value: '' }, t('catalog-no-category')), ...categoryItems.map((c) => el('option', { value: c.id }, c.name)));
  const checks = (box, items, name) =>
    document.getElementById(box).replaceChildren(
      ...items.map((item) =>
        el('label', { class: 'option' }, el('input', { type: 'checkbox', name, value: item.id, checked: name === 'product-taxes' && !!item.default }), item.name),
      ),
    );
  checks('product-groups', groupItems, 'product-groups');
  checks('product-taxes', taxItems, 'product-taxes');
}

async function addCategory(event) {
  event.preventDefault();
  const station = value('category-station');
  try {
    await api('POST', '/catalog/categories', { name: value('category-name'), station: station || null });
    /** @type {HTMLFormElement} */ (event.target).reset();
    toast(t('catalog-saved'), 'ok');
    await loadCatalogSetup();
  } catch (e) {
    showError(e);
  }
}

/** "Bacon; 4.00" per line: an option and what it adds to the price. */
function parseOptions(text) {
  const options = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const [name, price] = line.split(';').map((part) => part.trim());
    const amount = price ? parseMoney(price) : 0;
    if (!name || amount === null) return null;
    options.push({ name, price_delta: { amount, currency: C.money.currency } });
  }
  return options;
}

async function addGroup(event) {
  event.preventDefault();
  const options = parseOptions(/** @type {HTMLTextAreaElement} */ (document.getElementById('group-options')).value);
  if (!options || !options.length) {
    toast(t('catalog-options-help'), 'error');
    return;
  }
  try {
    await api('POST', '/catalog/modifier-groups', {
      name: value('group-name'),
      min_choices: Number(value('group-min') || 0),
      max_choices: Number(value('group-max') || options.length),
      options,
    });
    /** @type {HTMLFormElement} */ (event.target).reset();
    toast(t('catalog-saved'), 'ok');
    await loadCatalogSetup();
  } catch (e) {
    showError(e);
  }
}

/** A row of the new product's variants: a name (blank for a product with one) and a price. */
function variantRow() {
  const n = document.querySelectorAll('#product-variants .variant-row').length;
  return el(
    'div',
    { class: 'row variant-row', dataset: { test: 'variant-row' } },
    el('label', {}, t('catalog-variant'), el('input', { class: 'variant-name', maxlength: '60', 'aria-label': t('catalog-variant') + ' ' + (n + 1) })),
    el('label', {}, t('catalog-price'), el('input', { class: 'variant-price', inputmode: 'decimal', required: true, 'aria-label': t('catalog-price') + ' ' + (n + 1) })),
  );
}

/** The new product from the form: category, variants, modifier groups and taxes. */
async function addFullProduct(event) {
  event.preventDefault();
  const variants = [];
  for (const row of document.querySelectorAll('#product-variants .variant-row')) {
    const price = parseMoney(/** @type {HTMLInputElement} */ (row.querySelector('.variant-price')).value);
    if (price === null) return toast(t('catalog-bad-price'), 'error');
    const name = /** @type {HTMLInputElement} */ (row.querySelector('.variant-name')).value.trim();
    variants.push(name ? { name, price: { amount: price, currency: C.money.currency } } : { price: { amount: price, currency: C.money.currency } });
  }
  const picked = (name) => [...document.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => /** @type {HTMLInputElement} */ (i).value);
  const body = { name: value('product-name'), variants, modifier_group_ids: picked('product-groups'), tax_rate_ids: picked('product-taxes') };
  const station = value('product-station');
  if (station) body.station = station;
  const category = value('product-category');
  if (category) body.category_id = category;
  try {
    await api('POST', '/catalog/products', body);
    /** @type {HTMLFormElement} */ (event.target).reset();
    document.getElementById('product-variants').replaceChildren(variantRow());
    toast(t('catalog-saved'), 'ok');
    await loadCatalog();
    await loadCatalogSetup();
  } catch (e) {
    showError(e);
  }
}

/** Shows only the products whose name has what was typed. */
function searchProducts() {
  const query = value('product-search').toLowerCase();
  for (const row of document.querySelectorAll('[data-test=product-row]')) {
    /** @type {HTMLElement} */ (row).hidden = !!query && !row.textContent.toLowerCase().includes(query);
  }
}

// ---- terminals and password resets ---------------------------------------------------

async function loadTerminals() {
  const devices = await api('GET', '/devices');
  document.getElementById('terminals-list').replaceChildren(
    ...devices.items.map((d) =>
      el(
        'tr',
        { dataset: { test: 'terminal-row' } },
        el('td', {}, d.name),
        el('td', {}, d.revoked_at ? t('terminal-revoked') : when(d.created_at)),
        el('td', {}, d.revoked_at ? '' : el('button', { type: 'button', class: 'danger', dataset: { test: 'revoke-terminal' }, onclick: () => revokeTerminal(d) }, t('terminal-revoke'))),
      ),
    ),
  );
}

async function revokeTerminal(device) {
  if (!window.confirm(t('terminal-revoke-confirm', { name: device.name }))) return;
  try {
    await api('DELETE', at('/devices/{device_id}', { device_id: device.id }));
    toast(t('terminal-revoked-done', { name: device.name }), 'ok');
    await loadTerminals();
  } catch (e) {
    showError(e);
  }
}

let resetFor = null;

function askPassword(u) {
  resetFor = u;
  document.getElementById('password-dialog-title').textContent = t('people-reset-title', { name: u.display_name });
  /** @type {HTMLInputElement} */ (document.getElementById('reset-password')).value = '';
  /** @type {HTMLDialogElement} */ (document.getElementById('password-dialog')).showModal();
}

async function savePassword(dialog) {
  if (dialog.returnValue !== 'apply' || !resetFor) return;
  try {
    await api('POST', at('/api/v1/users/{user_id}/password', { user_id: resetFor.id }), { password: value('reset-password') });
    toast(t('people-reset-done', { name: resetFor.display_name }), 'ok');
  } catch (e) {
    showError(e);
  }
}

LOADERS.floor = loadFloor;
const catalogLoader = LOADERS.catalog;
LOADERS.catalog = async () => {
  await Promise.all([catalogLoader(), loadCatalogSetup()]);
  searchProducts();
};
const peopleLoader = LOADERS.people;
// Terminals are a manager's; a role that may not list them still sees its people.
LOADERS.people = () => Promise.all([peopleLoader(), loadTerminals().catch(() => {})]);

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('area-form').addEventListener('submit', addArea);
  document.getElementById('table-form').addEventListener('submit', addTable);
  document.getElementById('category-form').addEventListener('submit', addCategory);
  document.getElementById('group-form').addEventListener('submit', addGroup);
  document.getElementById('product-form').addEventListener('submit', addFullProduct);
  document.getElementById('product-variants').replaceChildren(variantRow());
  document.getElementById('add-variant').addEventListener('click', () => document.getElementById('product-variants').append(variantRow()));
  document.getElementById('product-search').addEventListener('input', searchProducts);
  const passwordDialog = /** @type {HTMLDialogElement} */ (document.getElementById('password-dialog'));
  passwordDialog.addEventListener('close', () => savePassword(passwordDialog));
});
