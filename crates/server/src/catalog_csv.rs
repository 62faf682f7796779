//! The catalog as CSV, the way shops keep it in spreadsheets: one row per variant,
//! products grouped by category and name, prices in major units (`12.50`), tax rates and
//! modifier groups by name.
//!
//! An import is checked in full before anything is written; every bad row is reported
//! with its line and column, and the file is then refused as a whole.

use comanda_domain::StoreId;
use comanda_domain::catalog::inputs::{ProductInput, VariantInput};
use comanda_domain::catalog::{
    Category, ItemName, MAX_CATEGORY_DEPTH, ModifierGroup, Product, Status, TaxRate, search_key,
};
use comanda_domain::money::MoneyInput;
use comanda_domain::{Currency, Money, ValidationError};
use comanda_store::{
    ImportPlan, ImportProduct, ImportSummary, Limit, Page, ProductFilter, Storage, StoreError,
};
use serde::Serialize;
use std::collections::HashMap;

/// The columns, in the order an export writes them. An import needs `product` and
/// `price`; the others may be left out.
pub const COLUMNS: [&str; 16] = [
    "category",
    "product",
    "variant",
    "sku",
    "barcode",
    "price",
    "taxes",
    "modifier_groups",
    "station",
    "age_restricted",
    "track_stock",
    "sell_when_out",
    "available",
    "status",
    "description",
    "image_url",
];

/// Separates several names in one cell (`ICMS|Serviço`).
const LIST_SEPARATOR: char = '|';
/// Separates the levels of a category path (`Bebidas/Cervejas`).
const PATH_SEPARATOR: char = '/';
/// Written in `taxes` for a product that carries no rate at all (empty means the
/// store's default rates).
const NO_TAXES: &str = "none";

/// One refused cell or row of an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RowError {
    pub line: usize,
    pub column: String,
    pub code: &'static str,
    pub message: String,
}

impl RowError {
    fn new(line: usize, column: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            line,
            column: column.to_owned(),
            code,
            message: message.into(),
        }
    }
}

/// What names in the file refer to.
pub struct ImportContext<'a> {
    pub currency: Currency,
    pub tax_rates: &'a [TaxRate],
    pub modifier_groups: &'a [ModifierGroup],
}

struct Row {
    line: usize,
    cells: HashMap<&'static str, String>,
}

impl Row {
    fn get(&self, column: &str) -> &str {
        self.cells.get(column).map_or("", |v| v.trim())
    }
}

/// Reads and checks a whole file.
pub fn parse(data: &[u8], ctx: &ImportContext<'_>) -> Result<ImportPlan, Vec<RowError>> {
    let rows = read_rows(data)?;
    let mut errors = Vec::new();
    // Products by (category path, name), in order of first appearance.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: HashMap<(String, String), Vec<Row>> = HashMap::new();
    for row in rows {
        if row.get("product").is_empty() {
            errors.push(RowError::new(
                row.line,
                "product",
                "required",
                "every row names its product",
            ));
            continue;
        }
        let key = (
            path_key(row.get("category")),
            search_key(row.get("product")),
        );
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(row);
    }
    let mut plan = ImportPlan {
        tax_rates: Vec::new(),
        modifier_groups: Vec::new(),
        category_paths: Vec::new(),
        products: Vec::new(),
    };
    let mut paths: HashMap<String, usize> = HashMap::new();
    let mut codes: HashMap<(&'static str, String), usize> = HashMap::new();
    for key in order {
        let rows = groups.remove(&key).unwrap_or_default();
        match product(&rows, ctx) {
            Ok((draft_input, category)) => {
                let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
                let draft = match draft_input.parse(ctx.currency) {
                    Ok(draft) => draft,
                    Err(e) => {
                        errors.push(locate(&e, &lines));
                        continue;
                    }
                };
                for (v, line) in draft.variants.iter().zip(&lines) {
                    let mine = [
                        ("sku", v.sku.as_ref().map(|s| s.to_string())),
                        ("barcode", v.barcode.as_ref().map(|b| b.to_string())),
                    ];
                    for (column, code) in mine {
                        let Some(code) = code else { continue };
                        if let Some(first) = codes.insert((column, code.clone()), *line) {
                            errors.push(RowError::new(
                                *line,
                                column,
                                "duplicate",
                                format!("{code} is also on line {first}"),
                            ));
                        }
                    }
                }
                let category = match category {
                    Some(path) => {
                        let joined = path.join("/");
                        let next = plan.category_paths.len();
                        let index = *paths.entry(path_key(&joined)).or_insert(next);
                        if index == next {
                            plan.category_paths.push(path);
                        }
                        Some(index)
                    }
                    None => None,
                };
                plan.products.push(ImportProduct {
                    category,
                    draft,
                    lines,
                });
            }
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }
    if errors.is_empty() {
        Ok(plan)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

fn read_rows(data: &[u8]) -> Result<Vec<Row>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(data);
    let headers = reader
        .headers()
        .map_err(|e| vec![RowError::new(1, "", "invalid_csv", e.to_string())])?
        .clone();
    let mut columns: Vec<&'static str> = Vec::with_capacity(headers.len());
    let mut errors = Vec::new();
    for name in headers.iter() {
        let name = name
            .trim()
            .trim_start_matches('\u{feff}')
            .to_ascii_lowercase();
        match COLUMNS.iter().find(|c| **c == name) {
            Some(c) if columns.contains(c) => errors.push(RowError::new(
                1,
                c,
                "duplicate_column",
                "this column appears twice",
            )),
            Some(c) => columns.push(c),
            None => errors.push(RowError::new(
                1,
                &name,
                "unknown_column",
                format!("known columns: {}", COLUMNS.join(", ")),
            )),
        }
    }
    for required in ["product", "price"] {
        if !columns.contains(&required) {
            errors.push(RowError::new(
                1,
                required,
                "missing_column",
                "this column is required",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            vec![RowError::new(line, "", "invalid_csv", e.to_string())]
        })?;
        let line = record
            .position()
            .map_or(rows.len() + 2, |p| p.line() as usize);
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let cells = columns
            .iter()
            .zip(record.iter())
            .map(|(c, v)| (*c, v.to_owned()))
            .collect();
        rows.push(Row { line, cells });
    }
    Ok(rows)
}

fn path_key(path: &str) -> String {
    path.split(PATH_SEPARATOR)
        .map(search_key)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// A product's rows as the input the API would receive, plus its category path.
fn product(
    rows: &[Row],
    ctx: &ImportContext<'_>,
) -> Result<(ProductInput, Option<Vec<String>>), Vec<RowError>> {
    let mut errors = Vec::new();
    let first = &rows[0];
    // Product columns are read from the first row; later rows may repeat them or leave
    // them empty, but not say something else.
    for row in &rows[1..] {
        for column in [
            "taxes",
            "modifier_groups",
            "station",
            "age_restricted",
            "track_stock",
            "sell_when_out",
            "available",
            "status",
            "description",
            "image_url",
        ] {
            let value = row.get(column);
            if !value.is_empty() && value != first.get(column) {
                errors.push(RowError::new(
                    row.line,
                    column,
                    "conflict",
                    format!("differs from line {} of the same product", first.line),
                ));
            }
        }
    }
    let line = first.line;
    let category = match first.get("category") {
        "" => None,
        path => {
            let parts: Vec<String> = path
                .split(PATH_SEPARATOR)
                .map(|p| p.trim().to_owned())
                .collect();
            if parts.len() > MAX_CATEGORY_DEPTH {
                errors.push(RowError::new(
                    line,
                    "category",
                    "too_deep",
                    format!("at most {MAX_CATEGORY_DEPTH} levels"),
                ));
            }
            for part in &parts {
                if let Err(e) = ItemName::parse("category", part) {
                    errors.push(RowError::new(line, "category", e.code, e.message));
                }
            }
            Some(parts)
        }
    };
    let tax_rate_ids = match first.get("taxes") {
        "" => None,
        v if v.eq_ignore_ascii_case(NO_TAXES) => Some(Vec::new()),
        names => Some(resolve(names, line, "taxes", &mut errors, |name| {
            ctx.tax_rates
                .iter()
                .find(|r| search_key(r.name.as_str()) == name)
                .map(|r| r.id.to_string())
        })),
    };
    let modifier_group_ids = match first.get("modifier_groups") {
        "" => None,
        names => Some(resolve(
            names,
            line,
            "modifier_groups",
            &mut errors,
            |name| {
                ctx.modifier_groups
                    .iter()
                    .find(|g| search_key(g.name.as_str()) == name)
                    .map(|g| g.id.to_string())
            },
        )),
    };
    let mut flag = |column: &str| -> Option<bool> {
        match first.get(column).to_ascii_lowercase().as_str() {
            "" => None,
            "true" | "yes" | "1" | "sim" | "ya" => Some(true),
            "false" | "no" | "0" | "nao" | "não" | "tidak" => Some(false),
            _ => {
                errors.push(RowError::new(
                    line,
                    column,
                    "invalid_boolean",
                    "use true or false",
                ));
                None
            }
        }
    };
    let (track_stock, sell_when_out, available) = (
        flag("track_stock"),
        flag("sell_when_out"),
        flag("available"),
    );
    let age_restricted = match first.get("age_restricted") {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(n) => Some(serde_json::Value::from(n)),
            Err(_) => {
                errors.push(RowError::new(
                    line,
                    "age_restricted",
                    "invalid_number",
                    "a whole number of years, e.g. 18",
                ));
                None
            }
        },
    };
    let mut variants = Vec::with_capacity(rows.len());
    for row in rows {
        let amount = match Money::parse_major("price", row.get("price"), ctx.currency) {
            Ok(m) => m.amount,
            Err(e) => {
                errors.push(RowError::new(row.line, "price", e.code, e.message));
                0
            }
        };
        let text = |column: &str| Some(row.get(column).to_owned()).filter(|v| !v.is_empty());
        variants.push(VariantInput {
            id: None,
            name: text("variant"),
            sku: text("sku"),
            barcode: text("barcode"),
            price: MoneyInput {
                amount: serde_json::Value::from(amount),
                currency: ctx.currency.code().to_owned(),
            },
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let text = |column: &str| Some(first.get(column).to_owned()).filter(|v| !v.is_empty());
    Ok((
        ProductInput {
            version: None,
            category_id: None,
            name: first.get("product").to_owned(),
            description: text("description"),
            image_url: text("image_url"),
            station: text("station"),
            age_restricted,
            track_stock,
            sell_when_out,
            available,
            status: text("status"),
            position: None,
            tax_rate_ids,
            modifier_group_ids,
            variants,
        },
        category,
    ))
}

fn resolve(
    names: &str,
    line: usize,
    column: &str,
    errors: &mut Vec<RowError>,
    find: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    names
        .split(LIST_SEPARATOR)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .filter_map(|name| {
            let found = find(&search_key(name));
            if found.is_none() {
                errors.push(RowError::new(
                    line,
                    column,
                    "unknown",
                    format!("no active {column} entry named {name:?} in this store"),
                ));
            }
            found
        })
        .collect()
}

/// Puts a validation error of a product back on the line and column it came from.
fn locate(e: &ValidationError, lines: &[usize]) -> RowError {
    let first = lines.first().copied().unwrap_or(0);
    if let Some(rest) = e.field.strip_prefix("variants[") {
        let (index, inner) = rest.split_once("].").unwrap_or((rest, ""));
        let line = index
            .parse::<usize>()
            .ok()
            .and_then(|i| lines.get(i))
            .copied()
            .unwrap_or(first);
        let column = match inner.split('.').next().unwrap_or_default() {
            "name" => "variant",
            other => other,
        };
        return RowError::new(line, column, e.code, e.message.clone());
    }
    let column = match e.field.split(['.', '[']).next().unwrap_or_default() {
        "name" => "product",
        "tax_rate_ids" => "taxes",
        "modifier_group_ids" => "modifier_groups",
        "variants" => "sku",
        other => other,
    };
    RowError::new(first, column, e.code, e.message.clone())
}

/// Writes products (every status) as CSV; importing the result elsewhere recreates them.
pub fn export(
    products: &[Product],
    categories: &[Category],
    tax_rates: &[TaxRate],
    modifier_groups: &[ModifierGroup],
) -> Result<Vec<u8>, csv::Error> {
    let by_id: HashMap<_, _> = categories.iter().map(|c| (c.id, c)).collect();
    let path = |mut id| {
        let mut parts = Vec::new();
        while let Some(c) = by_id.get(&id) {
            parts.push(c.name.as_str());
            if parts.len() > MAX_CATEGORY_DEPTH {
                break;
            }
            match c.parent_id {
                Some(parent) => id = parent,
                None => break,
            }
        }
        parts.reverse();
        parts.join("/")
    };
    let names = |ids: &mut dyn Iterator<Item = String>| ids.collect::<Vec<_>>().join("|");
    // A product's station as its tickets go: its own, else its category's (or the
    // nearest ancestor's), so an import elsewhere routes them the same.
    let stations = crate::menu::category_stations(categories);
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for p in products {
        let category = p.category_id.map(path).unwrap_or_default();
        let taxes = match &p.tax_rate_ids {
            None => String::new(),
            Some(ids) if ids.is_empty() => NO_TAXES.to_owned(),
            Some(ids) => names(
                &mut ids
                    .iter()
                    .filter_map(|id| tax_rates.iter().find(|r| r.id == *id))
                    .map(|r| r.name.to_string()),
            ),
        };
        let groups = names(
            &mut p
                .modifier_group_ids
                .iter()
                .filter_map(|id| modifier_groups.iter().find(|g| g.id == *id))
                .map(|g| g.name.to_string()),
        );
        for v in &p.variants {
            let text = |o: Option<&str>| o.unwrap_or_default().to_owned();
            writer.write_record([
                category.clone(),
                p.name.to_string(),
                text(v.name.as_ref().map(|n| n.as_str())),
                text(v.sku.as_ref().map(|s| s.as_str())),
                text(v.barcode.as_ref().map(|b| b.as_str())),
                v.price.to_major_string(),
                taxes.clone(),
                groups.clone(),
                text(
                    p.station
                        .as_ref()
                        .map(|s| s.as_str())
                        .or_else(|| p.category_id.and_then(|c| stations.get(&c).copied())),
                ),
                p.age_restricted.map(|a| a.to_string()).unwrap_or_default(),
                p.track_stock.to_string(),
                p.sell_when_out.to_string(),
                p.available.to_string(),
                (if p.status == Status::Archived {
                    "archived"
                } else {
                    "active"
                })
                .to_owned(),
                text(p.description.as_deref()),
                text(p.image_url.as_ref().map(|u| u.as_str())),
            ])?;
        }
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

/// Why an import was not written.
#[derive(Debug)]
pub enum ImportError {
    /// The file has errors; nothing was written.
    Rejected(Vec<RowError>),
    Store(StoreError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        match e {
            // A rule only the database could check, already naming the line.
            StoreError::Invalid(v) => {
                let line = v
                    .field
                    .strip_prefix("line ")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0);
                ImportError::Rejected(vec![RowError::new(line, "", v.code, v.message)])
            }
            other => ImportError::Store(other),
        }
    }
}

/// Every item of a paged list, page by page at the largest page size.
async fn all_pages<T, C, F, Fut>(mut page: F) -> Result<Vec<T>, StoreError>
where
    F: FnMut(Option<C>, Limit) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T, C>, StoreError>>,
{
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let next = page(after, Limit::new(Some(Limit::MAX))).await?;
        items.extend(next.items);
        match next.next {
            Some(cursor) => after = Some(cursor),
            None => return Ok(items),
        }
    }
}

/// Every modifier group of a store with the given status.
pub(crate) async fn all_groups(
    storage: &dyn Storage,
    store: StoreId,
    status: Option<Status>,
) -> Result<Vec<ModifierGroup>, StoreError> {
    all_pages(|after, limit| storage.list_modifier_groups(store, status, after, limit)).await
}

/// Checks and writes a file into a store's catalog: all of it or nothing.
pub async fn import_file(
    storage: &dyn Storage,
    store: StoreId,
    data: &[u8],
) -> Result<ImportSummary, ImportError> {
    let currency = storage
        .get_store(store)
        .await?
        .ok_or(StoreError::NotFound { entity: "store" })?
        .currency;
    let tax_rates: Vec<TaxRate> = storage
        .list_tax_rates(store)
        .await?
        .into_iter()
        .filter(|r| r.status == Status::Active)
        .collect();
    let modifier_groups = all_groups(storage, store, Some(Status::Active)).await?;
    let ctx = ImportContext {
        currency,
        tax_rates: &tax_rates,
        modifier_groups: &modifier_groups,
    };
    let plan = parse(data, &ctx).map_err(ImportError::Rejected)?;
    Ok(storage.import_catalog(store, &plan).await?)
}

/// The whole catalog of a store as CSV.
pub async fn export_file(storage: &dyn Storage, store: StoreId) -> Result<Vec<u8>, StoreError> {
    let all = ProductFilter::default();
    let products =
        all_pages(|after, limit| storage.list_products(store, &all, after, limit)).await?;
    let categories = storage.list_categories(store).await?;
    let tax_rates = storage.list_tax_rates(store).await?;
    let groups = all_groups(storage, store, None).await?;
    export(&products, &categories, &tax_rates, &groups)
        .map_err(|e| StoreError::Internal(format!("writing CSV: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ImportContext<'static> {
        ImportContext {
            currency: Currency::Brl,
            tax_rates: &[],
            modifier_groups: &[],
        }
    }

    #[test]
    fn rows_group_into_products_with_variants() {
        let file = "category,product,variant,sku,price\n\
                    Bebidas/Cervejas,Pilsen,600 ml,P600,12.50\n\
                    Bebidas / cervejas ,pilsen,Lata,P350,7\n\
                    ,Coxinha,,,6.5\n";
        let plan = parse(file.as_bytes(), &ctx()).expect("valid file");
        assert_eq!(
            plan.category_paths,
            vec![vec!["Bebidas".to_owned(), "Cervejas".to_owned()]]
        );
        assert_eq!(plan.products.len(), 2);
        let pilsen = &plan.products[0];
        assert_eq!(
            (pilsen.category, pilsen.lines.clone()),
            (Some(0), vec![2, 3])
        );
        assert_eq!(
            pilsen
                .draft
                .variants
                .iter()
                .map(|v| v.price.amount)
                .collect::<Vec<_>>(),
            vec![1250, 700]
        );
        assert_eq!(plan.products[1].draft.variants[0].price.amount, 650);
    }

    #[test]
    fn every_bad_row_is_reported_with_line_and_column() {
        let file = "product,variant,sku,barcode,price,taxes,track_stock\n\
                    A,,A1,,-1,,\n\
                    B,,A1,,2,,maybe\n\
                    C,,C1,7891000315508,3,IVA,\n\
                    D,Grande,D1,,1,,\n\
                    D,,D2,,1,,\n\
                    ,,,,1,,\n";
        let errors = parse(file.as_bytes(), &ctx()).expect_err("bad file");
        let found: Vec<(usize, &str, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column.as_str(), e.code))
            .collect();
        assert_eq!(
            found,
            vec![
                (2, "price", "negative"),
                (3, "track_stock", "invalid_boolean"),
                (4, "taxes", "unknown"),
                (6, "variant", "required"),
                (7, "product", "required"),
            ]
        );
    }

    #[test]
    fn duplicate_codes_across_products_and_bad_headers_are_refused() {
        let dup = "product,sku,price\nA,X1,1\nB,X1,2\n";
        let errors = parse(dup.as_bytes(), &ctx()).expect_err("duplicate");
        assert_eq!(
            (errors[0].line, errors[0].column.as_str(), errors[0].code),
            (3, "sku", "duplicate")
        );
        let header = "product,prize\nA,1\n";
        let errors = parse(header.as_bytes(), &ctx()).expect_err("header");
        let codes: Vec<&str> = errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["unknown_column", "missing_column"]);
    }
}
