use crate::cli::LogFormat;
use anyhow::{Result, anyhow};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Logs go to stdout: one line per event, JSON when asked. Lines written while answering
/// a request carry its `request_id`, method and route from the request span.
pub fn init(format: LogFormat, filter: &str) -> Result<()> {
    let filter =
        EnvFilter::try_new(filter).map_err(|e| anyhow!("invalid log filter {filter:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let installed = match format {
        LogFormat::Pretty => builder
            .compact()
            .with_ansi(std::io::stdout().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|e| anyhow!("cannot start logging: {e}"))
}
