//! `jwo simulate checkout`: the Checkout Service simulator on its own, for a connector whose
//! purchases are in DynamoDB (in AWS, or `moto` via `AWS_ENDPOINT_URL`); `jwo simulate
//! catalog`: the Catalog API stand-in.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use clap::Args;
use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_domain::contract::checkout::AmountBasis;

use crate::catalog_api;
use crate::catalog_api::{CatalogApi, CatalogApiConfig};
use crate::simulator::{
    Carts, CheckoutSimulator, Faults, RepeatAnswer, SimulatorConfig, StoredCarts, ToldCarts, router,
};
use jwo_aws::amazon::catalog_client::{STATUS_PATH, UPLOAD_PATH};

#[derive(Debug, Args)]
pub struct SimulateCheckout {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub listen: SocketAddr,
    /// Region the signatures must be made for.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// The access key requests must be signed with. Its secret is read from
    /// AWS_SECRET_ACCESS_KEY only, never the command line (where every local user could read it).
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    pub access_key_id: String,
    /// The connector's DynamoDB table of purchases: where the carts sent to Create Purchases are.
    /// Without it, the simulator knows the carts it is told by `POST /_simulator/carts` (each
    /// Create Purchases body, as Amazon's Ordering Gateway knows them: `jwo load
    /// --checkout-simulator` tells it), whatever store the connector keeps them in.
    #[arg(long, value_name = "TABLE")]
    pub purchases_table: Option<String>,
    /// Amount basis the carts are checked in.
    #[arg(long, default_value = "line", value_name = "line|unit")]
    pub basis: AmountBasis,
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// Faults to inject, for both stand-ins.
#[derive(Debug, Args)]
pub struct FaultArgs {
    /// Percent of requests answered with one of --failure-statuses (nothing charged).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub failure_percent: u32,
    #[arg(long, value_delimiter = ',', default_value = "429,500,503")]
    pub failure_statuses: Vec<u16>,
    /// Retry-After of an injected 429, in seconds.
    #[arg(long, default_value_t = 1)]
    pub retry_after_seconds: u64,
    /// Percent of requests left hanging for --hang-ms, then dropped (nothing charged).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub timeout_percent: u32,
    #[arg(long, default_value_t = 30_000)]
    pub hang_ms: u64,
    /// Latency added to every answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Lose the answer of every N-th first charge, or of every N-th accepted catalog upload
    /// (the trip is charged, the ingestion made; the answer waits --hang-ms, past the client's
    /// patience). 0: never.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub lose_answer_every: u32,
    /// How a repeat of a charged trip is answered: 201 (the first orderId), 409 or 400.
    #[arg(long, default_value = "201", value_name = "201|409|400")]
    pub repeat_answer: RepeatAnswer,
}

impl FaultArgs {
    /// Whether any fault is asked for.
    pub fn any(&self) -> bool {
        self.failure_percent > 0
            || self.timeout_percent > 0
            || self.latency_ms > 0
            || self.lose_answer_every > 0
            || self.repeat_answer != RepeatAnswer::SameOrder
    }

    pub fn faults(&self) -> Faults {
        Faults {
            failure_percent: self.failure_percent,
            statuses: self.failure_statuses.clone(),
            retry_after_seconds: self.retry_after_seconds,
            timeout_percent: self.timeout_percent,
            hang: Duration::from_millis(self.hang_ms),
            latency: Duration::from_millis(self.latency_ms),
            lose_answer_every: self.lose_answer_every,
            repeat: self.repeat_answer,
        }
    }
}

#[derive(Debug, Args)]
pub struct SimulateCatalog {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:9200")]
    pub listen: SocketAddr,
    /// Region the signatures must be made for.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// The access key requests must be signed with; without it, signatures are required but
    /// not verified (temporary credentials from an assumed role).
    /// Its secret is read from AWS_SECRET_ACCESS_KEY only, never the command line.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    pub access_key_id: Option<String>,
    #[command(flatten)]
    pub faults: FaultArgs,
}

pub fn run_catalog(args: SimulateCatalog) -> ExitCode {
    super::run_to_exit(serve_catalog(args))
}

async fn serve_catalog(args: SimulateCatalog) -> Result<(), String> {
    let credentials = match (args.access_key_id, secret_from_environment().ok()) {
        (Some(key), Some(secret)) => {
            vec![Credentials::new(key, secret, None, None, "jwo-simulate")]
        }
        _ => Vec::new(),
    };
    let api = Arc::new(CatalogApi::new(CatalogApiConfig {
        region: args.region,
        credentials,
        faults: args.faults.faults(),
    }));
    serve_stand_in(args.listen, catalog_api::router(api), |address| {
        format!(
            "Catalog API stand-in listening on http://{address}\n  \
             POST http://{address}{UPLOAD_PATH}                (SigV4, service execute-api)\n  \
             POST http://{address}{STATUS_PATH}\n  \
             GET  http://{address}/_catalog/stats"
        )
    })
    .await
}

/// The secret of the key requests are signed with: environment only.
fn secret_from_environment() -> Result<String, String> {
    std::env::var("AWS_SECRET_ACCESS_KEY")
        .ok()
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| {
            "AWS_SECRET_ACCESS_KEY is not set: the secret is read from the environment only, never the command line".into()
        })
}

pub fn run(args: SimulateCheckout) -> ExitCode {
    super::run_to_exit(serve(args))
}

async fn serve(args: SimulateCheckout) -> Result<(), String> {
    let config = SimulatorConfig {
        region: args.region,
        credentials: vec![Credentials::new(
            args.access_key_id,
            secret_from_environment()?,
            None,
            None,
            "jwo-simulate",
        )],
        basis: args.basis,
        faults: args.faults.faults(),
    };
    match &args.purchases_table {
        Some(table) => {
            let aws = jwo_aws::sdk::sdk_config(jwo_aws::sdk::CallTimeouts::default()).await;
            let store = DynamoDbPurchaseStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
            let carts = format!("the carts of DynamoDB table {table}");
            serve_checkout(
                args.listen,
                config,
                StoredCarts(store),
                axum::Router::new(),
                carts,
            )
            .await
        }
        None => {
            let carts = ToldCarts::default();
            let told = carts.router();
            serve_checkout(
                args.listen,
                config,
                carts,
                told,
                "the carts it is told".into(),
            )
            .await
        }
    }
}

async fn serve_checkout<C: Carts>(
    listen: SocketAddr,
    config: SimulatorConfig,
    carts: C,
    more_routes: axum::Router,
    knows: String,
) -> Result<(), String> {
    let simulator = Arc::new(CheckoutSimulator::new(config, carts));
    serve_stand_in(listen, router(simulator).merge(more_routes), |address| {
        format!(
            "Checkout Service simulator listening on http://{address}\n  \
             checking {knows}\n  \
             POST http://{address}/v1/checkout/carts   (SigV4, service execute-api)\n  \
             POST http://{address}/_simulator/carts    (a Create Purchases body: its cart, when no --purchases-table)\n  \
             GET  http://{address}/_simulator/stats    (charges per trip, duplicates, rejections)"
        )
    })
    .await
}

/// Serves a stand-in on `listen` until Ctrl-C, after printing its banner.
async fn serve_stand_in(
    listen: SocketAddr,
    app: axum::Router,
    banner: impl FnOnce(SocketAddr) -> String,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| format!("cannot listen on {listen}: {error}"))?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    // A banner nobody reads (a closed stdout) must not stop the server: write errors are
    // ignored, where println! would panic.
    let _ = writeln!(std::io::stdout(), "{}", banner(address));
    crate::http_server::serve(
        listener,
        app,
        crate::http_server::Limits::default(),
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )
    .await;
    Ok(())
}
