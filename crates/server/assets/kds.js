// The kitchen screen of one station: a card per ticket with its age, coloured when it
// runs late, bumped or started by touch or by a bump bar's keys, and the last bumped
// recalled. The screen follows the store's kitchen stream; after any message, and
// after any reconnect, it reads the station's tickets again, so a dropped network can
// delay a ticket but never lose one.
'use strict';

const K = {
  station: C.station,
  /** @type {Ticket[]} */
  tickets: [],
  settings: { warn_after_s: 480, late_after_s: 720 },
  tables: {},
  selected: 0,
  bumped: [], // order ids, most recent last
  skew: 0, // server clock minus ours, in ms
};

async function loadTickets() {
  const snapshot = await api('GET', at('/kds/{station}/tickets', { station: K.station }));
  K.tickets = snapshot.tickets;
  K.settings = snapshot.settings;
  K.skew = new Date(snapshot.now).getTime() - Date.now();
  render();
}

let due = null;
function reloadSoon() {
  clearTimeout(due);
  due = setTimeout(() => loadTickets().catch(showError), 30);
}

function age(ticket) {
  if (!ticket.since) return 0;
  return Math.max(0, Math.floor((Date.now() + K.skew - new Date(ticket.since).getTime()) / 1000));
}

function clockText(seconds) {
  const m = Math.floor(seconds / 60);
  return m + ':' + String(seconds % 60).padStart(2, '0');
}

function lateness(seconds) {
  if (seconds >= K.settings.late_after_s) return 'late';
  if (seconds >= K.settings.warn_after_s) return 'warn';
  return 'fresh';
}

function where(ticket) {
  if (ticket.table_id) return K.tables[ticket.table_id] || '';
  return t('counter');
}

function render() {
  const box = document.getElementById('tickets');
  K.selected = Math.min(K.selected, Math.max(0, K.tickets.length - 1));
  box.replaceChildren(
    ...K.tickets.map((ticket, index) => {
      const seconds = age(ticket);
      const lines = ticket.lines.map((line) =>
        el(
          'li',
          { class: 'kline status-' + line.status + (line.held ? ' held' : '') },
          el('strong', {}, line.quantity + '× ' + line.name),
          line.modifiers.length ? el('small', {}, line.modifiers.join(', ')) : null,
          line.notes ? el('small', { class: 'note' }, line.notes) : null,
          line.seat ? el('small', {}, t('kds-seat', { seat: line.seat })) : null,
          line.course ? el('small', {}, t('kds-course', { course: line.course })) : null,
          line.held ? el('small', {}, t('kds-held')) : null,
        ),
      );
      return el(
        'article',
        {
          class: 'ticket-card ' + lateness(seconds) + (index === K.selected ? ' selected' : '') + (ticket.rush ? ' rush' : ''),
          dataset: { orderId: ticket.order_id, test: 'ticket' },
          'aria-label': '#' + ticket.number,
        },
        el(
          'header',
          {},
          el('span', { class: 'key' }, index < 9 ? String(index + 1) : ''),
          el('strong', { class: 'number' }, '#' + ticket.number),
          el('span', { class: 'where' }, where(ticket)),
          ticket.rush ? el('span', { class: 'rush-badge' }, t('kds-rush')) : null,
          el('span', { class: 'timer', dataset: { since: ticket.since || '' } }, clockText(seconds)),
        ),
        ticket.notes ? el('p', { class: 'note' }, ticket.notes) : null,
        el('ul', {}, lines),
        el(
          'footer',
          {},
          el('button', { type: 'button', onclick: () => start(ticket) }, t('kds-start')),
          el('button', { type: 'button', class: 'primary', dataset: { test: 'bump' }, onclick: () => bump(ticket) }, t('kds-bump')),
        ),
      );
    }),
  );
  document.getElementById('empty').hidden = K.tickets.length > 0;
}

function tick() {
  for (const card of document.querySelectorAll('.ticket-card')) {
    const ticket = K.tickets.find((tk) => tk.order_id === card.dataset.orderId);
    if (!ticket) continue;
    const seconds = age(ticket);
    card.querySelector('.timer').textContent = clockText(seconds);
    card.classList.remove('fresh', 'warn', 'late');
    card.classList.add(lateness(seconds));
  }
  document.getElementById('clock').textContent = new Date().toLocaleTimeString(C.locale, { hour: '2-digit', minute: '2-digit' });
}

async function bump(ticket) {
  try {
    await api('POST', at('/kds/{station}/tickets/{order_id}/bump', { station: K.station, order_id: ticket.order_id }), {});
    K.bumped.push(ticket.order_id);
    K.tickets = K.tickets.filter((tk) => tk.order_id !== ticket.order_id);
    render();
    toast(t('kds-bumped', { number: ticket.number }), 'ok');
  } catch (e) {
    showError(e);
    reloadSoon();
  }
}

async function start(ticket) {
  try {
    await api('POST', at('/kds/{station}/tickets/{order_id}/start', { station: K.station, order_id: ticket.order_id }), {});
    reloadSoon();
  } catch (e) {
    showError(e);
  }
}

async function recall() {
  const id = K.bumped.pop();
  if (!id) {
    toast(t('kds-nothing-to-recall'), 'info');
    return;
  }
  try {
    const order = await api('POST', at('/kds/{station}/tickets/{order_id}/recall', { station: K.station, order_id: id }));
    toast(t('kds-recalled', { number: order.number }), 'ok');
    reloadSoon();
  } catch (e) {
    showError(e);
  }
}

/** Bump bars are keyboards: digits pick a ticket, Enter or B bumps, S starts, R recalls. */
function onKey(event) {
  if (event.target.closest('input, select, textarea')) return;
  const key = event.key.toLowerCase();
  if (/^[1-9]$/.test(key)) {
    K.selected = Number(key) - 1;
    render();
  } else if (key === 'arrowright' || key === 'arrowdown') {
    K.selected = Math.min(K.selected + 1, K.tickets.length - 1);
    render();
  } else if (key === 'arrowleft' || key === 'arrowup') {
    K.selected = Math.max(K.selected - 1, 0);
    render();
  } else if ((key === 'enter' || key === 'b') && K.tickets[K.selected]) {
    event.preventDefault();
    bump(K.tickets[K.selected]);
  } else if (key === 's' && K.tickets[K.selected]) {
    start(K.tickets[K.selected]);
  } else if (key === 'r') {
    recall();
  } else {
    return;
  }
}

async function loadStations() {
  const [stations, tables] = await Promise.all([api('GET', '/kds/stations'), api('GET', '/tables')]);
  for (const table of tables.items) K.tables[table.id] = table.name;
  const pick = document.getElementById('station-pick');
  const codes = stations.items.map((s) => [s.code, s.name]);
  if (!codes.some(([code]) => code === K.station)) codes.push([K.station, K.station]);
  pick.replaceChildren(...codes.map(([code, name]) => el('option', { value: code, selected: code === K.station }, name)));
  pick.addEventListener('change', () => location.assign(`/app/stores/${C.store.id}/kds/${pick.value}`));
  document.getElementById('station-name').textContent = (codes.find(([code]) => code === K.station) || [])[1] || K.station;
}

document.addEventListener('DOMContentLoaded', async () => {
  document.addEventListener('keydown', onKey);
  document.getElementById('recall').addEventListener('click', recall);
  try {
    await Promise.all([loadStations(), loadTickets()]);
  } catch (e) {
    showError(e);
  }
  const anything = () => reloadSoon();
  follow(
    `/kds/${K.station}/stream`,
    { ticket: anything, bumped: anything, kitchen_started: anything, recalled: anything, void: anything, cancelled: anything, rush: anything, fired: anything, order: anything },
    (state) => {
      liveIndicator(state);
      if (state === 'online') reloadSoon();
    },
  );
  setInterval(tick, 1000);
  // The stream is the fast path; a slow read of the tickets now and then is the safety
  // net, as is one whenever the screen comes back into view.
  setInterval(reloadSoon, 15000);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) reloadSoon();
  });
  tick();
  document.body.dataset.ready = 'true';
});
