// The back office's stock tab, carrying on from office.js: what each counted product has
// on hand, what open orders hold of it and what is left to sell, the low ones marked (or
// alone), and goods received, a count or waste recorded against it.
'use strict';

/** @type {Map<string, string>} variant id -> "Product (variant)" */
let variantNames = new Map();

async function loadStock() {
  const onlyLow = /** @type {HTMLInputElement} */ (document.getElementById('stock-low-only')).checked;
  const [levels, products] = await Promise.all([
    api('GET', onlyLow ? '/catalog/stock?low=true&limit=500' : '/catalog/stock?limit=500'),
    api('GET', '/catalog/products?limit=500'),
  ]);
  variantNames = new Map(
    products.items.flatMap((p) => (p.variants || []).map((v) => [v.id, v.name ? `${p.name} (${v.name})` : p.name])),
  );
  // A product that counts its stock is listed before anything was received (at 0).
  const tracked = new Set(products.items.filter((p) => p.track_stock).flatMap((p) => (p.variants || []).map((v) => v.id)));
  /** @type {Map<string, {variant_id: string, on_hand: number, held: number, available: number, low_threshold?: number | null}>} */
  const byVariant = new Map(levels.items.map((l) => [l.variant_id, l]));
  if (!onlyLow) {
    for (const id of tracked) {
      if (!byVariant.has(id)) byVariant.set(id, { variant_id: id, on_hand: 0, held: 0, available: 0, low_threshold: null });
    }
  }
  const rows = [...byVariant.values()].sort((a, b) => (variantNames.get(a.variant_id) || '').localeCompare(variantNames.get(b.variant_id) || ''));
  document.getElementById('stock-list').replaceChildren(
    ...rows.map((level) => {
      const low = level.low_threshold !== null && level.low_threshold !== undefined && level.available <= level.low_threshold;
      return el(
        'tr',
        { class: low ? 'low' : '', dataset: { test: 'stock-row' } },
        el('td', {}, variantNames.get(level.variant_id) || level.variant_id),
        el('td', {}, String(level.on_hand)),
        el('td', {}, String(level.held)),
        el('td', {}, String(level.available)),
        el('td', {}, low ? el('strong', { class: 'error' }, t('stock-low')) : ''),
      );
    }),
  );
  document.getElementById('stock-none').hidden = rows.length > 0;
  const select = /** @type {HTMLSelectElement} */ (document.getElementById('stock-variant'));
  select.replaceChildren(
    ...[...variantNames.entries()]
      .sort((a, b) => Number(tracked.has(b[0])) - Number(tracked.has(a[0])) || a[1].localeCompare(b[1]))
      .map(([id, name]) => el('option', { value: id }, name + (tracked.has(id) || byVariant.has(id) ? '' : ' · ' + t('stock-not-counted')))),
  );
  STOCK.levels = byVariant;
}

const STOCK = { levels: new Map() };

/** Goods received, a count (the quantity found: the difference is recorded), or waste. */
async function recordStock(event) {
  event.preventDefault();
  const variant = /** @type {HTMLSelectElement} */ (document.getElementById('stock-variant')).value;
  const action = /** @type {HTMLSelectElement} */ (document.getElementById('stock-action')).value;
  const quantity = Number(/** @type {HTMLInputElement} */ (document.getElementById('stock-quantity')).value);
  const reason = /** @type {HTMLInputElement} */ (document.getElementById('stock-reason')).value.trim() || null;
  if (!Number.isInteger(quantity) || quantity < 0) {
    toast(t('stock-bad-quantity'), 'error');
    return;
  }
  const level = STOCK.levels.get(variant);
  const movement =
    action === 'receipt'
      ? { variant_id: variant, kind: 'receipt', quantity, reason }
      : action === 'count'
        ? { variant_id: variant, kind: 'adjustment', quantity: quantity - (level ? level.on_hand : 0), reason: reason || t('stock-count') }
        : { variant_id: variant, kind: 'adjustment', quantity: -quantity, reason: reason || t('stock-waste') };
  if (movement.quantity === 0) {
    toast(t('stock-nothing'), 'info');
    return;
  }
  try {
    await api('POST', '/catalog/stock/movements', { movements: [movement] });
    /** @type {HTMLFormElement} */ (event.target).reset();
    toast(t('stock-recorded', { name: variantNames.get(variant) || '' }), 'ok');
    await loadStock();
  } catch (e) {
    showError(e);
  }
}

LOADERS.stock = loadStock;

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('stock-form').addEventListener('submit', recordStock);
  document.getElementById('stock-low-only').addEventListener('change', () => loadStock().catch(showError));
});
