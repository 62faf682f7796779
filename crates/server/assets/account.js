// One's own account: a new password when one is required, and setting up the second
// factor (scan the code, confirm with a first code, keep the recovery codes). A session
// that must do either is sent here by every other page.
'use strict';

async function loadMe() {
  const me = await api('GET', '/api/v1/me');
  document.getElementById('account-who').textContent = me.display_name + ' · ' + me.login;
  document.getElementById('password-form').hidden = !me.requires.includes('password_change');
  document.getElementById('totp-section').hidden = false;
  document.getElementById('totp-start').hidden = me.totp_enabled;
  document.getElementById('totp-on').hidden = !me.totp_enabled;
  document.getElementById('account-continue').hidden = me.requires.length > 0;
  return me;
}

/** One's own language, saved on the account so that it follows one to any terminal. */
async function saveLanguage(event) {
  const locale = event.target.value || null;
  try {
    await api('PUT', '/api/v1/me/locale', { locale });
    // This browser's sign-in page speaks it too.
    if (locale) rememberLanguage(locale);
    location.reload();
  } catch (e) {
    showError(e);
  }
}

document.addEventListener('DOMContentLoaded', async () => {
  const language = document.getElementById('my-language');
  language.value = C.locale || '';
  language.addEventListener('change', saveLanguage);
  document.getElementById('password-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = document.getElementById('password-error');
    error.textContent = '';
    try {
      await api('POST', '/api/v1/me/password', {
        current_password: document.getElementById('current-password').value,
        new_password: document.getElementById('new-password').value,
      });
      toast(t('account-password-saved'), 'ok');
      await loadMe();
    } catch (e) {
      error.textContent = e.message;
    }
  });
  document.getElementById('totp-start').addEventListener('click', async () => {
    try {
      const enrolment = await api('POST', '/api/v1/me/totp');
      document.getElementById('totp-qr').src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(enrolment.qr_svg);
      document.getElementById('totp-secret').textContent = enrolment.secret;
      document.getElementById('totp-enrol').hidden = false;
      document.getElementById('totp-start').hidden = true;
      document.getElementById('totp-code').focus();
    } catch (e) {
      showError(e);
    }
  });
  document.getElementById('totp-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = document.getElementById('totp-error');
    error.textContent = '';
    try {
      const done = await api('POST', '/api/v1/me/totp/confirm', { code: document.getElementById('totp-code').value.trim() });
      document.getElementById('totp-enrol').hidden = true;
      document.getElementById('recovery-codes').replaceChildren(...done.recovery_codes.map((c) => el('li', {}, el('code', {}, c))));
      document.getElementById('totp-codes').hidden = false;
      await loadMe();
    } catch (e) {
      error.textContent = e.code === 'invalid_totp' ? t('account-totp-wrong') : e.message;
    }
  });
  try {
    await loadMe();
  } catch (e) {
    showError(e);
  }
  document.body.dataset.ready = 'true';
});
