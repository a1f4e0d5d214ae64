//! Checkout (docs/contract.md §2): every purchase stored Open, priced and blocked by nothing is
//! submitted to Amazon's Checkout Service exactly once, and the outcome is recorded.
//!
//! [`Checkout::check_out`] is the whole behaviour for one purchase, generic over the store and
//! the alerts. What starts it differs: in AWS the purchases table's stream ([`lambda`]) and a
//! schedule that runs [`Checkout::sweep`]; under `jwo serve` an in-process worker. One code path.
//!
//! Exactly once rests on the store's conditional writes: a worker first *claims* the purchase
//! (a lease, written only over the version it read), so of two concurrent deliveries one
//! submits and the other finds it busy; a purchase no longer Open is never submitted again.

pub mod config;
pub mod lambda;
pub mod worker;

#[cfg(test)]
mod tests;

use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use futures_util::StreamExt;
use jwo_domain::alerts::{Alert, AlertError, AlertKind, OncePerCause};
use jwo_domain::contract::checkout::CheckoutOutcome;
use jwo_domain::money::Money;
use jwo_domain::ports::{Alerts, CheckoutService, CurrentPriceBook, PurchaseStore};
use jwo_domain::purchase::{CancelReason, ClaimRefused, Purchase, PurchaseState, Verdict};
use jwo_domain::store::{StoreError, Updated};
use serde::Serialize;
use thiserror::Error;
use tracing::Instrument;

pub use config::Config;

/// A lease outlives the caller's deadline by this much, so a worker cut off at its deadline
/// blocks others only briefly, while one still running is never overtaken.
const LEASE_BEYOND_DEADLINE: StdDuration = StdDuration::from_secs(15);
/// Kept back from the submission for recording its outcome: no attempt runs into it.
pub const RECORD_RESERVE: StdDuration = StdDuration::from_secs(3);
/// The least time an attempt is worth starting with.
pub const MIN_ATTEMPT: StdDuration = StdDuration::from_secs(1);
/// Who the purchase's history says recorded the checkout's outcomes.
pub const HISTORY_ACTOR: &str = "checkout";
/// A scheduled sweep leaves purchases changed this recently to the stream (and its retries).
pub const SWEEP_IDLE_FOR: Duration = Duration::minutes(1);

/// How a purchase's checkout ended this time, when nothing is left to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedOut {
    /// Amazon accepted the cart; the purchase is Completed with this order id.
    Completed { order_id: String },
    /// Amazon refused the cart (400); the purchase is Canceled/Declined and an alert went out.
    Declined { message: String },
    /// Held for a person: still Open, with a constraint saying why (an outcome to reconcile,
    /// or a refusal that is not a decline); alerted once, never submitted again by itself.
    Held { reason: String },
    /// Nothing to submit: already Completed or Canceled, or held back by constraints (those
    /// were alerted when the purchase was stored).
    NothingToDo { state: PurchaseState },
    /// Not submitted: the stored cart's `priceTotal` is not the one the caller expected.
    AmountMismatch { stored: Money },
}

impl CheckedOut {
    /// The outcome's kind, as logged: `completed`, `declined`, `held`, `nothing_to_do` or
    /// `amount_mismatch`.
    pub fn kind(&self) -> &'static str {
        match self {
            CheckedOut::Completed { .. } => "completed",
            CheckedOut::Declined { .. } => "declined",
            CheckedOut::Held { .. } => "held",
            CheckedOut::NothingToDo { .. } => "nothing_to_do",
            CheckedOut::AmountMismatch { .. } => "amount_mismatch",
        }
    }
}

/// Why a checkout must be tried again later. Nothing that was not done is recorded as done.
#[derive(Debug, Error)]
pub enum CheckoutError {
    #[error("purchase {0} is not in the store")]
    Missing(String),
    #[error("another checkout of this purchase is under way")]
    Busy,
    #[error("too little time left to submit and record the outcome")]
    NoTime,
    #[error("the Checkout Service asked not to be called for this purchase before {0}")]
    NotBefore(chrono::DateTime<Utc>),
    #[error(
        "the outcome could not be recorded: another worker holds the purchase now{}",
        .order_id.as_ref().map(|id| format!(" (Amazon accepted it as order {id})")).unwrap_or_default()
    )]
    LeaseLost { order_id: Option<String> },
    #[error(
        "the Checkout Service refused our signature or account (403): {0}; check the credentials and the account allowlisted in the Merchant Portal"
    )]
    Forbidden(String),
    #[error(
        "the Checkout Service gave only transient failures ({attempts} attempts), last: {last_error}"
    )]
    GaveUp { attempts: u32, last_error: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Alert(#[from] AlertError),
}

/// The checkout use case, generic over its four ports: where purchases are kept, where alerts
/// go, the Checkout Service itself (HTTPS in AWS and under `jwo serve`, a scripted fake in
/// the unit tests), and the current price book (for the carts stored when none could be read).
pub struct Checkout<S, A, C, B> {
    pub store: S,
    pub alerts: A,
    pub checkout_service: C,
    pub price_books: B,
    pub config: Config,
    /// Alerts about causes many purchases share (a 403, an unexpected 4xx), sent once.
    causes: OncePerCause,
    /// Where the last sweep stopped for lack of time, and the unreadable records already
    /// alerted on: kept for as long as the process (a warm Lambda, `jwo serve`) lives.
    sweeps: std::sync::Mutex<SweepMemory>,
}

#[derive(Default)]
struct SweepMemory {
    resume_after: Option<String>,
    unreadable_alerted: std::collections::HashSet<String>,
}

/// Open purchases read at once by a sweep.
pub const SWEEP_PAGE: usize = 100;

/// What a sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Open purchases found.
    pub open: usize,
    pub completed: usize,
    pub declined: usize,
    /// Checkouts that must be tried again (each logged with its reason).
    pub failed: usize,
    /// Purchases newly held for a person (an outcome to reconcile, a refusal).
    pub held: usize,
    /// Purchases newly alerted as open too long.
    pub stuck_alerts: usize,
    /// Records that could not be read (skipped, each alerted once).
    pub unreadable: usize,
    /// Purchases whose pending alerts were published.
    pub alerts_published: usize,
    /// Carts stored without a price book and priced now.
    pub repriced: usize,
    /// The deadline came before the last page: the next sweep resumes after this purchase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumes_after: Option<String>,
}

impl<S: PurchaseStore, A: Alerts, C: CheckoutService, B: CurrentPriceBook> Checkout<S, A, C, B> {
    pub fn new(store: S, alerts: A, checkout_service: C, price_books: B, config: Config) -> Self {
        Checkout {
            store,
            alerts,
            checkout_service,
            price_books,
            config,
            causes: OncePerCause::default(),
            sweeps: std::sync::Mutex::new(SweepMemory::default()),
        }
    }

    /// Checks out one purchase, submitting until `deadline` at the latest.
    pub async fn check_out(
        &self,
        purchase_id: &str,
        deadline: Instant,
    ) -> Result<CheckedOut, CheckoutError> {
        self.check_out_expecting(purchase_id, deadline, None).await
    }

    /// [`Checkout::check_out`], submitting only if the stored cart's `priceTotal` is
    /// `expected_total` (what a person saw and approved), checked on the very version claimed.
    pub async fn check_out_expecting(
        &self,
        purchase_id: &str,
        deadline: Instant,
        expected_total: Option<&Money>,
    ) -> Result<CheckedOut, CheckoutError> {
        let span = tracing::info_span!("checkout", purchase_id = %purchase_id);
        async move {
            let result = self
                .submit_and_record(purchase_id, deadline, expected_total)
                .await;
            match &result {
                // `result` is what the stack's metric filters count, by kind.
                Ok(done) => tracing::info!(result = done.kind(), outcome = ?done, "checkout done"),
                Err(error) => tracing::warn!(error = %error, "checkout to be retried"),
            }
            result
        }
        .instrument(span)
        .await
    }

    async fn submit_and_record(
        &self,
        purchase_id: &str,
        deadline: Instant,
        expected_total: Option<&Money>,
    ) -> Result<CheckedOut, CheckoutError> {
        let purchase = self
            .store
            .get(purchase_id)
            .await?
            .ok_or_else(|| CheckoutError::Missing(purchase_id.to_owned()))?;
        if !purchase.is_ready_for_checkout() {
            return Ok(CheckedOut::NothingToDo {
                state: purchase.state,
            });
        }
        if let (Some(expected), Some(priced)) = (expected_total, &purchase.checkout)
            && priced.order_totals.price_total != *expected
        {
            return Ok(CheckedOut::AmountMismatch {
                stored: priced.order_totals.price_total,
            });
        }
        // Claim only when the time left covers an attempt and recording what it found.
        let left = deadline.saturating_duration_since(Instant::now());
        if left < MIN_ATTEMPT + RECORD_RESERVE {
            return Err(CheckoutError::NoTime);
        }
        let lease = Duration::from_std(left + LEASE_BEYOND_DEADLINE)
            .unwrap_or(Duration::MAX)
            .min(Duration::hours(24));
        let token = uuid::Uuid::new_v4().to_string();
        let claimed = match purchase.claim_for_checkout(Utc::now(), lease, &token) {
            Ok(claimed) => claimed,
            Err(ClaimRefused::NotReady(state)) => return Ok(CheckedOut::NothingToDo { state }),
            Err(ClaimRefused::Leased(_)) => return Err(CheckoutError::Busy),
            Err(ClaimRefused::NotBefore(at)) => return Err(CheckoutError::NotBefore(at)),
        };
        match self.store.update(&claimed).await? {
            Updated::Done => {}
            // Another worker changed it first (claimed it, most likely).
            Updated::Conflict(_) => return Err(CheckoutError::Busy),
        }
        let body = claimed
            .checkout
            .as_ref()
            .expect("a claimed purchase is priced")
            .to_json_bytes();
        tracing::info!(
            attempt = claimed.checkout_attempts,
            outcome_unknown = claimed.outcome_unknown,
            "submitting to the Checkout Service"
        );
        let submission = self
            .checkout_service
            .submit(&body, deadline - RECORD_RESERVE)
            .await;
        if let CheckoutOutcome::Accepted { order_id } = &submission.outcome {
            // Logged the moment it arrives, whatever happens to the recording.
            tracing::info!(order_id = %order_id, "the Checkout Service accepted the cart");
        }
        let unanswered = submission.unanswered_attempts > 0;
        match claimed.verdict(&submission) {
            Verdict::Complete { order_id } => {
                if let Err(error) = self
                    .record_accepted(&claimed, &token, &order_id, deadline)
                    .await
                {
                    // The error carries the orderId; an alert that cannot go out must not
                    // take its place (the orderId is logged either way).
                    if let Err(alert_error) = self
                        .alerts
                        .publish(&unrecorded_order_alert(&claimed, &order_id))
                        .await
                    {
                        tracing::error!(order_id = %order_id, error = %alert_error, "accepted by the Checkout Service, not recorded, and the alert could not go out; reconcile this order");
                    }
                    return Err(error);
                }
                Ok(CheckedOut::Completed { order_id })
            }
            Verdict::Decline { message } => {
                // Recorded with its alert pending, then the alert published: a purchase
                // declined is never submitted again, and if the alert cannot go out now the
                // sweep publishes it later.
                let alert = declined_alert(&claimed, &message);
                let declined = self
                    .record_leased(&claimed, &token, |current| {
                        let now = Utc::now();
                        let mut declined = current
                            .cancel(CancelReason::Declined, &message, now)
                            .ok()?
                            .recorded(now, HISTORY_ACTOR, "decline", message.clone());
                        declined.add_pending_alert(alert.clone());
                        Some(declined)
                    })
                    .await?;
                self.publish_pending(declined).await;
                Ok(CheckedOut::Declined { message })
            }
            Verdict::Hold {
                kind,
                alert: alert_kind,
                detail,
            } => {
                let alert = held_alert(&claimed, alert_kind, &detail);
                // The alert is kept with the hold until published, so it is never lost. An
                // outcome to reconcile is this purchase's alone; a refusal that is not a
                // decline is one cause for every purchase it meets (an endpoint or account
                // problem), so one alert covers them all within the window.
                let held = self
                    .record_leased(&claimed, &token, |current| {
                        let now = Utc::now();
                        let mut held = current.hold(kind, &detail, now).recorded(
                            now,
                            HISTORY_ACTOR,
                            "hold",
                            detail.clone(),
                        );
                        held.add_pending_alert(alert.clone());
                        Some(held)
                    })
                    .await?;
                if alert_kind == AlertKind::CheckoutOutcomeUnknown {
                    self.publish_pending(held).await;
                } else {
                    let cause = submission_cause(&submission);
                    if !self.causes.take(&cause) {
                        self.covered_by_cause(held).await;
                    } else if !self.publish_pending(held).await {
                        self.causes.failed(&cause);
                    }
                }
                Ok(CheckedOut::Held { reason: detail })
            }
            Verdict::Forbidden { message } => {
                // One alert for the cause: a credentials problem affects every cart until fixed.
                self.alert_cause("403", &forbidden_alert(&claimed, &message))
                    .await;
                self.record_leased(&claimed, &token, |current| {
                    Some(current.release_checkout(Utc::now(), unanswered))
                })
                .await?;
                Err(CheckoutError::Forbidden(message))
            }
            Verdict::Retry {
                attempts,
                last_error,
                not_before,
            } => {
                self.record_leased(&claimed, &token, |current| {
                    Some(current.release_checkout_for(Utc::now(), unanswered, not_before))
                })
                .await?;
                Err(CheckoutError::GaveUp {
                    attempts,
                    last_error,
                })
            }
        }
    }

    /// Records a 201. It is authoritative: it completes the purchase from whatever Open version
    /// is stored (re-read after a conflict, for instance a stuck alert written meanwhile),
    /// waiting out a lease another worker took only if ours ran out first; a store fault is
    /// retried a few times.
    async fn record_accepted(
        &self,
        claimed: &Purchase,
        token: &str,
        order_id: &str,
        deadline: Instant,
    ) -> Result<(), CheckoutError> {
        let give_up_at = (Instant::now() + LEASE_BEYOND_DEADLINE).min(deadline);
        let not_recorded = |state: PurchaseState| {
            tracing::error!(order_id = %order_id, state = %state, "accepted by the Checkout Service but not recorded; reconcile this order");
            CheckoutError::LeaseLost {
                order_id: Some(order_id.to_owned()),
            }
        };
        let mut current = claimed.clone();
        let mut faults = 0;
        loop {
            match current.state {
                // Completed with this order (our own write went through), or with another a
                // person recorded: then this one must reach a person too.
                PurchaseState::Completed if current.order_id.as_deref() == Some(order_id) => {
                    return Ok(());
                }
                PurchaseState::Completed => return Err(not_recorded(current.state)),
                PurchaseState::Canceled => return Err(not_recorded(current.state)),
                PurchaseState::Open => {}
            }
            if !current.is_leased_by(token) && current.lease(Utc::now()).is_some() {
                if Instant::now() >= give_up_at {
                    return Err(not_recorded(current.state));
                }
                tokio::time::sleep(StdDuration::from_millis(200)).await;
                current = self.reread(&current.purchase_id).await?;
                continue;
            }
            let now = Utc::now();
            let completed = current
                .complete(order_id, now)
                .expect("checked Open above")
                .recorded(
                    now,
                    HISTORY_ACTOR,
                    "complete",
                    format!("accepted by the Checkout Service as order {order_id}"),
                );
            match self.write_outcome(&completed, &mut faults).await {
                Ok(None) => return Ok(()),
                Ok(Some(fresh)) => current = fresh,
                Err(error) => {
                    tracing::error!(order_id = %order_id, error = %error, "accepted by the Checkout Service but not recorded; reconcile this order");
                    return Err(error);
                }
            }
        }
    }

    /// Writes `change` of the stored purchase while the lease with `token` is still ours:
    /// re-read and re-applied after a conflict (another writer bumped the version without
    /// taking the purchase), refused once someone else holds it. `change` answers `None` when
    /// it no longer applies.
    async fn record_leased(
        &self,
        claimed: &Purchase,
        token: &str,
        change: impl Fn(&Purchase) -> Option<Purchase>,
    ) -> Result<Purchase, CheckoutError> {
        let mut current = claimed.clone();
        let mut faults = 0;
        loop {
            if !current.is_leased_by(token) {
                return Err(CheckoutError::LeaseLost { order_id: None });
            }
            let next = change(&current).ok_or(CheckoutError::LeaseLost { order_id: None })?;
            match self.write_outcome(&next, &mut faults).await? {
                None => return Ok(next),
                Some(fresh) => current = fresh,
            }
        }
    }

    /// One version-checked write of an outcome: `None` once written, `Some(stored)` when
    /// another version is stored (the caller re-applies its change to it). A store fault is
    /// tried again up to three times in all (`faults` counts across the caller's writes), and a
    /// write that timed out but went through counts as written.
    async fn write_outcome(
        &self,
        next: &Purchase,
        faults: &mut u32,
    ) -> Result<Option<Purchase>, CheckoutError> {
        match self.store.update(next).await {
            Ok(Updated::Done) => Ok(None),
            Ok(Updated::Conflict(Some(fresh))) => Ok(Some(*fresh)),
            Ok(Updated::Conflict(None)) => Err(CheckoutError::Missing(next.purchase_id.clone())),
            Err(StoreError::Unavailable(reason)) if *faults < 3 => {
                *faults += 1;
                tracing::warn!(faults = *faults, %reason, "recording the checkout outcome failed; retrying");
                tokio::time::sleep(StdDuration::from_millis(50 << *faults)).await;
                let stored = self.reread(&next.purchase_id).await?;
                Ok((stored != *next).then_some(stored))
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn reread(&self, purchase_id: &str) -> Result<Purchase, CheckoutError> {
        self.store
            .get(purchase_id)
            .await?
            .ok_or_else(|| CheckoutError::Missing(purchase_id.to_owned()))
    }

    /// Publishes the alerts `purchase` has pending and records the ones that went out. What
    /// could not be published, or recorded as published, stays pending for the sweep (an alert
    /// may then go out twice; it is never lost).
    async fn publish_pending(&self, purchase: Purchase) -> bool {
        let mut published = Vec::new();
        for alert in &purchase.pending_alerts {
            match self.alerts.publish(alert).await {
                Ok(()) => published.push(alert.clone()),
                Err(error) => {
                    tracing::error!(error = %error, alert = ?alert.kind, "alert not published; kept pending");
                }
            }
        }
        if published.is_empty() {
            return false;
        }
        let marked = purchase.with_alerts_published(&published, Utc::now());
        if let Err(error) = self.store.update(&marked).await {
            tracing::warn!(error = %error, "alert not recorded as published; kept pending");
        }
        true
    }

    /// Records the pending alerts of `purchase` as covered by the alert already sent for their
    /// cause. If that cannot be written they stay pending, and the sweep sends them.
    async fn covered_by_cause(&self, purchase: Purchase) {
        let covered = purchase.with_alerts_published(&purchase.pending_alerts, Utc::now());
        if let Err(error) = self.store.update(&covered).await {
            tracing::warn!(error = %error, "alert not recorded as covered by its cause; kept pending");
        }
    }

    /// Publishes `alert` unless one about `cause` went out within the window.
    async fn alert_cause(&self, cause: &str, alert: &Alert) {
        if !self.causes.take(cause) {
            return;
        }
        if let Err(error) = self.alerts.publish(alert).await {
            tracing::error!(error = %error, alert = ?alert.kind, "alert not published");
            self.causes.failed(cause);
        }
    }

    /// Looks at the Open purchases, page by page from the index of Open purchases, within
    /// `deadline`: checks out those ready, not leased and untouched for `idle_for` (a retry of
    /// what failed before, and the restart of a local worker; fresher ones are the stream's or
    /// the queue's), and alerts once on each purchase open longer than the configured window.
    /// A sweep cut short by its deadline is resumed by the next one where it stopped; a record
    /// that cannot be read is skipped and alerted once.
    pub async fn sweep(
        &self,
        deadline: Instant,
        idle_for: Duration,
    ) -> Result<SweepReport, StoreError> {
        let swept = self.sweep_pages(deadline, idle_for).await;
        if let Err(error) = &swept {
            // The stack counts these lines (its SweepFailures metric and alarm).
            tracing::error!(error = %error, "sweep failed");
        }
        swept
    }

    async fn sweep_pages(
        &self,
        deadline: Instant,
        idle_for: Duration,
    ) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        let mut after = self.memory().resume_after.take();
        loop {
            let page = self.store.list_open(after.as_deref(), SWEEP_PAGE).await?;
            let mut readable = Vec::new();
            for entry in page.purchases {
                match entry {
                    Ok(purchase) => readable.push(purchase),
                    Err(error @ StoreError::Corrupt { .. }) => {
                        report.unreadable += 1;
                        self.alert_unreadable(&error).await;
                    }
                    // A read that failed this time (a split record being rewritten): the next
                    // sweep reads it again.
                    Err(error) => {
                        report.failed += 1;
                        tracing::warn!(error = %error, "an Open purchase could not be read this time");
                    }
                }
            }
            report.open += readable.len();
            let results: Vec<SweepOne> = futures_util::stream::iter(readable)
                .map(|purchase| self.sweep_one(purchase, deadline, idle_for))
                .buffer_unordered(self.config.concurrency)
                .collect()
                .await;
            for result in results {
                match result.checkout {
                    Some(Ok(CheckedOut::Completed { .. })) => report.completed += 1,
                    Some(Ok(CheckedOut::Declined { .. })) => report.declined += 1,
                    Some(Ok(CheckedOut::Held { .. })) => report.held += 1,
                    Some(Err(_)) => report.failed += 1,
                    // The sweep expects no total: it never gets a mismatch.
                    Some(Ok(
                        CheckedOut::NothingToDo { .. } | CheckedOut::AmountMismatch { .. },
                    ))
                    | None => {}
                }
                report.stuck_alerts += usize::from(result.stuck_alerted);
                report.alerts_published += usize::from(result.alerts_published);
                report.repriced += usize::from(result.repriced);
            }
            match page.next {
                // Out of time: the next sweep resumes here.
                Some(next) if Instant::now() >= deadline => {
                    report.resumes_after = Some(next.clone());
                    self.memory().resume_after = Some(next);
                    break;
                }
                Some(next) => after = Some(next),
                // The end: the next sweep starts from the beginning.
                None => break,
            }
        }
        tracing::info!(report = ?report, "sweep done");
        Ok(report)
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, SweepMemory> {
        self.sweeps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One alert per unreadable record, for as long as this process lives.
    async fn alert_unreadable(&self, error: &StoreError) {
        let record = match error {
            StoreError::Corrupt { record, .. } => record.clone(),
            other => other.to_string(),
        };
        tracing::error!(error = %error, "stored purchase cannot be read; skipped");
        if !self.memory().unreadable_alerted.insert(record.clone()) {
            return;
        }
        let alert = Alert {
            kind: AlertKind::UnreadablePurchase,
            subject: "A stored purchase cannot be read".into(),
            detail: format!(
                "The sweep skipped {record} because it cannot be read ({error}). Other purchases are swept as usual; this one needs a person to repair or remove it."
            ),
            purchase_id: None,
            store_id: None,
        };
        if let Err(error) = self.alerts.publish(&alert).await {
            tracing::error!(error = %error, "unreadable-purchase alert not published");
            self.memory().unreadable_alerted.remove(&record);
        }
    }

    async fn sweep_one(
        &self,
        purchase: Purchase,
        deadline: Instant,
        idle_for: Duration,
    ) -> SweepOne {
        let now = Utc::now();
        let leased = purchase.lease(now).is_some()
            || purchase
                .not_before
                .is_some_and(|not_before| not_before > now);
        let idle = now - purchase.updated_at >= idle_for;
        let mut outcome = SweepOne::default();
        let mut current = purchase;
        if !current.pending_alerts.is_empty() && current.lease(now).is_none() {
            outcome.alerts_published = self.publish_pending(current.clone()).await;
            if current.state != PurchaseState::Open {
                return outcome;
            }
            match self.store.get(&current.purchase_id).await {
                Ok(Some(fresh)) => current = fresh,
                _ => return outcome,
            }
        }
        if current.awaits_price_book() && !leased {
            match self.price_now(&current).await {
                Some(priced) => {
                    outcome.repriced = true;
                    current = priced;
                }
                None => return outcome,
            }
        }
        if current.is_ready_for_checkout() && !leased && idle && Instant::now() < deadline {
            let result = self.check_out(&current.purchase_id, deadline).await;
            let still_open = !matches!(
                result,
                Ok(CheckedOut::Completed { .. } | CheckedOut::Declined { .. })
            );
            outcome.checkout = Some(result);
            if !still_open {
                return outcome;
            }
            match self.store.get(&current.purchase_id).await {
                Ok(Some(fresh)) => current = fresh,
                _ => return outcome,
            }
        }
        // Never written over while another worker holds it: that worker records its outcome.
        let stuck = |purchase: &Purchase| {
            purchase.is_stuck_open(Utc::now(), self.config.stuck_open_after)
                && !purchase.was_alerted(AlertKind::PurchaseStuckOpen)
                && purchase.lease(Utc::now()).is_none()
        };
        if stuck(&current) {
            // The index may lag: judge the stored record before telling anyone.
            if let Ok(Some(fresh)) = self.store.get(&current.purchase_id).await
                && stuck(&fresh)
            {
                outcome.stuck_alerted = self.alert_stuck(&fresh).await;
            }
        }
        outcome
    }

    /// Prices a purchase stored when no price book could be read, if one can be now, and
    /// writes it (version-checked: a purchase changed meanwhile is left to the next sweep). One
    /// still held back (an unknown SKU) is alerted as blocked. The version written, if any.
    async fn price_now(&self, purchase: &Purchase) -> Option<Purchase> {
        let book = match self.price_books.current().await {
            Ok(book) => book,
            Err(error) => {
                tracing::debug!(error = %error, "still no price book");
                return None;
            }
        };
        let now = Utc::now();
        let mut priced = purchase.repriced(&book, now).ok()?.recorded(
            now,
            HISTORY_ACTOR,
            "reprice",
            format!(
                "priced with price book {} once one could be read",
                book.version
            ),
        );
        // Priced but held back all the same (an unknown SKU): that needs a person now.
        if priced.needs_attention() {
            priced.add_pending_alert(priced.blocked_alert());
        }
        match self.store.update(&priced).await {
            Ok(Updated::Done) => {
                tracing::info!(purchase_id = %priced.purchase_id, version = %book.version, ready = priced.is_ready_for_checkout(), "priced a cart stored without a price book");
                if !priced.pending_alerts.is_empty() {
                    self.publish_pending(priced.clone()).await;
                }
                Some(priced)
            }
            Ok(Updated::Conflict(_)) => None,
            Err(error) => {
                tracing::warn!(error = %error, "pricing a cart stored without a price book not recorded");
                None
            }
        }
    }

    /// Publishes the stuck alert, then records it; a conflict means the purchase changed
    /// meanwhile, and the next sweep looks again.
    async fn alert_stuck(&self, purchase: &Purchase) -> bool {
        let alert = stuck_alert(purchase, self.config.stuck_open_after);
        // The stack's alarm counts this line (a metric filter on its message).
        tracing::warn!(purchase_id = %purchase.purchase_id, "purchase open too long");
        if let Err(error) = self.alerts.publish(&alert).await {
            tracing::error!(purchase_id = %purchase.purchase_id, error = %error, "stuck-open alert not published");
            return false;
        }
        let marked = purchase.with_alert_sent(AlertKind::PurchaseStuckOpen, Utc::now());
        if let Err(error) = self.store.update(&marked).await {
            tracing::warn!(purchase_id = %purchase.purchase_id, error = %error, "stuck-open alert not recorded");
        }
        true
    }
}

#[derive(Default)]
struct SweepOne {
    checkout: Option<Result<CheckedOut, CheckoutError>>,
    stuck_alerted: bool,
    alerts_published: bool,
    repriced: bool,
}

/// The cause of a refusal that is not a decline: its status (every purchase the endpoint
/// answers 404 shares one alert).
fn submission_cause(submission: &jwo_domain::contract::checkout::Submission) -> String {
    match &submission.outcome {
        CheckoutOutcome::Refused { status, .. } => format!("refused {status}"),
        other => format!("{other:?}"),
    }
}

fn declined_alert(purchase: &Purchase, message: &str) -> Alert {
    purchase.alert(
        AlertKind::CheckoutDeclined,
        format!(
            "Checkout Service declined a cart at store {}",
            purchase.store_id
        ),
        format!(
            "Purchase {} (shopping trip {}) was refused by the Checkout Service and is now Canceled/Declined; the shopper was not charged. Amazon said: {message}",
            purchase.purchase_id, purchase.idempotent_shopping_trip_id
        ),
    )
}

/// Amazon accepted the cart but the connector could not record it: the orderId must reach a
/// person, not only the log.
fn unrecorded_order_alert(purchase: &Purchase, order_id: &str) -> Alert {
    purchase.alert(
        AlertKind::CheckoutOutcomeUnknown,
        format!(
            "Checkout accepted at store {} but not recorded: order {order_id}",
            purchase.store_id
        ),
        format!(
            "The Checkout Service accepted purchase {} (shopping trip {}) as order {order_id}, but the connector could not record it. The shopper was charged. Record this orderId on the purchase (complete it with that orderId) if it is not Completed already.",
            purchase.purchase_id, purchase.idempotent_shopping_trip_id
        ),
    )
}

/// The alert for a purchase held by the checkout: what happened, and how a person resolves it.
fn held_alert(purchase: &Purchase, kind: AlertKind, detail: &str) -> Alert {
    let (subject, what) = match kind {
        AlertKind::CheckoutOutcomeUnknown => (
            format!(
                "Checkout outcome unknown at store {}: Amazon may have charged the trip",
                purchase.store_id
            ),
            "Amazon may have charged this shopping trip. Do not treat the shopper as not charged. Ask Amazon whether the trip was charged; then record the orderId it gives (complete with that orderId), or submit again, or cancel if Amazon confirms no charge.",
        ),
        _ => (
            format!(
                "Checkout Service refused a cart at store {} with an unexpected answer",
                purchase.store_id
            ),
            "This answer is not a decline: it points at the connector's configuration (endpoint, region, account) or a change on Amazon's side. Other purchases given the same answer are held the same way, and this alert goes out once an hour for the cause, not for each: list the Open purchases with the constraint CheckoutRefused to find them all. Fix the cause, then submit them again.",
        ),
    };
    Alert {
        kind,
        subject,
        detail: format!(
            "Purchase {} (shopping trip {}) is held, still Open, and will not be submitted again by itself: {detail}. {what}",
            purchase.purchase_id, purchase.idempotent_shopping_trip_id
        ),
        purchase_id: Some(purchase.purchase_id.clone()),
        store_id: Some(purchase.store_id.clone()),
    }
}

fn forbidden_alert(purchase: &Purchase, message: &str) -> Alert {
    purchase.alert(
        AlertKind::CheckoutForbidden,
        "Checkout Service refused our credentials (403)".into(),
        format!(
            "Submitting purchase {} (store {}) was refused with 403: {message}. Check the signing credentials, the region and the AWS account allowlisted in the Merchant Portal. The purchase stays Open and is retried.",
            purchase.purchase_id, purchase.store_id
        ),
    )
}

fn stuck_alert(purchase: &Purchase, window: Duration) -> Alert {
    let why = if purchase.needs_attention() {
        "it is held back by constraints that need a person"
    } else if purchase.checkout.is_none() {
        "it has no priced cart"
    } else {
        "its checkout keeps failing"
    };
    purchase.alert(
        AlertKind::PurchaseStuckOpen,
        format!("Purchase open too long at store {}", purchase.store_id),
        format!(
            "Purchase {} (shopping trip {}) has been Open since {} (more than {} minutes): {why}; {} checkout attempts so far.",
            purchase.purchase_id,
            purchase.idempotent_shopping_trip_id,
            purchase.created_at.to_rfc3339(),
            window.num_minutes(),
            purchase.checkout_attempts
        ),
    )
}
