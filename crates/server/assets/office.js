// The back office: reports (X, close the day, Z reports, today's shifts), the sales dashboard (today
// against the same day last week, by hour, top products), the catalog (products with
// price, station and sold-out switch, new products, CSV import, taxes), people and
// roles, kitchen stations, webhooks with their deliveries, the security log, and the
// store's settings (name, language, time zone) and new stores. Each
// tab loads when opened; what the reader's role may not see says so.
'use strict';

const zRows = [];

function reportRows(report) {
  const sales = report.sales || {};
  const rows = [
    ['report-orders', String(sales.orders ?? 0)],
    ['report-total', money(sales.total ?? 0)],
    ['report-tax', money(sales.tax ?? 0)],
    ['report-tips', money(sales.tips ?? 0)],
    ['report-net', money(sales.net_of_refunds ?? 0)],
  ];
  return rows.flatMap(([id, value]) => [el('dt', {}, t(id)), el('dd', { dataset: { report: id } }, value)]);
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString(C.locale) : '';
}

// ---- reports -----------------------------------------------------------------------

async function loadX() {
  const x = await api('GET', '/reports/x');
  document.getElementById('x-report').replaceChildren(...reportRows(x));
  return x;
}

async function loadZ() {
  const list = await api('GET', '/reports/z');
  zRows.splice(0, zRows.length, ...list.items);
  document.getElementById('z-list').replaceChildren(
    ...list.items.map((z) =>
      el(
        'tr',
        { dataset: { test: 'z-row' } },
        el('td', {}, String(z.number)),
        el('td', {}, when(z.closed_at)),
        el('td', {}, String((z.sales || {}).orders ?? '')),
        el('td', { dataset: { test: 'z-total' } }, money((z.sales || {}).total ?? 0)),
        el('td', {}, el('a', { href: `${C.api}/reports/z/${z.number}?format=html`, target: '_blank', rel: 'noopener' }, t('report-print'))),
      ),
    ),
  );
}

let deviceNames = null;

/** Today's shifts: the drawers still open (with what they should hold now), then those closed since the last Z. */
async function loadShifts(day) {
  if (!deviceNames) {
    const devices = await api('GET', '/devices');
    deviceNames = new Map(devices.items.map((d) => [d.id, d.name]));
  }
  const [open, closed] = await Promise.all([api('GET', '/shifts'), api('GET', at('/shifts?day={day}', { day }))]);
  const live = await Promise.all(open.items.map((s) => api('GET', at('/shifts/{shift_id}', { shift_id: s.id }))));
  const newestFirst = [...closed.items].sort((a, b) => b.number - a.number);
  const rows = [...live, ...newestFirst].map((s) => {
    const closing = s.closing;
    // An open drawer's view says what it should hold now; a closed one's count said it.
    const expected = closing ? closing.expected : /** @type {ShiftView} */ (s).expected;
    return el(
      'tr',
      { dataset: { test: 'shift-row' } },
      el('td', {}, String(s.number)),
      el('td', {}, deviceNames.get(s.device_id) || ''),
      el('td', {}, closing ? t('shift-state-closed', { when: when(closing.at) }) : t('shift-state-open', { when: when(s.opened_at) })),
      el('td', {}, money(s.float)),
      el('td', {}, money(expected)),
      el('td', {}, closing ? money(expected + closing.difference) : ''),
      el('td', { class: closing && closing.difference < 0 ? 'error' : '' }, closing ? money(closing.difference) : ''),
      el('td', {}, closing || !may('shift_manage')
        ? ''
        : el('button', { type: 'button', dataset: { test: 'close-shift' }, onclick: () => closeShift(/** @type {ShiftView} */ (s)) }, t('shift-close', { number: s.number }))),
    );
  });
  document.getElementById('shifts-list').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 8, class: 'muted' }, t('shifts-none')))]));
}

/**
 * Closes another terminal's drawer from the office with the manager's count (a
 * terminal that broke, a cashier who left without closing).
 * @param {ShiftView} s
 */
function closeShift(s) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('shift-close-dialog'));
  document.getElementById('shift-close-title').textContent = t('shift-close', { number: s.number });
  document.getElementById('shift-close-expected').textContent = t('shift-expected', { amount: money(s.expected) });
  const amount = /** @type {HTMLInputElement} */ (document.getElementById('shift-close-amount'));
  const note = /** @type {HTMLInputElement} */ (document.getElementById('shift-close-note'));
  amount.value = '';
  note.value = '';
  dialog.onclose = async () => {
    if (dialog.returnValue !== 'apply') return;
    const counted = parseMoney(amount.value);
    if (counted === null) {
      toast(t('error-amount'), 'error');
      return;
    }
    try {
      const closed = await api('POST', at('/shifts/{shift_id}/close', { shift_id: s.id }), {
        version: s.version,
        total: { amount: counted, currency: C.money.currency },
        note: note.value.trim() || null,
      });
      toast(t('shift-closed', { number: closed.number, amount: money(closed.closing ? closed.closing.difference : 0) }), 'ok');
      await loadReports();
    } catch (e) {
      showError(e);
    }
  };
  dialog.returnValue = '';
  dialog.showModal();
}

/** The business day the X report on screen is for: the one "close the day" closes. */
let openDay = null;

async function loadReports() {
  const x = await loadX();
  openDay = x.number;
  await Promise.all([loadZ(), loadShifts(x.number)]);
}

async function closeDay() {
  const error = document.getElementById('report-error');
  error.textContent = '';
  if (!window.confirm(t('report-close-day-confirm'))) return;
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('close-day'));
  button.disabled = true;
  try {
    // Naming the day makes a second tap (or a second screen) get the same Z.
    const z = await api('POST', at('/reports/z?day={day}', { day: openDay }));
    toast(t('report-closed', { number: z.number }), 'ok');
    await loadReports();
  } catch (e) {
    error.textContent = e.code === 'shifts_open' ? t('report-shifts-open') : e.message;
  } finally {
    button.disabled = false;
  }
}

// ---- sales dashboard ---------------------------------------------------------------

/** The Z report of the business day that was open a week ago, if there is one. */
async function lastWeek() {
  if (!zRows.length) await loadZ();
  const then = Date.now() - 7 * 24 * 3600 * 1000;
  const z = zRows.find((r) => new Date(r.opened_at).getTime() <= then && then <= new Date(r.closed_at).getTime());
  return z ? api('GET', at('/reports/z/{number}', { number: z.number })) : null;
}

function chart(today, previous) {
  const NS = 'http://www.w3.org/2000/svg';
  const hours = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
  const amount = (report, hour) => {
    const row = report && (report.by_hour || []).find((b) => b.key.padStart(2, '0') === hour);
    return row ? row.amount : 0;
  };
  const max = Math.max(1, ...hours.flatMap((h) => [amount(today, h), amount(previous, h)]));
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 480 180');
  svg.setAttribute('class', 'bars');
  hours.forEach((hour, i) => {
    for (const [report, dx, cls] of [[previous, 2, 'last'], [today, 10, 'today']]) {
      const value = amount(report, hour);
      const height = Math.round((value / max) * 150);
      const bar = document.createElementNS(NS, 'rect');
      bar.setAttribute('x', String(i * 20 + dx));
      bar.setAttribute('y', String(160 - height));
      bar.setAttribute('width', '8');
      bar.setAttribute('height', String(height));
      bar.setAttribute('class', 'bar-' + cls);
      const title = document.createElementNS(NS, 'title');
      title.textContent = `${hour}h ${money(value)}`;
      bar.append(title);
      svg.append(bar);
    }
    if (i % 3 === 0) {
      const label = document.createElementNS(NS, 'text');
      label.setAttribute('x', String(i * 20 + 2));
      label.setAttribute('y', '176');
      label.textContent = hour;
      svg.append(label);
    }
  });
  document.getElementById('sales-chart').replaceChildren(svg);
}

async function loadSales() {
  const [today, previous] = await Promise.all([api('GET', '/reports/x'), lastWeek()]);
  const total = (r) => (r && r.sales ? r.sales.total : 0);
  const rows = [
    ['sales-today', money(total(today))],
    ['sales-last-week', previous ? money(total(previous)) : t('sales-no-data')],
  ];
  document.getElementById('sales-compare').replaceChildren(...rows.flatMap(([id, v]) => [el('dt', {}, t(id)), el('dd', { dataset: { test: id } }, v)]));
  chart(today, previous);
  const top = [...(today.by_product || [])].sort((a, b) => b.amount - a.amount).slice(0, 10);
  document.getElementById('top-products').replaceChildren(
    ...top.map((p) => el('tr', { dataset: { test: 'top-product' } }, el('td', {}, p.name), el('td', {}, String(p.quantity)), el('td', {}, money(p.amount)))),
  );
}

// ---- catalog -----------------------------------------------------------------------

async function loadCatalog() {
  const [products, taxes] = await Promise.all([api('GET', '/catalog/products?limit=500'), api('GET', '/catalog/tax-rates')]);
  document.getElementById('products-list').replaceChildren(
    ...products.items.map((p) => {
      const toggle = el('input', { type: 'checkbox', checked: p.available !== false, 'aria-label': t('catalog-available') + ' ' + p.name });
      toggle.addEventListener('change', async () => {
        try {
          await api('PUT', at('/catalog/products/{product_id}/availability', { product_id: p.id }), { available: toggle.checked });
        } catch (e) {
          toggle.checked = !toggle.checked;
          showError(e);
        }
      });
      const price = (p.variants || []).map((v) => money(v.price.amount)).join(' / ');
      const change = el('button', { type: 'button', dataset: { test: 'edit-product' }, onclick: () => editProduct(p.id).catch(showError) }, t('catalog-edit'));
      return el('tr', { dataset: { test: 'product-row' } }, el('td', {}, p.name), el('td', {}, price), el('td', {}, p.station || ''), el('td', {}, toggle), el('td', {}, change));
    }),
  );
  const items = Array.isArray(taxes) ? taxes : taxes.items;
  document.getElementById('taxes-list').replaceChildren(
    ...items.map((r) => el('tr', {}, el('td', {}, r.name), el('td', {}, r.rate + ' %'), el('td', {}, r.default ? '✓' : ''))),
  );
}

let editing = null;

/** Opens a product for its name, station and prices; the rest is written back as it is. */
async function editProduct(id) {
  editing = await api('GET', at('/catalog/products/{product_id}', { product_id: id }));
  document.getElementById('edit-name').value = editing.name;
  document.getElementById('edit-station').value = editing.station || '';
  document.getElementById('edit-prices').replaceChildren(
    ...editing.variants.flatMap((v, i) => [
      el('label', { for: 'edit-price-' + i }, v.name ? `${t('catalog-price')} · ${v.name}` : t('catalog-price')),
      el('input', { id: 'edit-price-' + i, inputmode: 'decimal', required: true, value: moneyInput(v.price.amount) }),
    ]),
  );
  document.getElementById('product-dialog').showModal();
}

const PRODUCT_FIELDS = ['version', 'category_id', 'name', 'description', 'image_url', 'station', 'age_restricted', 'track_stock', 'sell_when_out', 'available', 'status', 'position', 'tax_rate_ids', 'modifier_group_ids'];

async function saveProduct(dialog) {
  if (dialog.returnValue !== 'apply' || !editing) return;
  const prices = editing.variants.map((_, i) => parseMoney(document.getElementById('edit-price-' + i).value));
  if (prices.includes(null)) return toast(t('catalog-bad-price'), 'error');
  const body = {};
  for (const field of PRODUCT_FIELDS) if (editing[field] !== null && editing[field] !== undefined) body[field] = editing[field];
  body.name = document.getElementById('edit-name').value.trim();
  const station = document.getElementById('edit-station').value.trim();
  if (station) body.station = station;
  else delete body.station;
  body.variants = editing.variants.map((v, i) => {
    const variant = { id: v.id, price: { amount: prices[i], currency: v.price.currency } };
    for (const field of ['name', 'sku', 'barcode']) if (v[field]) variant[field] = v[field];
    return variant;
  });
  try {
    await api('PUT', at('/catalog/products/{product_id}', { product_id: editing.id }), body);
    toast(t('catalog-saved'), 'ok');
    await loadCatalog();
  } catch (e) {
    showError(e);
  }
}

async function importCsv(event) {
  event.preventDefault();
  const file = document.getElementById('import-file').files[0];
  if (!file) return;
  const out = document.getElementById('import-result');
  try {
    const response = await fetch(`${C.api}/catalog/import`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/csv', 'X-CSRF-Token': C.csrf, 'Idempotency-Key': newKey() },
      credentials: 'same-origin',
      body: await file.text(),
    });
    const body = await response.json();
    out.textContent = response.ok ? t('catalog-imported') : (body.error && body.error.message) || response.status;
    if (response.ok) await loadCatalog();
  } catch (e) {
    out.textContent = t('error-network');
  }
}

async function addTax(event) {
  event.preventDefault();
  try {
    await api('POST', '/catalog/tax-rates', {
      name: document.getElementById('tax-name').value.trim(),
      rate: document.getElementById('tax-rate').value.trim().replace(',', '.'),
      default: document.getElementById('tax-default').checked,
    });
    event.target.reset();
    await loadCatalog();
  } catch (e) {
    showError(e);
  }
}

// ---- people ------------------------------------------------------------------------

const STAFF_ROLES = ['waiter', 'cashier', 'kitchen', 'manager', 'admin'];

/** A person's role, as a choice where it may be changed (never an owner's or a client's). */
function roleCell(u) {
  if (!STAFF_ROLES.includes(u.role)) return el('td', {}, t('role-' + u.role));
  const select = el(
    'select',
    { 'aria-label': t('people-role') + ' ' + u.display_name, dataset: { test: 'person-role' } },
    ...STAFF_ROLES.map((r) => el('option', { value: r, selected: r === u.role }, t('role-' + r))),
  );
  select.addEventListener('change', async () => {
    try {
      await api('PATCH', at('/api/v1/users/{user_id}', { user_id: u.id }), { version: u.version, role: select.value });
      toast(t('people-role-saved', { name: u.display_name }), 'ok');
    } catch (e) {
      showError(e);
    }
    await loadPeople();
  });
  return el('td', {}, select);
}

async function loadPeople() {
  const users = await api('GET', '/api/v1/users?limit=500');
  document.getElementById('people-list').replaceChildren(
    ...users.items.map((u) => {
      const action = u.disabled ? 'enable' : 'disable';
      return el(
        'tr',
        { dataset: { test: 'person-row' } },
        el('td', {}, u.display_name),
        el('td', {}, u.login),
        roleCell(u),
        el('td', {}, (u.disabled ? t('people-disabled') : t('people-active')) + (u.has_pin ? ' · ' + t('people-has-pin') : '')),
        el(
          'td',
          {},
          el('button', { type: 'button', onclick: () => changePerson(u.id, action) }, t('people-' + action)),
          ' ',
          el('button', { type: 'button', dataset: { test: 'set-pin' }, onclick: () => askPin(u) }, t('people-set-pin')),
          ' ',
          el('button', { type: 'button', dataset: { test: 'reset-password' }, onclick: () => askPassword(u) }, t('people-reset')),
        ),
      );
    }),
  );
}

let pinFor = null;

function askPin(u) {
  pinFor = u;
  document.getElementById('pin-dialog-title').textContent = t('people-pin-title', { name: u.display_name });
  document.getElementById('staff-pin').value = '';
  document.getElementById('pin-dialog').showModal();
}

async function savePin(dialog) {
  if (dialog.returnValue !== 'apply' || !pinFor) return;
  try {
    await api('PUT', at('/api/v1/users/{user_id}/pin', { user_id: pinFor.id }), { pin: document.getElementById('staff-pin').value.trim() });
    toast(t('people-pin-saved', { name: pinFor.display_name }), 'ok');
    await loadPeople();
  } catch (e) {
    showError(e);
  }
}

async function changePerson(id, action) {
  try {
    const path =
      action === 'disable'
        ? at('/api/v1/users/{user_id}/disable', { user_id: id })
        : at('/api/v1/users/{user_id}/enable', { user_id: id });
    await api('POST', path);
    await loadPeople();
  } catch (e) {
    showError(e);
  }
}

async function addPerson(event) {
  event.preventDefault();
  try {
    await api('POST', '/api/v1/users', {
      login: document.getElementById('person-login').value.trim(),
      display_name: document.getElementById('person-name').value.trim(),
      role: document.getElementById('person-role').value,
      password: document.getElementById('person-password').value,
      store_ids: [C.store.id],
    });
    event.target.reset();
    toast(t('people-saved'), 'ok');
    await loadPeople();
  } catch (e) {
    showError(e);
  }
}

// ---- stations ----------------------------------------------------------------------

async function loadStations() {
  const stations = await api('GET', '/kds/stations');
  document.getElementById('stations-list').replaceChildren(
    ...stations.items.map((s) => el('tr', {}, el('td', {}, s.code), el('td', {}, s.name), el('td', {}, Math.round(s.warn_after_s / 60) + ' min'), el('td', {}, Math.round(s.late_after_s / 60) + ' min'))),
  );
  return stations.items;
}

async function saveStation(event) {
  event.preventDefault();
  const code = document.getElementById('station-code').value.trim();
  try {
    const known = (await loadStations()).find((s) => s.code === code);
    await api('PUT', at('/kds/stations/{station}', { station: code }), {
      version: known ? known.version : 0,
      name: document.getElementById('station-name').value.trim(),
      warn_after_s: Number(document.getElementById('station-warn').value) * 60,
      late_after_s: Number(document.getElementById('station-late').value) * 60,
    });
    event.target.reset();
    await loadStations();
  } catch (e) {
    showError(e);
  }
}

// ---- webhooks ----------------------------------------------------------------------

let shownWebhook = null;

async function loadWebhooks() {
  const hooks = await api('GET', '/webhooks');
  document.getElementById('webhooks-list').replaceChildren(
    ...hooks.items.map((w) =>
      el('tr', {}, el('td', {}, w.url), el('td', {}, (w.events || []).join(', ')), el('td', {}, el('button', { type: 'button', onclick: () => loadDeliveries(w.id) }, t('webhooks-deliveries')))),
    ),
  );
}

async function loadDeliveries(id) {
  shownWebhook = id;
  const list = await api('GET', at('/webhooks/{webhook_id}/deliveries', { webhook_id: id }));
  document.getElementById('deliveries-card').hidden = false;
  document.getElementById('deliveries-list').replaceChildren(
    ...list.items.map((d) => el('tr', {}, el('td', {}, String(d.seq)), el('td', {}, d.kind), el('td', {}, d.status), el('td', {}, String(d.attempts)), el('td', {}, when(d.updated_at)))),
  );
}

async function addWebhook(event) {
  event.preventDefault();
  try {
    const created = await api('POST', '/webhooks', {
      url: document.getElementById('webhook-url').value.trim(),
      events: document.getElementById('webhook-events').value.split(',').map((s) => s.trim()).filter(Boolean),
    });
    document.getElementById('webhook-secret').textContent = t('webhooks-secret', { secret: created.secret || '' });
    await loadWebhooks();
  } catch (e) {
    showError(e);
  }
}

async function replayDead() {
  if (!shownWebhook) return;
  try {
    await api('POST', at('/webhooks/{webhook_id}/replay', { webhook_id: shownWebhook }));
    await loadDeliveries(shownWebhook);
  } catch (e) {
    showError(e);
  }
}

// ---- security log ------------------------------------------------------------------

async function loadAudit() {
  const events = await api('GET', '/api/v1/audit/security-events?limit=200');
  document.getElementById('audit-list').replaceChildren(
    ...events.items.map((e) => el('tr', { dataset: { test: 'audit-row' } }, el('td', {}, when(e.at)), el('td', {}, e.kind), el('td', {}, e.login || ''), el('td', {}, e.ip || ''))),
  );
}

// ---- tabs --------------------------------------------------------------------------

/** @type {Record<string, () => Promise<unknown>>} what opening each tab loads */
const LOADERS = {
  reports: loadReports,
  sales: loadSales,
  catalog: loadCatalog,
  people: loadPeople,
  stations: loadStations,
  webhooks: loadWebhooks,
  audit: loadAudit,
  store: loadStore,
};

// ---- the store -----------------------------------------------------------------------

let store = null;

async function loadStore() {
  store = await api('GET', at('/api/v1/stores/{store_id}', { store_id: C.store.id }));
  document.getElementById('store-name-input').value = store.name;
  document.getElementById('store-language').value = store.locale;
  document.getElementById('store-timezone').value = store.timezone;
  document.getElementById('store-facts').textContent = t('store-facts', { code: store.code, currency: store.currency });
}

async function saveStore(event) {
  event.preventDefault();
  try {
    store = await api('PATCH', at('/api/v1/stores/{store_id}', { store_id: C.store.id }), {
      version: store.version,
      name: document.getElementById('store-name-input').value.trim(),
      locale: document.getElementById('store-language').value,
      timezone: document.getElementById('store-timezone').value.trim(),
    });
    toast(t('store-saved'), 'ok');
  } catch (e) {
    showError(e);
    await loadStore();
  }
}

async function addStore(event) {
  event.preventDefault();
  const value = (id) => document.getElementById(id).value.trim();
  try {
    const created = await api('POST', '/api/v1/stores', {
      code: value('new-store-code'),
      name: value('new-store-name'),
      currency: value('new-store-currency').toUpperCase(),
      timezone: value('new-store-timezone'),
      locale: value('new-store-language'),
    });
    event.target.reset();
    toast(t('store-created', { name: created.name }), 'ok');
  } catch (e) {
    showError(e);
  }
}

async function openTab(name) {
  if (!LOADERS[name]) name = 'reports';
  for (const button of document.querySelectorAll('.tabs [data-tab]')) button.setAttribute('aria-selected', String(button.dataset.tab === name));
  for (const panel of document.querySelectorAll('.tab-panel')) panel.hidden = panel.id !== 'tab-' + name;
  const error = document.getElementById('office-error');
  error.textContent = '';
  document.body.dataset.ready = 'false';
  try {
    await LOADERS[name]();
  } catch (e) {
    error.textContent = e.status === 403 ? t('office-not-allowed') : e.message;
  }
  document.body.dataset.tab = name;
  document.body.dataset.ready = 'true';
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('refresh-x').addEventListener('click', () => loadReports().catch(showError));
  document.getElementById('store-form').addEventListener('submit', saveStore);
  document.getElementById('new-store-form').addEventListener('submit', addStore);
  document.getElementById('close-day').addEventListener('click', closeDay);
  document.getElementById('import-form').addEventListener('submit', importCsv);
  const productDialog = document.getElementById('product-dialog');
  productDialog.addEventListener('close', () => saveProduct(productDialog));
  document.getElementById('tax-form').addEventListener('submit', addTax);
  document.getElementById('person-form').addEventListener('submit', addPerson);
  const pinDialog = document.getElementById('pin-dialog');
  pinDialog.addEventListener('close', () => savePin(pinDialog));
  document.getElementById('station-form').addEventListener('submit', saveStation);
  document.getElementById('webhook-form').addEventListener('submit', addWebhook);
  document.getElementById('replay-dead').addEventListener('click', replayDead);
  for (const button of document.querySelectorAll('.tabs [data-tab]')) {
    button.addEventListener('click', () => {
      location.hash = button.dataset.tab;
    });
  }
  window.addEventListener('hashchange', () => openTab(location.hash.slice(1)));
  openTab(location.hash.slice(1));
});
