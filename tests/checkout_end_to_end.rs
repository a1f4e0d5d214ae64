//! Purchases to checkout, end to end: the Create Purchases handler stores carts in DynamoDB
//! (moto); the table's real stream (moto's DynamoDB Streams) is read and delivered to the
//! checkout's stream handler the way Lambda would, failed records redelivered; the checkout
//! submits over loopback HTTP to the Checkout Service simulator, which checks signatures, the
//! six rules against the carts in the table, and counts every charge.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord, StreamRecord};
use checkout::lambda::handle_stream;
use checkout::{CheckedOut, Checkout, CheckoutError};
use create_purchases::{CreatePurchases, PATH, PurchaseRequest};
use jwo::simulator::{
    CheckoutSimulator, Faults, RepeatAnswer, SimulatorConfig, StoredCarts, router,
};
use jwo_aws::amazon::checkout_client::CheckoutClient;
use jwo_aws::dynamodb::catalog::DynamoDbCatalog;
use jwo_aws::dynamodb::purchases;
use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_aws::testing::checkout_client as test_checkout_client;
use jwo_domain::alerts::AlertKind;
use jwo_domain::catalog::price_book_versions::{CachedPriceBook, import_price_book};
use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::ports::{CheckoutService, PurchaseStore};
use jwo_domain::purchase::{CancelReason, Purchase, PurchaseState, purchase_id};
use jwo_domain::store::Updated;
use jwo_local::log_alerts::LocalAlerts;
use jwo_test_support::{fixtures, moto_endpoint, unique_name};
use serde_json::{Value, json};

const KEY: &str = "AKIDCHECKOUT";
const SECRET: &str = "checkout-secret-key";
/// The store of Amazon's test carts, priced by the sample price book.
const STORE: &str = "STORE-001";

type Simulator = CheckoutSimulator<StoredCarts<DynamoDbPurchaseStore>>;
/// The price book as the Lambdas read it: the catalog table, through the cache (one shared by
/// both functions here, asked again on every cart).
type PriceBooks = Arc<CachedPriceBook<DynamoDbCatalog>>;

/// One connector in AWS, as far as checkout is concerned.
struct Connector {
    create: CreatePurchases<DynamoDbPurchaseStore, LocalAlerts, PriceBooks>,
    checkout: Checkout<DynamoDbPurchaseStore, LocalAlerts, CheckoutClient, PriceBooks>,
    price_books: PriceBooks,
    store: DynamoDbPurchaseStore,
    simulator: Arc<Simulator>,
    endpoint: String,
    stream: TableStream,
}

impl Connector {
    /// A sweep that takes every Open purchase, however recently it changed.
    async fn sweep_now(&self, deadline: Instant) -> checkout::SweepReport {
        self.checkout
            .sweep(deadline, chrono::Duration::zero())
            .await
            .unwrap()
    }

    async fn start(faults: Faults, settings: checkout::Config) -> Connector {
        let connector = Connector::start_without_price_book(faults, settings).await;
        connector.import_sample_price_book().await;
        connector
    }

    /// The sample price book, imported into the catalog table.
    async fn import_sample_price_book(&self) {
        let book = jwo_domain::pricing::PriceBook::from_json(
            &std::fs::read(jwo_test_support::sample_price_book()).unwrap(),
        )
        .unwrap();
        import_price_book(self.price_books.versions(), &book, "sample.json")
            .await
            .unwrap();
    }

    async fn start_without_price_book(faults: Faults, settings: checkout::Config) -> Connector {
        let aws = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
        let dynamo = aws_sdk_dynamodb::Client::new(&aws);
        let table = unique_name("checkout");
        purchases::create_table(&dynamo, &table).await.unwrap();
        let store = DynamoDbPurchaseStore::new(dynamo.clone(), &table);
        let catalog_table = unique_name("catalog");
        jwo_aws::dynamodb::catalog::create_table(&dynamo, &catalog_table)
            .await
            .unwrap();
        let price_books = Arc::new(CachedPriceBook::new(
            DynamoDbCatalog::new(dynamo.clone(), catalog_table),
            Duration::ZERO,
        ));

        let (simulator, endpoint) = serve_simulator(&store, faults).await;

        Connector {
            create: CreatePurchases::new(
                store.clone(),
                LocalAlerts::new(100),
                Arc::clone(&price_books),
                create_purchases::Config::default(),
            ),
            checkout: Checkout::new(
                store.clone(),
                LocalAlerts::new(100),
                client(&endpoint, SECRET),
                Arc::clone(&price_books),
                settings,
            ),
            price_books,
            store,
            simulator,
            endpoint,
            stream: TableStream::open(&aws, &dynamo, &table).await,
        }
    }

    /// Amazon posts a cart for `trip` (the multi-item test cart, or `items` instead).
    async fn purchase(&self, trip: &str, items: Option<Value>) -> String {
        let mut body: Value = serde_json::from_slice(
            &std::fs::read(fixtures("create_purchases/1.02_multi_item_cart.json")).unwrap(),
        )
        .unwrap();
        body["idempotentShoppingTripId"] = json!(trip);
        body["storeId"] = json!(STORE);
        if let Some(items) = items {
            body["cartItems"] = items;
        }
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
        assert_eq!(
            answer.status,
            201,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        purchase_id(STORE, trip)
    }

    async fn stored(&self, trip: &str) -> Purchase {
        self.store
            .get(&purchase_id(STORE, trip))
            .await
            .unwrap()
            .expect("stored")
    }

    /// Lambda's side of the stream: every record delivered to the checkout handler, those it
    /// reports failed delivered again, until the stream is quiet. Every INSERT is delivered
    /// `copies` times in its batch (at-least-once delivery, concurrently). Returns the number
    /// of deliveries reported failed.
    async fn run_stream(&mut self, copies: usize) -> usize {
        let mut failures = 0;
        let mut pending: Vec<EventRecord> = Vec::new();
        for _round in 0..100 {
            for record in self.stream.poll().await {
                let copies = if record.event_name == "INSERT" {
                    copies
                } else {
                    1
                };
                pending.extend(std::iter::repeat_n(record, copies));
            }
            if pending.is_empty() {
                return failures;
            }
            let mut event = StreamEvent::default();
            event.records = std::mem::take(&mut pending);
            let deadline = Instant::now() + Duration::from_secs(20);
            let response = handle_stream(&self.checkout, event.clone(), deadline).await;
            let failed: Vec<String> = response
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.clone().unwrap())
                .collect();
            failures += failed.len();
            pending = event
                .records
                .into_iter()
                .filter(|r| failed.contains(r.change.sequence_number.as_ref().unwrap()))
                .collect();
            pending.dedup_by(|a, b| a.change.sequence_number == b.change.sequence_number);
        }
        panic!("the stream did not settle in 100 rounds");
    }
}

/// A Checkout Service simulator over the carts of `store`, on loopback: it and its endpoint.
async fn serve_simulator(
    store: &DynamoDbPurchaseStore,
    faults: Faults,
) -> (Arc<Simulator>, String) {
    let simulator = Arc::new(CheckoutSimulator::new(
        SimulatorConfig {
            region: "us-east-1".into(),
            credentials: vec![Credentials::new(KEY, SECRET, None, None, "simulator")],
            basis: AmountBasis::Line,
            faults,
        },
        StoredCarts(store.clone()),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let app = router(Arc::clone(&simulator));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (simulator, endpoint)
}

/// Few attempts per delivery, so that some deliveries give up and the stream's redelivery is
/// exercised too.
fn client(endpoint: &str, secret: &str) -> CheckoutClient {
    test_checkout_client(endpoint, KEY, secret, 3)
}

/// The table's stream, read through moto's DynamoDB Streams API and turned into the records
/// Lambda delivers.
struct TableStream {
    client: aws_sdk_dynamodbstreams::Client,
    iterators: Vec<String>,
}

impl TableStream {
    async fn open(
        aws: &aws_config::SdkConfig,
        dynamo: &aws_sdk_dynamodb::Client,
        table: &str,
    ) -> TableStream {
        let client = aws_sdk_dynamodbstreams::Client::new(aws);
        let arn = dynamo
            .describe_table()
            .table_name(table)
            .send()
            .await
            .unwrap()
            .table
            .unwrap()
            .latest_stream_arn
            .expect("the table has a stream");
        let shards = client
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap()
            .shards
            .unwrap_or_default();
        let mut iterators = Vec::new();
        for shard in shards {
            let iterator = client
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(shard.shard_id.unwrap())
                .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap()
                .shard_iterator
                .unwrap();
            iterators.push(iterator);
        }
        TableStream { client, iterators }
    }

    /// The records written since the last poll.
    async fn poll(&mut self) -> Vec<EventRecord> {
        let mut records = Vec::new();
        for iterator in &mut self.iterators {
            let output = self
                .client
                .get_records()
                .shard_iterator(iterator.as_str())
                .send()
                .await
                .unwrap();
            if let Some(next) = output.next_shard_iterator {
                *iterator = next;
            }
            records.extend(
                output
                    .records
                    .unwrap_or_default()
                    .into_iter()
                    .map(to_lambda_record),
            );
        }
        records
    }
}

fn to_item(
    image: Option<HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>,
) -> serde_dynamo::Item {
    let map: HashMap<String, serde_dynamo::AttributeValue> = image
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| (name, value.into()))
        .collect();
    map.into()
}

fn to_lambda_record(record: aws_sdk_dynamodbstreams::types::Record) -> EventRecord {
    let change = record.dynamodb.expect("a stream record carries its change");
    let mut stream_record = StreamRecord::default();
    stream_record.keys = to_item(change.keys);
    stream_record.new_image = to_item(change.new_image);
    stream_record.old_image = to_item(change.old_image);
    stream_record.sequence_number = change.sequence_number;
    stream_record.size_bytes = change.size_bytes.unwrap_or_default();
    let mut lambda_record = EventRecord::default();
    lambda_record.event_id = record.event_id.unwrap_or_default();
    lambda_record.event_name = record
        .event_name
        .map(|name| name.as_str().to_owned())
        .unwrap_or_default();
    lambda_record.aws_region = "us-east-1".into();
    lambda_record.event_source = Some("aws:dynamodb".into());
    lambda_record.change = stream_record;
    lambda_record
}

fn no_faults() -> Faults {
    Faults::default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchases_are_checked_out_once_and_completed_with_their_order_id() {
    let mut connector = Connector::start(no_faults(), checkout::Config::default()).await;
    // Given three ready carts, one with an unknown SKU and one empty cart,
    for trip in ["trip-a", "trip-b", "trip-c"] {
        connector.purchase(trip, None).await;
    }
    let unknown = json!([{ "id": "NO-SUCH-SKU", "type": "SKU", "quantity": { "value": "1", "unit": "each" } }]);
    connector.purchase("trip-unknown", Some(unknown)).await;
    connector.purchase("trip-empty", Some(json!([]))).await;

    // when the stream delivers them (each INSERT twice),
    let failures = connector.run_stream(2).await;

    // then each ready cart is charged once and Completed with the simulator's order id (a
    // copy delivered while its twin held the lease was reported failed, and redelivered),
    assert!(failures <= 3, "{failures}");
    let stats = connector.simulator.stats();
    assert_eq!(stats.charges.len(), 3, "{stats:?}");
    assert!(stats.charges.values().all(|charges| *charges == 1));
    assert_eq!(stats.duplicates, 0);
    for trip in ["trip-a", "trip-b", "trip-c"] {
        let purchase = connector.stored(trip).await;
        assert_eq!(purchase.state, PurchaseState::Completed, "{trip}");
        assert!(purchase.order_id.is_some());
        assert_eq!(purchase.checkout_attempts, 1);
        assert_eq!(purchase.checkout_lease_until, None);
    }
    // and the unknown SKU and the empty cart were never submitted.
    let unknown = connector.stored("trip-unknown").await;
    assert_eq!(
        (unknown.state, unknown.checkout_attempts),
        (PurchaseState::Open, 0)
    );
    let empty = connector.stored("trip-empty").await;
    assert_eq!(
        (empty.state, empty.reason_code, empty.checkout_attempts),
        (PurchaseState::Canceled, Some(CancelReason::EmptyCart), 0)
    );
    assert_eq!((stats.unknown_trips, stats.rejections.len()), (0, 0));
    assert!(
        !stats
            .charges
            .keys()
            .any(|k| k.ends_with("trip-unknown") || k.ends_with("trip-empty"))
    );

    // A stored order id is the one the simulator charged under: a repeat gets it back.
    let completed = connector.stored("trip-a").await;
    let body = completed.checkout.unwrap().to_json_bytes();
    let again = client(&connector.endpoint, SECRET)
        .submit(&body, Instant::now() + Duration::from_secs(10))
        .await
        .outcome;
    assert_eq!(
        again,
        jwo_domain::contract::checkout::CheckoutOutcome::Accepted {
            order_id: completed.order_id.unwrap()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_30_percent_faults_and_timeouts_every_purchase_is_completed_and_charged_once() {
    let faults = Faults::transient(30, 10, Duration::from_millis(600));
    let mut connector = Connector::start(faults, checkout::Config::default()).await;
    let trips: Vec<String> = (0..30).map(|n| format!("faulty-{n}")).collect();
    for trip in &trips {
        connector.purchase(trip, None).await;
    }

    let failures = connector.run_stream(2).await;

    let stats = connector.simulator.stats();
    assert!(stats.faults_injected > 0, "no fault was injected");
    for trip in &trips {
        let purchase = connector.stored(trip).await;
        assert_eq!(
            purchase.state,
            PurchaseState::Completed,
            "{trip}: {purchase:?}"
        );
    }
    assert_eq!(stats.charges.len(), trips.len());
    assert!(
        stats.charges.values().all(|charges| *charges == 1),
        "{stats:?}"
    );
    assert_eq!(
        stats.duplicates, 0,
        "a completed purchase was submitted again"
    );
    println!(
        "faults injected: {}, deliveries reported failed: {failures}",
        stats.faults_injected
    );
}

/// The stack's ceiling on calls holds through an outage (every call answered 503), nothing a
/// paced-out attempt did not send counts as unanswered, and once the service is back the backlog
/// is charged once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_an_outage_the_calls_keep_to_the_ceiling_and_the_backlog_is_then_charged_once() {
    let outage = Faults {
        failure_percent: 100,
        statuses: vec![503],
        ..Faults::default()
    };
    let settings = checkout::Config {
        concurrency: 10,
        ..checkout::Config::default()
    };
    let mut connector = Connector::start(outage, settings.clone()).await;
    // 20 calls a second for the stack, shared by 2 invocations: 10 a second here.
    let paced = |endpoint: &str| {
        let mut client = client(endpoint, SECRET);
        client.backoff.max_attempts = 6;
        client.pacer = jwo_aws::pacer::Pacer::shared(20, 2);
        client
    };
    connector.checkout.checkout_service = paced(&connector.endpoint);
    let trips: Vec<String> = (0..20).map(|n| format!("outage-{n}")).collect();
    for trip in &trips {
        connector.purchase(trip, None).await;
    }
    let mut event = StreamEvent::default();
    event.records = connector.stream.poll().await;
    let inserts = event
        .records
        .iter()
        .filter(|r| r.event_name == "INSERT")
        .count();
    assert_eq!(inserts, trips.len());

    let start = Instant::now();
    let response = handle_stream(&connector.checkout, event, start + Duration::from_secs(6)).await;
    let elapsed = start.elapsed();

    let calls = connector.simulator.stats().faults_injected;
    // One call now, then one every 100 ms: never more, however the attempts fall.
    let allowed = 1 + u64::try_from(elapsed.as_millis() / 100).unwrap();
    assert!(
        calls <= allowed,
        "{calls} calls in {elapsed:?}, allowed {allowed}"
    );
    assert!(calls >= 5, "the outage was hardly tried: {calls} calls");
    assert_eq!(response.batch_item_failures.len(), trips.len());
    assert!(connector.simulator.stats().charges.is_empty());
    for trip in &trips {
        let purchase = connector.stored(trip).await;
        assert_eq!(purchase.state, PurchaseState::Open, "{trip}");
        assert!(
            purchase.lease(chrono::Utc::now()).is_none(),
            "{trip}: released"
        );
        // Every call was answered (503) and the ones the pace refused were never sent.
        assert!(!purchase.outcome_unknown, "{trip}: {purchase:?}");
    }

    // The service is back: the same store, a healthy Checkout Service.
    let (recovered, endpoint) = serve_simulator(&connector.store, no_faults()).await;
    connector.checkout.checkout_service = paced(&endpoint);
    let report = connector
        .sweep_now(Instant::now() + Duration::from_secs(20))
        .await;
    assert_eq!(report.completed, trips.len(), "{report:?}");
    let stats = recovered.stats();
    assert_eq!(stats.charges.len(), trips.len());
    assert!(
        stats.charges.values().all(|charges| *charges == 1),
        "{stats:?}"
    );
    for trip in &trips {
        assert_eq!(connector.stored(trip).await.state, PurchaseState::Completed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_the_service_refuses_is_declined_with_the_reason_and_alerted() {
    let mut connector = Connector::start(no_faults(), checkout::Config::default()).await;
    let id = connector.purchase("trip-tampered", None).await;
    // Someone changed the stored total after pricing.
    let stored = connector.stored("trip-tampered").await;
    let mut tampered = serde_json::to_value(&stored).unwrap();
    tampered["checkout"]["orderTotals"]["priceTotal"]["amount"] = json!("0.01");
    tampered["version"] = json!(stored.version + 1);
    let tampered: Purchase = serde_json::from_value(tampered).unwrap();
    assert!(matches!(
        connector.store.update(&tampered).await.unwrap(),
        Updated::Done
    ));

    let failures = connector.run_stream(1).await;

    assert_eq!(failures, 0, "a 400 is recorded, not retried");
    let declined = connector.stored("trip-tampered").await;
    assert_eq!(
        (declined.state, declined.reason_code),
        (PurchaseState::Canceled, Some(CancelReason::Declined))
    );
    let reason = declined.reason.unwrap();
    assert!(reason.starts_with("InvalidCartException: "), "{reason}");
    assert!(reason.contains("orderTotals.priceTotal"), "{reason}");
    let alerts = connector.checkout.alerts.recent();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, AlertKind::CheckoutDeclined);
    assert_eq!(alerts[0].purchase_id.as_deref(), Some(id.as_str()));
    assert!(alerts[0].detail.contains("orderTotals.priceTotal"));
    let stats = connector.simulator.stats();
    assert_eq!(
        (stats.charges.len(), stats.rejections["OrderTotals"]),
        (0, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_signature_keeps_the_purchase_open_alerts_once_and_a_later_sweep_completes_it() {
    let mut connector = Connector::start(no_faults(), checkout::Config::default()).await;
    connector.checkout.checkout_service = client(&connector.endpoint, "not-the-secret");
    let id = connector.purchase("trip-forbidden", None).await;

    // The stream delivery fails (and would go on to the on-failure destination)...
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut event = StreamEvent::default();
    event.records = connector.stream.poll().await;
    let response = handle_stream(&connector.checkout, event, deadline).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    // ...and a second try is refused too.
    let second = connector.checkout.check_out(&id, deadline).await;
    assert!(
        matches!(second, Err(CheckoutError::Forbidden(_))),
        "{second:?}"
    );

    let open = connector.stored("trip-forbidden").await;
    assert_eq!(
        (
            open.state,
            open.checkout_attempts,
            open.checkout_lease_until
        ),
        (PurchaseState::Open, 2, None)
    );
    let alerts = connector.checkout.alerts.recent();
    assert_eq!(alerts.len(), 1, "one alert per purchase, not per try");
    assert_eq!(alerts[0].kind, AlertKind::CheckoutForbidden);
    let stats = connector.simulator.stats();
    assert_eq!((stats.signature_failures, stats.charges.len()), (2, 0));

    // Once the credentials are fixed, the scheduled sweep checks it out.
    connector.checkout.checkout_service = client(&connector.endpoint, SECRET);
    let report = connector.sweep_now(deadline).await;
    assert_eq!((report.open, report.completed, report.failed), (1, 1, 0));
    assert_eq!(
        connector.stored("trip-forbidden").await.state,
        PurchaseState::Completed
    );
    assert_eq!(connector.simulator.stats().charges.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_open_too_long_is_alerted_once() {
    let settings = checkout::Config {
        stuck_open_after: chrono::Duration::zero(),
        ..checkout::Config::default()
    };
    let connector = Connector::start(no_faults(), settings).await;
    let unknown = json!([{ "id": "NO-SUCH-SKU", "type": "SKU", "quantity": { "value": "1", "unit": "each" } }]);
    let id = connector.purchase("trip-held", Some(unknown)).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let deadline = Instant::now() + Duration::from_secs(10);

    let first = connector.sweep_now(deadline).await;
    let second = connector.sweep_now(deadline).await;

    assert_eq!((first.open, first.stuck_alerts, first.completed), (1, 1, 0));
    assert_eq!((second.open, second.stuck_alerts), (1, 0));
    let alerts = connector.checkout.alerts.recent();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, AlertKind::PurchaseStuckOpen);
    assert_eq!(alerts[0].purchase_id.as_deref(), Some(id.as_str()));
    assert!(alerts[0].detail.contains("held back by constraints"));
    assert!(
        connector
            .stored("trip-held")
            .await
            .was_alerted(AlertKind::PurchaseStuckOpen)
    );
    // Held back, so never submitted.
    assert_eq!(connector.simulator.stats().charges.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_already_completed_is_never_submitted_again() {
    let mut connector = Connector::start(no_faults(), checkout::Config::default()).await;
    let id = connector.purchase("trip-once", None).await;
    connector.run_stream(1).await;
    let deadline = Instant::now() + Duration::from_secs(10);

    // A late redelivery and a sweep find nothing to do.
    let again = connector.checkout.check_out(&id, deadline).await.unwrap();
    assert_eq!(
        again,
        CheckedOut::NothingToDo {
            state: PurchaseState::Completed
        }
    );
    let report = connector.sweep_now(deadline).await;
    assert_eq!(report.open, 0);
    let stats = connector.simulator.stats();
    assert_eq!((stats.charges.len(), stats.duplicates), (1, 0));
    // A purchase that is not in the table is retried (and kept), not dropped.
    let missing = connector
        .checkout
        .check_out("no-such-purchase", deadline)
        .await;
    assert!(
        matches!(missing, Err(CheckoutError::Missing(_))),
        "{missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_while_a_checkout_is_in_flight_is_turned_away_by_the_lease() {
    let slow = Faults {
        latency: Duration::from_millis(200),
        ..Faults::default()
    };
    let connector = Connector::start(slow, checkout::Config::default()).await;
    let id = connector.purchase("trip-in-flight", None).await;
    let deadline = Instant::now() + Duration::from_secs(10);

    let first = connector.checkout.check_out(&id, deadline);
    let redelivery = async {
        // Once the first has claimed the purchase (and is waiting on the service),
        while connector
            .stored("trip-in-flight")
            .await
            .checkout_lease_until
            .is_none()
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // the same record delivered again is turned away, to be retried later.
        connector.checkout.check_out(&id, deadline).await
    };
    let (first, redelivery) = tokio::join!(first, redelivery);

    assert!(
        matches!(first, Ok(CheckedOut::Completed { .. })),
        "{first:?}"
    );
    assert!(
        matches!(redelivery, Err(CheckoutError::Busy)),
        "{redelivery:?}"
    );
    let stats = connector.simulator.stats();
    assert_eq!((stats.charges.len(), stats.duplicates), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_skips_an_unreadable_record_alerts_once_and_carries_on() {
    let connector = Connector::start(no_faults(), checkout::Config::default()).await;
    // Given a record in the Open index that cannot be read (no document), and a good purchase,
    let aws = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
    aws_sdk_dynamodb::Client::new(&aws)
        .put_item()
        .table_name(connector.store.table())
        .item(
            "purchaseId",
            aws_sdk_dynamodb::types::AttributeValue::S("0-broken".into()),
        )
        .item(
            purchases::OPEN_INDEX_KEY,
            aws_sdk_dynamodb::types::AttributeValue::S("Open".into()),
        )
        .send()
        .await
        .unwrap();
    connector.purchase("trip-beside-broken", None).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    // when two sweeps run,
    let first = connector.sweep_now(deadline).await;
    let second = connector.sweep_now(deadline).await;
    // then the good purchase is checked out, the broken record is skipped each time, and
    // alerted once.
    assert_eq!(
        (first.open, first.completed, first.unreadable),
        (1, 1, 1),
        "{first:?}"
    );
    assert_eq!((second.open, second.unreadable), (0, 1), "{second:?}");
    let alerts: Vec<AlertKind> = connector
        .checkout
        .alerts
        .recent()
        .into_iter()
        .map(|alert| alert.kind)
        .collect();
    assert_eq!(alerts, [AlertKind::UnreadablePurchase]);
    assert_eq!(
        connector.stored("trip-beside-broken").await.state,
        PurchaseState::Completed
    );
}

/// Given a Checkout Service that loses the answer of every third first charge (the trip is
/// charged, the answer comes after the client stopped waiting) and answers repeats of a
/// charged trip as `repeat`, when 30 carts are posted, streamed to checkout (each record
/// delivered twice) and swept: what each purchase ended as.
async fn thirty_carts_with_lost_answers(repeat: RepeatAnswer) -> (Connector, Vec<String>) {
    let faults = Faults {
        lose_answer_every: 3,
        hang: Duration::from_millis(600),
        repeat,
        ..Faults::default()
    };
    let mut connector = Connector::start(faults, checkout::Config::default()).await;
    let trips: Vec<String> = (0..30).map(|n| format!("trip-lost-{n}")).collect();
    for trip in &trips {
        connector.purchase(trip, None).await;
    }
    connector.run_stream(2).await;
    connector
        .sweep_now(Instant::now() + Duration::from_secs(30))
        .await;
    (connector, trips)
}

/// Every trip charged exactly once, and every Completed purchase carries the simulator's
/// orderId; none is Canceled, and no alert says the shopper was not charged.
async fn charged_once_and_never_reported_not_charged(connector: &Connector, trips: &[String]) {
    let stats = connector.simulator.stats();
    assert_eq!(stats.charges.len(), trips.len(), "{stats:?}");
    assert!(
        stats.charges.values().all(|charges| *charges == 1),
        "{stats:?}"
    );
    assert_eq!(stats.lost_answers, 10, "{stats:?}");
    for trip in trips {
        let stored = connector.stored(trip).await;
        assert_ne!(stored.state, PurchaseState::Canceled, "{trip}");
        if stored.state == PurchaseState::Completed {
            assert_eq!(
                stored.order_id,
                connector.simulator.order_id(STORE, trip),
                "{trip}"
            );
        }
    }
    assert!(
        connector
            .checkout
            .alerts
            .recent()
            .iter()
            .all(|alert| alert.kind != AlertKind::CheckoutDeclined
                && !alert.detail.contains("the shopper was not charged"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_with_repeats_answered_201_all_complete_with_the_first_order() {
    let (connector, trips) = thirty_carts_with_lost_answers(RepeatAnswer::SameOrder).await;
    charged_once_and_never_reported_not_charged(&connector, &trips).await;
    for trip in &trips {
        assert_eq!(
            connector.stored(trip).await.state,
            PurchaseState::Completed,
            "{trip}"
        );
    }
    assert!(connector.checkout.alerts.recent().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_with_repeats_refused_are_held_with_one_alert_each() {
    for repeat in [RepeatAnswer::Conflict, RepeatAnswer::AlreadyCheckedOut] {
        let (connector, trips) = thirty_carts_with_lost_answers(repeat).await;
        charged_once_and_never_reported_not_charged(&connector, &trips).await;
        let mut held = 0;
        for trip in &trips {
            let stored = connector.stored(trip).await;
            match stored.state {
                PurchaseState::Completed => {}
                PurchaseState::Open => {
                    held += 1;
                    assert_eq!(
                        stored
                            .constraints
                            .iter()
                            .map(|c| c.kind.as_str())
                            .collect::<Vec<_>>(),
                        ["CheckoutOutcomeUnknown"],
                        "{repeat:?} {trip}"
                    );
                }
                PurchaseState::Canceled => unreachable!("checked above"),
            }
        }
        // The ones whose answer was lost, and only those, are held; one alert each.
        assert_eq!(held, 10, "{repeat:?}");
        let alerts = connector.checkout.alerts.recent();
        assert_eq!(alerts.len(), 10, "{repeat:?}: {alerts:?}");
        assert!(
            alerts
                .iter()
                .all(|alert| alert.kind == AlertKind::CheckoutOutcomeUnknown
                    && alert.detail.contains("may have charged"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carts_arriving_before_any_price_book_are_kept_and_charged_once_it_is_imported() {
    let mut connector =
        Connector::start_without_price_book(no_faults(), checkout::Config::default()).await;
    // Given carts that arrive while the catalog table holds no price book,
    let trips: Vec<String> = (0..5).map(|n| format!("no-book-{n}")).collect();
    for trip in &trips {
        connector.purchase(trip, None).await;
    }
    // they are acknowledged and kept unpriced (the stream starts nothing), with one alert,
    assert_eq!(connector.run_stream(1).await, 0);
    for trip in &trips {
        let stored = connector.stored(trip).await;
        assert!(
            stored.awaits_price_book(),
            "{trip}: {:?}",
            stored.constraints
        );
    }
    let alerts = connector.create.alerts.recent();
    assert_eq!(
        alerts.iter().map(|a| a.kind).collect::<Vec<_>>(),
        [AlertKind::NoPriceBook]
    );
    let report = connector
        .sweep_now(Instant::now() + Duration::from_secs(20))
        .await;
    assert_eq!((report.open, report.repriced, report.completed), (5, 0, 0));
    // and once a price book is imported, a sweep prices each and charges it once.
    connector.import_sample_price_book().await;
    let report = connector
        .sweep_now(Instant::now() + Duration::from_secs(20))
        .await;
    assert_eq!((report.repriced, report.completed), (5, 5), "{report:?}");
    let stats = connector.simulator.stats();
    assert_eq!(stats.charges.len(), 5, "{stats:?}");
    assert!(stats.charges.values().all(|charges| *charges == 1));
    assert_eq!(stats.rejections.len(), 0, "{stats:?}");
    for trip in &trips {
        let stored = connector.stored(trip).await;
        assert_eq!(stored.state, PurchaseState::Completed, "{trip}");
        assert_eq!(stored.price_book_version.as_deref(), Some("v1"));
    }
}
