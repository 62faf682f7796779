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

/** The key that picks the ticket at `index`: 1–9, 0, then letters a bump bar has that
 * are not commands (B bumps, S starts, R recalls). */
const KEYS = '1234567890acdefghijklmnopqtuvwxyz';

function keyOf(index) {
  return KEYS[index] || '';
}

/** Ticket ids already seen: a new one rings (when the sound is on). */
const known = new Set();
let firstLoad = true;

function ringForNew() {
  const fresh = K.tickets.filter((tk) => !known.has(tk.order_id));
  for (const tk of K.tickets) known.add(tk.order_id);
  if (!firstLoad && fresh.length) chime();
  firstLoad = false;
}

let audio = null;

/** Two short tones; browsers let a page play sound only after a tap, which the sound
 * switch is. */
function chime() {
  if (localStorage.getItem('comanda.kds.sound') !== 'on') return;
  try {
    audio = audio || new AudioContext();
    for (const [at, freq] of [[0, 880], [0.18, 1175]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.25, audio.currentTime + at);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + at + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + at);
      osc.stop(audio.currentTime + at + 0.17);
    }
    document.body.dataset.chimed = String(Number(document.body.dataset.chimed || 0) + 1);
  } catch (e) {
    // No sound on this device: the screen still shows the ticket.
  }
}

function showSound() {
  const on = localStorage.getItem('comanda.kds.sound') === 'on';
  const button = document.getElementById('sound');
  button.setAttribute('aria-pressed', String(on));
  button.textContent = on ? t('kds-sound-on') : t('kds-sound-off');
}

/** Text size for the distance the cooks read from: remembered by this screen. */
function applySize(size) {
  document.body.dataset.size = size;
  /** @type {HTMLSelectElement} */ (document.getElementById('size')).value = size;
}

/** Keeps the screen awake while the page is shown (where the browser allows it). */
async function stayAwake() {
  try {
    if ('wakeLock' in navigator && !document.hidden) await navigator.wakeLock.request('screen');
  } catch (e) {
    // Refused (battery saver, no permission): the screen may sleep.
  }
}

function render() {
  ringForNew();
  const box = document.getElementById('tickets');
  K.selected = Math.min(K.selected, Math.max(0, K.tickets.length - 1));
  box.replaceChildren(
    ...K.tickets.map((ticket, index) => {
      const seconds = age(ticket);
      const state = lateness(seconds);
      const lines = ticket.lines.map((line) =>
        el(
          'li',
          { class: 'kline status-' + line.status + (line.held ? ' held' : '') },
          el('strong', {}, line.quantity + '× ' + line.name),
          line.modifiers.length ? el('span', { class: 'mods' }, line.modifiers.join(', ')) : null,
          line.notes ? el('span', { class: 'note' }, '⚠ ' + line.notes) : null,
          line.seat ? el('small', {}, t('kds-seat', { seat: line.seat })) : null,
          line.course ? el('small', {}, t('kds-course', { course: line.course })) : null,
          line.held ? el('small', {}, t('kds-held')) : null,
        ),
      );
      return el(
        'article',
        {
          class: 'ticket-card ' + state + (index === K.selected ? ' selected' : '') + (ticket.rush ? ' rush' : ''),
          dataset: { orderId: ticket.order_id, test: 'ticket' },
          'aria-label': '#' + ticket.number,
        },
        el(
          'header',
          {},
          el('span', { class: 'key' }, keyOf(index).toUpperCase()),
          el('strong', { class: 'number' }, '#' + ticket.number),
          el('span', { class: 'where' }, where(ticket)),
          el('span', { class: 'timer', dataset: { since: ticket.since || '' } }, clockText(seconds)),
        ),
        // Lateness in words as well as colour, and rush on a row of its own.
        el(
          'p',
          { class: 'flags' },
          ticket.rush ? el('span', { class: 'rush-badge' }, t('kds-rush')) : null,
          el('span', { class: 'lateness', dataset: { test: 'lateness' } }, state === 'fresh' ? '' : t('kds-' + state)),
        ),
        ticket.notes ? el('p', { class: 'note' }, '⚠ ' + ticket.notes) : null,
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
    const state = lateness(seconds);
    card.classList.remove('fresh', 'warn', 'late');
    card.classList.add(state);
    card.querySelector('.lateness').textContent = state === 'fresh' ? '' : t('kds-' + state);
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
  const picked = key.length === 1 ? KEYS.indexOf(key) : -1;
  if (picked >= 0) {
    if (picked >= K.tickets.length) return;
    K.selected = picked;
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
  const size = /** @type {HTMLSelectElement} */ (document.getElementById('size'));
  applySize(localStorage.getItem('comanda.kds.size') || 'm');
  size.addEventListener('change', () => {
    localStorage.setItem('comanda.kds.size', size.value);
    applySize(size.value);
  });
  showSound();
  document.getElementById('sound').addEventListener('click', () => {
    const on = localStorage.getItem('comanda.kds.sound') === 'on';
    localStorage.setItem('comanda.kds.sound', on ? 'off' : 'on');
    showSound();
    if (!on) {
      audio = audio || new AudioContext();
      audio.resume();
    }
  });
  stayAwake();
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
    if (!document.hidden) {
      reloadSoon();
      stayAwake();
    }
  });
  tick();
  document.body.dataset.ready = 'true';
});
