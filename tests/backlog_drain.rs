//! How fast one checkout worker drains a backlog: purchases waiting in the table (moto's
//! DynamoDB) are checked out through the Lambda's own stream handler, one batch after another as
//! one lane of the table's stream delivers them, or by one sweep, against the Checkout Service
//! simulator answering each call after 150 ms. BENCHMARKS.md ("Backlog drain") works out the
//! stack's figure from these.
//!
//! cargo bench -p jwo-end-to-end --bench backlog_drain [-- PURCHASES]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_lambda_events::dynamodb::Event as StreamEvent;
use checkout::Checkout;
use checkout::lambda::handle_stream;
use create_purchases::{CreatePurchases, PATH, PurchaseRequest};
use futures_util::StreamExt;
use jwo::simulator::{CheckoutSimulator, Faults, SimulatorConfig, StoredCarts, router};
use jwo_aws::amazon::checkout_client::CheckoutClient;
use jwo_aws::dynamodb::purchases::{self, DynamoDbPurchaseStore};
use jwo_aws::pacer::Pacer;
use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::purchase::purchase_id;
use jwo_local::fixed_price_book::FixedPriceBook;
use jwo_local::log_alerts::LocalAlerts;
use jwo_test_support::{fixtures, moto_endpoint, run_latency_bench, unique_name};
use serde_json::{Value, json};

// The allocator the functions and `jwo` use, so the figures are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEY: &str = "AKIDDRAIN";
const SECRET: &str = "drain-secret";
const STORE: &str = "STORE-001";
const LATENCY: Duration = Duration::from_millis(150);

type Simulator = CheckoutSimulator<StoredCarts<DynamoDbPurchaseStore>>;

struct Backlog {
    store: DynamoDbPurchaseStore,
    simulator: Arc<Simulator>,
    endpoint: String,
    create: CreatePurchases<DynamoDbPurchaseStore, LocalAlerts, FixedPriceBook>,
    cart: Value,
}

impl Backlog {
    async fn start() -> Backlog {
        let aws = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
        let dynamo = aws_sdk_dynamodb::Client::new(&aws);
        let table = unique_name("drain");
        purchases::create_table(&dynamo, &table).await.unwrap();
        let store = DynamoDbPurchaseStore::new(dynamo, &table);
        let simulator = Arc::new(CheckoutSimulator::new(
            SimulatorConfig {
                region: "us-east-1".into(),
                credentials: vec![Credentials::new(KEY, SECRET, None, None, "simulator")],
                basis: AmountBasis::Line,
                faults: Faults {
                    latency: LATENCY,
                    ..Faults::default()
                },
            },
            StoredCarts(store.clone()),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let app = router(Arc::clone(&simulator));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let cart = serde_json::from_slice(
            &std::fs::read(fixtures("create_purchases/1.02_multi_item_cart.json")).unwrap(),
        )
        .unwrap();
        Backlog {
            create: CreatePurchases::new(
                store.clone(),
                LocalAlerts::new(100),
                FixedPriceBook::sample(),
                create_purchases::Config::default(),
            ),
            store,
            simulator,
            endpoint,
            cart,
        }
    }

    /// `count` purchases stored and waiting, as after an outage: their ids.
    async fn waiting(&self, name: &str, count: usize) -> Vec<String> {
        let trips: Vec<String> = (0..count).map(|n| format!("{name}-{n}")).collect();
        futures_util::stream::iter(&trips)
            .for_each_concurrent(8, |trip| async move {
                let mut body = self.cart.clone();
                body["idempotentShoppingTripId"] = json!(trip);
                body["storeId"] = json!(STORE);
                let body = body.to_string();
                let answer = self
                    .create
                    .handle(PurchaseRequest {
                        method: "POST",
                        path: PATH,
                        content_type: Some("application/json"),
                        caller_arn: None,
                        body: body.as_bytes(),
                    })
                    .await;
                assert_eq!(answer.status, 201);
            })
            .await;
        trips.iter().map(|trip| purchase_id(STORE, trip)).collect()
    }

    fn checkout(
        &self,
        concurrency: usize,
        pacer: Option<Pacer>,
    ) -> Checkout<DynamoDbPurchaseStore, LocalAlerts, CheckoutClient, FixedPriceBook> {
        let credentials =
            SharedCredentialsProvider::new(Credentials::new(KEY, SECRET, None, None, "drain"));
        let mut client = CheckoutClient::new(&self.endpoint, "us-east-1", credentials).unwrap();
        client.pacer = pacer;
        Checkout::new(
            self.store.clone(),
            LocalAlerts::new(100),
            client,
            FixedPriceBook::sample(),
            checkout::Config {
                concurrency,
                ..checkout::Config::default()
            },
        )
    }

    fn charges(&self) -> usize {
        self.simulator.stats().charges.len()
    }
}

/// The INSERT records of `ids`, as the table's stream delivers them.
fn stream_event(ids: &[String], first_sequence: usize) -> StreamEvent {
    let records: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            json!({
                "awsRegion": "us-east-1", "eventID": format!("{}", first_sequence + n),
                "eventName": "INSERT", "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": { "purchaseId": { "S": id } },
                    "NewImage": { "readyForCheckout": { "BOOL": true } },
                    "SequenceNumber": format!("{:021}", first_sequence + n), "SizeBytes": 100
                }
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// One lane of the stream: batches of `batch` records, one invocation after another.
async fn one_lane(
    backlog: &Backlog,
    name: &str,
    count: usize,
    batch: usize,
    concurrency: usize,
    pacer: Option<Pacer>,
) {
    let ids = backlog.waiting(name, count).await;
    let checkout = backlog.checkout(concurrency, pacer);
    let charged_before = backlog.charges();
    let start = Instant::now();
    let mut failed = 0;
    for (n, chunk) in ids.chunks(batch).enumerate() {
        let deadline = Instant::now() + Duration::from_secs(57);
        let answer = handle_stream(&checkout, stream_event(chunk, n * batch), deadline).await;
        failed += answer.batch_item_failures.len();
    }
    let elapsed = start.elapsed();
    let charged = backlog.charges() - charged_before;
    assert_eq!(charged, count, "{name}: every purchase charged once");
    assert_eq!(failed, 0, "{name}");
    println!(
        "{name}: {count} purchases, batches of {batch}, {concurrency} at once{}: {} s, {} purchases/s",
        checkout_pace(&checkout),
        tenths(elapsed.as_millis() / 100),
        per_second(count, elapsed)
    );
}

/// One sweep invocation (Lambda's 60 s, less its margins) over the waiting purchases.
async fn one_sweep(backlog: &Backlog, name: &str, count: usize, concurrency: usize) {
    backlog.waiting(name, count).await;
    let checkout = backlog.checkout(concurrency, None);
    let charged_before = backlog.charges();
    let start = Instant::now();
    let report = checkout
        .sweep(start + Duration::from_secs(57), chrono::Duration::zero())
        .await
        .unwrap();
    let elapsed = start.elapsed();
    let charged = backlog.charges() - charged_before;
    println!(
        "{name}: {count} purchases waiting, {concurrency} at once: {charged} charged ({} completed) in {} s, {} purchases/s",
        report.completed,
        tenths(elapsed.as_millis() / 100),
        per_second(charged, elapsed)
    );
}

fn checkout_pace<S, A, B>(checkout: &Checkout<S, A, CheckoutClient, B>) -> String {
    match &checkout.checkout_service.pacer {
        Some(pacer) => format!(
            ", paced at one call every {} ms",
            pacer.spacing().as_millis()
        ),
        None => String::new(),
    }
}

fn per_second(count: usize, elapsed: Duration) -> String {
    tenths(count as u128 * 10_000 / elapsed.as_millis().max(1))
}

/// `n` tenths, written with one decimal (integers only: no floats in this workspace).
fn tenths(n: u128) -> String {
    format!("{}.{}", n / 10, n % 10)
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(400);
    run_latency_bench(async move {
        let backlog = Backlog::start().await;
        one_lane(&backlog, "lane-b10-c8", count, 10, 8, None).await;
        one_lane(&backlog, "lane-b10-c10", count, 10, 10, None).await;
        one_lane(&backlog, "lane-b20-c10", count, 20, 10, None).await;
        one_lane(&backlog, "lane-b100-c10", count, 100, 10, None).await;
        // The stack's default ceiling, 100 calls/s, shared by its 10 invocations.
        one_lane(
            &backlog,
            "lane-b10-c10-paced",
            count / 4,
            10,
            10,
            Pacer::shared(100, 10),
        )
        .await;
        one_sweep(&backlog, "sweep-c8", count, 8).await;
        one_sweep(&backlog, "sweep-c10", count, 10).await;
        // What DynamoDB costs here (moto answers one call at a time): reading the purchases
        // just completed.
        let ids: Vec<String> = (0..50)
            .map(|n| purchase_id(STORE, &format!("sweep-c10-{n}")))
            .collect();
        let start = Instant::now();
        for id in &ids {
            jwo_domain::ports::PurchaseStore::get(&backlog.store, id)
                .await
                .unwrap();
        }
        println!(
            "moto GetItem of a stored purchase, one at a time: {} ms each",
            tenths(start.elapsed().as_micros() / 100 / ids.len() as u128)
        );
    });
}
