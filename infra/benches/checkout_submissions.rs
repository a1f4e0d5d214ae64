//! Submissions per second through the Checkout Service client (signing each attempt) against
//! the simulator on loopback HTTP, one client at a time and 8 at once, 20-line carts.
//!
//! cargo bench -p jwo --bench checkout_submissions

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use jwo::simulator::{Carts, CheckoutSimulator, Faults, SimulatorConfig, router};
use jwo_aws::amazon::checkout_client::CheckoutClient;
use jwo_domain::contract::checkout::{AmountBasis, CheckoutOutcome};
use jwo_domain::contract::create_purchases::CartItem;
use jwo_domain::ports::CheckoutService;
use jwo_domain::pricing::{PriceBook, PricingOutcome, price_cart};
use jwo_domain::validation::validate_create_purchases;
use jwo_local::fixed_price_book::SAMPLE_PRICE_BOOK;
use jwo_local::latency::report as report_latencies;
use jwo_test_support::run_latency_bench;
use serde_json::json;

// The allocator the functions and `jwo` use, so the figures are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Every trip has the same 20-line cart.
struct SameCart(Vec<CartItem>);

impl Carts for SameCart {
    async fn cart(&self, _store_id: &str, _trip_id: &str) -> Result<Option<Vec<CartItem>>, String> {
        Ok(Some(self.0.clone()))
    }
}

fn body(trip: usize) -> (Vec<u8>, Vec<CartItem>) {
    let skus = [
        "SKU-001", "SKU-002", "SKU-003", "SKU-005", "SKU-007", "SKU-009", "SKU-010", "SKU-008",
    ];
    let items: Vec<_> = (0..20).map(|n| json!({ "id": skus[n % skus.len()], "type": "SKU", "quantity": { "value": "1", "unit": "each" } })).collect();
    let request = json!({
        "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "idempotentShoppingTripId": format!("bench-{trip}"), "storeId": "STORE-001",
        "shoppingTrip": { "startTime": "2024-03-22T17:00:00Z", "endTime": "2024-03-22T17:09:39Z",
            "authEvents": [{ "id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "payloadType": "FINANCIAL" }] },
        "cartItems": items
    });
    let request = validate_create_purchases(request.to_string().as_bytes()).unwrap();
    let book = PriceBook::from_json(SAMPLE_PRICE_BOOK.as_bytes()).unwrap();
    let PricingOutcome::Priced(checkout) = price_cart(&book, &request, AmountBasis::Line) else {
        panic!()
    };
    (checkout.to_json_bytes(), request.cart_items)
}

fn main() {
    run_latency_bench(async {
        let (_, cart) = body(0);
        let config = SimulatorConfig {
            region: "us-east-1".into(),
            credentials: vec![Credentials::new(
                "AKIDBENCH",
                "bench-secret",
                None,
                None,
                "bench",
            )],
            basis: AmountBasis::Line,
            faults: Faults::default(),
        };
        let simulator = Arc::new(CheckoutSimulator::new(config, SameCart(cart)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router(simulator)).await.unwrap() });
        let credentials = SharedCredentialsProvider::new(Credentials::new(
            "AKIDBENCH",
            "bench-secret",
            None,
            None,
            "bench",
        ));
        let client = Arc::new(CheckoutClient::new(&endpoint, "us-east-1", credentials).unwrap());
        let deadline = || Instant::now() + Duration::from_secs(30);

        let bodies: Vec<Vec<u8>> = (0..2_000).map(|trip| body(trip).0).collect();
        let start = Instant::now();
        let mut latencies = Vec::new();
        for body in &bodies {
            let t = Instant::now();
            assert!(matches!(
                client.submit(body, deadline()).await.outcome,
                CheckoutOutcome::Accepted { .. }
            ));
            latencies.push(t.elapsed());
        }
        report_latencies("1 client", "submissions", latencies, start.elapsed());

        let bodies: Arc<Vec<Vec<u8>>> = Arc::new((2_000..6_000).map(|trip| body(trip).0).collect());
        let start = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|n| {
                let (client, bodies) = (Arc::clone(&client), Arc::clone(&bodies));
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    for body in bodies.iter().skip(n).step_by(8) {
                        let t = Instant::now();
                        assert!(matches!(
                            client.submit(body, deadline()).await.outcome,
                            CheckoutOutcome::Accepted { .. }
                        ));
                        latencies.push(t.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await.unwrap());
        }
        report_latencies(
            "8 concurrent clients",
            "submissions",
            latencies,
            start.elapsed(),
        );
    });
}
