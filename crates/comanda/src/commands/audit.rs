//! `comanda audit verify`: recomputes every event's hash in each store's order log and
//! checks the chain, so an altered, removed or reordered event is found.

use crate::cli::{AuditCommand, AuditVerifyArgs};
use crate::database;
use crate::settings::Settings;
use anyhow::Result;
use comanda_domain::StoreId;
use comanda_domain::orders::chain::{ChainBreak, Verifier};
use comanda_store::Storage;
use std::process::ExitCode;

/// Events read per query.
const BATCH: i64 = 5_000;

pub async fn run(settings: &Settings, command: &AuditCommand) -> Result<ExitCode> {
    let storage = database::open_current(settings).await?;
    let outcome = match command {
        AuditCommand::Verify(args) => verify(&*storage, args).await,
    };
    storage.close().await;
    outcome
}

async fn verify(storage: &dyn Storage, args: &AuditVerifyArgs) -> Result<ExitCode> {
    let stores = match &args.store {
        Some(store) => database::store_ids(storage, std::slice::from_ref(store)).await?,
        None => storage.logged_stores().await?,
    };
    let reports = check_chains(storage, stores).await?;
    let mut broken = 0;
    for report in &reports {
        match &report.problem {
            None => println!(
                "store {}: {} events, chain intact",
                report.store, report.events
            ),
            Some(what) => {
                broken += 1;
                println!(
                    "store {}: BROKEN after {} good events: {what}",
                    report.store, report.events
                );
            }
        }
    }
    Ok(if broken == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{broken} store log(s) failed verification");
        ExitCode::FAILURE
    })
}

/// One store's order log, walked.
pub struct ChainReport {
    pub store: StoreId,
    /// Events checked good, from the first.
    pub events: i64,
    pub problem: Option<String>,
}

/// Walks each store's order log from its first event.
pub async fn check_chains(storage: &dyn Storage, stores: Vec<StoreId>) -> Result<Vec<ChainReport>> {
    let mut reports = Vec::new();
    for store in stores {
        let mut verifier = Verifier::default();
        let mut problem: Option<ChainBreak> = None;
        loop {
            let events = storage
                .log_after(store, verifier.next_seq - 1, BATCH)
                .await?;
            let done = (events.len() as i64) < BATCH;
            for event in &events {
                if let Err(e) = verifier.check(event) {
                    problem = Some(e);
                    break;
                }
            }
            if problem.is_some() || done {
                break;
            }
        }
        let checked = verifier.next_seq - 1;
        if problem.is_none()
            && let Some((seq, hash)) = storage.log_head(store).await?
            && (seq != checked || hash != verifier.last_hash)
        {
            problem = Some(ChainBreak::Gap {
                expected: checked + 1,
                found: seq,
            });
        }
        let problem = problem.map(|e| match e {
            ChainBreak::Gap { expected, found } => {
                format!("event {expected} is missing (the log goes on to {found}): removed")
            }
            ChainBreak::Altered { seq } => {
                format!("event {seq} does not match its hash: altered, replaced or reordered")
            }
        });
        reports.push(ChainReport {
            store,
            events: checked,
            problem,
        });
    }
    Ok(reports)
}
