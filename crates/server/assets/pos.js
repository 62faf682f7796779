// The POS terminal: the floor (tables coloured by what their tabs are doing, kept
// current by the store's floor stream), the order screen (menu, modifiers, notes,
// seats and courses, send to kitchen, discount, split) and payment (cash with change,
// card, several tenders), then the receipt. Prices are the server's: lines not yet sent
// show the menu's price as an estimate, the totals are always the order's own.
'use strict';

const S = {
  /** @type {Menu} */
  menu: null,
  soldOut: new Set(), // variant ids the menu says are sold out
  menuCountsStock: false, // a product of the menu can sell out: others' orders may change it
  /** @type {TableView[]} */
  tables: [],
  /** @type {ServiceArea[] | null} the floor's areas, read once */
  areas: null,
  /** @type {Map<string, {id: string, number: number, status: string, version: number, total: number}>} open orders at no table */
  loose: new Map(),
  category: null,
  /** @type {OrderView} the server's order, once it exists */
  order: null,
  draft: null, // { kind, table_id } before it does
  pending: [], // lines added here, not yet on the order
  tender: 'cash',
  dialogProduct: null,
};

function view(name) {
  for (const section of document.querySelectorAll('main > .view')) {
    section.hidden = section.id !== name;
  }
  document.body.dataset.view = name;
}

function tableName(id) {
  const table = S.tables.find((tb) => tb.id === id);
  return table ? table.name : t('counter');
}

// ---- the floor ---------------------------------------------------------------------

/** Orders still being served: the floor shows them. */
const ACTIVE = new Set(['open', 'sent', 'ready', 'served']);

/** What a table shows: the state of its liveliest tab. */
function tableState(table) {
  const statuses = (table.orders || []).map((o) => o.status);
  for (const state of ['ready', 'sent', 'open', 'served']) {
    if (statuses.includes(state)) return state;
  }
  return statuses.length ? 'open' : 'free';
}

/**
 * The floor from the server: tables with their tabs, the areas, and the open orders at no
 * table. After this, each order event changes only its own order's tile (noteOrder).
 */
async function loadTables() {
  const [tables, areas, orders] = await Promise.all([
    api('GET', '/tables'),
    S.areas ? null : api('GET', '/areas'),
    api('GET', '/orders?status=open,sent,ready,served&limit=100'),
  ]);
  S.tables = tables.items;
  if (areas) S.areas = areas.items.filter((a) => !a.archived);
  S.loose = new Map(
    orders.items
      .filter((o) => !o.table_id)
      .map((o) => [o.id, { id: o.id, number: o.number, status: o.status, version: o.version, total: o.totals.total }]),
  );
  renderFloor();
}

/** A tile of the floor: what it is, the state it shows, a detail line, where a tap goes. */
function tile(title, state, detail, dataset, open) {
  return el(
    'button',
    { type: 'button', class: 'table state-' + state, dataset, onclick: () => open().catch(showError) },
    el('strong', {}, title),
    el('span', { class: 'table-state' }, state === 'free' ? t('table-free') : t('status-' + state)),
    detail ? el('span', { class: 'table-order' }, detail) : null,
  );
}

function tableTile(table) {
  const state = tableState(table);
  const tabs = (table.orders || []).map((o) => '#' + o.number).join(' · ');
  return tile(table.name, state, tabs, { tableId: table.id, state, test: 'table' }, () => openTable(table));
}

/** The map by area (each a heading over its tables, in the order the office set), then
 * the tables in no area, then the open orders at no table. */
function renderFloor() {
  const box = document.getElementById('tables');
  const tables = S.tables.filter((tb) => !tb.archived);
  const areas = (S.areas || []).filter((a) => tables.some((tb) => tb.area_id === a.id));
  const known = new Set(areas.map((a) => a.id));
  /** @type {[string | null, TableView[]][]} */
  const groups = areas.map((a) => [a.name, tables.filter((tb) => tb.area_id === a.id)]);
  const rest = tables.filter((tb) => !tb.area_id || !known.has(tb.area_id));
  if (rest.length) groups.push([groups.length ? t('floor-other-area') : null, rest]);
  box.replaceChildren(
    ...groups.map(([name, list]) =>
      el(
        'div',
        { class: 'area', role: 'group', dataset: { test: 'area' }, 'aria-label': name || t('pos-tables') },
        name ? el('h2', { class: 'area-name' }, name) : null,
        el('div', { class: 'tables' }, ...list.map(tableTile)),
      ),
    ),
  );
  const loose = [...S.loose.values()].sort((a, b) => a.number - b.number);
  document.getElementById('open-orders-box').hidden = !loose.length;
  document.getElementById('open-orders').replaceChildren(
    ...loose.map((o) => tile('#' + o.number, o.status, money(o.total), { test: 'open-order', orderId: o.id }, () => openOrder(o.id))),
  );
}

/** The floor after a change to one order, from that order alone. */
function noteOrder(o) {
  for (const table of S.tables) table.orders = (table.orders || []).filter((tab) => tab.id !== o.id);
  S.loose.delete(o.id);
  if (ACTIVE.has(o.status)) {
    const tab = { id: o.id, number: o.number, status: o.status, version: o.version };
    const table = o.table_id ? S.tables.find((tb) => tb.id === o.table_id) : null;
    if (table) table.orders.push(tab);
    else if (!o.table_id) S.loose.set(o.id, { ...tab, total: o.totals.total });
  }
  renderFloor();
}

/** Order events waiting a moment, by order: a send is several events, read once. */
const heard = new Map();

function onOrderEvent(message) {
  reloadMenuSoon();
  const waiting = heard.get(message.order_id);
  if (waiting) {
    waiting.ready = waiting.ready || message.ready;
    return;
  }
  const entry = { ready: message.ready };
  heard.set(message.order_id, entry);
  setTimeout(() => {
    heard.delete(message.order_id);
    orderChanged(message.order_id, entry.ready).catch(showError);
  }, 80);
}

async function orderChanged(id, ready) {
  const fresh = await api('GET', at('/orders/{order_id}', { order_id: id }));
  noteOrder(fresh);
  // "Ready" is for whoever took the order, not for every terminal of the store.
  if (ready && fresh.opened_by === C.user.id) {
    const where = fresh.table_id ? tableName(fresh.table_id) : t('counter');
    toast(t('toast-ready', { number: fresh.number, table: where }), 'ready');
  }
  // Another order may be on screen by now (a merge, a tap on the floor), or a newer
  // answer of this one: an older read must not replace it.
  if (S.order && S.order.id === fresh.id && fresh.version >= S.order.version && document.body.dataset.view === 'order') {
    S.order = fresh;
    renderTicket();
  }
}

async function openOrder(id) {
  S.pending = [];
  S.order = await api('GET', at('/orders/{order_id}', { order_id: id }));
  S.draft = null;
  showOrder();
}

function newTableOrder(table) {
  S.pending = [];
  S.order = null;
  S.draft = { kind: 'dine_in', table_id: table.id };
  showOrder();
}

/** A table with one tab opens it; with several (a split bill), the waiter picks one. */
async function openTable(table) {
  // The map may be a moment behind the stream: what the table holds now decides, so a
  // tap never opens a second tab on a table whose first has just been opened elsewhere.
  const now = await api('GET', at('/tables/{table_id}', { table_id: table.id }));
  const tabs = now.orders || [];
  if (!tabs.length) return newTableOrder(table);
  if (tabs.length === 1) return openOrder(tabs[0].id);
  const orders = await Promise.all(tabs.map((tab) => api('GET', at('/orders/{order_id}', { order_id: tab.id }))));
  const dialog = document.getElementById('bills-dialog');
  document.getElementById('bills').replaceChildren(
    ...orders.map((o) =>
      el(
        'button',
        {
          type: 'button',
          class: 'bill state-' + o.status,
          dataset: { test: 'bill' },
          onclick: () => {
            dialog.close('cancel');
            openOrder(o.id).catch(showError);
          },
        },
        t('bill-summary', { number: o.number, status: t('status-' + o.status), amount: money(o.totals.total) }),
      ),
    ),
  );
  dialog.onclose = () => {
    if (dialog.returnValue === 'new') newTableOrder(table);
  };
  dialog.returnValue = '';
  dialog.showModal();
}

function counterOrder() {
  S.pending = [];
  S.order = null;
  S.draft = { kind: 'counter' };
  showOrder();
}

// ---- the menu ----------------------------------------------------------------------

async function loadMenu() {
  S.menu = await api('GET', '/catalog/menu');
  S.soldOut = new Set(S.menu.sold_out || []);
  S.menuCountsStock = S.menu.products.some((p) => p.track_stock && !p.sell_when_out);
  const box = document.getElementById('categories');
  const tab = (id, label) =>
    el(
      'button',
      {
        type: 'button',
        role: 'tab',
        'aria-selected': String(S.category === id),
        onclick: () => {
          S.category = id;
          renderMenu();
        },
      },
      label,
    );
  box.replaceChildren(tab(null, t('pos-all')), ...S.menu.categories.map((c, i) => tab(i, c.name)));
}

/** Another terminal's sale may have sold something out: read the menu again (a 304
 * while nothing changed), at most every two seconds, and only for a menu that counts
 * stock. */
let menuTimer = null;
function reloadMenuSoon() {
  if (!S.menuCountsStock || menuTimer) return;
  menuTimer = setTimeout(async () => {
    menuTimer = null;
    try {
      await loadMenu();
      if (document.body.dataset.view === 'order') renderMenu();
    } catch (e) {
      // The next order event tries again; the order itself is refused if sold out.
    }
  }, 2000);
}

function soldOut(product) {
  return !product.available || product.variants.every((v) => S.soldOut.has(v.id));
}

function renderMenu() {
  for (const [i, button] of document.querySelectorAll('#categories button').entries()) {
    button.setAttribute('aria-selected', String((i === 0 ? null : i - 1) === S.category));
  }
  const query = document.getElementById('search').value.trim().toLowerCase();
  const products = S.menu.products.filter(
    (p) =>
      (S.category === null || p.category === S.category) &&
      (!query || p.name.toLowerCase().includes(query)),
  );
  const box = document.getElementById('products');
  if (!products.length) {
    box.replaceChildren(el('p', { class: 'muted' }, t('pos-no-products')));
    return;
  }
  box.replaceChildren(
    ...products.map((p) =>
      el(
        'button',
        {
          type: 'button',
          class: 'product',
          disabled: soldOut(p),
          dataset: { productId: p.id, test: 'product' },
          onclick: () => chooseProduct(p),
        },
        el('span', { class: 'name' }, p.name),
        el('span', { class: 'price' }, soldOut(p) ? t('pos-sold-out') : money(p.variants[0].price)),
      ),
    ),
  );
}

function chooseProduct(product) {
  if (product.variants.length > 1 || (product.modifier_groups || []).length) {
    openModifiers(product, product.variants.find((v) => !S.soldOut.has(v.id)));
  } else {
    addPending(product, product.variants[0], [], 1, {});
  }
}

function onBarcode(event) {
  if (event.key !== 'Enter') return;
  const code = event.target.value.trim();
  event.target.value = '';
  if (!code) return;
  for (const product of S.menu.products) {
    const variant = product.variants.find((v) => v.barcode === code || v.sku === code);
    if (variant) {
      if (!product.available || S.soldOut.has(variant.id)) {
        toast(t('pos-out-of-stock', { name: product.name }), 'error');
        return;
      }
      if ((product.modifier_groups || []).length) openModifiers(product, variant);
      else addPending(product, variant, [], 1, {});
      return;
    }
  }
  toast(t('pos-barcode-unknown', { code }), 'error');
}

// ---- the modifiers dialog ----------------------------------------------------------

function openModifiers(product, variant) {
  S.dialogProduct = product;
  document.getElementById('modifiers-title').textContent = product.name;
  document.getElementById('modifiers-error').textContent = '';
  document.getElementById('line-quantity').value = 1;
  document.getElementById('line-seat').value = '';
  document.getElementById('line-course').value = '';
  document.getElementById('line-notes').value = '';
  const variants = document.getElementById('variant-choice');
  variants.replaceChildren();
  if (product.variants.length > 1) {
    variants.append(
      el(
        'fieldset',
        {},
        el('legend', {}, t('line-choose', { name: product.name })),
        ...product.variants.map((v, i) =>
          el(
            'label',
            { class: 'option' },
            el('input', {
              type: 'radio',
              name: 'variant',
              value: v.id,
              checked: variant ? v.id === variant.id : i === 0,
              disabled: S.soldOut.has(v.id),
            }),
            (v.name || product.name) + ' · ' + (S.soldOut.has(v.id) ? t('pos-sold-out') : money(v.price)),
          ),
        ),
      ),
    );
  }
  const groups = document.getElementById('groups');
  groups.replaceChildren(
    ...(product.modifier_groups || []).map((gi) => {
      const group = S.menu.modifier_groups[gi];
      const single = group.max === 1;
      return el(
        'fieldset',
        { dataset: { group: gi } },
        el('legend', {}, group.name),
        ...group.options.map((o) =>
          el(
            'label',
            { class: 'option' },
            el('input', {
              type: single ? 'radio' : 'checkbox',
              name: 'group-' + gi,
              value: o.id,
              checked: !!o.default,
              dataset: { test: 'option' },
            }),
            o.name + (o.price ? ' +' + money(o.price) : ''),
          ),
        ),
      );
    }),
  );
  document.getElementById('modifiers').showModal();
}

function onModifiersClose() {
  const dialog = document.getElementById('modifiers');
  const product = S.dialogProduct;
  if (dialog.returnValue !== 'add' || !product) return;
  const chosenVariant = document.querySelector('#variant-choice input:checked');
  const variant = chosenVariant
    ? product.variants.find((v) => v.id === chosenVariant.value)
    : product.variants[0];
  const options = [];
  for (const gi of product.modifier_groups || []) {
    const group = S.menu.modifier_groups[gi];
    const picked = [...document.querySelectorAll(`#groups fieldset[data-group="${gi}"] input:checked`)].map((i) => i.value);
    if (picked.length < group.min) {
      document.getElementById('modifiers-error').textContent = t('line-choose-at-least', { min: group.min, name: group.name });
      dialog.showModal();
      return;
    }
    options.push(...picked);
  }
  const quantity = Math.max(1, Number(document.getElementById('line-quantity').value) || 1);
  const seat = Number(document.getElementById('line-seat').value) || null;
  const course = Number(document.getElementById('line-course').value) || null;
  const notes = document.getElementById('line-notes').value.trim() || null;
  addPending(product, variant, options, quantity, { seat, course, notes });
}

function optionOf(id) {
  for (const group of S.menu.modifier_groups) {
    const option = group.options.find((o) => o.id === id);
    if (option) return option;
  }
  return null;
}

function addPending(product, variant, options, quantity, extra) {
  const estimate = variant.price + options.reduce((sum, id) => sum + ((optionOf(id) || {}).price || 0), 0);
  S.pending.push({
    product_id: product.id,
    variant_id: variant.id,
    quantity,
    options,
    notes: extra.notes || null,
    seat: extra.seat || null,
    course: extra.course || null,
    name: product.name + (variant.name ? ' ' + variant.name : ''),
    estimate: estimate * quantity,
  });
  renderTicket();
}

// ---- the ticket --------------------------------------------------------------------

function orderTitle() {
  if (S.order) {
    return S.order.table_id
      ? t('order-title-table', { number: S.order.number, table: tableName(S.order.table_id) })
      : t('order-title-counter', { number: S.order.number });
  }
  return S.draft.table_id ? t('order-title-new', { table: tableName(S.draft.table_id) }) : t('order-new-counter');
}

// ---- unsent lines survive a reload and a session that ends --------------------------

function unsentKey() {
  return `comanda.pos.unsent.${C.store.id}.${C.user.id}`;
}

/** Lines not yet on the order, kept in this browser for whoever added them. */
function keepUnsent() {
  try {
    if (!S.pending.length) {
      localStorage.removeItem(unsentKey());
      return;
    }
    const kept = { order_id: S.order ? S.order.id : null, draft: S.draft, pending: S.pending };
    localStorage.setItem(unsentKey(), JSON.stringify(kept));
  } catch (e) {
    // A browser without storage (private mode, full) still sells; it only cannot keep.
  }
}

/** Brings back the lines kept by keepUnsent, on the order they were for. */
async function restoreUnsent() {
  let kept = null;
  try {
    kept = JSON.parse(localStorage.getItem(unsentKey()) || 'null');
  } catch (e) {
    kept = null;
  }
  if (!kept || !Array.isArray(kept.pending) || !kept.pending.length) return;
  if (kept.order_id) {
    try {
      await openOrder(kept.order_id);
    } catch (e) {
      // The order was paid or moved meanwhile: the lines start a new one at the counter.
      S.order = null;
      S.draft = { kind: 'counter' };
    }
  } else {
    S.order = null;
    S.draft = kept.draft || { kind: 'counter' };
  }
  S.pending = kept.pending;
  showOrder();
  toast(t('pos-unsent-kept', { count: kept.pending.length }), 'info');
}

function renderTicket() {
  keepUnsent();
  document.getElementById('order-title').textContent = orderTitle();
  const lines = [];
  // What each counted line comes to, as the server priced it (voided lines are not counted).
  const priced = new Map(((S.order && S.order.totals.lines) || []).map((l) => [l.line_id, l]));
  for (const line of (S.order && S.order.lines) || []) {
    const modifiers = (line.modifiers || []).map((m) => m.name).join(', ');
    const counted = priced.get(line.id);
    const where = placeOf(line);
    const open = S.order && ACTIVE.has(S.order.status) && line.status !== 'voided';
    lines.push(
      el(
        'li',
        { class: 'line status-' + line.status, dataset: { test: 'line', lineId: line.id } },
        el('span', { class: 'qty' }, line.quantity + '×'),
        el(
          'span',
          { class: 'name' },
          line.name,
          modifiers ? el('small', {}, modifiers) : null,
          where ? el('small', { class: 'where' }, where) : null,
          line.notes ? el('small', { class: 'note' }, line.notes) : null,
          line.void_reason ? el('small', { class: 'note' }, line.void_reason) : null,
          counted && counted.discount ? el('small', { class: 'off' }, '−' + money(counted.discount) + (line.discount && line.discount.reason ? ' · ' + line.discount.reason : '')) : null,
        ),
        el('span', { class: 'status' }, t('line-status-' + line.status) + (line.held ? ' · ' + t('line-held') : '')),
        // What the server counts for it; a line it does not count (voided) is struck through.
        el('span', { class: 'amount' }, counted ? money(counted.gross) : el('s', {}, money((line.unit_price + (line.modifiers_price || 0)) * line.quantity))),
        open
          ? el('button', { type: 'button', class: 'line-more', dataset: { test: 'line-actions' }, 'aria-label': t('pos-line-actions', { name: line.name }), onclick: () => openLine(line) }, '⋯')
          : null,
      ),
    );
  }
  S.pending.forEach((line, index) => {
    const modifiers = line.options.map((id) => (optionOf(id) || {}).name).filter(Boolean).join(', ');
    lines.push(
      el(
        'li',
        { class: 'line pending', dataset: { test: 'pending-line' } },
        el('span', { class: 'qty' }, line.quantity + '×'),
        el('span', { class: 'name' }, line.name, modifiers ? el('small', {}, modifiers) : null, line.notes ? el('small', { class: 'note' }, line.notes) : null),
        el('span', { class: 'status' }, t('line-status-pending')),
        el('span', { class: 'amount' }, money(line.estimate)),
        el('button', { type: 'button', class: 'remove', 'aria-label': t('pos-remove'), onclick: () => { S.pending.splice(index, 1); renderTicket(); } }, '×'),
      ),
    );
  });
  document.getElementById('lines').replaceChildren(...lines);
  const totals = document.getElementById('totals');
  const rows = [];
  if (S.order) {
    const tt = S.order.totals;
    rows.push(['totals-subtotal', tt.subtotal]);
    if (tt.discounts) rows.push(['totals-discounts', -tt.discounts]);
    if (tt.service) rows.push(['totals-service', tt.service]);
    rows.push(['totals-tax', tt.tax]);
    rows.push(['totals-total', tt.total]);
  } else {
    rows.push(['totals-subtotal', S.pending.reduce((sum, l) => sum + l.estimate, 0)]);
  }
  totals.replaceChildren(...rows.flatMap(([id, amount]) => [el('dt', {}, t(id)), el('dd', { dataset: { total: id } }, money(amount))]));
  const live = !!S.order && ACTIVE.has(S.order.status);
  document.getElementById('pay').disabled = !(live || S.pending.length);
  document.getElementById('discount').disabled = !live;
  document.getElementById('split').disabled = !live;
  document.getElementById('move').disabled = !live;
  document.getElementById('order-more').disabled = !live;
}

/** "Seat 2 · Course 1", "Seat 2", "Course 1" or nothing. */
function placeOf(line) {
  if (line.seat && line.course) return t('line-seat-course', { seat: line.seat, course: line.course });
  if (line.seat) return t('line-seat-short', { seat: line.seat });
  if (line.course) return t('line-course-short', { course: line.course });
  return '';
}

// ---- fixing a mistake: line and order actions -----------------------------------------

/**
 * Runs `call(approval)` without an approval first; if the server says a manager must
 * approve, asks for one (a manager's PIN at this terminal) and runs it again with it.
 * Null when the approval was not given.
 */
async function withApproval(call) {
  try {
    return await call(null);
  } catch (e) {
    if (e.code !== 'approval_required') throw e;
    const approval = await askApproval(e.message);
    return approval ? call(approval) : null;
  }
}

/** @returns {Promise<{user_id: string, pin: string} | null>} */
async function askApproval(why) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('approval-dialog'));
  const who = /** @type {HTMLSelectElement} */ (document.getElementById('approval-who'));
  const pin = /** @type {HTMLInputElement} */ (document.getElementById('approval-pin'));
  const staff = C.device ? await api('GET', '/api/v1/device/staff') : [];
  const managers = staff.filter((p) => ['manager', 'admin', 'owner'].includes(p.role));
  if (!managers.length) {
    toast(t('approval-none'), 'error');
    return null;
  }
  who.replaceChildren(...managers.map((m) => el('option', { value: m.id }, m.display_name)));
  document.getElementById('approval-why').textContent = why;
  pin.value = '';
  dialog.returnValue = '';
  dialog.showModal();
  pin.focus();
  await new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
  if (dialog.returnValue !== 'apply' || !pin.value) return null;
  return { user_id: who.value, pin: pin.value };
}

/** A sent line's actions: void or comp it (with a reason, and a manager if the store
 * wants one), or mark its product sold out. */
function openLine(line) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('line-dialog'));
  document.getElementById('line-dialog-title').textContent = line.quantity + '× ' + line.name;
  document.getElementById('line-dialog-detail').textContent = [t('line-status-' + line.status), placeOf(line)].filter(Boolean).join(' · ');
  const reason = /** @type {HTMLInputElement} */ (document.getElementById('line-reason'));
  reason.value = '';
  document.getElementById('line-86').hidden = !may('product_availability');
  dialog.onclose = () => lineAction(line, dialog.returnValue, reason.value.trim()).catch(showError);
  dialog.returnValue = '';
  dialog.showModal();
}

async function lineAction(line, action, reason) {
  if (!S.order) return;
  const ids = { order_id: S.order.id, line_id: line.id };
  if (action === 'void') {
    const done = await withApproval((approval) =>
      api('POST', at('/orders/{order_id}/lines/{line_id}/void', ids), { version: S.order.version, reason, approval }),
    );
    if (!done) return;
    S.order = done;
    toast(t('line-voided', { name: line.name }), 'ok');
  } else if (action === 'comp') {
    const done = await withApproval((approval) =>
      api('PUT', at('/orders/{order_id}/lines/{line_id}/discount', ids), {
        version: S.order.version,
        discount: { percent: '100', reason: reason || t('line-comp') },
        approval,
      }),
    );
    if (!done) return;
    S.order = done;
    toast(t('line-comped', { name: line.name }), 'ok');
  } else if (action === '86') {
    await api('PUT', at('/catalog/products/{product_id}/availability', { product_id: line.product_id }), { available: false });
    toast(t('line-86-done', { name: line.name }), 'ok');
    await loadMenu();
    renderMenu();
    return;
  } else {
    return;
  }
  renderTicket();
  noteOrder(S.order);
}

/** The order's own actions: fire a held course, rush, served, the bill, a tip, cancel. */
function openOrderActions() {
  if (!S.order) return;
  const o = S.order;
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('order-dialog'));
  const held = [...new Set(o.lines.filter((l) => l.held && l.course).map((l) => l.course))].sort((a, b) => a - b);
  document.getElementById('fire-courses').replaceChildren(
    ...held.map((course) =>
      el('button', { type: 'submit', value: 'fire-' + course, dataset: { test: 'fire-course' } }, t('order-fire', { course })),
    ),
  );
  document.getElementById('order-rush').textContent = o.rush ? t('order-unrush') : t('order-rush');
  /** @type {HTMLInputElement} */ (document.getElementById('order-tip')).value = o.tip ? moneyInput(o.tip) : '';
  /** @type {HTMLInputElement} */ (document.getElementById('order-cancel-reason')).value = '';
  document.getElementById('order-cancel').hidden = o.payments.length > 0;
  dialog.onclose = () => orderAction(dialog.returnValue).catch(showError);
  dialog.returnValue = '';
  dialog.showModal();
}

async function orderAction(action) {
  if (!S.order) return;
  const o = S.order;
  const id = { order_id: o.id };
  if (action.startsWith('fire-')) {
    const course = Number(action.slice(5));
    S.order = await api('POST', at('/orders/{order_id}/fire', id), { course });
    toast(t('order-fired', { course }), 'ok');
  } else if (action === 'rush') {
    S.order = await api('POST', at('/orders/{order_id}/rush', id), { rush: !o.rush });
    if (S.order.rush) toast(t('order-rushed'), 'ok');
  } else if (action === 'served') {
    S.order = await api('POST', at('/orders/{order_id}/served', id), { version: o.version });
    toast(t('order-served-done'), 'ok');
  } else if (action === 'bill') {
    printPage(`${C.api}/orders/${o.id}/receipt.html`);
    return;
  } else if (action === 'tip') {
    const tip = parseMoney(/** @type {HTMLInputElement} */ (document.getElementById('order-tip')).value || '0');
    if (tip === null) {
      toast(t('error-amount'), 'error');
      return;
    }
    S.order = await api('PUT', at('/orders/{order_id}/tip', id), { version: o.version, tip: { amount: tip, currency: C.money.currency } });
    toast(t('order-tip-done'), 'ok');
  } else if (action === 'cancel-order') {
    const reason = /** @type {HTMLInputElement} */ (document.getElementById('order-cancel-reason')).value.trim();
    S.order = await api('POST', at('/orders/{order_id}/cancel', id), { version: o.version, reason });
    toast(t('order-cancelled'), 'ok');
    noteOrder(S.order);
    view('floor');
    return;
  } else {
    return;
  }
  renderTicket();
  noteOrder(S.order);
}

/** Prints a page of this site (a bill, a receipt) from a hidden frame. */
function printPage(url) {
  const frame = el('iframe', { src: url, title: t('receipt-title'), class: 'print-frame' });
  frame.addEventListener('load', () => {
    frame.contentWindow.print();
    setTimeout(() => frame.remove(), 60000);
  });
  document.body.append(frame);
}

function showOrder() {
  view('order');
  renderMenu();
  renderTicket();
}

function lineInput(line) {
  const input = { product_id: line.product_id, variant_id: line.variant_id, quantity: line.quantity, options: line.options };
  for (const field of ['notes', 'seat', 'course']) if (line[field]) input[field] = line[field];
  return input;
}

/**
 * Puts the lines added here on the order (opening it if it is new) and sends what is
 * not sent yet to the kitchen. False when it could not (the reason is shown).
 */
async function commitAndSend() {
  try {
    if (S.pending.length) {
      const lines = S.pending.map(lineInput);
      if (S.order) {
        S.order = await api('POST', at('/orders/{order_id}/lines', { order_id: S.order.id }), { version: S.order.version, lines });
      } else {
        S.order = await api('POST', '/orders', { ...S.draft, lines });
        S.draft = null;
      }
      S.pending = [];
    }
    S.order = await api('POST', at('/orders/{order_id}/send', { order_id: S.order.id }), { version: S.order.version });
    noteOrder(S.order);
    return true;
  } catch (e) {
    if (e.code === 'out_of_stock') {
      await outOfStock(e);
    } else {
      showError(e);
    }
    renderTicket();
    return false;
  }
}

function unsent() {
  return S.pending.length > 0 || (!!S.order && S.order.lines.some((l) => l.status === 'pending'));
}

async function send() {
  if (!unsent()) {
    toast(t('pos-nothing-to-send'), 'info');
    return;
  }
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('send'));
  button.disabled = true;
  try {
    if (!(await commitAndSend())) return;
    toast(t('pos-sent'), 'ok');
    renderTicket();
    // A table's tab waits on the floor; a counter order is paid now.
    if (S.order.table_id) view('floor');
  } finally {
    button.disabled = false;
  }
}

/** Pay: a quick sale sends what is on the ticket and goes straight to payment. */
async function pay() {
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('pay'));
  button.disabled = true;
  try {
    if (unsent() && !(await commitAndSend())) return;
    await showPayment();
  } finally {
    button.disabled = false;
  }
}

/** Names what sold out, and shows the menu as it is now; the waiter takes the line off. */
async function outOfStock(e) {
  const id = e.body && e.body.error && e.body.error.details && e.body.error.details.variant_id;
  const product = S.menu.products.find((p) => p.variants.some((v) => v.id === id));
  const available = e.body.error.details.available;
  toast(t('pos-out-of-stock-left', { name: product ? product.name : '?', available }), 'error');
  try {
    await loadMenu();
    renderMenu();
  } catch (again) {
    showError(again);
  }
}

async function discount(dialog) {
  if (dialog.returnValue !== 'apply' || !S.order) return;
  const percent = document.getElementById('discount-percent').value.trim().replace(',', '.');
  const reason = document.getElementById('discount-reason').value.trim();
  try {
    S.order = await api('PUT', at('/orders/{order_id}/discount', { order_id: S.order.id }), { version: S.order.version, discount: { percent, reason } });
    toast(t('discount-done'), 'ok');
    renderTicket();
  } catch (e) {
    showError(e);
  }
}

function splitWay() {
  return document.querySelector('input[name="split-way"]:checked').value;
}

function showSplitWay() {
  document.getElementById('split-parts-box').hidden = splitWay() !== 'parts';
  document.getElementById('split-lines-box').hidden = splitWay() !== 'lines';
}

function seatsOf(order) {
  return new Set(order.lines.filter((l) => l.status !== 'voided' && l.seat).map((l) => l.seat));
}

function openSplit() {
  const lines = S.order.lines.filter((l) => l.status !== 'voided');
  document.getElementById('split-lines').replaceChildren(
    ...lines.map((line) =>
      el(
        'label',
        { class: 'option' },
        el('input', { type: 'checkbox', value: line.id, dataset: { test: 'split-line' } }),
        line.quantity + '× ' + line.name + (line.seat ? ' · ' + t('line-seat-short', { seat: line.seat }) : ''),
      ),
    ),
  );
  const bySeat = document.getElementById('split-way-seat');
  bySeat.disabled = seatsOf(S.order).size < 2;
  if (bySeat.disabled && bySeat.checked) document.querySelector('input[name="split-way"][value="parts"]').checked = true;
  showSplitWay();
  document.getElementById('split-dialog').showModal();
}

async function split(dialog) {
  if (dialog.returnValue !== 'apply' || !S.order) return;
  const path = at('/orders/{order_id}/split', { order_id: S.order.id });
  const version = S.order.version;
  try {
    switch (splitWay()) {
      case 'parts': {
        const parts = Number(document.getElementById('split-parts').value);
        S.order = await api('POST', path, { version, parts });
        toast(t('split-parts-done', { count: parts }), 'ok');
        await showPayment();
        return;
      }
      case 'seat': {
        const seats = seatsOf(S.order).size;
        await api('POST', path, { version, by_seat: true });
        toast(t('split-done', { count: seats }), 'ok');
        await loadTables();
        view('floor');
        return;
      }
      default: {
        const boxes = [...document.querySelectorAll('#split-lines input')];
        const ids = boxes.filter((b) => b.checked).map((b) => b.value);
        if (!ids.length || ids.length === boxes.length) {
          toast(t('split-choose-lines'), 'error');
          return;
        }
        S.order = await api('POST', path, { version, line_ids: ids });
        toast(t('split-done', { count: 2 }), 'ok');
        renderTicket();
        await loadTables();
      }
    }
  } catch (e) {
    showError(e);
  }
}

/**
 * Moving a tab: to a free table it moves; to a table with a tab it joins that tab (the
 * merge keeps every line and its kitchen state).
 */
async function openMove() {
  await loadTables();
  const dialog = document.getElementById('move-dialog');
  const go = (action) => async () => {
    dialog.close('cancel');
    try {
      await action();
      renderTicket();
      await loadTables();
    } catch (e) {
      showError(e);
    }
  };
  const targets = [];
  for (const table of S.tables) {
    if (table.id === S.order.table_id) continue;
    const tabs = (table.orders || []).filter((o) => o.id !== S.order.id);
    if (!tabs.length) {
      targets.push(el('button', { type: 'button', class: 'bill state-free', dataset: { test: 'move-target' }, onclick: go(async () => {
        S.order = await api('POST', at('/orders/{order_id}/move', { order_id: S.order.id }), { version: S.order.version, table_id: table.id });
        toast(t('move-done', { table: table.name }), 'ok');
      }) }, t('move-here', { table: table.name })));
    }
    for (const tab of tabs) {
      targets.push(el('button', { type: 'button', class: 'bill state-' + tab.status, dataset: { test: 'join-target' }, onclick: go(async () => {
        S.order = await api('POST', at('/orders/{order_id}/merge', { order_id: tab.id }), { version: tab.version, from_order_id: S.order.id, from_version: S.order.version });
        toast(t('merge-done', { number: tab.number }), 'ok');
      }) }, t('move-join', { number: tab.number, table: table.name })));
    }
  }
  document.getElementById('move-targets').replaceChildren(...targets);
  dialog.showModal();
}

// ---- payment -----------------------------------------------------------------------

function renderPayment() {
  const o = S.order;
  document.getElementById('pay-due').textContent = money(o.totals.due);
  document.getElementById('pay-paid').textContent = money(o.balance.paid);
  document.getElementById('pay-remaining').textContent = money(o.balance.remaining);
  const change = document.getElementById('pay-change');
  change.textContent = money(o.balance.change);
  // Change is cash handed back: a card or a voucher paid to the cent has none to show.
  const noChange = !o.balance.change && S.tender !== 'cash';
  change.hidden = noChange;
  /** @type {HTMLElement} */ (change.previousElementSibling).hidden = noChange;
  const target = Math.min(o.balance.remaining, nextShare(o));
  const amount = document.getElementById('pay-amount');
  amount.value = target ? moneyInput(target) : '';
  const quick = document.getElementById('quick-cash');
  const scale = 10 ** C.money.places;
  const steps = [target];
  for (const note of [5, 10, 20, 50, 100]) {
    const up = Math.ceil(target / (note * scale)) * note * scale;
    if (up > target && !steps.includes(up) && steps.length < 4) steps.push(up);
  }
  quick.replaceChildren(
    ...(S.tender === 'cash' && target
      ? steps.map((v) => el('button', { type: 'button', onclick: () => { amount.value = moneyInput(v); } }, money(v)))
      : []),
  );
  const paid = o.balance.remaining === 0;
  document.getElementById('take-payment').disabled = paid;
  document.getElementById('close-order').disabled = !paid || o.status === 'closed';
}

/**
 * On a bill split into equal parts, the share to take next (the first not yet covered by
 * what has been paid) is shown and offered; otherwise everything left is.
 */
function nextShare(o) {
  const share = document.getElementById('pay-share');
  const parts = o.parts || [];
  const covered = o.totals.due - o.balance.remaining;
  let sum = 0;
  const index = parts.findIndex((part) => (sum += part) > covered);
  share.hidden = index < 0;
  if (index < 0) return o.balance.remaining;
  share.textContent = t('pay-share', { index: index + 1, count: parts.length, amount: money(parts[index]) });
  return sum - covered;
}

async function showPayment() {
  S.order = await api('GET', at('/orders/{order_id}', { order_id: S.order.id }));
  view('payment');
  renderPayment();
  document.getElementById('pay-amount').focus();
}

async function takePayment() {
  const amount = parseMoney(document.getElementById('pay-amount').value);
  if (amount === null || amount <= 0) {
    document.getElementById('pay-amount').focus();
    return;
  }
  const button = document.getElementById('take-payment');
  button.disabled = true;
  try {
    S.order = await api('POST', at('/orders/{order_id}/payments', { order_id: S.order.id }), {
      version: S.order.version,
      kind: S.tender,
      amount: { amount, currency: C.money.currency },
    });
    renderPayment();
    const change = S.order.balance.change;
    toast(change ? t('pay-taken', { amount: money(change) }) : t('pay-taken-exact'), 'ok');
  } catch (e) {
    showError(e);
    button.disabled = false;
  }
}

async function closeOrder() {
  try {
    S.order = await api('POST', at('/orders/{order_id}/close', { order_id: S.order.id }), { version: S.order.version });
    toast(t('pay-closed'), 'ok');
    document.getElementById('receipt-frame').src = `${C.api}/orders/${S.order.id}/receipt.html`;
    view('receipt');
  } catch (e) {
    showError(e);
  }
}

// ---- the terminal's shift and registration ------------------------------------------

/** This terminal's open shift, if any (only a terminal session has a drawer). */
async function loadShift() {
  const button = document.getElementById('shift');
  // Only a terminal has a drawer, and only a role that runs one asks for its shift.
  if (!C.device || !may('shift_manage')) {
    button.hidden = true;
    return;
  }
  const open = await api('GET', '/shifts');
  S.shift = open.items.find((shift) => shift.device_id === C.device && shift.status === 'open') || null;
  button.hidden = false;
  button.textContent = S.shift ? t('shift-close', { number: S.shift.number }) : t('shift-open');
  button.dataset.state = S.shift ? 'open' : 'closed';
}

async function onShiftDialog(dialog) {
  if (dialog.returnValue !== 'apply') return;
  const amount = parseMoney(document.getElementById('shift-amount').value);
  if (amount === null) return;
  try {
    if (S.shift) {
      const closed = await api('POST', at('/shifts/{shift_id}/close', { shift_id: S.shift.id }), {
        version: S.shift.version,
        total: { amount, currency: C.money.currency },
      });
      const difference = closed.closing ? closed.closing.difference : 0;
      toast(t('shift-closed', { number: closed.number, amount: money(difference) }), 'ok');
    } else {
      const opened = await api('POST', '/shifts', { float: { amount, currency: C.money.currency } });
      toast(t('shift-opened', { number: opened.number }), 'ok');
    }
    await loadShift();
  } catch (e) {
    showError(e);
  }
}

async function openShiftDialog() {
  const dialog = document.getElementById('shift-dialog');
  document.getElementById('shift-amount').value = '';
  document.getElementById('shift-expected').textContent = '';
  if (S.shift) {
    const now = await api('GET', at('/shifts/{shift_id}', { shift_id: S.shift.id }));
    document.getElementById('shift-title').textContent = t('shift-close', { number: S.shift.number });
    document.getElementById('shift-amount-label').textContent = t('shift-counted');
    document.getElementById("shift-expected").textContent = t("shift-expected", { amount: money(now.expected) });
  } else {
    document.getElementById('shift-title').textContent = t('shift-open');
    document.getElementById('shift-amount-label').textContent = t('shift-float');
  }
  dialog.showModal();
}

async function onTerminalDialog(dialog) {
  if (dialog.returnValue !== 'apply') return;
  const name = document.getElementById('terminal-name-input').value.trim();
  if (!name) return;
  try {
    await api('POST', at('/app/stores/{store_id}/terminal', { store_id: C.store.id }), { name });
    toast(t('terminal-registered', { name }), 'ok');
    document.getElementById('register-terminal').hidden = true;
  } catch (e) {
    showError(e);
  }
}

// ---- start -------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', async () => {
  document.getElementById('to-floor').addEventListener('click', () => { loadTables().catch(showError); view('floor'); });
  document.getElementById('counter-order').addEventListener('click', counterOrder);
  document.getElementById('search').addEventListener('input', renderMenu);
  document.getElementById('barcode').addEventListener('keydown', onBarcode);
  document.getElementById('modifiers').addEventListener('close', onModifiersClose);
  document.getElementById('send').addEventListener('click', send);
  document.getElementById('pay').addEventListener('click', () => pay().catch(showError));
  document.getElementById('order-more').addEventListener('click', openOrderActions);
  document.getElementById('receipt-print').addEventListener('click', () =>
    /** @type {HTMLIFrameElement} */ (document.getElementById('receipt-frame')).contentWindow.print(),
  );
  document.getElementById('pay-back').addEventListener('click', showOrder);
  document.getElementById('take-payment').addEventListener('click', takePayment);
  document.getElementById('close-order').addEventListener('click', closeOrder);
  document.getElementById('receipt-done').addEventListener('click', () => { loadTables().catch(showError); view('floor'); });
  const discountDialog = document.getElementById('discount-dialog');
  document.getElementById('discount').addEventListener('click', () => discountDialog.showModal());
  discountDialog.addEventListener('close', () => discount(discountDialog));
  document.getElementById('move').addEventListener('click', () => openMove().catch(showError));
  const splitDialog = document.getElementById('split-dialog');
  document.getElementById('split').addEventListener('click', openSplit);
  splitDialog.addEventListener('close', () => split(splitDialog));
  for (const radio of document.querySelectorAll('input[name="split-way"]')) radio.addEventListener('change', showSplitWay);
  for (const button of document.querySelectorAll('.tender-kind')) {
    button.addEventListener('click', () => {
      S.tender = button.dataset.kind;
      for (const b of document.querySelectorAll('.tender-kind')) b.setAttribute('aria-pressed', String(b === button));
      renderPayment();
    });
  }
  const shiftDialog = document.getElementById('shift-dialog');
  document.getElementById('shift').addEventListener('click', () => openShiftDialog().catch(showError));
  shiftDialog.addEventListener('close', () => onShiftDialog(shiftDialog));
  const terminalDialog = document.getElementById('terminal-dialog');
  const register = document.getElementById('register-terminal');
  register.hidden = !(C.user.manager && !C.device);
  register.addEventListener('click', () => terminalDialog.showModal());
  terminalDialog.addEventListener('close', () => onTerminalDialog(terminalDialog));
  view('floor');
  try {
    await Promise.all([loadMenu(), loadTables(), loadShift()]);
  } catch (e) {
    showError(e);
  }
  beforeSignIn.push(keepUnsent);
  await restoreUnsent().catch(showError);
  follow('/floor/stream', { order: onOrderEvent }, liveIndicator);
  document.body.dataset.ready = 'true';
});
