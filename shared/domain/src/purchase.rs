//! The purchase: one record per shopping trip, and its small state machine (docs/design.md
//! "The purchase lifecycle"), modelled on the Amazon Pay Checkout Session.
//!
//! Every change is a pure function from one version of the record to the next; a store writes
//! the next version only if the stored one is still the version it was computed from, so
//! concurrent or repeated events never act twice.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::alerts::{Alert, AlertKind};
use crate::catalog::price_book_versions::VersionedPriceBook;
use crate::contract::Timestamp;
use crate::contract::checkout::{AmountBasis, CheckoutOutcome, CheckoutRequest, Submission};
use crate::contract::create_purchases::{CartItem, CreatePurchasesRequest, ShoppingTrip};
use crate::pricing::{
    CartExplanation, Constraint, ConstraintKind, LinePrice, PricingOutcome, explain_cart,
    price_cart_with,
};

/// Fixed namespace of purchase ids (UUID version 5).
const PURCHASE_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6a3c_51e2_8f0d_4b7a_9e21_0c4d_5f6e_7a81);

/// The purchase id of a shopping trip. Derived from the idempotency key (store id + trip id),
/// so every replay of a trip, concurrent or not, names the same record, and inserting it is
/// one conditional write on one key.
pub fn purchase_id(store_id: &str, idempotent_shopping_trip_id: &str) -> String {
    let key = format!("{store_id}\n{idempotent_shopping_trip_id}");
    uuid::Uuid::new_v5(&PURCHASE_ID_NAMESPACE, key.as_bytes()).to_string()
}

/// A fingerprint of the cart (the cart items, as sent). A replay of a trip must carry the same
/// cart; Amazon makes a new `requestId` for each call, so that is not part of it.
pub fn cart_fingerprint(cart_items: &[CartItem]) -> String {
    let canonical = serde_json::to_vec(cart_items).expect("cart items always serialize");
    hex::encode(Sha256::digest(&canonical))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PurchaseState {
    /// Received, priced and stored; `constraints` lists what blocks checkout.
    Open,
    /// The Checkout Service answered 201; `orderId` is recorded.
    Completed,
    /// See `reasonCode`.
    Canceled,
}

impl PurchaseState {
    /// The state named as it is written (`Open`, `Completed`, `Canceled`).
    pub fn parse(text: &str) -> Option<PurchaseState> {
        [
            PurchaseState::Open,
            PurchaseState::Completed,
            PurchaseState::Canceled,
        ]
        .into_iter()
        .find(|state| state.to_string() == text)
    }
}

impl fmt::Display for PurchaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CancelReason {
    /// The shopper took nothing; nothing is sent to checkout.
    EmptyCart,
    /// The Checkout Service refused the cart (400).
    Declined,
    /// Not checked out within the configured window.
    Expired,
    OperatorCanceled,
}

/// One shopping trip's purchase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    pub purchase_id: String,
    pub store_id: String,
    pub idempotent_shopping_trip_id: String,
    /// The `requestId` of the call that created the record.
    pub request_id: String,
    pub state: PurchaseState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<CancelReason>,
    /// Why, in words (for a decline, the Checkout Service's message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What blocks checkout of an Open purchase. Empty: ready for checkout.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    /// The cart as Amazon sent it (no shopper or payment identifiers are kept).
    pub cart_items: Vec<CartItem>,
    pub trip_end_time: Timestamp,
    pub cart_fingerprint: String,
    /// The priced cart, exactly as it will be submitted; none for an empty or unpriced cart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<CheckoutRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_book_version: Option<String>,
    /// The amount basis configured over the price book's when the cart arrived, so pricing it
    /// again later follows the same rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_basis: Option<AmountBasis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The alerts published about this purchase, so each goes out once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts_sent: Vec<AlertKind>,
    /// Alerts recorded with a change but not yet published (written with the change, so a
    /// failed publish is never lost: the sweep publishes them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_alerts: Vec<Alert>,
    /// Lines a person priced (the book could not, or priced them wrongly); pricing again
    /// keeps them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_overrides: Vec<LinePrice>,
    /// The retailer's own references, set by a person.
    #[serde(default, skip_serializing_if = "MerchantMetadata::is_empty")]
    pub merchant_metadata: MerchantMetadata,
    /// The changes people made, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Change>,
    /// Submissions to the Checkout Service so far.
    #[serde(default)]
    pub checkout_attempts: u32,
    /// While set and in the future, one worker holds the right to submit this purchase; no
    /// other may, so concurrent deliveries of one record submit once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_lease_until: Option<DateTime<Utc>>,
    /// Who holds that lease: a token made by the claim, so a worker recording an outcome can
    /// tell its own lease from a later one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_lease_token: Option<String>,
    /// A claim was written and no answer has been recorded since: a submission is (or was, if
    /// its worker died) under way. The next claim that finds it set knows an earlier attempt's
    /// outcome is unknown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub submission_in_flight: bool,
    /// Some submission sent the cart and got no answer: Amazon may have charged the trip. From
    /// then on no 4xx is taken as a decline (docs/contract.md §2, "repeats").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outcome_unknown: bool,
    /// Not to be submitted before this (the Checkout Service asked, with `Retry-After`, for a
    /// wait longer than the time the last try had left).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<DateTime<Utc>>,
    /// Bumped by every change; a store writes version n+1 only over version n.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How long a Completed or Canceled purchase is kept (seconds).
    #[serde(default = "default_retention_seconds")]
    pub retention_seconds: i64,
    /// When the record may be deleted (the table's TTL attribute): set only on reaching
    /// Completed or Canceled, so nothing unresolved ever expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The retailer's own references on a purchase (the Checkout Session's `merchantMetadata`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MerchantMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_information: Option<String>,
}

impl MerchantMetadata {
    pub fn is_empty(&self) -> bool {
        self.merchant_reference_id.is_none() && self.custom_information.is_none()
    }
}

/// One change in a purchase's history: when, who (an IAM ARN in AWS, the local user under
/// `jwo serve`), what, and the details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// What a record stored before retention was kept on it is kept for: 30 days.
fn default_retention_seconds() -> i64 {
    30 * 24 * 3600
}

/// A worker's right to submit a purchase: its token, and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub token: String,
    pub until: DateTime<Utc>,
}

/// What a submission's answer means for the purchase: the unknown-outcome rule, in one place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// 201: Completed with this order id.
    Complete { order_id: String },
    /// A 400 to a submission whose earlier attempts all had known answers: the shopper was
    /// not charged.
    Decline { message: String },
    /// Held for a person: still Open, with this constraint, never submitted again by itself.
    Hold {
        kind: ConstraintKind,
        /// The alert that tells a person.
        alert: AlertKind,
        detail: String,
    },
    /// 403: stays Open and is tried again later (after the credentials are fixed).
    Forbidden { message: String },
    /// Only transient failures: stays Open and is tried again later, not within `not_before`
    /// of now when the service asked for that.
    Retry {
        attempts: u32,
        last_error: String,
        not_before: Option<Duration>,
    },
}

/// Why a purchase cannot be claimed for checkout now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefused {
    #[error("not ready for checkout (state {0}, or constraints, or nothing priced)")]
    NotReady(PurchaseState),
    #[error("another worker holds the checkout lease until {0}")]
    Leased(DateTime<Utc>),
    #[error("the Checkout Service asked not to be called for it before {0}")]
    NotBefore(DateTime<Utc>),
}

/// A change the lifecycle does not allow from the purchase's current state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("purchase {purchase_id} is {state}; cannot {action}")]
pub struct LifecycleError {
    pub purchase_id: String,
    pub state: PurchaseState,
    pub action: &'static str,
}

impl Purchase {
    /// The record for a validated, priced request, as first stored: priced with
    /// `price_book_version` (none when no book could be read), under the `amount_basis`
    /// configured over the book's, if any.
    pub fn new(
        request: &CreatePurchasesRequest,
        pricing: PricingOutcome,
        price_book_version: Option<&str>,
        amount_basis: Option<AmountBasis>,
        now: DateTime<Utc>,
        retention: Duration,
    ) -> Purchase {
        let (state, reason_code, checkout, constraints) = match pricing {
            PricingOutcome::EmptyCart => (
                PurchaseState::Canceled,
                Some(CancelReason::EmptyCart),
                None,
                Vec::new(),
            ),
            PricingOutcome::Priced(checkout) => {
                (PurchaseState::Open, None, Some(checkout), Vec::new())
            }
            PricingOutcome::Unpriceable(constraints) => {
                (PurchaseState::Open, None, None, constraints)
            }
        };
        let mut purchase = Purchase {
            purchase_id: purchase_id(&request.store_id, &request.idempotent_shopping_trip_id),
            store_id: request.store_id.clone(),
            idempotent_shopping_trip_id: request.idempotent_shopping_trip_id.clone(),
            request_id: request.request_id.clone(),
            state,
            reason_code,
            reason: None,
            constraints,
            cart_fingerprint: cart_fingerprint(&request.cart_items),
            cart_items: request.cart_items.clone(),
            trip_end_time: request.shopping_trip.end_time.clone(),
            checkout,
            price_book_version: price_book_version.map(str::to_owned),
            amount_basis,
            order_id: None,
            alerts_sent: Vec::new(),
            pending_alerts: Vec::new(),
            line_overrides: Vec::new(),
            merchant_metadata: MerchantMetadata::default(),
            history: Vec::new(),
            checkout_attempts: 0,
            checkout_lease_until: None,
            checkout_lease_token: None,
            submission_in_flight: false,
            outcome_unknown: false,
            not_before: None,
            version: 1,
            created_at: now,
            updated_at: now,
            retention_seconds: retention.num_seconds(),
            expires_at: None,
        };
        if purchase.state != PurchaseState::Open {
            purchase.expires_at = purchase.expiry_from(now);
        }
        purchase
    }

    /// The id Amazon is answered with: `""` for an empty cart (docs/contract.md §1).
    pub fn answered_id(&self) -> &str {
        if self.reason_code == Some(CancelReason::EmptyCart) {
            ""
        } else {
            &self.purchase_id
        }
    }

    /// Open, priced, and blocked by nothing: the checkout may submit it.
    pub fn is_ready_for_checkout(&self) -> bool {
        self.state == PurchaseState::Open && self.constraints.is_empty() && self.checkout.is_some()
    }

    /// Open but held back: a person (or a later price book) must resolve the constraints.
    pub fn needs_attention(&self) -> bool {
        self.state == PurchaseState::Open && !self.constraints.is_empty()
    }

    /// Held back only because no price book could be read: the sweep prices it once one can.
    pub fn awaits_price_book(&self) -> bool {
        self.needs_attention()
            && self
                .constraints
                .iter()
                .all(|constraint| constraint.kind == ConstraintKind::NoPriceBook)
    }

    /// What the sweep looks at: Open, or closed with an alert still to publish. The stores'
    /// index of Open purchases holds exactly these.
    pub fn needs_sweep(&self) -> bool {
        self.state == PurchaseState::Open || !self.pending_alerts.is_empty()
    }

    /// The cart as received, as the pricing engine takes it (no shopper, device or payment
    /// identifiers are kept, and pricing needs none).
    fn cart_request(&self) -> CreatePurchasesRequest {
        CreatePurchasesRequest {
            request_id: self.request_id.clone(),
            idempotent_shopping_trip_id: self.idempotent_shopping_trip_id.clone(),
            store_id: self.store_id.clone(),
            shopping_trip: ShoppingTrip {
                start_time: self.trip_end_time.clone(),
                end_time: self.trip_end_time.clone(),
                auth_events: Vec::new(),
            },
            cart_items: self.cart_items.clone(),
            shopper_identity: None,
            shopper_device_id: None,
            payment_source: None,
        }
    }

    /// The next version, priced again with `book`: what pricing found before is replaced by
    /// what it finds now, and what the checkout held stays held. Only while Open and not
    /// leased (a submission under way must not have its cart changed).
    pub fn repriced(
        &self,
        book: &VersionedPriceBook,
        now: DateTime<Utc>,
    ) -> Result<Purchase, LifecycleError> {
        self.require_open("reprice")?;
        if self.lease(now).is_some() {
            return Err(LifecycleError {
                purchase_id: self.purchase_id.clone(),
                state: self.state,
                action: "reprice while a checkout holds it",
            });
        }
        // A cart sent to Amazon even once keeps the body it was sent with.
        if self.checkout_attempts > 0 || self.submission_in_flight {
            return Err(LifecycleError {
                purchase_id: self.purchase_id.clone(),
                state: self.state,
                action: "reprice a cart already submitted",
            });
        }
        let basis = self.amount_basis.unwrap_or(book.book.amount_basis);
        let pricing = price_cart_with(
            &book.book,
            &self.cart_request(),
            basis,
            &self.line_overrides,
        );
        let mut next = self.next(now);
        next.price_book_version = Some(book.version.clone());
        next.constraints
            .retain(|constraint| !constraint.kind.is_pricing());
        next.checkout = None;
        match pricing {
            PricingOutcome::Priced(checkout) => next.checkout = Some(checkout),
            PricingOutcome::Unpriceable(constraints) => next.constraints.extend(constraints),
            PricingOutcome::EmptyCart => {
                next.state = PurchaseState::Canceled;
                next.reason_code = Some(CancelReason::EmptyCart);
                next.end_submission();
                next.expires_at = next.expiry_from(now);
            }
        }
        Ok(next)
    }

    /// How the stored priced cart came about, worked out again from `book`: `None` unless
    /// `book` is the version it was priced with and gives the very same body (so the
    /// explanation is of what is stored, never of a guess).
    pub fn explanation(&self, book: &VersionedPriceBook) -> Option<CartExplanation> {
        let stored = self.checkout.as_ref()?;
        if self.price_book_version.as_deref() != Some(book.version.as_str()) {
            return None;
        }
        let basis = self.amount_basis.unwrap_or(book.book.amount_basis);
        let (checkout, explanation) = explain_cart(
            &book.book,
            &self.cart_request(),
            basis,
            &self.line_overrides,
        )
        .ok()?;
        (&checkout == stored).then_some(explanation)
    }

    pub(crate) fn next(&self, now: DateTime<Utc>) -> Purchase {
        let mut next = self.clone();
        next.version += 1;
        next.updated_at = now;
        // Nothing Open expires, records written before that rule included.
        if next.state == PurchaseState::Open {
            next.expires_at = None;
        }
        next
    }

    fn require_open(&self, action: &'static str) -> Result<(), LifecycleError> {
        if self.state == PurchaseState::Open {
            Ok(())
        } else {
            Err(LifecycleError {
                purchase_id: self.purchase_id.clone(),
                state: self.state,
                action,
            })
        }
    }

    /// This version with `action` by `actor` added to its history.
    pub fn recorded(
        mut self,
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
        detail: String,
    ) -> Purchase {
        self.history.push(Change {
            at,
            actor: actor.to_owned(),
            action: action.to_owned(),
            detail,
        });
        self
    }

    /// An alert about this purchase (its id and store attached).
    pub fn alert(&self, kind: AlertKind, subject: String, detail: String) -> Alert {
        Alert {
            kind,
            subject,
            detail,
            purchase_id: Some(self.purchase_id.clone()),
            store_id: Some(self.store_id.clone()),
        }
    }

    /// Whether an alert of this kind was published about the purchase.
    pub fn was_alerted(&self, kind: AlertKind) -> bool {
        self.alerts_sent.contains(&kind)
    }

    /// The alert for a purchase held back by constraints a person (or a later price book)
    /// must resolve: every constraint, the list cut to stay inside SNS's limit.
    pub fn blocked_alert(&self) -> Alert {
        let reasons: Vec<String> = self
            .constraints
            .iter()
            .map(|c| format!("{} ({}): {}", c.field, c.kind, c.detail))
            .collect();
        self.alert(
            AlertKind::PurchaseBlocked,
            format!("Purchase held back from checkout at store {}", self.store_id),
            format!(
                "Purchase {} (shopping trip {}) was recorded but cannot be checked out until this is resolved:\n{}",
                self.purchase_id,
                self.idempotent_shopping_trip_id,
                crate::alerts::listed(&reasons)
            ),
        )
    }

    /// Records a published alert on a version about to be written (no version of its own).
    pub fn mark_alerted(&mut self, kind: AlertKind) {
        if !self.was_alerted(kind) {
            self.alerts_sent.push(kind);
        }
    }

    /// The next version, recording that an alert of this kind was published.
    pub fn with_alert_sent(&self, kind: AlertKind, now: DateTime<Utc>) -> Purchase {
        let mut next = self.next(now);
        next.mark_alerted(kind);
        next
    }

    /// Records `alert` to be published, on a version about to be written: it is kept with
    /// the change it is about until [`Purchase::with_alerts_published`] says it went out.
    pub fn add_pending_alert(&mut self, alert: Alert) {
        if !self.was_alerted(alert.kind) && !self.pending_alerts.contains(&alert) {
            self.pending_alerts.push(alert);
        }
    }

    /// The next version, recording that the pending `published` alerts went out. A closed
    /// purchase left with none pending leaves the sweep's index.
    pub fn with_alerts_published(&self, published: &[Alert], now: DateTime<Utc>) -> Purchase {
        let mut next = self.next(now);
        next.pending_alerts
            .retain(|alert| !published.contains(alert));
        for alert in published {
            next.mark_alerted(alert.kind);
        }
        next
    }

    /// Open for longer than `window` since it was created: checkout should have happened by now.
    pub fn is_stuck_open(&self, now: DateTime<Utc>, window: Duration) -> bool {
        self.state == PurchaseState::Open && now - self.created_at > window
    }

    /// When a purchase reaching Completed or Canceled at `now` may be deleted; `None` only if
    /// the retention overflows the calendar (then it is kept).
    fn expiry_from(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Duration::try_seconds(self.retention_seconds)
            .and_then(|retention| now.checked_add_signed(retention))
    }

    /// The lease held now, if any.
    pub fn lease(&self, now: DateTime<Utc>) -> Option<Lease> {
        match (&self.checkout_lease_token, self.checkout_lease_until) {
            (token, Some(until)) if until > now => Some(Lease {
                token: token.clone().unwrap_or_default(),
                until,
            }),
            _ => None,
        }
    }

    /// Whether Amazon may have charged the trip: a submission went unanswered, or one was
    /// claimed and never recorded (its worker died, or is still running past its lease).
    pub fn may_be_charged(&self) -> bool {
        self.outcome_unknown || self.submission_in_flight || self.checkout_lease_until.is_some()
    }

    /// Whether the lease with `token` is still this purchase's (Open, and not claimed since).
    pub fn is_leased_by(&self, token: &str) -> bool {
        self.state == PurchaseState::Open && self.checkout_lease_token.as_deref() == Some(token)
    }

    /// Takes the right to submit the purchase to the Checkout Service until `now + lease`, as
    /// `token`, and records that a submission is under way. Refused unless the purchase is
    /// ready for checkout and no unexpired lease is held. A claim that finds an earlier
    /// submission still in flight (its worker died or lost the lease before recording an
    /// answer) marks the outcome unknown.
    pub fn claim_for_checkout(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        token: &str,
    ) -> Result<Purchase, ClaimRefused> {
        if !self.is_ready_for_checkout() {
            return Err(ClaimRefused::NotReady(self.state));
        }
        if let Some(lease) = self.lease(now) {
            return Err(ClaimRefused::Leased(lease.until));
        }
        if let Some(not_before) = self.not_before.filter(|not_before| *not_before > now) {
            return Err(ClaimRefused::NotBefore(not_before));
        }
        let mut next = self.next(now);
        next.checkout_attempts += 1;
        next.checkout_lease_until = Some(now + lease);
        next.checkout_lease_token = Some(token.to_owned());
        // An earlier claim that never recorded an answer: its submission may have charged.
        // Every recording clears the lease, so a lease left set (expired) says the same, also
        // for records from before `submissionInFlight` was kept.
        next.outcome_unknown |= self.submission_in_flight || self.checkout_lease_until.is_some();
        next.submission_in_flight = true;
        Ok(next)
    }

    /// What `submission`'s answer means for this claimed purchase.
    pub fn verdict(&self, submission: &Submission) -> Verdict {
        let unknown = self.outcome_unknown || submission.unanswered_attempts > 0;
        match &submission.outcome {
            CheckoutOutcome::Accepted { order_id } => Verdict::Complete {
                order_id: order_id.clone(),
            },
            CheckoutOutcome::Forbidden { message } => Verdict::Forbidden {
                message: message.clone(),
            },
            CheckoutOutcome::GaveUp {
                attempts,
                last_error,
                retry_after,
            } => Verdict::Retry {
                attempts: *attempts,
                last_error: last_error.clone(),
                not_before: retry_after.and_then(|wait| Duration::from_std(wait).ok()),
            },
            CheckoutOutcome::Refused {
                status,
                code,
                message,
            } => {
                let said = match code {
                    Some(code) => format!("{status} {code}: {message}"),
                    None => format!("{status}: {message}"),
                };
                match (status, unknown) {
                    (400, false) => Verdict::Decline {
                        message: match code {
                            Some(code) => format!("{code}: {message}"),
                            None => message.clone(),
                        },
                    },
                    (_, true) => Verdict::Hold {
                        kind: ConstraintKind::CheckoutOutcomeUnknown,
                        alert: AlertKind::CheckoutOutcomeUnknown,
                        detail: format!(
                            "an earlier submission got no answer, so Amazon may have charged this trip; the Checkout Service then answered {said}"
                        ),
                    },
                    (_, false) => Verdict::Hold {
                        kind: ConstraintKind::CheckoutRefused,
                        alert: AlertKind::CheckoutRefused,
                        detail: format!(
                            "the Checkout Service answered {said}, which is not a decline"
                        ),
                    },
                }
            }
        }
    }

    /// Gives the lease back after a submission that may be tried again later. `unanswered`:
    /// some attempt got no answer, so the outcome is unknown from now on.
    pub fn release_checkout(&self, now: DateTime<Utc>, unanswered: bool) -> Purchase {
        let mut next = self.next(now);
        next.end_submission();
        next.outcome_unknown |= unanswered;
        next.not_before = None;
        next
    }

    /// [`Purchase::release_checkout`], and not to be claimed again within `wait`.
    pub fn release_checkout_for(
        &self,
        now: DateTime<Utc>,
        unanswered: bool,
        wait: Option<Duration>,
    ) -> Purchase {
        let mut next = self.release_checkout(now, unanswered);
        next.not_before = wait.and_then(|wait| now.checked_add_signed(wait));
        next
    }

    fn end_submission(&mut self) {
        self.checkout_lease_until = None;
        self.checkout_lease_token = None;
        self.submission_in_flight = false;
    }

    /// Open → Completed: the Checkout Service accepted the cart (or a person confirmed the
    /// charge). Completes a held purchase too: a 201 is authoritative.
    pub fn complete(&self, order_id: &str, now: DateTime<Utc>) -> Result<Purchase, LifecycleError> {
        self.require_open("complete")?;
        let mut next = self.next(now);
        next.state = PurchaseState::Completed;
        next.order_id = Some(order_id.to_owned());
        next.constraints.retain(|constraint| {
            !matches!(
                constraint.kind,
                ConstraintKind::CheckoutOutcomeUnknown | ConstraintKind::CheckoutRefused
            )
        });
        next.end_submission();
        next.expires_at = next.expiry_from(now);
        Ok(next)
    }

    /// Open → Canceled with a reason.
    pub fn cancel(
        &self,
        reason_code: CancelReason,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Purchase, LifecycleError> {
        self.require_open("cancel")?;
        let mut next = self.next(now);
        next.state = PurchaseState::Canceled;
        next.reason_code = Some(reason_code);
        next.reason = Some(reason.to_owned());
        next.end_submission();
        next.expires_at = next.expiry_from(now);
        Ok(next)
    }

    /// Stays Open, held for a person by a constraint of `kind` (once), the submission over.
    pub fn hold(&self, kind: ConstraintKind, detail: &str, now: DateTime<Utc>) -> Purchase {
        let mut next = self.next(now);
        next.end_submission();
        if kind == ConstraintKind::CheckoutOutcomeUnknown {
            next.outcome_unknown = true;
        }
        if !next
            .constraints
            .iter()
            .any(|constraint| constraint.kind == kind)
        {
            next.constraints.push(Constraint {
                kind,
                field: "checkout".into(),
                detail: detail.to_owned(),
            });
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::ConstraintKind;
    use crate::validation::validate_create_purchases;

    fn request(cart: serde_json::Value) -> CreatePurchasesRequest {
        let body = serde_json::json!({
            "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
            "idempotentShoppingTripId": "trip-1", "storeId": "S",
            "shoppingTrip": { "startTime": "2024-03-22T17:00:00Z", "endTime": "2024-03-22T17:09:39Z",
                "authEvents": [{ "id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "payloadType": "FINANCIAL" }] },
            "cartItems": cart,
            "paymentSource": { "id": "secret-card" }
        });
        validate_create_purchases(body.to_string().as_bytes()).unwrap()
    }

    fn unpriceable() -> PricingOutcome {
        PricingOutcome::Unpriceable(vec![Constraint {
            kind: ConstraintKind::UnknownSku,
            field: "cartItems[0].id".into(),
            detail: "no item".into(),
        }])
    }

    #[test]
    fn purchase_ids_are_stable_per_trip_and_distinct_across_stores_and_trips() {
        assert_eq!(purchase_id("S", "t"), purchase_id("S", "t"));
        assert_ne!(purchase_id("S", "t"), purchase_id("S2", "t"));
        assert_ne!(purchase_id("S", "t"), purchase_id("S", "t2"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(purchase_id("ab", "c"), purchase_id("a", "bc"));
        assert_eq!(
            uuid::Uuid::parse_str(&purchase_id("S", "t"))
                .unwrap()
                .get_version_num(),
            5
        );
    }

    #[test]
    fn the_fingerprint_follows_the_cart_not_the_request_id() {
        let one = request(
            serde_json::json!([{ "id": "A", "type": "SKU", "quantity": { "value": "1", "unit": "each" } }]),
        );
        let mut replay = one.clone();
        replay.request_id = "b1b2c3d4-e5f6-7890-abcd-ef1234567890".into();
        assert_eq!(
            cart_fingerprint(&one.cart_items),
            cart_fingerprint(&replay.cart_items)
        );
        let other = request(
            serde_json::json!([{ "id": "A", "type": "SKU", "quantity": { "value": "2", "unit": "each" } }]),
        );
        assert_ne!(
            cart_fingerprint(&one.cart_items),
            cart_fingerprint(&other.cart_items)
        );
    }

    #[test]
    fn a_new_purchase_reflects_its_pricing() {
        let now = Utc::now();
        let empty = Purchase::new(
            &request(serde_json::json!([])),
            PricingOutcome::EmptyCart,
            Some("v1"),
            None,
            now,
            Duration::days(30),
        );
        assert_eq!(
            (empty.state, empty.reason_code, empty.answered_id()),
            (PurchaseState::Canceled, Some(CancelReason::EmptyCart), "")
        );
        assert!(!empty.is_ready_for_checkout());

        let cart = request(
            serde_json::json!([{ "id": "A", "type": "SKU", "quantity": { "value": "1", "unit": "each" } }]),
        );
        let blocked = Purchase::new(
            &cart,
            unpriceable(),
            Some("v1"),
            None,
            now,
            Duration::days(30),
        );
        assert!(blocked.needs_attention() && !blocked.is_ready_for_checkout());
        assert_eq!(blocked.answered_id(), blocked.purchase_id);
        // Nothing unresolved expires: only a terminal state sets the TTL.
        assert_eq!(blocked.expires_at, None);
        assert_eq!(
            empty.expires_at,
            Some(empty.created_at + Duration::days(30))
        );
        // No payment or shopper identifier is kept on the record.
        assert!(
            !serde_json::to_string(&blocked)
                .unwrap()
                .contains("secret-card")
        );
    }

    fn ready() -> Purchase {
        let cart = request(
            serde_json::json!([{ "id": "A", "type": "SKU", "quantity": { "value": "1", "unit": "each" } }]),
        );
        let book = crate::pricing::PriceBook::from_json(
            br#"{"currency":"USD","stores":{"S":{"taxRates":{"STD":"0.05"}}},"items":[{"sku":"A","name":"A","price":"1.00","taxCode":"STD"}]}"#,
        )
        .unwrap();
        let pricing =
            crate::pricing::price_cart(&book, &cart, crate::contract::checkout::AmountBasis::Line);
        Purchase::new(
            &cart,
            pricing,
            Some("v1"),
            None,
            Utc::now(),
            Duration::days(30),
        )
    }

    #[test]
    fn transitions_only_from_open_and_each_bumps_the_version() {
        let now = Utc::now();
        let open = ready();
        let claimed = open
            .claim_for_checkout(now, Duration::seconds(30), "w")
            .unwrap();
        assert_eq!((claimed.version, claimed.checkout_attempts), (2, 1));
        let completed = claimed.complete("order-1", now).unwrap();
        assert_eq!(
            (
                completed.state,
                completed.order_id.as_deref(),
                completed.version
            ),
            (PurchaseState::Completed, Some("order-1"), 3)
        );
        assert_eq!(completed.checkout_lease_until, None);
        assert!(completed.complete("order-2", now).is_err());
        assert!(completed.cancel(CancelReason::Declined, "no", now).is_err());
        assert_eq!(
            completed.claim_for_checkout(now, Duration::seconds(30), "w"),
            Err(ClaimRefused::NotReady(PurchaseState::Completed))
        );
        let declined = open
            .cancel(CancelReason::Declined, "InvalidTotals", now)
            .unwrap();
        assert_eq!(
            (declined.state, declined.reason.as_deref()),
            (PurchaseState::Canceled, Some("InvalidTotals"))
        );
    }

    #[test]
    fn one_lease_at_a_time_until_it_expires_or_is_released() {
        let now = Utc::now();
        let claimed = ready()
            .claim_for_checkout(now, Duration::seconds(30), "w")
            .unwrap();
        assert!(matches!(
            claimed.claim_for_checkout(now + Duration::seconds(29), Duration::seconds(30), "w"),
            Err(ClaimRefused::Leased(_))
        ));
        // A worker that died: its lease runs out and another may claim.
        let reclaimed = claimed
            .claim_for_checkout(now + Duration::seconds(31), Duration::seconds(30), "w")
            .unwrap();
        assert_eq!(reclaimed.checkout_attempts, 2);
        // Released after a transient failure: claimable at once.
        let released = claimed.release_checkout(now, false);
        assert!(
            released
                .claim_for_checkout(now, Duration::seconds(30), "w")
                .is_ok()
        );
        // A blocked purchase is never claimed.
        let cart = request(
            serde_json::json!([{ "id": "A", "type": "SKU", "quantity": { "value": "1", "unit": "each" } }]),
        );
        let blocked = Purchase::new(
            &cart,
            unpriceable(),
            Some("v1"),
            None,
            now,
            Duration::days(30),
        );
        assert_eq!(
            blocked.claim_for_checkout(now, Duration::seconds(30), "w"),
            Err(ClaimRefused::NotReady(PurchaseState::Open))
        );
    }

    fn submission(outcome: CheckoutOutcome, unanswered_attempts: u32) -> Submission {
        Submission {
            outcome,
            unanswered_attempts,
        }
    }

    fn refused(status: u16) -> CheckoutOutcome {
        CheckoutOutcome::Refused {
            status,
            code: None,
            message: "no".into(),
        }
    }

    #[test]
    fn only_a_400_after_known_answers_is_a_decline() {
        let now = Utc::now();
        let claimed = ready()
            .claim_for_checkout(now, Duration::seconds(30), "w")
            .unwrap();
        assert!(matches!(
            claimed.verdict(&submission(refused(400), 0)),
            Verdict::Decline { .. }
        ));
        // The same 400 after an attempt of this submission got no answer: held.
        assert!(matches!(
            claimed.verdict(&submission(refused(400), 1)),
            Verdict::Hold {
                kind: ConstraintKind::CheckoutOutcomeUnknown,
                ..
            }
        ));
        // Any other 4xx is never a decline.
        for status in [404, 405, 408, 409, 413, 415, 422] {
            assert!(
                matches!(
                    claimed.verdict(&submission(refused(status), 0)),
                    Verdict::Hold {
                        kind: ConstraintKind::CheckoutRefused,
                        ..
                    }
                ),
                "{status}"
            );
        }
        // A 201 is authoritative, whatever came before.
        assert!(matches!(
            claimed.verdict(&submission(
                CheckoutOutcome::Accepted {
                    order_id: "o".into()
                },
                3
            )),
            Verdict::Complete { .. }
        ));
    }

    #[test]
    fn an_unanswered_submission_is_remembered_by_the_next_claim() {
        let now = Utc::now();
        let first = ready()
            .claim_for_checkout(now, Duration::seconds(30), "first")
            .unwrap();
        assert!(first.submission_in_flight && !first.outcome_unknown);
        // The worker died before recording anything; its lease ran out.
        let second = first
            .claim_for_checkout(now + Duration::seconds(31), Duration::seconds(30), "second")
            .unwrap();
        assert!(second.outcome_unknown);
        assert!(second.is_leased_by("second") && !second.is_leased_by("first"));
        assert!(matches!(
            second.verdict(&submission(refused(400), 0)),
            Verdict::Hold {
                kind: ConstraintKind::CheckoutOutcomeUnknown,
                ..
            }
        ));
        // A release after unanswered attempts keeps the outcome unknown; one after known
        // answers does not forget an earlier unknown.
        let released = first.release_checkout(now, true);
        assert!(released.outcome_unknown && !released.submission_in_flight);
        let again = released
            .claim_for_checkout(now, Duration::seconds(30), "third")
            .unwrap()
            .release_checkout(now, false);
        assert!(again.outcome_unknown);
    }

    #[test]
    fn a_held_purchase_is_not_ready_and_a_201_still_completes_it() {
        let now = Utc::now();
        let claimed = ready()
            .claim_for_checkout(now, Duration::seconds(30), "w")
            .unwrap();
        let held = claimed.hold(ConstraintKind::CheckoutOutcomeUnknown, "why", now);
        let held = held.hold(ConstraintKind::CheckoutOutcomeUnknown, "why", now);
        assert_eq!(held.constraints.len(), 1, "held once");
        assert!(held.needs_attention() && !held.is_ready_for_checkout());
        assert_eq!((held.state, held.expires_at), (PurchaseState::Open, None));
        assert_eq!(held.checkout_lease_until, None);
        let completed = held.complete("order-1", now).unwrap();
        assert!(completed.constraints.is_empty());
        assert_eq!(completed.expires_at, Some(now + Duration::days(30)));
    }

    #[test]
    fn a_record_from_before_the_rules_is_brought_under_them_by_its_next_change() {
        let now = Utc::now();
        // Written by the old code: Open with a TTL, and claimed by a worker that died (a lease
        // left set, no submissionInFlight kept).
        let mut old = ready();
        old.expires_at = Some(now + Duration::days(30));
        old.checkout_lease_until = Some(now - Duration::minutes(1));
        old.checkout_attempts = 1;
        let claimed = old
            .claim_for_checkout(now, Duration::seconds(30), "new")
            .unwrap();
        assert_eq!(claimed.expires_at, None, "nothing Open expires");
        assert!(
            claimed.outcome_unknown,
            "the dead worker's attempt may have charged"
        );
    }

    #[test]
    fn a_cart_already_submitted_is_never_repriced() {
        let purchase = crate::behaviour::purchase_store::sample_purchase("reprice-1", true);
        let book = VersionedPriceBook {
            version: "v2".into(),
            book: crate::pricing::PriceBook::from_json(
                br#"{"currency": "USD", "stores": {"STORE-001": {"taxRates": {"STD": "0.0825"}}},
                     "items": [{"sku": "SKU-002", "name": "Chips", "price": "2.49", "taxCode": "STD"}]}"#,
            )
            .unwrap(),
        };
        let now = purchase.created_at;
        let repriced = purchase.repriced(&book, now).unwrap();
        assert_eq!(repriced.price_book_version.as_deref(), Some("v2"));
        assert_ne!(repriced.checkout, purchase.checkout);
        let claimed = purchase
            .claim_for_checkout(now, Duration::minutes(1), "t")
            .unwrap();
        assert!(claimed.repriced(&book, now).is_err(), "leased");
        let released = claimed.release_checkout(now + Duration::minutes(2), false);
        assert!(
            released
                .repriced(&book, now + Duration::minutes(2))
                .is_err(),
            "submitted once"
        );
    }
}
