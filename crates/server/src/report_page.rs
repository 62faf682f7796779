//! X and Z reports as printable pages, rendered from the report document itself (so a Z
//! report kept years ago prints as it was issued), in the store's language and money.

use crate::receipt::escape;
use comanda_domain::orders::payments::TenderKind;
use comanda_domain::{Locale, Money, Store};
use serde_json::Value;
use std::fmt::Write;

struct Words {
    x: &'static str,
    z: &'static str,
    sales: &'static str,
    orders: &'static str,
    total: &'static str,
    tax: &'static str,
    discounts: &'static str,
    service: &'static str,
    tips: &'static str,
    net_of_refunds: &'static str,
    by_category: &'static str,
    by_product: &'static str,
    by_staff: &'static str,
    by_hour: &'static str,
    taxes: &'static str,
    tenders: &'static str,
    voids: &'static str,
    refunds: &'static str,
    cash: &'static str,
    expected: &'static str,
    counted: &'static str,
    difference: &'static str,
    shift: &'static str,
    quantity: &'static str,
    /// In the counted column of a shift still open, whose drawer is counted at its close.
    open: &'static str,
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::PtBr => Words {
            x: "Leitura X",
            z: "Redução Z",
            sales: "Vendas",
            orders: "Pedidos",
            total: "Total",
            tax: "Impostos",
            discounts: "Descontos",
            service: "Serviço",
            tips: "Gorjetas",
            net_of_refunds: "Total menos estornos",
            by_category: "Por categoria",
            by_product: "Por produto",
            by_staff: "Por atendente",
            by_hour: "Por hora",
            taxes: "Impostos por alíquota",
            tenders: "Formas de pagamento",
            voids: "Cancelamentos de itens",
            refunds: "Estornos",
            cash: "Caixa",
            expected: "Esperado",
            counted: "Contado",
            difference: "Diferença",
            open: "em aberto",
            shift: "Turno",
            quantity: "Qtd.",
        },
        Locale::EnUs => Words {
            x: "X report",
            z: "Z report",
            sales: "Sales",
            orders: "Orders",
            total: "Total",
            tax: "Tax",
            discounts: "Discounts",
            service: "Service",
            tips: "Tips",
            net_of_refunds: "Total less refunds",
            by_category: "By category",
            by_product: "By product",
            by_staff: "By staff",
            by_hour: "By hour",
            taxes: "Taxes by rate",
            tenders: "Tenders",
            voids: "Voided lines",
            refunds: "Refunds",
            cash: "Cash",
            expected: "Expected",
            counted: "Counted",
            difference: "Difference",
            open: "open",
            shift: "Shift",
            quantity: "Qty",
        },
        Locale::IdId => Words {
            x: "Laporan X",
            z: "Laporan Z",
            sales: "Penjualan",
            orders: "Pesanan",
            total: "Total",
            tax: "Pajak",
            discounts: "Diskon",
            service: "Layanan",
            tips: "Tip",
            net_of_refunds: "Total dikurangi pengembalian",
            by_category: "Per kategori",
            by_product: "Per produk",
            by_staff: "Per staf",
            by_hour: "Per jam",
            taxes: "Pajak per tarif",
            tenders: "Metode pembayaran",
            voids: "Item dibatalkan",
            refunds: "Pengembalian",
            cash: "Kas",
            expected: "Seharusnya",
            counted: "Dihitung",
            difference: "Selisih",
            open: "masih buka",
            shift: "Shift",
            quantity: "Jml",
        },
    }
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// A tax rate's row name (`ICMS 7.25 %`, as the totals keep it) with the rate written
/// as the store's language writes numbers (`ICMS 7,25 %`).
fn rate_label(label: &str, locale: Locale) -> String {
    match label
        .strip_suffix(" %")
        .and_then(|rest| rest.rsplit_once(' '))
    {
        Some((name, rate)) => format!("{name} {} %", locale.decimal(rate)),
        None => label.to_owned(),
    }
}

pub fn render(doc: &Value, store: &Store) -> String {
    let locale = store.locale;
    let w = words(locale);
    let money = |amount: i64| escape(&Money::new(amount, store.currency).format(locale));
    let mut body = String::new();
    let title = if doc["kind"] == "z" { w.z } else { w.x };
    let _ = writeln!(
        body,
        "<h1>{} · {} #{}</h1>\n<p>{} → {}</p>",
        escape(store.name.as_str()),
        escape(title),
        int(&doc["number"]),
        escape(doc["opened_at"].as_str().unwrap_or_default()),
        escape(
            doc["closed_at"]
                .as_str()
                .or(doc["generated_at"].as_str())
                .unwrap_or_default()
        ),
    );
    let sales = &doc["sales"];
    let _ = writeln!(body, "<h2>{}</h2><table>", escape(w.sales));
    for (label, value, is_money) in [
        (w.orders, int(&sales["orders"]), false),
        (w.discounts, int(&sales["discounts"]), true),
        (w.service, int(&sales["service"]), true),
        (w.tax, int(&sales["tax"]), true),
        (w.total, int(&sales["total"]), true),
        (w.tips, int(&sales["tip"]), true),
        (w.refunds, int(&doc["refunds"]["amount"]), true),
        (w.net_of_refunds, int(&sales["net_of_refunds"]), true),
        (w.voids, int(&doc["voids"]["amount"]), true),
    ] {
        let shown = if is_money {
            money(value)
        } else {
            value.to_string()
        };
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td class=\"n\">{shown}</td></tr>",
            escape(label)
        );
    }
    body.push_str("</table>\n");
    for (title, key, quantity) in [
        (w.by_category, "by_category", true),
        (w.by_product, "by_product", true),
        (w.by_staff, "by_staff", false),
        (w.by_hour, "by_hour", false),
        (w.taxes, "taxes", false),
        (w.tenders, "tenders", false),
    ] {
        let lines = doc[key].as_array().cloned().unwrap_or_default();
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(body, "<h2>{}</h2><table>", escape(title));
        if quantity {
            let _ = writeln!(
                body,
                "<tr><th></th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>",
                escape(w.quantity),
                escape(w.total)
            );
        }
        for line in lines {
            let name = line["name"].as_str().unwrap_or_default();
            // Tenders are kept by kind (`cash`); they print in the store's language.
            let name = match name.parse::<TenderKind>() {
                Ok(kind) if key == "tenders" => {
                    crate::receipt::tender_name(locale, kind).to_owned()
                }
                _ if key == "taxes" => rate_label(name, locale),
                _ => name.to_owned(),
            };
            let name = escape(&name);
            let amount = money(int(&line["amount"]));
            if quantity {
                let _ = writeln!(
                    body,
                    "<tr><td>{name}</td><td class=\"n\">{}</td><td class=\"n\">{amount}</td></tr>",
                    int(&line["quantity"])
                );
            } else {
                let _ = writeln!(
                    body,
                    "<tr><td>{name}</td><td class=\"n\">{amount}</td></tr>"
                );
            }
        }
        body.push_str("</table>\n");
    }
    let cash = &doc["cash"];
    let _ = writeln!(
        body,
        "<h2>{}</h2><table><tr><th></th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>",
        escape(w.cash),
        escape(w.expected),
        escape(w.counted),
        escape(w.difference)
    );
    // A shift still open has no count yet: it says so, and the day's total counted and
    // difference wait for every drawer to be counted rather than print 0.00.
    let open = escape(w.open);
    for shift in cash["shifts"].as_array().into_iter().flatten() {
        let counted = shift["counted"]
            .as_i64()
            .map_or_else(|| open.clone(), money);
        let difference = shift["difference"].as_i64().map(money).unwrap_or_default();
        let _ = writeln!(
            body,
            "<tr><td>{} {}</td><td class=\"n\">{}</td><td class=\"n\">{counted}</td><td class=\"n\">{difference}</td></tr>",
            escape(w.shift),
            int(&shift["number"]),
            money(int(&shift["expected"])),
        );
    }
    let (counted, difference) = if int(&cash["open_shifts"]) > 0 {
        (open, String::new())
    } else {
        (
            money(int(&cash["counted"])),
            money(int(&cash["difference"])),
        )
    };
    let _ = writeln!(
        body,
        "<tr class=\"total\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{counted}</td><td class=\"n\">{difference}</td></tr></table>",
        escape(w.total),
        money(int(&cash["expected"])),
    );
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title><style>\
         body{{font:13px monospace;max-width:80mm;margin:0 auto}}h1{{font-size:15px}}h2{{font-size:13px;margin:10px 0 2px}}\
         table{{width:100%;border-collapse:collapse}}.n{{text-align:right;white-space:nowrap}}.total td{{font-weight:bold}}\
         </style></head><body>\n{body}</body></html>\n",
        lang = locale.tag(),
        title = escape(title),
    )
}
