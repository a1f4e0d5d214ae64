use serde_json::{Value, json};

use super::*;
use crate::contract::create_purchases::CreatePurchasesRequest;
use crate::pricing::{PriceBook, PricingOutcome, price_cart};
use rust_decimal::Decimal;

/// A two-line cart priced by the engine: water with a fee and a promotion, and bananas.
fn priced(basis: AmountBasis) -> (Value, CreatePurchasesRequest) {
    let book = PriceBook::from_json(
        json!({
            "currency": "USD",
            "stores": { "S": { "taxRates": { "STD": "0.0825", "FOOD": "0" } } },
            "items": [
                { "sku": "W", "name": "Water", "price": "1.99", "taxCode": "STD",
                  "fees": [{ "description": "CRV", "amount": "0.05" }] },
                { "sku": "B", "name": "Bananas", "price": "0.69", "taxCode": "FOOD", "soldBy": "weight", "unit": "lb" }
            ],
            "promotions": [{ "id": "P", "description": "10% off", "type": "percentOff", "percent": "10", "skus": ["W"] }]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let cart = crate::validation::validate_create_purchases(
        json!({
            "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
            "idempotentShoppingTripId": "trip", "storeId": "S",
            "shoppingTrip": { "startTime": "2024-03-22T17:00:00Z", "endTime": "2024-03-22T17:09:39Z",
                "authEvents": [{ "id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "payloadType": "FINANCIAL" }] },
            "cartItems": [
                { "id": "W", "type": "SKU", "quantity": { "value": "3", "unit": "each" } },
                { "id": "B", "type": "SKU", "quantity": { "value": "0.45", "unit": "lb" } }
            ]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let PricingOutcome::Priced(checkout) = price_cart(&book, &cart, basis) else {
        panic!()
    };
    (serde_json::to_value(checkout).unwrap(), cart)
}

/// Breaks a correctly priced body with `tamper` and returns the (rule, field) pairs found.
fn broken(basis: AmountBasis, tamper: impl Fn(&mut Value)) -> Vec<(CheckoutRule, String)> {
    let (mut body, cart) = priced(basis);
    assert!(check_checkout_request(&body, &cart.cart_items, basis).is_empty());
    tamper(&mut body);
    check_checkout_request(&body, &cart.cart_items, basis)
        .into_iter()
        .map(|violation| (violation.rule, violation.field))
        .collect()
}

fn set_amount(body: &mut Value, pointer: &str, amount: &str) {
    *body.pointer_mut(pointer).unwrap() = json!(amount);
}

fn plus_one_cent(body: &mut Value, pointer: &str) {
    let amount: Decimal = body
        .pointer(pointer)
        .unwrap()
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    set_amount(body, pointer, &(amount + Decimal::new(1, 2)).to_string());
}

#[test]
fn a_correct_body_passes_in_both_bases() {
    for basis in [AmountBasis::Line, AmountBasis::Unit] {
        let (body, cart) = priced(basis);
        assert_eq!(
            check_checkout_request(&body, &cart.cart_items, basis),
            vec![]
        );
    }
}

#[test]
fn one_cent_off_a_line_total_breaks_rule_2() {
    for basis in [AmountBasis::Line, AmountBasis::Unit] {
        let found = broken(basis, |body| {
            plus_one_cent(body, "/lineItems/0/unitPrice/totalPrice/amount")
        });
        // The line no longer adds up; the order totals still do (they do not sum totalPrice).
        assert_eq!(
            found,
            vec![(
                CheckoutRule::LineTotal,
                "lineItems[0].unitPrice.totalPrice".into()
            )]
        );
    }
}

#[test]
fn one_cent_off_a_line_amount_breaks_the_line_and_the_order() {
    let found = broken(AmountBasis::Line, |body| {
        plus_one_cent(body, "/lineItems/1/unitPrice/salesTax/amount")
    });
    assert_eq!(
        found,
        vec![
            (
                CheckoutRule::LineTotal,
                "lineItems[1].unitPrice.totalPrice".into()
            ),
            (
                CheckoutRule::OrderTotals,
                "orderTotals.salesTaxTotal".into()
            ),
        ]
    );
}

#[test]
fn one_cent_off_an_order_total_breaks_rule_3() {
    for basis in [AmountBasis::Line, AmountBasis::Unit] {
        let found = broken(basis, |body| {
            plus_one_cent(body, "/orderTotals/priceTotal/amount")
        });
        assert_eq!(
            found,
            vec![(CheckoutRule::OrderTotals, "orderTotals.priceTotal".into())]
        );
        let found = broken(basis, |body| {
            plus_one_cent(body, "/orderTotals/subTotal/amount")
        });
        assert_eq!(
            found,
            vec![
                (CheckoutRule::OrderTotals, "orderTotals.subTotal".into()),
                (CheckoutRule::OrderTotals, "orderTotals.priceTotal".into()),
            ]
        );
    }
}

#[test]
fn a_three_decimal_or_numeric_amount_breaks_rule_4() {
    let found = broken(AmountBasis::Line, |body| {
        set_amount(body, "/lineItems/0/unitPrice/salesTax/amount", "0.440")
    });
    assert_eq!(
        found,
        vec![(
            CheckoutRule::TwoDecimals,
            "lineItems[0].unitPrice.salesTax.amount".into()
        )]
    );
    let found = broken(AmountBasis::Line, |body| {
        *body
            .pointer_mut("/orderTotals/salesTaxTotal/amount")
            .unwrap() = json!(0.44);
    });
    assert_eq!(
        found,
        vec![(
            CheckoutRule::TwoDecimals,
            "orderTotals.salesTaxTotal.amount".into()
        )]
    );
    let found = broken(AmountBasis::Line, |body| {
        *body
            .pointer_mut("/lineItems/1/unitPrice/price/currencyCode")
            .unwrap() = json!("EUR");
    });
    assert_eq!(
        found,
        vec![(
            CheckoutRule::TwoDecimals,
            "lineItems[1].unitPrice.price.currencyCode".into()
        )]
    );
}

#[test]
fn a_missing_or_extra_or_changed_line_breaks_rule_1() {
    let found = broken(AmountBasis::Line, |body| {
        body["lineItems"].as_array_mut().unwrap().remove(1);
    });
    assert!(
        found.contains(&(CheckoutRule::MatchesCart, "lineItems".into())),
        "{found:?}"
    );
    let found = broken(AmountBasis::Line, |body| {
        let copy = body["lineItems"][1].clone();
        body["lineItems"].as_array_mut().unwrap().push(copy);
    });
    assert!(
        found.contains(&(CheckoutRule::MatchesCart, "lineItems[2]".into())),
        "{found:?}"
    );
    let found = broken(AmountBasis::Line, |body| {
        body["lineItems"][0]["quantity"]["value"] = json!("2");
    });
    assert_eq!(
        found,
        vec![
            (CheckoutRule::MatchesCart, "lineItems[0]".into()),
            (CheckoutRule::MatchesCart, "lineItems".into()),
        ]
    );
    // "3" and "3.0" are the same quantity.
    let found = broken(AmountBasis::Line, |body| {
        body["lineItems"][0]["quantity"]["value"] = json!("3.0");
    });
    assert_eq!(found, vec![]);
}

#[test]
fn empty_line_items_break_rule_5() {
    let found = broken(AmountBasis::Line, |body| body["lineItems"] = json!([]));
    assert!(
        found.contains(&(CheckoutRule::NotEmpty, "lineItems".into())),
        "{found:?}"
    );
}

#[test]
fn a_line_without_a_price_breaks_rule_6() {
    let found = broken(AmountBasis::Line, |body| {
        body["lineItems"][0]["unitPrice"]
            .as_object_mut()
            .unwrap()
            .remove("price");
    });
    assert_eq!(
        found,
        vec![(
            CheckoutRule::EveryLinePriced,
            "lineItems[0].unitPrice.price".into()
        )]
    );
    let found = broken(AmountBasis::Line, |body| {
        body["lineItems"][1]
            .as_object_mut()
            .unwrap()
            .remove("unitPrice");
    });
    assert_eq!(
        found,
        vec![(
            CheckoutRule::EveryLinePriced,
            "lineItems[1].unitPrice".into()
        )]
    );
}

#[test]
fn missing_fields_and_garbage_are_not_well_formed() {
    let found = broken(AmountBasis::Line, |body| {
        body.as_object_mut().unwrap().remove("orderTotals");
    });
    assert_eq!(
        found,
        vec![(CheckoutRule::WellFormed, "orderTotals".into())]
    );
    let (_, cart) = priced(AmountBasis::Line);
    let found = check_checkout_body(b"{not json", &cart.cart_items, AmountBasis::Line);
    assert_eq!(found[0].rule, CheckoutRule::WellFormed);
}

#[test]
fn the_wrong_basis_is_caught() {
    // A unit-basis body judged as line basis: the 3 waters' per-unit price is not the line's.
    let (body, cart) = priced(AmountBasis::Unit);
    let found = check_checkout_request(&body, &cart.cart_items, AmountBasis::Line);
    assert!(
        found.iter().any(|v| v.rule == CheckoutRule::OrderTotals),
        "{found:?}"
    );
}

#[test]
fn an_amount_of_any_length_is_a_violation_not_a_panic() {
    let huge = format!("{}.99", "9".repeat(26));
    let found = broken(AmountBasis::Line, |body| {
        for pointer in [
            "/lineItems/0/unitPrice/price/amount",
            "/orderTotals/subTotal/amount",
        ] {
            set_amount(body, pointer, &huge);
        }
    });
    assert!(
        found.contains(&(
            CheckoutRule::TwoDecimals,
            "lineItems[0].unitPrice.price.amount".to_owned()
        )),
        "{found:?}"
    );
}
