//! The Checkout Service client against the simulator, over loopback HTTP: signatures, the
//! rules, once-only charging, and retries through injected faults.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use jwo::simulator::{CheckoutSimulator, Faults, SimulatorConfig, StoredCarts, router};
use jwo_aws::amazon::checkout_client::CheckoutClient;
use jwo_aws::testing::checkout_client as test_checkout_client;
use jwo_domain::contract::checkout::{AmountBasis, CheckoutOutcome};
use jwo_domain::ports::{CheckoutService, PurchaseStore};
use jwo_local::embedded::EmbeddedPurchaseStore;
use serde_json::{Value, json};

const KEY: &str = "AKIDSIMULATOR";
const SECRET: &str = "simulator-secret-key";

struct Setup {
    _dir: tempfile::TempDir,
    simulator: Arc<CheckoutSimulator<StoredCarts<EmbeddedPurchaseStore>>>,
    endpoint: String,
    store: EmbeddedPurchaseStore,
}

async fn setup(faults: Faults) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedPurchaseStore::open(&dir.path().join("purchases.redb")).unwrap();
    let config = SimulatorConfig {
        region: "us-east-1".into(),
        credentials: vec![Credentials::new(KEY, SECRET, None, None, "simulator")],
        basis: AmountBasis::Line,
        faults,
    };
    let simulator = Arc::new(CheckoutSimulator::new(config, StoredCarts(store.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let app = router(Arc::clone(&simulator));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Setup {
        _dir: dir,
        simulator,
        endpoint,
        store,
    }
}

/// Stores a priced purchase for trip `trip` and returns the Checkout body to submit.
async fn purchase(store: &EmbeddedPurchaseStore, trip: &str) -> Vec<u8> {
    let purchase = common::priced_purchase(trip);
    store.insert_if_absent(&purchase).await.unwrap();
    purchase.checkout.unwrap().to_json_bytes()
}

fn client(endpoint: &str, secret: &str) -> CheckoutClient {
    test_checkout_client(endpoint, KEY, secret, 60)
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

#[tokio::test]
async fn a_cart_is_charged_once_and_a_repeat_is_a_duplicate() {
    let setup = setup(Faults::default()).await;
    let body = purchase(&setup.store, "trip-1").await;
    let client = client(&setup.endpoint, SECRET);
    let CheckoutOutcome::Accepted { order_id } = client.submit(&body, soon()).await.outcome else {
        panic!("not accepted")
    };
    assert_eq!(
        client.submit(&body, soon()).await.outcome,
        CheckoutOutcome::Accepted { order_id }
    );
    let stats = setup.simulator.stats();
    assert_eq!(stats.charges.values().copied().collect::<Vec<_>>(), [1]);
    assert_eq!(stats.duplicates, 1);
}

#[tokio::test]
async fn a_wrong_secret_is_forbidden_and_nothing_is_charged() {
    let setup = setup(Faults::default()).await;
    let body = purchase(&setup.store, "trip-2").await;
    let outcome = client(&setup.endpoint, "wrong-secret")
        .submit(&body, soon())
        .await
        .outcome;
    assert!(
        matches!(outcome, CheckoutOutcome::Forbidden { ref message } if message.contains("signature")),
        "{outcome:?}"
    );
    let stats = setup.simulator.stats();
    assert_eq!((stats.signature_failures, stats.charges.len()), (1, 0));
}

#[tokio::test]
async fn a_tampered_total_or_an_unknown_trip_is_declined_not_retried() {
    let setup = setup(Faults::default()).await;
    let body = purchase(&setup.store, "trip-3").await;
    let mut tampered: Value = serde_json::from_slice(&body).unwrap();
    tampered["orderTotals"]["priceTotal"]["amount"] = json!("0.01");
    let outcome = client(&setup.endpoint, SECRET)
        .submit(tampered.to_string().as_bytes(), soon())
        .await
        .outcome;
    let CheckoutOutcome::Refused { code, message, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(code.as_deref(), Some("InvalidCartException"));
    assert!(message.contains("orderTotals.priceTotal"), "{message}");

    let mut unknown: Value = serde_json::from_slice(&body).unwrap();
    unknown["idempotentShoppingTripId"] = json!("never-sent-to-create-purchases");
    let outcome = client(&setup.endpoint, SECRET)
        .submit(unknown.to_string().as_bytes(), soon())
        .await
        .outcome;
    assert!(
        matches!(outcome, CheckoutOutcome::Refused { status: 400, code: Some(ref c), .. } if c == "UnknownShoppingTripException"),
        "{outcome:?}"
    );

    let stats = setup.simulator.stats();
    assert_eq!(
        (
            stats.charges.len(),
            stats.rejections["OrderTotals"],
            stats.unknown_trips
        ),
        (0, 1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_30_percent_faults_and_timeouts_every_cart_is_charged_exactly_once() {
    let faults = Faults::transient(30, 10, Duration::from_millis(600));
    let setup = setup(faults).await;
    let client = Arc::new(client(&setup.endpoint, SECRET));
    let mut submissions = Vec::new();
    for n in 0..25 {
        let body = purchase(&setup.store, &format!("faulty-{n}")).await;
        let client = Arc::clone(&client);
        submissions.push(tokio::spawn(async move {
            client.submit(&body, soon()).await.outcome
        }));
    }
    for submission in submissions {
        let outcome = submission.await.unwrap();
        assert!(
            matches!(outcome, CheckoutOutcome::Accepted { .. }),
            "{outcome:?}"
        );
    }
    let stats = setup.simulator.stats();
    assert!(stats.faults_injected > 0, "no fault was injected");
    assert_eq!(stats.charges.len(), 25);
    assert!(stats.charges.values().all(|charges| *charges == 1));
    assert_eq!(
        stats.duplicates, 0,
        "a retry after a refused attempt is not a duplicate"
    );
}

#[tokio::test]
async fn it_gives_up_when_attempts_or_time_run_out() {
    let always_failing = Faults {
        failure_percent: 100,
        statuses: vec![503],
        ..Faults::default()
    };
    let failing = setup(always_failing).await;
    let body = purchase(&failing.store, "trip-5").await;
    let mut limited = client(&failing.endpoint, SECRET);
    limited.backoff.max_attempts = 3;
    let outcome = limited.submit(&body, soon()).await.outcome;
    assert!(
        matches!(outcome, CheckoutOutcome::GaveUp { attempts: 3, .. }),
        "{outcome:?}"
    );

    let throttled = setup(Faults {
        failure_percent: 100,
        statuses: vec![429],
        retry_after_seconds: 30,
        ..Faults::default()
    })
    .await;
    let body = purchase(&throttled.store, "trip-6").await;
    let started = Instant::now();
    let outcome = client(&throttled.endpoint, SECRET)
        .submit(&body, Instant::now() + Duration::from_secs(2))
        .await
        .outcome;
    // Retry-After 30 s does not fit a 2 s deadline: give up at once rather than overrun, and
    // say how long the service asked to wait (the purchase keeps it as notBefore).
    assert!(
        matches!(
            outcome,
            CheckoutOutcome::GaveUp {
                attempts: 1,
                retry_after: Some(wait),
                ..
            } if wait == Duration::from_secs(30)
        ),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(throttled.simulator.stats().charges.len(), 0);
}

/// A cart source that cannot be read.
struct UnreadableCarts;

impl jwo::simulator::Carts for UnreadableCarts {
    async fn cart(
        &self,
        _store_id: &str,
        _trip_id: &str,
    ) -> Result<Option<Vec<jwo_domain::contract::create_purchases::CartItem>>, String> {
        Err("the purchases table is unavailable".into())
    }
}

#[tokio::test]
async fn when_the_simulator_cannot_read_its_carts_the_answer_is_transient_not_a_decline() {
    let config = SimulatorConfig {
        region: "us-east-1".into(),
        credentials: vec![Credentials::new(KEY, SECRET, None, None, "simulator")],
        basis: AmountBasis::Line,
        faults: Faults::default(),
    };
    let simulator = Arc::new(CheckoutSimulator::new(config, UnreadableCarts));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(simulator)).await.unwrap() });
    let body = common::priced_purchase("unreadable-1")
        .checkout
        .unwrap()
        .to_json_bytes();
    let mut client = client(&endpoint, SECRET);
    client.backoff.max_attempts = 2;
    let outcome = client.submit(&body, soon()).await.outcome;
    assert!(
        matches!(outcome, CheckoutOutcome::GaveUp { attempts: 2, ref last_error, .. } if last_error.contains("503")),
        "{outcome:?}"
    );
}

/// A 429 or 503 says the cart was not taken; a 500, 502 or 504 may come after the service
/// charged, so those attempts count as unanswered (and no later 4xx is a decline).
#[tokio::test]
async fn only_try_later_answers_count_as_answered() {
    for (status, unanswered) in [(429, 0), (503, 0), (500, 2), (502, 2), (504, 2)] {
        let failing = setup(Faults {
            failure_percent: 100,
            statuses: vec![status],
            ..Faults::default()
        })
        .await;
        let body = purchase(&failing.store, "trip-status").await;
        let mut limited = client(&failing.endpoint, SECRET);
        limited.backoff.max_attempts = 2;
        let submission = limited.submit(&body, soon()).await;
        assert!(
            matches!(
                submission.outcome,
                CheckoutOutcome::GaveUp { attempts: 2, .. }
            ),
            "{status}: {submission:?}"
        );
        assert_eq!(submission.unanswered_attempts, unanswered, "{status}");
    }
}
