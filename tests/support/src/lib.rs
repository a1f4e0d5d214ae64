//! Helpers shared by the tests: where the fixtures and the sample price book are, and the AWS
//! emulator.

mod lambda;
mod moto;

use std::path::PathBuf;

pub use lambda::{Killed, LambdaUnderTest, path_with_venv};
pub use moto::{
    moto_endpoint, new_topic, subscribe_queue, topic_with_queue, unique_name, wait_for_port,
};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
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

/// The sample price book the README runs with (owned by the `jwo-local` crate, which embeds it).
pub fn sample_price_book() -> PathBuf {
    repo_root().join("shared/local/pricebook/sample.json")
}

/// Where the tests' SNS signing certificate is (`tests/fixtures/sns`).
pub fn sns_signing_certificate() -> PathBuf {
    fixtures("sns/signing-cert.pem")
}

/// The test-only key that signs with that certificate.
pub fn sns_signing_key() -> PathBuf {
    fixtures("sns/signing-key.pem")
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
