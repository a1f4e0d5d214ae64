//! The checkout use case (claim → submit → record) against a scripted Checkout Service, one
//! test per way a submission can end. The store is the real embedded store; only Amazon is
//! scripted, because only Amazon cannot run here.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jwo_domain::alerts::AlertKind;
use jwo_domain::behaviour::purchase_store::sample_purchase;
use jwo_domain::contract::checkout::CheckoutOutcome;
use jwo_domain::ports::{CheckoutService, PurchaseStore};
use jwo_domain::purchase::{CancelReason, Purchase, PurchaseState};
use jwo_local::embedded::EmbeddedPurchaseStore;
use jwo_local::log_alerts::LocalAlerts;

use crate::{CheckedOut, Checkout, CheckoutError, Config};

/// What the scripted Checkout Service does with one submission.
enum Step {
    /// Answers at once.
    Answer(CheckoutOutcome),
    /// Answers after a while; an answer due after the caller's deadline never arrives, and
    /// the submission gives up at the deadline, as the HTTPS client does.
    Slow(Duration, CheckoutOutcome),
    /// Charges the trip, then the answer is lost (the connection drops): the caller only
    /// sees its attempts fail.
    ChargeThenLoseAnswer,
    /// Answers a submission of the trip: 201 with the first orderId if it was charged before
    /// (Amazon de-duplicates by trip), else charges it with this orderId.
    ChargeOnce(&'static str),
}

/// A Checkout Service that follows a script, one step a submission, and keeps what it was sent
/// and which trips it charged.
struct Scripted {
    steps: Mutex<VecDeque<Step>>,
    submitted: Mutex<Vec<Vec<u8>>>,
    charged: Mutex<Vec<String>>,
}

impl Scripted {
    fn new(steps: impl IntoIterator<Item = Step>) -> Scripted {
        Scripted {
            steps: Mutex::new(steps.into_iter().collect()),
            submitted: Mutex::new(Vec::new()),
            charged: Mutex::new(Vec::new()),
        }
    }

    fn submissions(&self) -> usize {
        self.submitted.lock().unwrap().len()
    }
}

const FIRST_ORDER: &str = "order-first";

impl CheckoutService for Scripted {
    async fn submit(&self, body: &[u8], deadline: Instant) -> CheckoutOutcome {
        self.submitted.lock().unwrap().push(body.to_vec());
        let step = self
            .steps
            .lock()
            .unwrap()
            .pop_front()
            .expect("a submission the script does not expect");
        match step {
            Step::Answer(outcome) => outcome,
            Step::Slow(delay, outcome) => {
                if Instant::now() + delay > deadline {
                    tokio::time::sleep_until(deadline.into()).await;
                    return gave_up("timed out waiting for the answer");
                }
                tokio::time::sleep(delay).await;
                outcome
            }
            Step::ChargeThenLoseAnswer => {
                self.charged.lock().unwrap().push(FIRST_ORDER.into());
                gave_up("connection closed before the answer")
            }
            Step::ChargeOnce(order_id) => {
                let mut charged = self.charged.lock().unwrap();
                if charged.is_empty() {
                    charged.push(order_id.into());
                }
                accepted(&charged[0])
            }
        }
    }
}

fn accepted(order_id: &str) -> CheckoutOutcome {
    CheckoutOutcome::Accepted {
        order_id: order_id.into(),
    }
}

fn gave_up(reason: &str) -> CheckoutOutcome {
    CheckoutOutcome::GaveUp {
        attempts: 3,
        last_error: reason.into(),
    }
}

struct World {
    checkout: Checkout<EmbeddedPurchaseStore, LocalAlerts, Scripted>,
    purchase: Purchase,
    _dir: tempfile::TempDir,
}

/// Given a stored purchase that is ready for checkout, and a Checkout Service that follows
/// `steps`.
async fn world(steps: impl IntoIterator<Item = Step>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedPurchaseStore::open(&dir.path().join("purchases.redb")).unwrap();
    let purchase = sample_purchase("scripted-trip", true);
    store.insert_if_absent(&purchase).await.unwrap();
    World {
        checkout: Checkout::new(
            store,
            LocalAlerts::new(10),
            Scripted::new(steps),
            Config::default(),
        ),
        purchase,
        _dir: dir,
    }
}

impl World {
    async fn check_out(&self) -> Result<CheckedOut, CheckoutError> {
        self.check_out_within(Duration::from_secs(5)).await
    }

    async fn check_out_within(&self, window: Duration) -> Result<CheckedOut, CheckoutError> {
        self.checkout
            .check_out(&self.purchase.purchase_id, Instant::now() + window)
            .await
    }

    async fn stored(&self) -> Purchase {
        self.checkout
            .store
            .get(&self.purchase.purchase_id)
            .await
            .unwrap()
            .unwrap()
    }

    fn alerts(&self) -> Vec<AlertKind> {
        self.checkout
            .alerts
            .recent()
            .into_iter()
            .map(|alert| alert.kind)
            .collect()
    }

    fn submissions(&self) -> usize {
        self.checkout.checkout_service.submissions()
    }
}

/// Open, and not leased: a later try may claim it at once.
fn is_open_and_free(purchase: &Purchase) {
    assert_eq!(purchase.state, PurchaseState::Open);
    assert_eq!(
        purchase.checkout_lease_until, None,
        "the lease was not given back"
    );
}

#[tokio::test]
async fn accepted_completes_with_the_order_id_and_submits_the_stored_body() {
    let world = world([Step::Answer(accepted("order-1"))]).await;
    assert_eq!(
        world.check_out().await.unwrap(),
        CheckedOut::Completed {
            order_id: "order-1".into()
        }
    );
    let stored = world.stored().await;
    assert_eq!(stored.state, PurchaseState::Completed);
    assert_eq!(stored.order_id.as_deref(), Some("order-1"));
    let sent = world.checkout.checkout_service.submitted.lock().unwrap()[0].clone();
    assert_eq!(
        sent,
        world.purchase.checkout.as_ref().unwrap().to_json_bytes()
    );
    // Completed is final: nothing is submitted again.
    assert!(matches!(
        world.check_out().await.unwrap(),
        CheckedOut::NothingToDo {
            state: PurchaseState::Completed
        }
    ));
    assert_eq!(world.submissions(), 1);
    assert!(world.alerts().is_empty());
}

#[tokio::test]
async fn declined_cancels_once_with_one_alert_and_never_submits_again() {
    let world = world([Step::Answer(CheckoutOutcome::Declined {
        code: Some("InvalidTotals".into()),
        message: "priceTotal does not add up".into(),
    })])
    .await;
    let CheckedOut::Declined { message } = world.check_out().await.unwrap() else {
        panic!("not declined")
    };
    assert!(message.contains("InvalidTotals"), "{message}");
    let stored = world.stored().await;
    assert_eq!(stored.state, PurchaseState::Canceled);
    assert_eq!(stored.reason_code, Some(CancelReason::Declined));
    assert_eq!(world.alerts(), [AlertKind::CheckoutDeclined]);
    assert!(matches!(
        world.check_out().await.unwrap(),
        CheckedOut::NothingToDo {
            state: PurchaseState::Canceled
        }
    ));
    assert_eq!(world.submissions(), 1);
}

#[tokio::test]
async fn forbidden_keeps_the_purchase_open_and_alerts_once() {
    let forbidden = || {
        Step::Answer(CheckoutOutcome::Forbidden {
            message: "not allowlisted".into(),
        })
    };
    let world = world([forbidden(), forbidden(), Step::Answer(accepted("order-3"))]).await;
    for _ in 0..2 {
        assert!(matches!(
            world.check_out().await,
            Err(CheckoutError::Forbidden(_))
        ));
        is_open_and_free(&world.stored().await);
    }
    assert_eq!(world.alerts(), [AlertKind::CheckoutForbidden]);
    // Once the credentials are fixed, the next try goes through.
    assert_eq!(
        world.check_out().await.unwrap(),
        CheckedOut::Completed {
            order_id: "order-3".into()
        }
    );
}

#[tokio::test]
async fn gave_up_keeps_the_purchase_open_for_a_later_try() {
    let world = world([
        Step::Answer(gave_up("503 Service Unavailable")),
        Step::Answer(accepted("order-4")),
    ])
    .await;
    assert!(matches!(
        world.check_out().await,
        Err(CheckoutError::GaveUp { attempts: 3, .. })
    ));
    let stored = world.stored().await;
    is_open_and_free(&stored);
    assert_eq!(stored.checkout_attempts, 1);
    assert!(world.alerts().is_empty());
    assert_eq!(
        world.check_out().await.unwrap(),
        CheckedOut::Completed {
            order_id: "order-4".into()
        }
    );
}

/// A checkout with `window` to go, against an answer that takes `delay`.
async fn slow_answer(
    delay: Duration,
    window: Duration,
) -> (World, Result<CheckedOut, CheckoutError>) {
    let world = world([Step::Slow(delay, accepted("order-5"))]).await;
    let result = world.check_out_within(window).await;
    (world, result)
}

#[tokio::test]
async fn a_slow_answer_within_the_deadline_is_recorded() {
    let (_, result) = slow_answer(Duration::from_millis(200), Duration::from_secs(5)).await;
    assert_eq!(
        result.unwrap(),
        CheckedOut::Completed {
            order_id: "order-5".into()
        }
    );
}

#[tokio::test]
async fn an_answer_slower_than_the_deadline_leaves_the_purchase_open() {
    let (world, result) = slow_answer(Duration::from_secs(30), Duration::from_millis(200)).await;
    assert!(matches!(result, Err(CheckoutError::GaveUp { .. })));
    is_open_and_free(&world.stored().await);
}

#[tokio::test]
async fn an_answer_lost_after_the_charge_completes_with_the_first_order_on_the_repeat() {
    // Given Amazon charges the trip but the answer is lost, and answers the repeat of a
    // charged trip with 201 and the first orderId,
    let world = world([
        Step::ChargeThenLoseAnswer,
        Step::ChargeOnce("order-never-made"),
    ])
    .await;
    // when the first checkout gives up and a later one submits again,
    assert!(world.check_out().await.is_err());
    let done = world.check_out().await.unwrap();
    // then the purchase is Completed with the order of the one charge.
    assert_eq!(
        done,
        CheckedOut::Completed {
            order_id: FIRST_ORDER.into()
        }
    );
    assert_eq!(
        *world.checkout.checkout_service.charged.lock().unwrap(),
        [FIRST_ORDER]
    );
    assert_eq!(world.stored().await.order_id.as_deref(), Some(FIRST_ORDER));
}
