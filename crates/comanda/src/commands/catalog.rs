//! `comanda catalog import|export`: the catalog as CSV from the server's shell, with the
//! same checks as the HTTP import (all or nothing, every bad row reported).

use crate::cli::{CatalogCommand, CatalogExportArgs, CatalogImportArgs};
use crate::database;
use crate::settings::Settings;
use anyhow::{Context, Result, anyhow, bail};
use comanda_server::catalog_bundle::{export_bundle, import_bundle};
use comanda_server::catalog_csv::{ImportError, export_file, import_file};
use comanda_store::Storage;
use std::io::Write;
use std::process::ExitCode;

/// Problems printed for a refused file; the count says how many there were in all.
const MAX_PRINTED_ERRORS: usize = 50;

pub async fn run(settings: &Settings, command: &CatalogCommand) -> Result<ExitCode> {
    let storage = database::open_current(settings).await?;
    let outcome = match command {
        CatalogCommand::Import(args) => import(&*storage, args).await,
        CatalogCommand::Export(args) => export(&*storage, args).await,
    };
    storage.close().await;
    outcome
}

async fn import(storage: &dyn Storage, args: &CatalogImportArgs) -> Result<ExitCode> {
    let [store] = database::store_ids(storage, std::slice::from_ref(&args.store)).await?[..] else {
        bail!("name one store");
    };
    if let Some(source) = storage.catalog_source(store).await? {
        bail!("this store sells from the catalog of store {source}; import into that store");
    }
    let data =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    // A whole catalog exported with `?format=json` is a JSON object; anything else is CSV.
    let bundle = data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let imported = if bundle {
        import_bundle(storage, store, &data).await
    } else {
        import_file(storage, store, &data).await
    };
    match imported {
        Ok(s) => {
            println!(
                "imported {}: {} products created, {} updated, {} variants, {} categories, \
                 {} tax rates and {} modifier groups created",
                args.file.display(),
                s.products_created,
                s.products_updated,
                s.variants,
                s.categories_created,
                s.tax_rates_created,
                s.modifier_groups_created
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Store(e)) => Err(anyhow!("{e}")),
        Err(ImportError::Rejected(errors)) => {
            eprintln!(
                "{} problem(s) in {}; nothing was imported:",
                errors.len(),
                args.file.display()
            );
            for e in errors.iter().take(MAX_PRINTED_ERRORS) {
                eprintln!(
                    "  line {}, {}: {} ({})",
                    e.line, e.column, e.message, e.code
                );
            }
            if errors.len() > MAX_PRINTED_ERRORS {
                eprintln!("  ... and {} more", errors.len() - MAX_PRINTED_ERRORS);
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn export(storage: &dyn Storage, args: &CatalogExportArgs) -> Result<ExitCode> {
    let [store] = database::store_ids(storage, std::slice::from_ref(&args.store)).await?[..] else {
        bail!("name one store");
    };
    let store = storage.catalog_source(store).await?.unwrap_or(store);
    let csv = match args.format.as_str() {
        "json" => export_bundle(storage, store).await,
        _ => export_file(storage, store).await,
    }
    .map_err(|e| anyhow!("{e}"))?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, &csv).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout().write_all(&csv)?,
    }
    Ok(ExitCode::SUCCESS)
}
