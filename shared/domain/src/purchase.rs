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

use crate::alerts::AlertKind;
use crate::contract::Timestamp;
use crate::contract::checkout::CheckoutRequest;
use crate::contract::create_purchases::{CartItem, CreatePurchasesRequest};
use crate::pricing::{Constraint, PricingOutcome};

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The alerts published about this purchase, so each goes out once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts_sent: Vec<AlertKind>,
    /// Submissions to the Checkout Service so far.
    #[serde(default)]
    pub checkout_attempts: u32,
    /// While set and in the future, one worker holds the right to submit this purchase; no
    /// other may, so concurrent deliveries of one record submit once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_lease_until: Option<DateTime<Utc>>,
    /// Bumped by every change; a store writes version n+1 only over version n.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the record may be deleted (the table's TTL attribute).
    pub expires_at: DateTime<Utc>,
}

/// Why a purchase cannot be claimed for checkout now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefused {
    #[error("not ready for checkout (state {0}, or constraints, or nothing priced)")]
    NotReady(PurchaseState),
    #[error("another worker holds the checkout lease until {0}")]
    Leased(DateTime<Utc>),
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
    /// The record for a validated, priced request, as first stored.
    pub fn new(
        request: &CreatePurchasesRequest,
        pricing: PricingOutcome,
        price_book_version: &str,
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
        Purchase {
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
            price_book_version: Some(price_book_version.to_owned()),
            order_id: None,
            alerts_sent: Vec::new(),
            checkout_attempts: 0,
            checkout_lease_until: None,
            version: 1,
            created_at: now,
            updated_at: now,
            expires_at: now + retention,
        }
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

    fn next(&self, now: DateTime<Utc>) -> Purchase {
        let mut next = self.clone();
        next.version += 1;
        next.updated_at = now;
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

    /// Whether an alert of this kind was published about the purchase.
    pub fn was_alerted(&self, kind: AlertKind) -> bool {
        self.alerts_sent.contains(&kind)
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

    /// Open for longer than `window` since it was created: checkout should have happened by now.
    pub fn is_stuck_open(&self, now: DateTime<Utc>, window: Duration) -> bool {
        self.state == PurchaseState::Open && now - self.created_at > window
    }

    /// Takes the right to submit the purchase to the Checkout Service until `now + lease`.
    /// Refused unless the purchase is ready for checkout and no unexpired lease is held.
    pub fn claim_for_checkout(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Purchase, ClaimRefused> {
        if !self.is_ready_for_checkout() {
            return Err(ClaimRefused::NotReady(self.state));
        }
        if let Some(until) = self.checkout_lease_until.filter(|until| *until > now) {
            return Err(ClaimRefused::Leased(until));
        }
        let mut next = self.next(now);
        next.checkout_attempts += 1;
        next.checkout_lease_until = Some(now + lease);
        Ok(next)
    }

    /// Gives the lease back after a submission that may be retried later.
    pub fn release_checkout(&self, now: DateTime<Utc>) -> Purchase {
        let mut next = self.next(now);
        next.checkout_lease_until = None;
        next
    }

    /// Open → Completed: the Checkout Service accepted the cart.
    pub fn complete(&self, order_id: &str, now: DateTime<Utc>) -> Result<Purchase, LifecycleError> {
        self.require_open("complete")?;
        let mut next = self.next(now);
        next.state = PurchaseState::Completed;
        next.order_id = Some(order_id.to_owned());
        next.checkout_lease_until = None;
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
        next.checkout_lease_until = None;
        Ok(next)
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
            "v1",
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
        let blocked = Purchase::new(&cart, unpriceable(), "v1", now, Duration::days(30));
        assert!(blocked.needs_attention() && !blocked.is_ready_for_checkout());
        assert_eq!(blocked.answered_id(), blocked.purchase_id);
        assert_eq!(blocked.expires_at - blocked.created_at, Duration::days(30));
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
        Purchase::new(&cart, pricing, "v1", Utc::now(), Duration::days(30))
    }

    #[test]
    fn transitions_only_from_open_and_each_bumps_the_version() {
        let now = Utc::now();
        let open = ready();
        let claimed = open.claim_for_checkout(now, Duration::seconds(30)).unwrap();
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
            completed.claim_for_checkout(now, Duration::seconds(30)),
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
            .claim_for_checkout(now, Duration::seconds(30))
            .unwrap();
        assert!(matches!(
            claimed.claim_for_checkout(now + Duration::seconds(29), Duration::seconds(30)),
            Err(ClaimRefused::Leased(_))
        ));
        // A worker that died: its lease runs out and another may claim.
        let reclaimed = claimed
            .claim_for_checkout(now + Duration::seconds(31), Duration::seconds(30))
            .unwrap();
        assert_eq!(reclaimed.checkout_attempts, 2);
        // Released after a transient failure: claimable at once.
        let released = claimed.release_checkout(now);
        assert!(
            released
                .claim_for_checkout(now, Duration::seconds(30))
                .is_ok()
        );
        // A blocked purchase is never claimed.
        let cart = request(
            serde_json::json!([{ "id": "A", "type": "SKU", "quantity": { "value": "1", "unit": "each" } }]),
        );
        let blocked = Purchase::new(&cart, unpriceable(), "v1", now, Duration::days(30));
        assert_eq!(
            blocked.claim_for_checkout(now, Duration::seconds(30)),
            Err(ClaimRefused::NotReady(PurchaseState::Open))
        );
    }
}
