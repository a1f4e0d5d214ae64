//! The `jwo` command and the local stand-ins for Amazon's side.

pub mod catalog_api;
pub mod catalog_store;
pub mod cli;
pub mod commands;
pub mod http_server;
pub mod mcp;
pub mod purchases_endpoint;
pub mod simulator;

/// Structured logs to stderr for the long-running commands: `RUST_LOG` filters (default
/// `warn`, which shows alerts and failures without a line per purchase).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
