//! Helpers shared by the tests: where the fixtures and the sample price book are, and the AWS
//! emulator.

mod lambda;
mod moto;
mod sns;

use std::path::PathBuf;

pub use lambda::{Killed, LambdaUnderTest, path_with_venv};
pub use moto::{moto_endpoint, new_topic, topic_with_queue, unique_name, wait_for_port};
pub use sns::{sign_sns, sns_signing_certificate};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `tests/fixtures/<name>`.
pub fn fixtures(name: &str) -> PathBuf {
    repo_root().join("tests").join("fixtures").join(name)
}

/// The text of `tests/fixtures/<name>`.
pub fn fixture_text(name: &str) -> String {
    let path = fixtures(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The sample price book the README runs with.
pub fn sample_price_book() -> PathBuf {
    repo_root()
        .join("infra")
        .join("pricebook")
        .join("sample.json")
}

/// One of Amazon's Create Purchases test cases, as listed in `cases.json`.
#[derive(Debug, serde::Deserialize)]
pub struct CreatePurchasesCase {
    pub file: String,
    pub status: u16,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// Every case of `tests/fixtures/create_purchases/cases.json`, with the body it sends.
pub fn create_purchases_cases() -> Vec<(CreatePurchasesCase, Vec<u8>)> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        cases: Vec<CreatePurchasesCase>,
    }
    let dir = fixtures("create_purchases");
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("cases.json")).expect("cases.json"))
            .expect("cases.json is a case list");
    manifest
        .cases
        .into_iter()
        .map(|case| {
            let body = std::fs::read(dir.join(&case.file)).expect("fixture file");
            (case, body)
        })
        .collect()
}

/// Prints one line of a latency benchmark: percentiles (nearest rank) and throughput.
pub fn report_latencies(
    label: &str,
    unit: &str,
    latencies: Vec<std::time::Duration>,
    wall: std::time::Duration,
) {
    let summary = jwo_shared::latency::LatencySummary::of(latencies, wall)
        .unwrap_or_else(|| panic!("no latencies for {label}"));
    println!("{label:<34} {summary} {unit}");
}

/// Runs a latency benchmark's body on a 2-worker tokio runtime (the machine's cores), unless
/// `cargo test --benches` is only checking that benches run (`--test`, `--list`).
pub fn run_latency_bench<F: std::future::Future<Output = ()>>(bench: F) {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(bench);
}

/// A Checkout Service client for tests against a simulator on loopback: signing with `key` and
/// `secret` for us-east-1, 300 ms an attempt, and quick retries (5 ms to 40 ms), at most
/// `max_attempts`.
pub fn test_checkout_client(
    endpoint: &str,
    key: &str,
    secret: &str,
    max_attempts: u32,
) -> jwo_shared::amazon::checkout_client::CheckoutClient {
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use std::time::Duration;
    let credentials =
        SharedCredentialsProvider::new(Credentials::new(key, secret, None, None, "test"));
    let mut client = jwo_shared::amazon::checkout_client::CheckoutClient::new(
        endpoint,
        "us-east-1",
        credentials,
    )
    .expect("a valid endpoint");
    client.attempt_timeout = Duration::from_millis(300);
    client.backoff = jwo_shared::retry::Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(40),
        max_attempts,
    };
    client
}
