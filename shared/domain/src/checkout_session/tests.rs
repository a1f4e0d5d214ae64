use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::behaviour::purchase_store::sample_purchase;
use crate::pricing::Constraint;

const ACTOR: &str = "arn:aws:iam::111122223333:role/Operator";

fn book(price: &str) -> VersionedPriceBook {
    let json = format!(
        r#"{{"currency": "USD", "stores": {{"STORE-001": {{"taxRates": {{"STD": "0.0825"}}}}}},
            "items": [{{"sku": "SKU-002", "name": "Chips", "price": "{price}", "taxCode": "STD"}}]}}"#
    );
    VersionedPriceBook {
        version: "v2".into(),
        book: crate::pricing::PriceBook::from_json(json.as_bytes()).unwrap(),
    }
}

/// A purchase the checkout held: its submission went unanswered and a repeat was refused.
fn held(trip: &str) -> Purchase {
    let purchase = sample_purchase(trip, true);
    let now = purchase.created_at;
    purchase
        .claim_for_checkout(now, Duration::minutes(1), "t")
        .unwrap()
        .hold(
            ConstraintKind::CheckoutOutcomeUnknown,
            "409 after a lost answer",
            now,
        )
}

#[test]
fn the_view_is_the_checkout_session_shape_without_shopper_ids() {
    let purchase = sample_purchase("view-1", true);
    let view = serde_json::to_value(CheckoutSession::of(&purchase, purchase.created_at)).unwrap();
    assert_eq!(view["statusDetail"]["state"], "Open");
    assert_eq!(
        view["statusDetail"]["lastUpdatedTimestamp"],
        "2024-03-22T17:10:00Z"
    );
    assert_eq!(view["creationTimestamp"], "2024-03-22T17:10:00Z");
    assert_eq!(view["expirationTimestamp"], serde_json::Value::Null);
    assert_eq!(view["orderTotals"]["priceTotal"]["amount"], "3.78");
    assert_eq!(view["lineItems"].as_array().unwrap().len(), 1);
    assert_eq!(view["cart"]["cartItems"][0]["id"], "SKU-002");
    assert_eq!(view["checkout"]["outcomeKnown"], true);
    let text = view.to_string();
    for never in ["shopper", "payment", "device", "scanResult"] {
        assert!(!text.contains(never), "{never} in {text}");
    }
    let blocked = sample_purchase("view-2", false);
    let view = serde_json::to_value(CheckoutSession::of(&blocked, blocked.created_at)).unwrap();
    assert_eq!(view["constraints"][0]["constraintId"], "UnknownSku");
    assert_eq!(view["constraints"][0]["field"], "cartItems[0].id");
}

#[test]
fn nothing_is_changed_while_a_checkout_holds_the_purchase_or_once_it_is_closed() {
    let purchase = sample_purchase("leased-1", true);
    let now = purchase.created_at;
    let claimed = purchase
        .claim_for_checkout(now, Duration::minutes(1), "t")
        .unwrap();
    assert!(matches!(
        claimed.canceled_by(ACTOR, "wrong store", false, now),
        Err(Refusal::Leased { .. })
    ));
    assert!(matches!(
        claimed.repriced_by(ACTOR, &book("2.49"), now),
        Err(Refusal::Leased { .. })
    ));
    let completed = claimed.complete("order-1", now).unwrap();
    assert!(matches!(
        completed.canceled_by(ACTOR, "too late", false, now),
        Err(Refusal::NotOpen {
            state: PurchaseState::Completed,
            ..
        })
    ));
    assert!(matches!(
        completed.with_metadata_by(ACTOR, &MerchantMetadata::default(), now),
        Err(Refusal::NotOpen { .. })
    ));
}

#[test]
fn a_cancel_is_operator_canceled_and_in_the_history() {
    let purchase = sample_purchase("cancel-1", false);
    let now = Utc.with_ymd_and_hms(2024, 3, 23, 9, 0, 0).unwrap();
    let canceled = purchase
        .canceled_by(ACTOR, "test cart", false, now)
        .unwrap();
    assert_eq!(
        (canceled.state, canceled.reason_code),
        (
            PurchaseState::Canceled,
            Some(CancelReason::OperatorCanceled)
        )
    );
    assert_eq!(canceled.history.len(), 1);
    assert_eq!(canceled.history[0].actor, ACTOR);
    assert_eq!(canceled.history[0].action, "cancel");
    assert!(canceled.expires_at.is_some());
}

#[test]
fn a_held_purchase_is_completed_with_a_confirmed_order_or_released_to_resubmit() {
    let held = held("held-1");
    let now = held.updated_at;
    let confirmed = held.confirmed_by(ACTOR, "order-amazon-said", now).unwrap();
    assert_eq!(confirmed.state, PurchaseState::Completed);
    assert_eq!(confirmed.order_id.as_deref(), Some("order-amazon-said"));
    assert!(confirmed.constraints.is_empty());
    assert!(held.confirmed_by(ACTOR, " ", now).is_err());
    let released = held.released_by(ACTOR, now).unwrap();
    assert!(released.is_ready_for_checkout());
    assert!(
        released.outcome_unknown,
        "a 4xx still holds it, never declines it"
    );
    assert_eq!(released.history.last().unwrap().action, "resubmit");
    // A purchase whose every answer was known is completed by submitting it, not by hand.
    let fresh = sample_purchase("fresh-1", true);
    assert!(matches!(
        fresh.confirmed_by(ACTOR, "order-x", now),
        Err(Refusal::NotApplicable { .. })
    ));
    assert!(fresh.released_by(ACTOR, now).is_err());
}

#[test]
fn reprice_and_metadata_twice_have_the_effect_of_once() {
    let mut unpriced = sample_purchase("reprice-op", true);
    unpriced.checkout = None;
    unpriced.constraints = vec![Constraint::no_price_book("none")];
    let now = unpriced.created_at;
    let priced = unpriced
        .repriced_by(ACTOR, &book("3.49"), now)
        .unwrap()
        .unwrap();
    assert!(priced.is_ready_for_checkout());
    assert_eq!(
        priced.history[0].detail,
        "priced with price book v2: total 3.78"
    );
    assert_eq!(priced.repriced_by(ACTOR, &book("3.49"), now).unwrap(), None);
    let metadata = MerchantMetadata {
        merchant_reference_id: Some("R-1".into()),
        custom_information: None,
    };
    let tagged = priced
        .with_metadata_by(ACTOR, &metadata, now)
        .unwrap()
        .unwrap();
    assert_eq!(tagged.merchant_metadata, metadata);
    assert_eq!(tagged.version, priced.version + 1);
    assert_eq!(
        tagged.with_metadata_by(ACTOR, &metadata, now).unwrap(),
        None
    );
}

#[test]
fn a_purchase_amazon_may_have_charged_is_canceled_only_once_amazon_says_it_did_not() {
    // Held after a lost answer; and one whose worker claimed it and died (its lease ran out).
    let held = held("maybe-1");
    let purchase = sample_purchase("maybe-2", true);
    let claimed_at = purchase.created_at;
    let abandoned = purchase
        .claim_for_checkout(claimed_at, Duration::seconds(30), "dead-worker")
        .unwrap();
    let later = claimed_at + Duration::minutes(5);
    for maybe in [&held, &abandoned] {
        let view = CheckoutSession::of(maybe, later);
        assert!(!view.checkout.outcome_known, "{}", maybe.purchase_id);
        assert!(matches!(
            maybe.canceled_by(ACTOR, "no idea", false, later),
            Err(Refusal::NotApplicable { .. })
        ));
        let canceled = maybe
            .canceled_by(ACTOR, "Amazon: not charged", true, later)
            .unwrap();
        assert_eq!(canceled.reason_code, Some(CancelReason::OperatorCanceled));
        // And a charge Amazon confirms can be recorded on either.
        assert!(maybe.confirmed_by(ACTOR, "order-1", later).is_ok());
    }
}
