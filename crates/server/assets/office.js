// The back office's reports: today so far (X), closing the business day (Z) and the Z
// reports issued, each printable as issued.
'use strict';

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

async function loadX() {
  const x = await api('GET', '/reports/x');
  document.getElementById('x-report').replaceChildren(...reportRows(x));
}

async function loadZ() {
  const list = await api('GET', '/reports/z');
  document.getElementById('z-list').replaceChildren(
    ...list.items.map((z) =>
      el(
        'tr',
        { dataset: { test: 'z-row' } },
        el('td', {}, String(z.number)),
        el('td', {}, z.closed_at ? new Date(z.closed_at).toLocaleString(C.locale) : ''),
        el('td', {}, String((z.sales || {}).orders ?? '')),
        el('td', { dataset: { test: 'z-total' } }, money((z.sales || {}).total ?? 0)),
        el('td', {}, el('a', { href: `${C.api}/reports/z/${z.number}?format=html`, target: '_blank', rel: 'noopener' }, t('report-print'))),
      ),
    ),
  );
}

async function closeDay() {
  const error = document.getElementById('report-error');
  error.textContent = '';
  if (!window.confirm(t('report-close-day-confirm'))) return;
  try {
    const z = await api('POST', '/reports/z', {});
    toast(t('report-closed', { number: z.number }), 'ok');
    await Promise.all([loadX(), loadZ()]);
  } catch (e) {
    error.textContent = e.message;
  }
}

document.addEventListener('DOMContentLoaded', async () => {
  document.getElementById('refresh-x').addEventListener('click', () => loadX().catch(showError));
  document.getElementById('close-day').addEventListener('click', closeDay);
  try {
    await Promise.all([loadX(), loadZ()]);
  } catch (e) {
    showError(e);
  }
  document.body.dataset.ready = 'true';
});
