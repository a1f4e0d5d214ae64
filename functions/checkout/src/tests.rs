//! The checkout use case (claim → submit → record) against a scripted Checkout Service, one
//! test per way a submission can end. The store is the real embedded store; only Amazon is
//! scripted, because only Amazon cannot run here.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};

use jwo_domain::alerts::{Alert, AlertError, AlertKind};
use jwo_domain::behaviour::purchase_store::sample_purchase;
use jwo_domain::catalog::price_book_versions::CachedPriceBook;
use jwo_domain::contract::checkout::{CheckoutOutcome, Submission};
use jwo_domain::ports::{Alerts, CheckoutService, PurchaseStore};
use jwo_domain::pricing::ConstraintKind;
use jwo_domain::purchase::{CancelReason, Purchase, PurchaseState};
use jwo_local::catalog_files::LocalCatalog;
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
    /// sees an attempt that got no answer.
    ChargeThenLoseAnswer,
    /// Answers a submission of the trip as Amazon might: a trip not charged yet is charged with
    /// this orderId (201); a repeat of a charged trip is answered as `Repeat` says.
    ChargeOnce(&'static str, Repeat),
}

/// How the scripted service answers a repeat of a trip it already charged: the three answers
/// the connector must be right under.
#[derive(Clone, Copy, Debug)]
enum Repeat {
    /// 201 with the first orderId.
    SameOrder,
    /// 409.
    Conflict,
    /// 400 "already checked out".
    AlreadyCheckedOut,
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
    async fn submit(&self, body: &[u8], deadline: Instant) -> Submission {
        self.submitted.lock().unwrap().push(body.to_vec());
        let step = self
            .steps
            .lock()
            .unwrap()
            .pop_front()
            .expect("a submission the script does not expect");
        let answered = |outcome| Submission {
            outcome,
            unanswered_attempts: 0,
        };
        let unanswered = |reason| Submission {
            outcome: gave_up(reason),
            unanswered_attempts: 1,
        };
        match step {
            Step::Answer(outcome) => answered(outcome),
            Step::Slow(delay, outcome) => {
                if Instant::now() + delay > deadline {
                    tokio::time::sleep_until(deadline.into()).await;
                    return unanswered("timed out waiting for the answer");
                }
                tokio::time::sleep(delay).await;
                answered(outcome)
            }
            Step::ChargeThenLoseAnswer => {
                self.charged.lock().unwrap().push(FIRST_ORDER.into());
                unanswered("connection closed before the answer")
            }
            Step::ChargeOnce(order_id, repeat) => {
                let mut charged = self.charged.lock().unwrap();
                if charged.is_empty() {
                    charged.push(order_id.into());
                    return answered(accepted(order_id));
                }
                answered(match repeat {
                    Repeat::SameOrder => accepted(&charged[0]),
                    Repeat::Conflict => refused(409, "ConflictException"),
                    Repeat::AlreadyCheckedOut => refused(400, "AlreadyCheckedOut"),
                })
            }
        }
    }
}

fn accepted(order_id: &str) -> CheckoutOutcome {
    CheckoutOutcome::Accepted {
        order_id: order_id.into(),
    }
}

fn refused(status: u16, code: &str) -> CheckoutOutcome {
    CheckoutOutcome::Refused {
        status,
        code: Some(code.into()),
        message: "refused".into(),
    }
}

fn gave_up(reason: &str) -> CheckoutOutcome {
    CheckoutOutcome::GaveUp {
        attempts: 3,
        last_error: reason.into(),
        retry_after: None,
    }
}

/// The real price book source, over a catalog directory (empty unless a test imports).
type PriceBooks = CachedPriceBook<LocalCatalog>;

/// The log alerts, with an outage to switch on: an SNS topic that cannot be published to.
struct Alarms {
    sent: LocalAlerts,
    down: AtomicBool,
}

impl Alerts for Alarms {
    async fn publish(&self, alert: &Alert) -> Result<(), AlertError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(AlertError("the topic cannot be reached".into()));
        }
        self.sent.publish(alert).await
    }
}

struct World {
    checkout: Checkout<EmbeddedPurchaseStore, Alarms, Scripted, PriceBooks>,
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
            Alarms {
                sent: LocalAlerts::new(10),
                down: AtomicBool::new(false),
            },
            Scripted::new(steps),
            CachedPriceBook::new(
                LocalCatalog::open(dir.path().join("catalog")).unwrap(),
                Duration::ZERO,
            ),
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
            .sent
            .recent()
            .into_iter()
            .map(|alert| alert.kind)
            .collect()
    }

    fn submissions(&self) -> usize {
        self.checkout.checkout_service.submissions()
    }

    /// The sample price book, imported as the world's current version.
    async fn import_sample_price_book(&self) {
        let book = jwo_domain::pricing::PriceBook::from_json(
            &std::fs::read(jwo_test_support::sample_price_book()).unwrap(),
        )
        .unwrap();
        jwo_domain::catalog::price_book_versions::import_price_book(
            self.checkout.price_books.versions(),
            &book,
            "sample.json",
        )
        .await
        .unwrap();
    }

    /// A sweep with `window` to go, taking every Open purchase however recently it changed.
    async fn sweep_within(&self, window: Duration) -> crate::SweepReport {
        self.checkout
            .sweep(Instant::now() + window, chrono::Duration::zero())
            .await
            .unwrap()
    }

    /// A checkout now does nothing: the purchase is left `state`, and the Checkout Service
    /// has still been sent `submissions` carts in all.
    async fn is_left_alone(&self, state: PurchaseState, submissions: usize) {
        assert_eq!(
            self.check_out().await.unwrap(),
            CheckedOut::NothingToDo { state }
        );
        assert_eq!(self.submissions(), submissions);
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
    world.is_left_alone(PurchaseState::Completed, 1).await;
    assert!(world.alerts().is_empty());
}

#[tokio::test]
async fn declined_cancels_once_with_one_alert_and_never_submits_again() {
    let world = world([Step::Answer(CheckoutOutcome::Refused {
        status: 400,
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
    world.is_left_alone(PurchaseState::Canceled, 1).await;
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
    let (world, result) = slow_answer(Duration::from_secs(30), Duration::from_millis(4500)).await;
    assert!(matches!(result, Err(CheckoutError::GaveUp { .. })));
    is_open_and_free(&world.stored().await);
}

/// Given Amazon charges the trip but the first answer is lost, and answers the repeat as
/// `repeat` says: the first checkout gives up, and a later one submits again.
async fn lost_answer_then(repeat: Repeat) -> (World, CheckedOut) {
    let world = world([
        Step::ChargeThenLoseAnswer,
        Step::ChargeOnce("order-never-made", repeat),
    ])
    .await;
    assert!(matches!(
        world.check_out().await,
        Err(CheckoutError::GaveUp { .. })
    ));
    assert!(world.stored().await.outcome_unknown);
    let done = world.check_out().await.unwrap();
    (world, done)
}

#[tokio::test]
async fn an_answer_lost_after_the_charge_completes_with_the_first_order_on_a_201_repeat() {
    let (world, done) = lost_answer_then(Repeat::SameOrder).await;
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
    assert!(world.alerts().is_empty());
}

#[tokio::test]
async fn an_answer_lost_after_the_charge_is_held_when_the_repeat_is_refused() {
    for repeat in [Repeat::Conflict, Repeat::AlreadyCheckedOut] {
        let (world, done) = lost_answer_then(repeat).await;
        assert!(
            matches!(done, CheckedOut::Held { .. }),
            "{repeat:?}: {done:?}"
        );
        let stored = world.stored().await;
        // Never Canceled, never "not charged": held for a person, with one alert saying so.
        assert_eq!(stored.state, PurchaseState::Open, "{repeat:?}");
        assert_eq!(
            stored
                .constraints
                .iter()
                .map(|c| c.kind)
                .collect::<Vec<_>>(),
            [ConstraintKind::CheckoutOutcomeUnknown]
        );
        let alerts = world.checkout.alerts.sent.recent();
        assert_eq!(
            alerts.iter().map(|a| a.kind).collect::<Vec<_>>(),
            [AlertKind::CheckoutOutcomeUnknown]
        );
        assert!(alerts[0].detail.contains("may have charged"));
        assert!(!alerts[0].detail.contains("the shopper was not charged"));
        assert!(stored.was_alerted(AlertKind::CheckoutOutcomeUnknown));
        // Not submitted again by itself.
        world.is_left_alone(PurchaseState::Open, 2).await;
    }
}

#[tokio::test]
async fn a_refusal_that_is_not_a_decline_holds_the_purchase() {
    for status in [404, 409, 422] {
        let world = world([Step::Answer(refused(status, "Whatever"))]).await;
        assert!(matches!(
            world.check_out().await.unwrap(),
            CheckedOut::Held { .. }
        ));
        let stored = world.stored().await;
        assert_eq!(stored.state, PurchaseState::Open, "{status}");
        assert_eq!(stored.constraints[0].kind, ConstraintKind::CheckoutRefused);
        assert_eq!(world.alerts(), [AlertKind::CheckoutRefused]);
    }
}

#[tokio::test]
async fn a_worker_that_died_mid_submission_makes_the_next_refusal_a_hold() {
    // Given a claim was written and its worker died before recording anything,
    let world = world([Step::Answer(refused(400, "AlreadyCheckedOut"))]).await;
    let claimed = world
        .purchase
        .claim_for_checkout(
            chrono::Utc::now() - chrono::Duration::minutes(10),
            chrono::Duration::minutes(1),
            "dead-worker",
        )
        .unwrap();
    world.checkout.store.update(&claimed).await.unwrap();
    // when the next checkout is refused with a 400,
    let done = world.check_out().await.unwrap();
    // then the purchase is held, not declined.
    assert!(matches!(done, CheckedOut::Held { .. }), "{done:?}");
    assert_eq!(world.stored().await.state, PurchaseState::Open);
}

#[tokio::test]
async fn an_accepted_cart_is_recorded_over_a_version_written_meanwhile() {
    // Given a slow answer, and someone bumping the purchase's version while it is awaited
    // (as a stuck-open alert did),
    let world = world([Step::Slow(Duration::from_millis(300), accepted("order-7"))]).await;
    let bump = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stored = world.stored().await;
        let marked = stored.with_alert_sent(AlertKind::PurchaseStuckOpen, chrono::Utc::now());
        world.checkout.store.update(&marked).await.unwrap();
    };
    let (done, ()) = tokio::join!(world.check_out(), bump);
    // then the orderId is recorded on the newer version, not thrown away.
    assert_eq!(
        done.unwrap(),
        CheckedOut::Completed {
            order_id: "order-7".into()
        }
    );
    let stored = world.stored().await;
    assert_eq!(stored.order_id.as_deref(), Some("order-7"));
    assert!(stored.was_alerted(AlertKind::PurchaseStuckOpen));
    assert_eq!(world.submissions(), 1);
}

/// A checkout whose 201 (`order-late`) comes after a person recorded `order-confirmed` (the
/// lease had run out and Amazon confirmed an order to them): what the checkout answered.
async fn late_201_over_a_confirmed_order(world: &World) -> Result<CheckedOut, CheckoutError> {
    let confirm = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stored = world.stored().await;
        let confirmed = stored
            .complete("order-confirmed", chrono::Utc::now())
            .unwrap();
        world.checkout.store.update(&confirmed).await.unwrap();
    };
    let (done, ()) = tokio::join!(world.check_out(), confirm);
    done
}

#[tokio::test]
async fn a_late_201_over_another_recorded_order_keeps_that_order_and_reaches_a_person() {
    let world = world([Step::Slow(
        Duration::from_millis(300),
        accepted("order-late"),
    )])
    .await;
    let done = late_201_over_a_confirmed_order(&world).await;
    // The person's order stays, the late one is not written over it, and it is alerted.
    assert!(
        matches!(
            done,
            Err(CheckoutError::LeaseLost { order_id: Some(ref id) }) if id == "order-late"
        ),
        "{done:?}"
    );
    let stored = world.stored().await;
    assert_eq!(stored.order_id.as_deref(), Some("order-confirmed"));
    assert_eq!(world.alerts(), [AlertKind::CheckoutOutcomeUnknown]);
    let alert = &world.checkout.alerts.sent.recent()[0];
    assert!(alert.subject.contains("order-late"), "{}", alert.subject);
    assert_eq!(world.submissions(), 1);
}

#[tokio::test]
async fn a_late_201_not_recorded_keeps_its_order_id_when_the_alert_cannot_go_out() {
    let world = world([Step::Slow(
        Duration::from_millis(300),
        accepted("order-late"),
    )])
    .await;
    world.checkout.alerts.down.store(true, Ordering::SeqCst);
    let done = late_201_over_a_confirmed_order(&world).await;
    assert!(
        matches!(
            done,
            Err(CheckoutError::LeaseLost { order_id: Some(ref id) }) if id == "order-late"
        ),
        "{done:?}"
    );
}

#[tokio::test]
async fn no_claim_without_time_for_an_attempt_and_the_recording() {
    let world = world([]).await;
    assert!(matches!(
        world.check_out_within(Duration::from_millis(500)).await,
        Err(CheckoutError::NoTime)
    ));
    assert_eq!(world.stored().await.version, world.purchase.version);
    assert_eq!(world.submissions(), 0);
}

#[tokio::test]
async fn a_sweep_out_of_time_resumes_where_it_stopped() {
    // Given more Open purchases than one page (the world's own one is ready),
    let world = world([Step::Answer(accepted("order-8"))]).await;
    for n in 0..150 {
        let held = sample_purchase(&format!("held-{n}"), false);
        world.checkout.store.insert_if_absent(&held).await.unwrap();
    }
    // when a sweep runs out of time after its first page,
    let past = Instant::now();
    let first = world
        .checkout
        .sweep(past, chrono::Duration::zero())
        .await
        .unwrap();
    // then it says where it stopped, and the next sweep goes on from there to the end.
    assert_eq!(first.open, crate::SWEEP_PAGE);
    assert!(first.resumes_after.is_some());
    let second = world.sweep_within(Duration::from_secs(5)).await;
    assert_eq!(
        first.open + second.open,
        151,
        "the 150 held and the ready one"
    );
    assert_eq!(second.resumes_after, None);
}

#[tokio::test]
async fn a_retry_after_beyond_the_time_left_is_honoured_by_claims_and_sweeps() {
    // Given the service asked for a minute's wait, more than the try had left,
    let world = world([Step::Answer(CheckoutOutcome::GaveUp {
        attempts: 1,
        last_error: "429".into(),
        retry_after: Some(Duration::from_secs(60)),
    })])
    .await;
    assert!(matches!(
        world.check_out().await,
        Err(CheckoutError::GaveUp { .. })
    ));
    let stored = world.stored().await;
    let wait = stored.not_before.unwrap() - chrono::Utc::now();
    assert!(wait > chrono::Duration::seconds(50), "{wait}");
    // then neither a redelivery nor a sweep submits it before then.
    assert!(matches!(
        world.check_out().await,
        Err(CheckoutError::NotBefore(_))
    ));
    let report = world.sweep_within(Duration::from_secs(5)).await;
    assert_eq!((report.open, report.failed), (1, 0));
    assert_eq!(world.submissions(), 1);
}

#[tokio::test]
async fn a_decline_whose_alert_cannot_go_out_is_recorded_and_the_sweep_publishes_it() {
    let world = world([Step::Answer(refused(400, "InvalidTotals"))]).await;
    world.checkout.alerts.down.store(true, Ordering::SeqCst);
    assert!(matches!(
        world.check_out().await.unwrap(),
        CheckedOut::Declined { .. }
    ));
    // Declined, with the alert kept on the record; never submitted again.
    let stored = world.stored().await;
    assert_eq!(stored.reason_code, Some(CancelReason::Declined));
    assert_eq!(stored.pending_alerts.len(), 1);
    assert!(world.alerts().is_empty());
    world.is_left_alone(PurchaseState::Canceled, 1).await;
    let report = world.sweep_within(Duration::from_secs(5)).await;
    assert_eq!((report.open, report.alerts_published), (1, 0));
    // Once the topic is back, the sweep publishes it, once.
    world.checkout.alerts.down.store(false, Ordering::SeqCst);
    let report = world.sweep_within(Duration::from_secs(5)).await;
    assert_eq!(report.alerts_published, 1);
    assert_eq!(world.alerts(), [AlertKind::CheckoutDeclined]);
    let stored = world.stored().await;
    assert!(stored.pending_alerts.is_empty());
    assert!(stored.was_alerted(AlertKind::CheckoutDeclined));
    let report = world.sweep_within(Duration::from_secs(5)).await;
    assert_eq!((report.open, report.alerts_published), (0, 0));
    assert_eq!(world.alerts(), [AlertKind::CheckoutDeclined]);
    assert_eq!(world.submissions(), 1);
}

#[tokio::test]
async fn a_403_on_many_purchases_is_one_alert() {
    let forbidden = || {
        Step::Answer(CheckoutOutcome::Forbidden {
            message: "not allowlisted".into(),
        })
    };
    let world = world((0..4).map(|_| forbidden())).await;
    for n in 0..3 {
        let ready = sample_purchase(&format!("forbidden-{n}"), true);
        world.checkout.store.insert_if_absent(&ready).await.unwrap();
    }
    let report = world.sweep_within(Duration::from_secs(5)).await;
    assert_eq!((report.open, report.failed), (4, 4));
    let forbidden: Vec<AlertKind> = world
        .alerts()
        .into_iter()
        .filter(|kind| *kind == AlertKind::CheckoutForbidden)
        .collect();
    assert_eq!(forbidden, [AlertKind::CheckoutForbidden]);
}

#[tokio::test]
async fn a_cart_stored_without_a_price_book_is_priced_by_the_sweep_once_one_is_imported() {
    let world = world([
        Step::Answer(accepted("order-world")),
        Step::Answer(accepted("order-priced-later")),
    ])
    .await;
    let mut unpriced = sample_purchase("no-book-yet", true);
    unpriced.checkout = None;
    unpriced.price_book_version = None;
    unpriced.constraints = vec![jwo_domain::pricing::Constraint::no_price_book(
        "none imported",
    )];
    world
        .checkout
        .store
        .insert_if_absent(&unpriced)
        .await
        .unwrap();
    // No book yet: the cart is not priced or submitted (the world's own priced one is).
    let report = world.sweep_within(Duration::from_secs(5)).await;
    assert_eq!((report.repriced, report.completed), (0, 1));
    assert_eq!(world.submissions(), 1);
    // A book is imported: the next sweep prices the cart and checks it out.
    world.import_sample_price_book().await;
    let report = world.sweep_within(Duration::from_secs(5)).await;
    assert_eq!((report.repriced, report.completed), (1, 1), "{report:?}");
    let stored = world
        .checkout
        .store
        .get(&unpriced.purchase_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, PurchaseState::Completed);
    assert_eq!(stored.price_book_version.as_deref(), Some("v1"));
    assert!(stored.constraints.is_empty());
    let sent = world.checkout.checkout_service.submitted.lock().unwrap()[1].clone();
    assert_eq!(sent, stored.checkout.as_ref().unwrap().to_json_bytes());
}

#[tokio::test]
async fn a_cart_priced_late_that_is_still_unpriceable_is_alerted_as_blocked() {
    let world = world([Step::Answer(accepted("order-world"))]).await;
    let mut unpriced = sample_purchase("no-book-unknown-sku", true);
    unpriced.checkout = None;
    unpriced.cart_items[0].id = "SKU-NOT-IN-ANY-BOOK".into();
    unpriced.constraints = vec![jwo_domain::pricing::Constraint::no_price_book("none")];
    world
        .checkout
        .store
        .insert_if_absent(&unpriced)
        .await
        .unwrap();
    world.import_sample_price_book().await;
    let report = world.sweep_within(Duration::from_secs(5)).await;
    assert_eq!(report.repriced, 1, "{report:?}");
    let stored = world
        .checkout
        .store
        .get(&unpriced.purchase_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.constraints[0].kind, ConstraintKind::UnknownSku);
    assert!(stored.was_alerted(AlertKind::PurchaseBlocked));
    assert!(world.alerts().contains(&AlertKind::PurchaseBlocked));
}

#[tokio::test]
async fn refusals_that_are_not_declines_are_one_alert_and_none_is_lost() {
    let world = world((0..3).map(|_| Step::Answer(refused(404, "NotFound")))).await;
    let other = sample_purchase("refused-too", true);
    world.checkout.store.insert_if_absent(&other).await.unwrap();
    // The topic is down for the first refusal: its alert stays pending.
    world.checkout.alerts.down.store(true, Ordering::SeqCst);
    assert!(matches!(
        world.check_out().await.unwrap(),
        CheckedOut::Held { .. }
    ));
    assert_eq!(world.stored().await.pending_alerts.len(), 1);
    world.checkout.alerts.down.store(false, Ordering::SeqCst);
    // The second refusal sends the cause's alert; the first one's goes out with the sweep.
    assert!(matches!(
        world
            .checkout
            .check_out(&other.purchase_id, Instant::now() + Duration::from_secs(5))
            .await
            .unwrap(),
        CheckedOut::Held { .. }
    ));
    let refused_alerts = || {
        world
            .alerts()
            .into_iter()
            .filter(|kind| *kind == AlertKind::CheckoutRefused)
            .count()
    };
    assert_eq!(refused_alerts(), 1);
    world.sweep_within(Duration::from_secs(5)).await;
    assert_eq!(refused_alerts(), 2, "the pending one, not lost");
    assert!(world.stored().await.pending_alerts.is_empty());
    // A third purchase refused the same way within the hour: covered by that alert.
    let third = sample_purchase("refused-third", true);
    world.checkout.store.insert_if_absent(&third).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    world
        .checkout
        .check_out(&third.purchase_id, deadline)
        .await
        .unwrap();
    assert_eq!(refused_alerts(), 2);
    let third = world
        .checkout
        .store
        .get(&third.purchase_id)
        .await
        .unwrap()
        .unwrap();
    assert!(third.pending_alerts.is_empty() && third.was_alerted(AlertKind::CheckoutRefused));
    assert_eq!(world.submissions(), 3);
}
