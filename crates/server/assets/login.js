// Signing in: password, then the authenticator code when the account has one. A page
// that sent the browser here is where it goes back to.
'use strict';

document.addEventListener('DOMContentLoaded', async () => {
  const form = document.getElementById('login-form');
  const error = document.getElementById('login-error');
  const totpRow = document.getElementById('totp-row');
  const next = C.next || '/app';

  document.getElementById('language').addEventListener('change', (e) => {
    rememberLanguage(e.target.value);
    location.reload();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    // The language one signs in with is one's choice for this browser.
    rememberLanguage(document.getElementById('language').value);
    const body = {
      login: document.getElementById('login').value.trim(),
      password: document.getElementById('password').value,
    };
    const totp = document.getElementById('totp').value.trim();
    if (totp) body.totp = totp;
    const button = document.getElementById('login-submit');
    button.disabled = true;
    try {
      const r = await fetch('/app/session', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify(body),
      });
      const data = await r.json().catch(() => ({}));
      if (r.ok) {
        if ((data.requires || []).length) {
          location.replace('/app/account');
          return;
        }
        location.replace(next);
        return;
      }
      const code = data.error && data.error.code;
      if (code === 'totp_required' || code === 'invalid_totp') {
        totpRow.hidden = false;
        document.getElementById('totp').focus();
        error.textContent = code === 'totp_required' ? t('login-totp-needed') : data.error.message;
      } else if (code === 'invalid_credentials') {
        error.textContent = t('login-wrong');
      } else {
        error.textContent = t('error-generic', { message: (data.error && data.error.message) || r.status });
      }
    } catch (e) {
      error.textContent = t('error-network');
    } finally {
      button.disabled = false;
    }
  });

  // A session whose access cookie merely expired goes straight back; on a terminal whose
  // staff session ended, the PIN screen is the way back in.
  if (await refreshSession()) location.replace(next);
  else if (C.to_pin) location.replace('/app/pin?next=' + encodeURIComponent(next));
});
