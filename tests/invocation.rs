//! Whole invocations, as Lambda hands them to our code and takes the answer back:
//! - Create Purchases: the raw API Gateway event bytes → `lambda_http`'s conversion to a request
//!   → validate, price, store (the DynamoDB `PutItem` built, serialized and SigV4-signed by the
//!   SDK and sent over loopback HTTP to an endpoint that answers at once) → the response bytes;
//!   beside it, the pricing path alone for the same cart;
//! - checkout: the raw bytes of a stream batch of 10 records → for each, the purchase read
//!   (`GetItem`), claimed and recorded (`PutItem`s), the cart signed and submitted to the Checkout
//!   Service simulator over loopback → the batch response bytes.
//!
//! The stand-ins (DynamoDB, the simulator) run on a runtime of their own, on another thread;
//! the invocation runs on a current-thread runtime on the bench's thread, so that thread's CPU
//! time is the function's alone. After criterion's timings, each invocation is repeated and
//! that CPU time printed per invocation.
//!
//! cargo bench -p jwo-end-to-end --bench invocation

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use axum::http::HeaderMap;
use checkout::Checkout;
use checkout::lambda::{CheckoutEvent, handle_event as handle_checkout_event};
use create_purchases::CreatePurchases;
use criterion::{Criterion, criterion_group, criterion_main};
use jwo::simulator::{Carts, CheckoutSimulator, Faults, SimulatorConfig, router};
use jwo_aws::amazon::checkout_client::CheckoutClient;
use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_aws::sns::alerts::SnsAlerts;
use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::contract::create_purchases::CartItem;
use jwo_domain::pricing::{PricingOutcome, price_cart};
use jwo_domain::purchase::purchase_id;
use jwo_domain::validation::validate_create_purchases;
use jwo_local::fixed_price_book::{FixedPriceBook, SAMPLE_PRICE_BOOK};
use jwo_test_support::fixture_text;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Service, service_fn};
use serde_json::{Value, json};

// The allocator the functions and `jwo` use, so the figures are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEY: &str = "AKIDINVOKE";
const SECRET: &str = "invoke-secret";
const STORE: &str = "STORE-001";
const LINES: usize = 20;

/// DynamoDB on loopback, answering at once: `PutItem` keeps the item (conditions always hold),
/// `GetItem` answers with what was kept, or, once frozen, with the items kept before (so every
/// iteration finds the same Open purchases).
#[derive(Default)]
struct Table {
    items: Mutex<HashMap<String, Value>>,
    frozen: std::sync::atomic::AtomicBool,
}

async fn dynamodb(
    axum::extract::State(table): axum::extract::State<Arc<Table>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ([(&'static str, &'static str); 1], String) {
    let target = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let request: Value = serde_json::from_slice(&body).unwrap();
    let answer = match target.rsplit('.').next().unwrap_or_default() {
        "PutItem" => {
            if !table.frozen.load(std::sync::atomic::Ordering::Relaxed) {
                let key = request["Item"]["purchaseId"]["S"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                table
                    .items
                    .lock()
                    .unwrap()
                    .insert(key, request["Item"].clone());
            }
            json!({})
        }
        "GetItem" => {
            let key = request["Key"]["purchaseId"]["S"].as_str().unwrap();
            match table.items.lock().unwrap().get(key) {
                Some(item) => json!({ "Item": item }),
                None => json!({}),
            }
        }
        other => panic!("this bench's table does not answer {other}"),
    };
    (
        [("content-type", "application/x-amz-json-1.0")],
        answer.to_string(),
    )
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    endpoint
}

/// Every trip has the same cart.
struct SameCart(Vec<CartItem>);

impl Carts for SameCart {
    async fn cart(&self, _store_id: &str, _trip_id: &str) -> Result<Option<Vec<CartItem>>, String> {
        Ok(Some(self.0.clone()))
    }
}

/// A cart of `LINES` lines from the sample price book.
fn cart_items() -> Value {
    let skus = [
        "SKU-001", "SKU-002", "SKU-003", "SKU-005", "SKU-007", "SKU-009", "SKU-010", "SKU-008",
    ];
    (0..LINES)
        .map(|n| json!({ "id": skus[n % skus.len()], "type": "SKU", "quantity": { "value": "1", "unit": "each" } }))
        .collect()
}

fn create_purchases_body(trip: &str) -> String {
    let mut body: Value =
        serde_json::from_str(&fixture_text("create_purchases/1.02_multi_item_cart.json")).unwrap();
    body["idempotentShoppingTripId"] = json!(trip);
    body["storeId"] = json!(STORE);
    body["cartItems"] = cart_items();
    body.to_string()
}

/// The API Gateway REST proxy event Amazon's Ordering Gateway call becomes, as bytes.
fn api_gateway_event(trip: &str) -> Vec<u8> {
    let mut event: Value =
        serde_json::from_str(&fixture_text("apigw/create_purchases_event.json")).unwrap();
    event["body"] = json!(create_purchases_body(trip));
    event["isBase64Encoded"] = json!(false);
    serde_json::to_vec(&event).unwrap()
}

fn stream_batch(ids: &[String]) -> Vec<u8> {
    let records: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            json!({
                "eventID": format!("{n}"), "eventName": "INSERT", "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                "dynamodb": {
                    "Keys": { "purchaseId": { "S": id } },
                    "NewImage": { "purchaseId": { "S": id }, "readyForCheckout": { "BOOL": true } },
                    "SequenceNumber": format!("{:021}", n), "SizeBytes": 300,
                    "StreamViewType": "NEW_AND_OLD_IMAGES"
                }
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

/// CPU time (user + system) of the calling thread so far, from /proc (10 ms ticks).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let fields: Vec<u64> = stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .skip(11)
        .take(2)
        .map(|field| field.parse().unwrap())
        .collect();
    Duration::from_millis((fields[0] + fields[1]) * 10)
}

/// CPU time per call of `invoke`, over enough calls for the clock's 10 ms ticks not to matter.
fn cpu_per_call(name: &str, calls: u32, mut invoke: impl FnMut()) {
    let before = thread_cpu();
    let started = std::time::Instant::now();
    for _ in 0..calls {
        invoke();
    }
    let cpu = thread_cpu() - before;
    println!(
        "{name}: {} µs of CPU a call on this thread, {} µs wall ({calls} calls)",
        cpu.as_micros() / u128::from(calls),
        started.elapsed().as_micros() / u128::from(calls)
    );
}

fn context_with_a_minute_left() -> lambda_http::Context {
    let mut context = lambda_http::Context::default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    context.deadline = u64::try_from((now + Duration::from_secs(60)).as_millis()).unwrap();
    context
}

fn invocations(c: &mut Criterion) {
    let stand_ins = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let table = Arc::new(Table::default());
    let cart: Vec<CartItem> = serde_json::from_value(cart_items()).unwrap();
    let (dynamodb_endpoint, checkout_endpoint) = stand_ins.block_on(async {
        let dynamodb_endpoint = serve(
            axum::Router::new()
                .route("/", axum::routing::post(dynamodb))
                .with_state(Arc::clone(&table)),
        )
        .await;
        let simulator = Arc::new(CheckoutSimulator::new(
            SimulatorConfig {
                region: "us-east-1".into(),
                credentials: vec![Credentials::new(KEY, SECRET, None, None, "simulator")],
                basis: AmountBasis::Line,
                faults: Faults::default(),
            },
            SameCart(cart),
        ));
        (dynamodb_endpoint, serve(router(simulator)).await)
    });
    let (store, alerts, checkout) = runtime.block_on(async {
        let aws = jwo_aws::sdk::emulator_sdk_config(&dynamodb_endpoint).await;
        let store = DynamoDbPurchaseStore::new(aws_sdk_dynamodb::Client::new(&aws), "purchases");
        let alerts = SnsAlerts::new(
            aws_sdk_sns::Client::new(&aws),
            "arn:aws:sns:us-east-1:111122223333:alerts",
        );
        let credentials =
            SharedCredentialsProvider::new(Credentials::new(KEY, SECRET, None, None, "bench"));
        let client = CheckoutClient::new(&checkout_endpoint, "us-east-1", credentials).unwrap();
        let checkout = Checkout::new(
            store.clone(),
            SnsAlerts::new(
                aws_sdk_sns::Client::new(&aws),
                "arn:aws:sns:us-east-1:111122223333:alerts",
            ),
            client,
            FixedPriceBook::sample(),
            checkout::Config::default(),
        );
        (store, alerts, checkout)
    });
    let create = CreatePurchases::new(
        store.clone(),
        alerts,
        FixedPriceBook::sample(),
        create_purchases::Config::default(),
    );
    let create = &create;
    let mut lambda = Adapter::from(service_fn(move |request| {
        create_purchases::lambda::handle_event(create, request)
    }));

    // Create Purchases, event bytes to response bytes.
    let event = api_gateway_event("bench-trip");
    let mut invoke = |event: &[u8]| {
        let payload: LambdaRequest = serde_json::from_slice(event).unwrap();
        let response = runtime
            .block_on(lambda.call(lambda_http::LambdaEvent::new(
                payload,
                lambda_http::Context::default(),
            )))
            .unwrap();
        serde_json::to_vec(&response).unwrap()
    };
    let answer: Value = serde_json::from_slice(&invoke(&event)).unwrap();
    assert_eq!(answer["statusCode"], 201, "{answer}");
    c.bench_function("create_purchases_invocation/20_lines", |b| {
        b.iter(|| invoke(black_box(&event)))
    });

    // Its parts: lambda_http's conversions alone, the item the purchase is stored as, and the
    // SDK's PutItem of that item.
    c.bench_function("create_purchases_invocation/lambda_http_conversions", |b| {
        b.iter(|| {
            let payload: LambdaRequest = serde_json::from_slice(black_box(&event)).unwrap();
            let request: lambda_http::Request = payload.into();
            black_box(request.body());
            let response = lambda_http::Response::builder()
                .status(201)
                .header("content-type", "application/json")
                .body(lambda_http::Body::Binary(b"{\"orderId\":\"x\"}".to_vec()))
                .unwrap();
            let lambda_response =
                runtime.block_on(lambda_http::IntoResponse::into_response(response));
            black_box(lambda_response);
        })
    });
    let purchase = runtime
        .block_on(jwo_domain::ports::PurchaseStore::get(
            &store,
            &purchase_id(STORE, "bench-trip"),
        ))
        .unwrap()
        .unwrap();
    c.bench_function("create_purchases_invocation/purchase_item", |b| {
        b.iter(|| jwo_aws::dynamodb::purchases::to_item(black_box(&purchase)))
    });
    let item = jwo_aws::dynamodb::purchases::to_item(&purchase).item;
    println!(
        "the stored purchase: {} bytes of document",
        serde_json::to_vec(&purchase).unwrap().len()
    );
    let dynamodb = runtime.block_on(async {
        aws_sdk_dynamodb::Client::new(&jwo_aws::sdk::emulator_sdk_config(&dynamodb_endpoint).await)
    });
    let put_item = || {
        runtime
            .block_on(
                dynamodb
                    .put_item()
                    .table_name("purchases")
                    .set_item(Some(item.clone()))
                    .condition_expression("attribute_not_exists(purchaseId)")
                    .send(),
            )
            .unwrap();
    };
    c.bench_function("create_purchases_invocation/sdk_put_item", |b| {
        b.iter(put_item)
    });

    // The pricing path alone, for the same cart.
    let book = jwo_domain::pricing::PriceBook::from_json(SAMPLE_PRICE_BOOK.as_bytes()).unwrap();
    let body = create_purchases_body("bench-trip");
    c.bench_function("create_purchases_pricing_path/20_lines", |b| {
        b.iter(|| {
            let request = validate_create_purchases(black_box(body.as_bytes())).unwrap();
            let PricingOutcome::Priced(priced) = price_cart(&book, &request, AmountBasis::Line)
            else {
                panic!("the sample book prices the cart")
            };
            priced.to_json_bytes()
        })
    });

    // Checkout: ten purchases stored Open, then the same ten found Open by every batch.
    let trips: Vec<String> = (0..10).map(|n| format!("checkout-trip-{n}")).collect();
    for trip in &trips {
        invoke(&api_gateway_event(trip));
    }
    table
        .frozen
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let ids: Vec<String> = trips.iter().map(|trip| purchase_id(STORE, trip)).collect();
    let batch = stream_batch(&ids);
    let checkout = &checkout;
    let check_out_batch = |batch: &[u8]| {
        let payload: CheckoutEvent = serde_json::from_slice(batch).unwrap();
        let answer = runtime
            .block_on(handle_checkout_event(
                checkout,
                lambda_http::LambdaEvent::new(payload, context_with_a_minute_left()),
            ))
            .unwrap();
        serde_json::to_vec(&answer).unwrap()
    };
    let answer: Value = serde_json::from_slice(&check_out_batch(&batch)).unwrap();
    assert_eq!(answer, json!({ "batchItemFailures": [] }), "{answer}");
    c.bench_function("checkout_invocation/stream_batch_of_10", |b| {
        b.iter(|| check_out_batch(black_box(&batch)))
    });

    table
        .frozen
        .store(false, std::sync::atomic::Ordering::Relaxed);
    cpu_per_call("create_purchases_invocation/20_lines", 10_000, || {
        invoke(&event);
    });
    cpu_per_call("create_purchases_pricing_path/20_lines", 20_000, || {
        let request = validate_create_purchases(body.as_bytes()).unwrap();
        let PricingOutcome::Priced(priced) = price_cart(&book, &request, AmountBasis::Line) else {
            panic!()
        };
        black_box(priced.to_json_bytes());
    });
    cpu_per_call("create_purchases_invocation/sdk_put_item", 10_000, put_item);
    table
        .frozen
        .store(true, std::sync::atomic::Ordering::Relaxed);
    cpu_per_call("checkout_invocation/stream_batch_of_10", 500, || {
        check_out_batch(&batch);
    });
}

criterion_group!(benches, invocations);
criterion_main!(benches);
