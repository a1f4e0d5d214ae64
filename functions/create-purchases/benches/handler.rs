//! The Create Purchases handler in process, on the embedded store (durable commits), with the
//! sample price book: latency percentiles and carts per second for carts of 20 and 100 lines,
//! one client at a time and 8 at once.
//!
//! cargo bench -p create-purchases --bench handler

use std::sync::Arc;
use std::time::{Duration, Instant};

use create_purchases::{Config, CreatePurchases, PurchaseRequest};
use jwo_local::embedded::EmbeddedPurchaseStore;
use jwo_local::fixed_price_book::FixedPriceBook;
use jwo_local::latency::report as report_latencies;
use jwo_local::log_alerts::LocalAlerts;
use jwo_test_support::run_latency_bench;
use serde_json::json;

// The allocator the functions and `jwo` use, so the figures are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Service = CreatePurchases<EmbeddedPurchaseStore, LocalAlerts, FixedPriceBook>;

/// A cart of `lines` lines from the sample price book, for trip number `trip`.
fn cart(lines: usize, trip: usize) -> Vec<u8> {
    const ITEMS: [(&str, &str, &str); 8] = [
        ("SKU-001", "2", "each"),
        ("SKU-002", "1", "each"),
        ("SKU-003", "3", "each"),
        ("SKU-005", "2", "each"),
        ("SKU-007", "1", "each"),
        ("SKU-009", "1", "each"),
        ("SKU-BAN", "0.82", "lb"),
        ("SKU-APL", "1.37", "lb"),
    ];
    let cart_items: Vec<_> = (0..lines)
        .map(|line| {
            let (sku, quantity, unit) = ITEMS[line % ITEMS.len()];
            json!({ "id": sku, "type": "SKU", "quantity": { "value": quantity, "unit": unit }, "lineItemId": format!("line-{line}") })
        })
        .collect();
    json!({
        "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "idempotentShoppingTripId": format!("bench-{lines}-{trip}"),
        "storeId": "STORE-001",
        "shoppingTrip": { "startTime": "2024-03-22T17:00:00Z", "endTime": "2024-03-22T17:09:39Z",
            "authEvents": [{ "id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "payloadType": "FINANCIAL" }] },
        "cartItems": cart_items,
        "paymentSource": { "id": "payment-source" }
    })
    .to_string()
    .into_bytes()
}

async fn post(service: &Service, body: &[u8]) -> Duration {
    let start = Instant::now();
    let answer = service
        .handle(PurchaseRequest {
            method: "POST",
            path: create_purchases::PATH,
            content_type: Some("application/json"),
            caller_arn: None,
            body,
        })
        .await;
    let took = start.elapsed();
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    took
}

fn main() {
    run_latency_bench(async {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedPurchaseStore::open(&dir.path().join("purchases.redb")).unwrap();
        let service = Arc::new(CreatePurchases::new(
            store,
            LocalAlerts::new(16),
            FixedPriceBook::sample(),
            Config::default(),
        ));
        let mut trip = 0;
        for (lines, carts) in [(20usize, 3_000usize), (100, 1_000)] {
            let bodies: Vec<Vec<u8>> = (0..carts)
                .map(|_| {
                    trip += 1;
                    cart(lines, trip)
                })
                .collect();
            // Warm up on other trips.
            for n in 0..100 {
                trip += 1;
                post(&service, &cart(lines, trip)).await;
                let _ = n;
            }

            let start = Instant::now();
            let mut latencies = Vec::with_capacity(carts);
            for body in &bodies {
                latencies.push(post(&service, body).await);
            }
            report_latencies(
                &format!("{lines} lines, 1 client"),
                "carts",
                latencies,
                start.elapsed(),
            );

            let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
                (0..carts)
                    .map(|_| {
                        trip += 1;
                        cart(lines, trip)
                    })
                    .collect(),
            );
            let start = Instant::now();
            let clients: Vec<_> = (0..8)
                .map(|client| {
                    let service = Arc::clone(&service);
                    let bodies = Arc::clone(&bodies);
                    tokio::spawn(async move {
                        let mut latencies = Vec::new();
                        for body in bodies.iter().skip(client).step_by(8) {
                            latencies.push(post(&service, body).await);
                        }
                        latencies
                    })
                })
                .collect();
            let mut latencies = Vec::with_capacity(carts);
            for client in clients {
                latencies.extend(client.await.unwrap());
            }
            report_latencies(
                &format!("{lines} lines, 8 concurrent clients"),
                "carts",
                latencies,
                start.elapsed(),
            );
        }
    });
}
