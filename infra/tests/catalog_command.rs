//! `jwo catalog` as a process: `import` (every row checked, nothing partly applied, versions),
//! and `upload` / `status` against the Catalog API stand-in (chunks of at most 10,000 items,
//! at most 10 calls a second, transient faults retried, SigV4 verified, an assumed role's
//! temporary credentials, Amazon's errorMsg shown).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use jwo::catalog_api::{CatalogApi, CatalogApiConfig, CatalogStats, router};
use jwo::simulator::Faults;
use jwo_aws::dynamodb::catalog;
use jwo_aws::dynamodb::catalog::DynamoDbCatalog;
use jwo_domain::contract::catalog::ProcessingStatus;
use jwo_domain::ports::{IngestionStore, PriceBookStore};
use jwo_local::catalog_files::LocalCatalog;
use jwo_test_support::{moto_endpoint, sample_price_book, unique_name};
use serde_json::{Value, json};

const KEY: &str = "AKIDCATALOGTEST";
const SECRET: &str = "catalog-test-secret";

/// Runs `jwo` with only the AWS settings given (none from the machine).
fn jwo(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jwo"));
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") || name.starts_with("JWO_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn signed_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_REGION", "us-east-1"),
    ]
}

/// The Catalog API stand-in on a free port, verifying signatures by `credentials`.
async fn catalog_api(credentials: Vec<Credentials>, faults: Faults) -> (Arc<CatalogApi>, String) {
    let api = Arc::new(CatalogApi::new(CatalogApiConfig {
        region: "us-east-1".into(),
        credentials,
        faults,
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let app = router(Arc::clone(&api));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (api, format!("http://{address}"))
}

fn test_key() -> Vec<Credentials> {
    vec![Credentials::new(KEY, SECRET, None, None, "test")]
}

/// `jwo catalog ARGS --endpoint ENDPOINT --data-dir DATA` on a blocking thread, so the
/// stand-in keeps answering meanwhile.
async fn against(
    endpoint: &str,
    data: &Path,
    args: &[&str],
    env: Vec<(&'static str, String)>,
) -> Output {
    let mut all: Vec<String> = std::iter::once("catalog")
        .chain(args.iter().copied())
        .map(str::to_owned)
        .collect();
    all.extend(["--endpoint".to_owned(), endpoint.to_owned()]);
    all.extend(["--data-dir".to_owned(), data.to_str().unwrap().to_owned()]);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
        jwo(&args, &env)
    })
    .await
    .unwrap()
}

fn owned(env: Vec<(&'static str, &'static str)>) -> Vec<(&'static str, String)> {
    env.into_iter().map(|(n, v)| (n, v.to_owned())).collect()
}

fn import(data: &Path, file: &Path) -> Output {
    jwo(
        &[
            "catalog",
            "import",
            file.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    )
}

/// The sample price book's items as CSV rows, with `change` applied to each row.
fn sample_items_csv(change: impl Fn(&Value) -> Option<String>) -> String {
    let book: Value = serde_json::from_slice(&std::fs::read(sample_price_book()).unwrap()).unwrap();
    let mut csv = "item_sku,item_name,standard_price,product_tax_code,sold_by,unit\n".to_owned();
    for item in book["items"].as_array().unwrap() {
        let price = change(item).unwrap_or_else(|| item["price"].as_str().unwrap().to_owned());
        csv.push_str(&format!(
            "{},\"{}\",{price},{},{},{}\n",
            item["sku"].as_str().unwrap(),
            item["name"].as_str().unwrap(),
            item["taxCode"].as_str().unwrap(),
            item["soldBy"].as_str().unwrap_or(""),
            item["unit"].as_str().unwrap_or(""),
        ));
    }
    csv
}

#[tokio::test]
async fn import_checks_every_row_and_keeps_versions() {
    let data = tempfile::tempdir().unwrap();
    let catalog = LocalCatalog::open(data.path().join("catalog")).unwrap();

    let first = import(data.path(), &sample_price_book());
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("as price book v1"),
        "{}",
        text(&first)
    );
    let again = import(data.path(), &sample_price_book());
    assert!(again.status.success());
    assert!(text(&again).contains("nothing changed"), "{}", text(&again));

    // Rows 3 and 5 are bad: both are named, and nothing is imported.
    let bad = data.path().join("bad.csv");
    std::fs::write(
        &bad,
        sample_items_csv(|item| match item["sku"].as_str() {
            Some("SKU-002") => Some("3.499".into()),
            Some("SKU-004") => Some("free".into()),
            _ => None,
        }),
    )
    .unwrap();
    let refused = import(data.path(), &bad);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let said = text(&refused);
    assert!(said.contains("row 3, standard_price: '3.499'"), "{said}");
    assert!(said.contains("row 5, standard_price: 'free'"), "{said}");
    assert!(said.contains("nothing was imported"), "{said}");
    assert_eq!(catalog.head().await.unwrap().unwrap().version, 1);

    // A good CSV: its items over the current version's stores, tax rates and promotions.
    let good = data.path().join("items.csv");
    std::fs::write(
        &good,
        sample_items_csv(|item| (item["sku"] == "SKU-002").then(|| "4.49".to_owned())),
    )
    .unwrap();
    let imported = import(data.path(), &good);
    assert!(imported.status.success(), "{}", text(&imported));
    assert!(text(&imported).contains("as price book v2"));
    let head = catalog.head().await.unwrap().unwrap();
    assert_eq!((head.version, head.source.as_str()), (2, "items.csv"));
    let book = jwo_domain::catalog::price_book_versions::load_version(&catalog, &head)
        .await
        .unwrap();
    let sku_002 = &book.file().items[book.item_by_sku("SKU-002").unwrap()];
    assert_eq!(sku_002.price, "4.49");
    assert!(
        !book.file().promotions.is_empty(),
        "the promotions were kept"
    );

    // A CSV into an empty catalog has nothing to go with: refused, naming --base.
    let empty = tempfile::tempdir().unwrap();
    let alone = import(empty.path(), &good);
    assert_eq!(alone.status.code(), Some(1));
    assert!(text(&alone).contains("--base"), "{}", text(&alone));
}

/// A price book of `items` items in two stores.
fn big_price_book(dir: &Path, items: usize) -> std::path::PathBuf {
    let items: Vec<Value> = (0..items)
        .map(|n| json!({ "sku": format!("SKU-{n:05}"), "name": format!("Item {n}"), "price": "1.00", "taxCode": "STD" }))
        .collect();
    let book = json!({
        "currency": "USD",
        "stores": { "STORE-A": { "taxRates": { "STD": "0.08" } }, "STORE-B": { "taxRates": { "STD": "0.09" } } },
        "items": items,
    });
    let path = dir.join("big.json");
    std::fs::write(&path, book.to_string()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_goes_in_calls_of_at_most_ten_thousand_items_and_every_ingestion_is_kept() {
    let data = tempfile::tempdir().unwrap();
    // 12,500 items × 2 stores = 25,000 catalog items.
    let book = big_price_book(data.path(), 12_500);
    assert!(import(data.path(), &book).status.success());
    let (api, endpoint) = catalog_api(test_key(), Faults::default()).await;

    let upload = against(&endpoint, data.path(), &["upload"], owned(signed_env())).await;
    assert!(upload.status.success(), "{}", text(&upload));

    let stats: CatalogStats = api.stats();
    let sizes: Vec<usize> = stats.calls.iter().map(|call| call.items).collect();
    assert_eq!(sizes, vec![10_000, 10_000, 5_000]);
    assert_eq!((stats.ingestions, stats.items), (3, 25_000));
    assert_eq!(stats.signature_failures, 0);

    let catalog = LocalCatalog::open(data.path().join("catalog")).unwrap();
    let stored = catalog.list_ingestions().await.unwrap();
    let recorded: Vec<(usize, usize, String)> = stored
        .iter()
        .map(|ingestion| {
            let upload = ingestion.upload.as_ref().unwrap();
            (upload.call, upload.items, upload.price_book_version.clone())
        })
        .collect();
    assert_eq!(
        recorded,
        vec![
            (1, 10_000, "v1".to_owned()),
            (2, 10_000, "v1".to_owned()),
            (3, 5_000, "v1".to_owned())
        ]
    );
    for ingestion in &stored {
        assert!(text(&upload).contains(&ingestion.ingestion_id));
        assert_eq!(ingestion.status, ProcessingStatus::InQueue);
    }

    // Status, until done: every upload moves to DONE with its report link.
    let status = against(
        &endpoint,
        data.path(),
        &["status", "--wait", "--interval-seconds", "0"],
        owned(signed_env()),
    )
    .await;
    assert!(status.status.success(), "{}", text(&status));
    for ingestion in catalog.list_ingestions().await.unwrap() {
        assert_eq!(ingestion.status, ProcessingStatus::Done);
        let link = ingestion.report_download_link.unwrap();
        assert!(text(&status).contains(&link), "{}", text(&status));
    }

    // An unknown ingestion: Amazon's errorMsg is shown, and the exit code says so.
    let unknown = against(
        &endpoint,
        data.path(),
        &["status", "no-such-ingestion"],
        owned(signed_env()),
    )
    .await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown).contains("No ingestion found for ingestionId no-such-ingestion"),
        "{}",
        text(&unknown)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_keep_to_ten_a_second_and_transient_faults_are_retried() {
    let data = tempfile::tempdir().unwrap();
    assert!(import(data.path(), &sample_price_book()).status.success());
    // 30% answered 429, 500 or 503; 10% hang 200 ms and answer 504.
    let faults = Faults::transient(30, 10, Duration::from_millis(200));
    let (api, endpoint) = catalog_api(test_key(), faults).await;

    // One item a call: the sample's 12 items × 2 stores make 24 calls, plus the retries.
    let upload = against(
        &endpoint,
        data.path(),
        &["upload", "--items-per-call", "1"],
        owned(signed_env()),
    )
    .await;
    assert!(upload.status.success(), "{}", text(&upload));
    let stats = api.stats();
    assert_eq!(stats.ingestions, 24);
    assert!(stats.faults_injected > 0, "no fault was injected");
    assert_eq!(
        stats.calls.len() as u64,
        24 + stats.faults_injected,
        "each fault is one retry"
    );
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert!(stats.max_calls_in_a_second <= 10, "{stats:?}");
    let catalog = LocalCatalog::open(data.path().join("catalog")).unwrap();
    assert_eq!(catalog.list_ingestions().await.unwrap().len(), 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_retried_after_a_lost_answer_is_recorded_as_retried() {
    let data = tempfile::tempdir().unwrap();
    assert!(import(data.path(), &sample_price_book()).status.success());
    // Every 5th accepted upload has its answer lost: the ingestion is made, the answer waits
    // past the client's attempt timeout, and the client tries the call again.
    let faults = Faults {
        lose_answer_every: 5,
        hang: Duration::from_millis(1_500),
        ..Faults::default()
    };
    let (api, endpoint) = catalog_api(test_key(), faults).await;

    let upload = against(
        &endpoint,
        data.path(),
        &[
            "upload",
            "--items-per-call",
            "1",
            "--attempt-timeout-ms",
            "500",
        ],
        owned(signed_env()),
    )
    .await;

    assert!(upload.status.success(), "{}", text(&upload));
    let stats = api.stats();
    assert!(stats.answers_lost >= 4, "{stats:?}");
    assert_eq!(
        stats.ingestions as u64,
        24 + stats.answers_lost,
        "Amazon holds an ingestion for each lost answer too"
    );
    let catalog = LocalCatalog::open(data.path().join("catalog")).unwrap();
    let ingestions = catalog.list_ingestions().await.unwrap();
    assert_eq!(ingestions.len(), 24, "ours on record: one per call");
    let retried = ingestions
        .iter()
        .filter(|i| i.upload.as_ref().unwrap().unanswered_attempts > 0)
        .count() as u64;
    assert_eq!(
        retried, stats.answers_lost,
        "each retried call is recognisable"
    );
    assert!(
        text(&upload).contains("Amazon may hold another ingestion of the same items"),
        "{}",
        text(&upload)
    );
    let status = jwo(
        &[
            "catalog",
            "status",
            "--data-dir",
            data.path().to_str().unwrap(),
        ],
        &[],
    );
    let shown = text(&status);
    assert!(shown.contains(" retried"), "{shown}");
    assert!(
        shown.contains("the Catalog API has no idempotency key"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_signature_is_refused_with_amazons_message_and_nothing_is_recorded() {
    let data = tempfile::tempdir().unwrap();
    assert!(import(data.path(), &sample_price_book()).status.success());
    let (api, endpoint) = catalog_api(test_key(), Faults::default()).await;
    let mut env = signed_env();
    env[1] = ("AWS_SECRET_ACCESS_KEY", "not-the-secret");
    let upload = against(&endpoint, data.path(), &["upload"], owned(env)).await;
    assert_eq!(upload.status.code(), Some(1));
    let said = text(&upload);
    assert!(said.contains("refused (403)"), "{said}");
    assert!(said.contains("signature"), "{said}");
    assert!(said.contains("no call was accepted"), "{said}");
    assert_eq!(api.stats().signature_failures, 1);
    let catalog = LocalCatalog::open(data.path().join("catalog")).unwrap();
    assert!(catalog.list_ingestions().await.unwrap().is_empty());
}

/// With --role-arn, the calls are signed with the temporary credentials STS (moto) gives for
/// the role, not with the caller's own key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_role_arn_calls_are_signed_with_the_roles_temporary_credentials() {
    let data = tempfile::tempdir().unwrap();
    assert!(import(data.path(), &sample_price_book()).status.success());
    // Signatures required, not verified: the stand-in cannot know STS's secret.
    let (api, endpoint) = catalog_api(Vec::new(), Faults::default()).await;
    let mut env = owned(signed_env());
    env.push(("AWS_ENDPOINT_URL", moto_endpoint().to_owned()));
    let upload = against(
        &endpoint,
        data.path(),
        &[
            "upload",
            "--role-arn",
            "arn:aws:iam::123456789012:role/CatalogUploader",
        ],
        env,
    )
    .await;
    assert!(upload.status.success(), "{}", text(&upload));
    let calls = api.stats().calls;
    assert!(!calls.is_empty());
    for call in &calls {
        let key = call.access_key.as_deref().unwrap();
        assert_ne!(key, KEY, "signed with the caller's own key");
        assert!(
            call.session_token,
            "no session token: not temporary credentials"
        );
    }
}

#[tokio::test]
async fn import_into_the_stacks_dynamodb_catalog_table() {
    let config = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("catalog");
    catalog::create_table(&client, &table).await.unwrap();
    let mut env = signed_env();
    env.push(("AWS_ENDPOINT_URL", moto_endpoint()));
    let output = jwo(
        &[
            "catalog",
            "import",
            sample_price_book().to_str().unwrap(),
            "--table",
            &table,
        ],
        &env,
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("as price book v1 in the DynamoDB catalog table"));
    let head = DynamoDbCatalog::new(client, &table)
        .head()
        .await
        .unwrap()
        .unwrap();
    assert_eq!((head.version, head.items), (1, 12));
}
