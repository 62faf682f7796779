// Staff sign-in on a registered terminal: tap your name, type your PIN (on the keypad
// or a keyboard). Owners and admins sign in with their password and code instead.
'use strict';

let chosen = null;

function keypad() {
  const input = document.getElementById('pin');
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '⌫', '0'];
  document.getElementById('keypad').replaceChildren(
    ...keys.map((k) =>
      el('button', {
        type: 'button',
        'aria-label': k === '⌫' ? t('pin-erase') : k,
        onclick: () => {
          input.value = k === '⌫' ? input.value.slice(0, -1) : input.value + k;
        },
      }, k),
    ),
  );
}

function choose(person) {
  chosen = person;
  document.getElementById('staff').hidden = true;
  document.getElementById('pin-form').hidden = false;
  document.getElementById('pin-who').textContent = person.display_name;
  document.getElementById('pin').value = '';
  document.getElementById('pin').focus();
}

document.addEventListener('DOMContentLoaded', async () => {
  keypad();
  document.getElementById('terminal-name').textContent = C.terminal || '';
  document.getElementById('pin-back').addEventListener('click', () => {
    document.getElementById('pin-form').hidden = true;
    document.getElementById('staff').hidden = false;
  });
  document.getElementById('pin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = document.getElementById('pin-error');
    error.textContent = '';
    const r = await fetch('/app/session/pin', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ user_id: chosen.id, pin: document.getElementById('pin').value }),
    });
    if (r.ok) {
      location.replace(C.next || '/app');
      return;
    }
    const body = await r.json().catch(() => ({}));
    error.textContent = r.status === 401 ? t('pin-wrong') : (body.error && body.error.message) || String(r.status);
    document.getElementById('pin').value = '';
  });
  try {
    const staff = await api('GET', '/api/v1/device/staff');
    document.getElementById('staff').replaceChildren(
      ...staff.map((person) =>
        el(
          'div',
          { role: 'listitem' },
          el('button', { type: 'button', class: 'staff-tile', dataset: { test: 'staff' }, onclick: () => choose(person) },
            el('strong', {}, person.display_name), el('small', {}, t('role-' + person.role))),
        ),
      ),
    );
  } catch (e) {
    showError(e);
  }
  document.body.dataset.ready = 'true';
});
