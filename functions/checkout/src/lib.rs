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
use jwo_domain::alerts::{Alert, AlertError, AlertKind};
use jwo_domain::contract::checkout::CheckoutOutcome;
use jwo_domain::ports::{Alerts, CheckoutService, PurchaseStore};
use jwo_domain::purchase::{CancelReason, ClaimRefused, Purchase, PurchaseState};
use jwo_domain::store::{StoreError, Updated};
use serde::Serialize;
use thiserror::Error;
use tracing::Instrument;

pub use config::Config;

/// A lease outlives the caller's deadline by this much, so a worker cut off at its deadline
/// blocks others only briefly, while one still running is never overtaken.
const LEASE_BEYOND_DEADLINE: StdDuration = StdDuration::from_secs(15);
/// Purchases checked out at once by a sweep or a stream batch.
pub const CONCURRENCY: usize = 8;
/// A scheduled sweep leaves purchases changed this recently to the stream (and its retries).
pub const SWEEP_IDLE_FOR: Duration = Duration::minutes(1);

/// How a purchase's checkout ended this time, when nothing is left to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedOut {
    /// Amazon accepted the cart; the purchase is Completed with this order id.
    Completed { order_id: String },
    /// Amazon refused the cart (400); the purchase is Canceled/Declined and an alert went out.
    Declined { message: String },
    /// Nothing to submit: already Completed or Canceled, or held back by constraints (those
    /// were alerted when the purchase was stored).
    NothingToDo { state: PurchaseState },
}

/// Why a checkout must be tried again later. Nothing that was not done is recorded as done.
#[derive(Debug, Error)]
pub enum CheckoutError {
    #[error("purchase {0} is not in the store")]
    Missing(String),
    #[error("another checkout of this purchase is under way")]
    Busy,
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

/// The checkout use case, generic over its three ports: where purchases are kept, where alerts
/// go, and the Checkout Service itself (HTTPS in AWS and under `jwo serve`, a scripted fake in
/// the unit tests).
pub struct Checkout<S, A, C> {
    pub store: S,
    pub alerts: A,
    pub checkout_service: C,
    pub config: Config,
}

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
    /// Purchases newly alerted as open too long.
    pub stuck_alerts: usize,
}

impl<S: PurchaseStore, A: Alerts, C: CheckoutService> Checkout<S, A, C> {
    pub fn new(store: S, alerts: A, checkout_service: C, config: Config) -> Self {
        Checkout {
            store,
            alerts,
            checkout_service,
            config,
        }
    }

    /// Checks out one purchase, submitting until `deadline` at the latest.
    pub async fn check_out(
        &self,
        purchase_id: &str,
        deadline: Instant,
    ) -> Result<CheckedOut, CheckoutError> {
        let span = tracing::info_span!("checkout", purchase_id = %purchase_id);
        async move {
            let result = self.submit_and_record(purchase_id, deadline).await;
            match &result {
                Ok(done) => tracing::info!(outcome = ?done, "checkout done"),
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
    ) -> Result<CheckedOut, CheckoutError> {
        let purchase = self
            .store
            .get(purchase_id)
            .await?
            .ok_or_else(|| CheckoutError::Missing(purchase_id.to_owned()))?;
        let lease = deadline.saturating_duration_since(Instant::now()) + LEASE_BEYOND_DEADLINE;
        let lease = Duration::from_std(lease).unwrap_or(Duration::MAX);
        let claimed = match purchase.claim_for_checkout(Utc::now(), lease) {
            Ok(claimed) => claimed,
            Err(ClaimRefused::NotReady(state)) => return Ok(CheckedOut::NothingToDo { state }),
            Err(ClaimRefused::Leased(_)) => return Err(CheckoutError::Busy),
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
            "submitting to the Checkout Service"
        );
        match self.checkout_service.submit(&body, deadline).await {
            CheckoutOutcome::Accepted { order_id } => {
                let completed = claimed
                    .complete(&order_id, Utc::now())
                    .expect("a claimed purchase is Open");
                self.record_after_submission(&completed).await?;
                Ok(CheckedOut::Completed { order_id })
            }
            CheckoutOutcome::Declined { code, message } => {
                let message = match code {
                    Some(code) => format!("{code}: {message}"),
                    None => message,
                };
                // Alert first: if it cannot go out, the purchase stays Open and is retried,
                // rather than be Canceled with nobody told.
                if let Err(error) = self
                    .alerts
                    .publish(&declined_alert(&claimed, &message))
                    .await
                {
                    self.release(&claimed).await;
                    return Err(error.into());
                }
                let mut declined = claimed
                    .cancel(CancelReason::Declined, &message, Utc::now())
                    .expect("a claimed purchase is Open");
                declined.mark_alerted(AlertKind::CheckoutDeclined);
                self.record_after_submission(&declined).await?;
                Ok(CheckedOut::Declined { message })
            }
            CheckoutOutcome::Forbidden { message } => {
                let mut released = claimed.release_checkout(Utc::now());
                // Once per purchase: a credentials problem affects every cart until fixed.
                if !claimed.was_alerted(AlertKind::CheckoutForbidden) {
                    match self
                        .alerts
                        .publish(&forbidden_alert(&claimed, &message))
                        .await
                    {
                        Ok(()) => released.mark_alerted(AlertKind::CheckoutForbidden),
                        Err(error) => tracing::error!(error = %error, "403 alert not published"),
                    }
                }
                self.write_release(&released).await;
                Err(CheckoutError::Forbidden(message))
            }
            CheckoutOutcome::GaveUp {
                attempts,
                last_error,
            } => {
                self.release(&claimed).await;
                Err(CheckoutError::GaveUp {
                    attempts,
                    last_error,
                })
            }
        }
    }

    /// Records the outcome of a submission. The lease keeps anyone else off the purchase, so a
    /// failure here is a store fault: tried a few times, because a charge not recorded would be
    /// submitted again (Amazon answers a repeat with the same orderId, and it shows as a
    /// duplicate).
    async fn record_after_submission(&self, next: &Purchase) -> Result<(), CheckoutError> {
        let mut wait = StdDuration::from_millis(50);
        for attempt in 1.. {
            match self.store.update(next).await {
                Ok(Updated::Done) => return Ok(()),
                Ok(Updated::Conflict(current)) => {
                    // Already recorded (by an earlier try whose answer was lost): done.
                    if current.is_some_and(|current| current.state == next.state) {
                        return Ok(());
                    }
                    return Err(CheckoutError::Busy);
                }
                Err(StoreError::Unavailable(reason)) if attempt < 4 => {
                    tracing::warn!(attempt, %reason, "recording the checkout outcome failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(error) => return Err(error.into()),
            }
        }
        unreachable!("the loop returns")
    }

    /// Gives the lease back so a later try need not wait for it to expire.
    async fn release(&self, claimed: &Purchase) {
        self.write_release(&claimed.release_checkout(Utc::now()))
            .await;
    }

    async fn write_release(&self, released: &Purchase) {
        // If this fails the lease simply expires; nothing else depends on it.
        if let Err(error) = self.store.update(released).await {
            tracing::warn!(error = %error, "releasing the checkout lease failed");
        }
    }

    /// Looks at every Open purchase: checks out those ready, not leased and untouched for
    /// `idle_for` (a retry of what failed before, and the restart of a local worker; fresher
    /// ones are the stream's or the queue's), and alerts once on each purchase open longer
    /// than the configured window.
    pub async fn sweep(
        &self,
        deadline: Instant,
        idle_for: Duration,
    ) -> Result<SweepReport, StoreError> {
        let open = self.store.list_open().await?;
        let mut report = SweepReport {
            open: open.len(),
            ..SweepReport::default()
        };
        let results: Vec<SweepOne> = futures_util::stream::iter(open)
            .map(|purchase| self.sweep_one(purchase, deadline, idle_for))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for result in results {
            match result.checkout {
                Some(Ok(CheckedOut::Completed { .. })) => report.completed += 1,
                Some(Ok(CheckedOut::Declined { .. })) => report.declined += 1,
                Some(Err(_)) => report.failed += 1,
                Some(Ok(CheckedOut::NothingToDo { .. })) | None => {}
            }
            report.stuck_alerts += usize::from(result.stuck_alerted);
        }
        tracing::info!(report = ?report, "sweep done");
        Ok(report)
    }

    async fn sweep_one(
        &self,
        purchase: Purchase,
        deadline: Instant,
        idle_for: Duration,
    ) -> SweepOne {
        let now = Utc::now();
        let leased = purchase
            .checkout_lease_until
            .is_some_and(|until| until > now);
        let idle = now - purchase.updated_at >= idle_for;
        let mut outcome = SweepOne::default();
        let mut current = purchase;
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
        if current.is_stuck_open(Utc::now(), self.config.stuck_open_after)
            && !current.was_alerted(AlertKind::PurchaseStuckOpen)
        {
            outcome.stuck_alerted = self.alert_stuck(&current).await;
        }
        outcome
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
}

fn declined_alert(purchase: &Purchase, message: &str) -> Alert {
    Alert {
        kind: AlertKind::CheckoutDeclined,
        subject: format!(
            "Checkout Service declined a cart at store {}",
            purchase.store_id
        ),
        detail: format!(
            "Purchase {} (shopping trip {}) was refused by the Checkout Service and is now Canceled/Declined; the shopper was not charged. Amazon said: {message}",
            purchase.purchase_id, purchase.idempotent_shopping_trip_id
        ),
        purchase_id: Some(purchase.purchase_id.clone()),
        store_id: Some(purchase.store_id.clone()),
    }
}

fn forbidden_alert(purchase: &Purchase, message: &str) -> Alert {
    Alert {
        kind: AlertKind::CheckoutForbidden,
        subject: "Checkout Service refused our credentials (403)".into(),
        detail: format!(
            "Submitting purchase {} (store {}) was refused with 403: {message}. Check the signing credentials, the region and the AWS account allowlisted in the Merchant Portal. The purchase stays Open and is retried.",
            purchase.purchase_id, purchase.store_id
        ),
        purchase_id: Some(purchase.purchase_id.clone()),
        store_id: Some(purchase.store_id.clone()),
    }
}

fn stuck_alert(purchase: &Purchase, window: Duration) -> Alert {
    let why = if purchase.needs_attention() {
        "it is held back by constraints that need a person"
    } else if purchase.checkout.is_none() {
        "it has no priced cart"
    } else {
        "its checkout keeps failing"
    };
    Alert {
        kind: AlertKind::PurchaseStuckOpen,
        subject: format!("Purchase open too long at store {}", purchase.store_id),
        detail: format!(
            "Purchase {} (shopping trip {}) has been Open since {} (more than {} minutes): {why}; {} checkout attempts so far.",
            purchase.purchase_id,
            purchase.idempotent_shopping_trip_id,
            purchase.created_at.to_rfc3339(),
            window.num_minutes(),
            purchase.checkout_attempts
        ),
        purchase_id: Some(purchase.purchase_id.clone()),
        store_id: Some(purchase.store_id.clone()),
    }
}
