//! The receipt of an order: one document, as JSON for apps and printers that lay it
//! out themselves, and as printable HTML (80 mm paper) with the store's header, the
//! lines, the taxes by rate, the tenders with change, and any refunds. Money, dates
//! and labels follow the store's language and time zone.

use chrono::{DateTime, Utc};
use comanda_domain::orders::Order;
use comanda_domain::orders::lines::LineStatus;
use comanda_domain::orders::payments::{Balance, PaymentStatus, TenderKind};
use comanda_domain::orders::totals::Totals;
use comanda_domain::{Locale, Money, Store};
use serde::Serialize;
use std::fmt::Write;

#[derive(Serialize, schemars::JsonSchema)]
pub struct Receipt {
    pub store: StoreHeader,
    pub order_id: String,
    pub number: i64,
    pub kind: &'static str,
    pub status: &'static str,
    pub table: Option<String>,
    pub currency: &'static str,
    pub locale: Locale,
    /// In the store's time zone.
    pub opened_at: String,
    pub printed_at: String,
    pub lines: Vec<ReceiptLine>,
    pub subtotal: i64,
    pub discounts: i64,
    pub service: i64,
    pub tax: i64,
    pub total: i64,
    pub tip: i64,
    pub due: i64,
    pub taxes: Vec<ReceiptTax>,
    pub payments: Vec<ReceiptPayment>,
    pub balance: Balance,
    pub refunds: Vec<ReceiptRefund>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct StoreHeader {
    pub name: String,
    pub code: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct ReceiptLine {
    pub name: String,
    pub quantity: i64,
    pub modifiers: Vec<String>,
    pub notes: Option<String>,
    /// Before discounts; 0 for a voided line (shown struck through).
    pub gross: i64,
    pub discount: i64,
    pub voided: bool,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct ReceiptTax {
    pub name: String,
    /// A percentage as text ("10").
    pub rate: String,
    pub base: i64,
    pub amount: i64,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct ReceiptPayment {
    pub kind: TenderKind,
    pub amount: i64,
    pub tendered: i64,
    pub change: i64,
    pub rounding: i64,
    pub tip: i64,
    pub reference: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct ReceiptRefund {
    pub amount: i64,
    pub reason: String,
    pub at: String,
}

fn local(store: &Store, at: DateTime<Utc>) -> String {
    at.with_timezone(&store.timezone.tz())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl Receipt {
    pub fn of(
        store: &Store,
        order: &Order,
        totals: &Totals,
        table: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        let lines = order
            .lines
            .iter()
            .map(|l| {
                let discount = totals
                    .lines
                    .iter()
                    .find(|t| t.line_id == l.id)
                    .map_or(0, |t| t.discount);
                ReceiptLine {
                    name: l.name.clone(),
                    quantity: l.quantity,
                    modifiers: l.modifiers.iter().map(|m| m.name.clone()).collect(),
                    notes: l.notes.clone(),
                    gross: l.gross(),
                    discount,
                    voided: l.status == LineStatus::Voided,
                }
            })
            .collect();
        let taxes = totals
            .rates
            .iter()
            .map(|r| ReceiptTax {
                name: r.name.clone(),
                rate: r.rate.to_string(),
                base: r.base,
                amount: r.amount,
            })
            .collect();
        let payments = order
            .payments
            .iter()
            .filter(|p| p.status == PaymentStatus::Captured)
            .map(|p| ReceiptPayment {
                kind: p.kind,
                amount: p.amount,
                tendered: p.tendered,
                change: p.change,
                rounding: p.rounding,
                tip: p.tip,
                reference: p.reference.clone(),
            })
            .collect();
        let refunds = order
            .refunds
            .iter()
            .map(|r| ReceiptRefund {
                amount: r.amount,
                reason: r.reason.clone(),
                at: local(store, r.at),
            })
            .collect();
        Self {
            store: StoreHeader {
                name: store.name.as_str().to_owned(),
                code: store.code.as_str().to_owned(),
            },
            order_id: order.id.to_string(),
            number: order.number,
            kind: order.kind.as_str(),
            status: order.status.as_str(),
            table,
            currency: order.currency.code(),
            locale: store.locale,
            opened_at: local(store, order.opened_at),
            printed_at: local(store, now),
            lines,
            subtotal: totals.subtotal,
            discounts: totals.discounts,
            service: totals.service,
            tax: totals.tax,
            total: totals.total,
            tip: totals.tip,
            due: totals.due,
            taxes,
            payments,
            balance: order.balance(totals),
            refunds,
        }
    }
}

/// The receipt's fixed words in the store's language.
struct Words {
    order: &'static str,
    table: &'static str,
    subtotal: &'static str,
    discounts: &'static str,
    service: &'static str,
    total: &'static str,
    tip: &'static str,
    change: &'static str,
    rounding: &'static str,
    refund: &'static str,
    remaining: &'static str,
    thanks: &'static str,
    /// Cash, card, card on a terminal, voucher.
    tenders: [&'static str; 4],
}

impl Words {
    fn tender(&self, kind: TenderKind) -> &'static str {
        let [cash, card, external_card, voucher] = self.tenders;
        match kind {
            TenderKind::Cash => cash,
            TenderKind::Card => card,
            TenderKind::ExternalCard => external_card,
            TenderKind::Voucher => voucher,
        }
    }
}

/// A table as printed: a number gets the word (`Mesa 12`); a name is printed as it is
/// (`Mesa 1`, `Varanda 3`, `Balcão`), never `Mesa Mesa 1`.
fn table_label(word: &str, name: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!(" · {word} {}", escape(name))
    } else {
        format!(" · {}", escape(name))
    }
}

/// A tender's name in `locale`, as receipts and reports print it.
pub fn tender_name(locale: Locale, kind: TenderKind) -> &'static str {
    words(locale).tender(kind)
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::PtBr => Words {
            order: "Pedido",
            table: "Mesa",
            subtotal: "Subtotal",
            discounts: "Descontos",
            service: "Serviço",
            total: "Total",
            tip: "Gorjeta",
            change: "Troco",
            rounding: "Arredondamento",
            refund: "Estorno",
            remaining: "A pagar",
            thanks: "Obrigado pela preferência!",
            tenders: ["Dinheiro", "Cartão", "Cartão (maquininha)", "Vale"],
        },
        Locale::EnUs => Words {
            order: "Order",
            table: "Table",
            subtotal: "Subtotal",
            discounts: "Discounts",
            service: "Service",
            total: "Total",
            tip: "Tip",
            change: "Change",
            rounding: "Rounding",
            refund: "Refund",
            remaining: "Balance due",
            thanks: "Thank you!",
            tenders: ["Cash", "Card", "Card (terminal)", "Voucher"],
        },
        Locale::IdId => Words {
            order: "Pesanan",
            table: "Meja",
            subtotal: "Subtotal",
            discounts: "Diskon",
            service: "Layanan",
            total: "Total",
            tip: "Tip",
            change: "Kembalian",
            rounding: "Pembulatan",
            refund: "Pengembalian",
            remaining: "Sisa tagihan",
            thanks: "Terima kasih!",
            tenders: ["Tunai", "Kartu", "Kartu (EDC)", "Voucher"],
        },
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

impl Receipt {
    /// A self-contained page: no script, no outside resources, so it prints anywhere.
    pub fn html(&self, store: &Store) -> String {
        let w = words(self.locale);
        let money = |amount: i64| escape(&Money::new(amount, store.currency).format(self.locale));
        let mut rows = String::new();
        let row = |rows: &mut String, label: &str, amount: i64, class: &str| {
            let _ = writeln!(
                rows,
                "<tr class=\"{class}\"><td>{}</td><td class=\"n\">{}</td></tr>",
                escape(label),
                money(amount)
            );
        };
        for line in &self.lines {
            let class = if line.voided { "void" } else { "" };
            let _ = writeln!(
                rows,
                "<tr class=\"{class}\"><td>{} × {}{}{}</td><td class=\"n\">{}</td></tr>",
                line.quantity,
                escape(&line.name),
                line.modifiers
                    .iter()
                    .map(|m| format!("<br><small>+ {}</small>", escape(m)))
                    .collect::<String>(),
                line.notes
                    .as_deref()
                    .map(|n| format!("<br><small>{}</small>", escape(n)))
                    .unwrap_or_default(),
                money(line.gross)
            );
        }
        rows.push_str("<tr><td colspan=\"2\"><hr></td></tr>\n");
        row(&mut rows, w.subtotal, self.subtotal, "");
        if self.discounts != 0 {
            row(&mut rows, w.discounts, -self.discounts, "");
        }
        if self.service != 0 {
            row(&mut rows, w.service, self.service, "");
        }
        for tax in &self.taxes {
            row(
                &mut rows,
                &format!("{} {} %", tax.name, store.locale.decimal(&tax.rate)),
                tax.amount,
                "",
            );
        }
        row(&mut rows, w.total, self.total, "total");
        if self.tip != 0 {
            row(&mut rows, w.tip, self.tip, "");
        }
        for p in &self.payments {
            let name = w.tender(p.kind);
            row(&mut rows, name, p.tendered, "");
            if p.rounding != 0 {
                row(&mut rows, w.rounding, p.rounding, "");
            }
            if p.change != 0 {
                row(&mut rows, w.change, p.change, "");
            }
        }
        if self.balance.remaining != 0 {
            row(&mut rows, w.remaining, self.balance.remaining, "total");
        }
        for r in &self.refunds {
            row(
                &mut rows,
                &format!("{} {} ({})", w.refund, r.at, r.reason),
                -r.amount,
                "",
            );
        }
        let table = self
            .table
            .as_deref()
            .map(|t| table_label(w.table, t))
            .unwrap_or_default();
        format!(
            "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <title>{order} {number}</title><style>\
             body{{font:13px monospace;width:72mm;margin:0 auto}}h1{{font-size:16px;text-align:center;margin:4px 0}}\
             p{{text-align:center;margin:2px 0}}table{{width:100%;border-collapse:collapse}}\
             .n{{text-align:right;white-space:nowrap;vertical-align:top}}.void td{{text-decoration:line-through}}\
             .total td{{font-weight:bold}}hr{{border:0;border-top:1px dashed #000}}\
             </style></head><body>\n<h1>{store}</h1>\n<p>{order} #{number}{table}</p>\n<p>{opened}</p>\n\
             <table aria-label=\"{order} {number}\">\n{rows}</table>\n<p>{thanks}</p>\n</body></html>\n",
            lang = self.locale.tag(),
            order = escape(w.order),
            number = self.number,
            store = escape(&self.store.name),
            opened = escape(&self.opened_at),
            thanks = escape(w.thanks),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<b>\"Tom\" & 'Jerry'</b>"),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }
}
