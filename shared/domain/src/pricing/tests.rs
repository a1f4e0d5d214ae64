//! The engine against docs/pricing.md: its worked examples, a hand-checked example for each
//! promotion type and each settled detail, and generated carts for the invariants.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::checkout_rules::check_checkout_request;
use crate::contract::checkout::{AmountBasis, CheckoutRequest};
use crate::contract::create_purchases::{CartItem, CartItemType, CreatePurchasesRequest};

/// docs/pricing.md's example store, with the promotions each test adds.
fn book(items: serde_json::Value, promotions: serde_json::Value) -> PriceBook {
    let file = json!({
        "currency": "USD",
        "stores": {
            "STORE-001": { "taxRates": { "STD": "0.0825", "FOOD": "0", "ALC": "0.1025" } },
            "STORE-002": { "taxRates": { "STD": "0.07" } }
        },
        "items": items,
        "promotions": promotions,
    });
    PriceBook::from_json(file.to_string().as_bytes()).expect("test price book is valid")
}

fn item(sku: &str, price: &str, tax: &str) -> serde_json::Value {
    json!({ "sku": sku, "name": sku, "price": price, "taxCode": tax })
}

fn request_at(store: &str, end_time: &str, lines: &[(&str, &str)]) -> CreatePurchasesRequest {
    let cart_items: Vec<serde_json::Value> = lines
        .iter()
        .map(|(id, quantity)| {
            let unit = if quantity.contains('.') { "lb" } else { "each" };
            json!({ "id": id, "type": "SKU", "quantity": { "value": quantity, "unit": unit } })
        })
        .collect();
    let body = json!({
        "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "idempotentShoppingTripId": "trip-1",
        "storeId": store,
        "shoppingTrip": {
            "startTime": "2024-03-22T17:00:00Z",
            "endTime": end_time,
            "authEvents": [{ "id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "payloadType": "FINANCIAL" }]
        },
        "cartItems": cart_items,
    });
    crate::validation::validate_create_purchases(body.to_string().as_bytes()).expect("valid cart")
}

fn request(lines: &[(&str, &str)]) -> CreatePurchasesRequest {
    request_at("STORE-001", "2024-03-22T17:09:39Z", lines)
}

/// Prices in `basis` and insists the result passes every checkout rule.
fn priced(
    book: &PriceBook,
    request: &CreatePurchasesRequest,
    basis: AmountBasis,
) -> CheckoutRequest {
    let PricingOutcome::Priced(checkout) = price_cart(book, request, basis) else {
        panic!("cart was not priced");
    };
    let violations = check_checkout_request(
        &serde_json::to_value(&checkout).unwrap(),
        &request.cart_items,
        basis,
    );
    assert!(violations.is_empty(), "{violations:#?}");
    checkout
}

/// A line as text: price, [(description, amount)], tax, total.
fn line(
    checkout: &CheckoutRequest,
    index: usize,
) -> (String, Vec<(String, String)>, String, String) {
    let unit_price = &checkout.line_items[index].unit_price;
    (
        unit_price.price.amount_text(),
        unit_price
            .promotions
            .iter()
            .map(|p| {
                (
                    p.promotion_description.to_string(),
                    p.promotion_amount.amount_text(),
                )
            })
            .collect(),
        unit_price.sales_tax.amount_text(),
        unit_price.total_price.amount_text(),
    )
}

fn promos(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(d, a)| (d.to_string(), a.to_string()))
        .collect()
}

fn totals(checkout: &CheckoutRequest) -> [String; 4] {
    let t = &checkout.order_totals;
    [
        &t.sub_total,
        &t.promotions_total,
        &t.sales_tax_total,
        &t.price_total,
    ]
    .map(|m| m.amount_text())
}

#[test]
fn worked_example_water_with_percent_off_tax_and_untaxed_fee() {
    let book = book(
        json!([{ "sku": "SKU-001", "name": "Sparkling water", "price": "1.99", "taxCode": "STD",
                 "fees": [{ "description": "CA CRV", "amount": "0.05", "taxable": false }] }]),
        json!([{ "id": "P-10OFF", "description": "10% off water", "type": "percentOff", "percent": "10", "skus": ["SKU-001"] }]),
    );
    let checkout = priced(&book, &request(&[("SKU-001", "1")]), AmountBasis::Line);
    assert_eq!(
        line(&checkout, 0),
        (
            "1.99".into(),
            promos(&[("10% off water", "0.20")]),
            "0.15".into(),
            "1.99".into()
        )
    );
    let fee = &checkout.line_items[0].unit_price.deposits_and_fees[0];
    assert_eq!(fee.deposit_and_fee_amount.amount_text(), "0.05");
    assert_eq!(fee.sales_tax.amount_text(), "0.00");
    assert_eq!(totals(&checkout), ["1.99", "0.20", "0.15", "1.99"]);
}

#[test]
fn the_explanation_of_the_worked_example_shows_each_amount_and_its_rounding() {
    let book = book(
        json!([{ "sku": "SKU-001", "name": "Sparkling water", "price": "1.99", "taxCode": "STD",
                 "barcodes": [{ "type": "UPC", "id": "012345678905" }],
                 "fees": [{ "description": "CA CRV", "amount": "0.05", "taxable": false }] }]),
        json!([{ "id": "P-10OFF", "description": "10% off water", "type": "percentOff", "percent": "10", "skus": ["SKU-001"] }]),
    );
    let mut cart = request(&[("SKU-001", "1")]);
    let (checkout, explanation) =
        explain_cart(&book, &cart, AmountBasis::Line, &[]).expect("priced");
    assert_eq!(checkout, priced(&book, &cart, AmountBasis::Line));
    let line = &explanation.lines[0];
    assert_eq!((line.found_by, line.sku.as_str()), ("SKU", "SKU-001"));
    assert_eq!(line.extended_price.amount, "1.99");
    assert_eq!(line.promotions.len(), 1);
    let promotion = &line.promotions[0];
    assert_eq!(
        (
            promotion.promotion_id.as_str(),
            promotion.promotion_type,
            promotion.amount.as_str()
        ),
        ("P-10OFF", "percentOff", "0.20")
    );
    assert_eq!(promotion.units.as_deref(), Some("1"));
    assert!(promotion.how.contains("= 0.199"), "{}", promotion.how);
    assert_eq!(
        (
            line.tax.tax_code.as_str(),
            line.tax.rate.as_str(),
            line.tax.base.as_str(),
            line.tax.amount.as_str()
        ),
        ("STD", "0.0825", "1.79", "0.15")
    );
    assert!(line.tax.how.contains("0.147675"), "{}", line.tax.how);
    assert_eq!(
        (line.fees[0].amount.as_str(), line.fees[0].taxable),
        ("0.05", false)
    );
    assert_eq!(line.line_total, "1.99");
    assert_eq!(explanation.totals.total, "1.99");
    assert_eq!(explanation.threshold, None);

    cart.cart_items[0].item_type = CartItemType::ScanCode;
    cart.cart_items[0].id = "012345678905".into();
    let (_, by_barcode) = explain_cart(&book, &cart, AmountBasis::Line, &[]).expect("priced");
    assert_eq!(by_barcode.lines[0].found_by, "barcode");
}

fn person_price(line: usize, unit_price: &str, tax_code: &str) -> LinePrice {
    LinePrice {
        line,
        unit_price: unit_price.into(),
        tax_code: tax_code.into(),
        reason: "shelf tag".into(),
        actor: "local:test".into(),
        at: "2024-03-22T18:00:00Z".parse().unwrap(),
    }
}

#[test]
fn a_line_a_person_priced_takes_that_price_no_item_promotion_and_its_threshold_share() {
    let book = book(
        json!([item("SKU-001", "2.00", "STD")]),
        json!([
            { "id": "P-HALF", "description": "half off", "type": "percentOff", "percent": "50", "skus": ["SKU-001"] },
            { "id": "T-1", "description": "1 off 5", "type": "threshold", "minSubtotal": "5.00", "amount": "1.00" }
        ]),
    );
    let cart = request(&[("SKU-001", "2"), ("NOT-IN-BOOK", "3")]);
    let PricingOutcome::Unpriceable(constraints) = price_cart(&book, &cart, AmountBasis::Line)
    else {
        panic!("an unknown SKU is not priceable");
    };
    assert_eq!(constraints[0].kind, ConstraintKind::UnknownSku);

    // The person's price: 3 × 1.50 = 4.50; with the book's line (2 × 2.00 − 2.00 = 2.00) the
    // subtotal 6.50 reaches the threshold, split 2.00 : 4.50.
    let prices = [person_price(1, "1.50", "FOOD")];
    let PricingOutcome::Priced(checkout) =
        price_cart_with(&book, &cart, AmountBasis::Line, &prices)
    else {
        panic!("priced with the person's price");
    };
    let violations = check_checkout_request(
        &serde_json::to_value(&checkout).unwrap(),
        &cart.cart_items,
        AmountBasis::Line,
    );
    assert!(violations.is_empty(), "{violations:#?}");
    assert_eq!(
        line(&checkout, 1),
        (
            "4.50".into(),
            promos(&[("1 off 5", "0.69")]),
            "0.00".into(),
            "3.81".into()
        )
    );
    let (_, explanation) = explain_cart(&book, &cart, AmountBasis::Line, &prices).unwrap();
    let explained = &explanation.lines[1];
    assert_eq!(explained.found_by, "person");
    let by = explained.priced_by.as_ref().expect("who priced it");
    assert_eq!(
        (by.actor.as_str(), by.reason.as_str()),
        ("local:test", "shelf tag")
    );
    assert_eq!(
        explanation.threshold.as_ref().map(|t| t.subtotal.as_str()),
        Some("6.50")
    );

    // A tax code without a rate at the store leaves the cart unpriceable, naming the override.
    let PricingOutcome::Unpriceable(constraints) = price_cart_with(
        &book,
        &cart,
        AmountBasis::Line,
        &[person_price(1, "1.50", "NOPE")],
    ) else {
        panic!("no rate for NOPE");
    };
    assert_eq!(constraints[0].kind, ConstraintKind::MissingTaxRate);
    assert!(
        constraints[0].field.starts_with("lineOverrides"),
        "{}",
        constraints[0].field
    );
}

/// A scan-code line a person prices keeps the fees of the book's item its barcode names.
#[test]
fn a_scan_code_line_a_person_priced_keeps_the_fees_of_the_item_its_barcode_names() {
    let book = book(
        json!([{ "sku": "SKU-W", "name": "Water", "price": "1.99", "taxCode": "STD",
                 "barcodes": [{ "type": "UPC", "id": "012345678905" }],
                 "fees": [{ "description": "CA CRV", "amount": "0.05", "taxable": false }] }]),
        json!([]),
    );
    let mut cart = request(&[("012345678905", "2")]);
    cart.cart_items[0].item_type = CartItemType::ScanCode;
    let (_, explanation) = explain_cart(
        &book,
        &cart,
        AmountBasis::Line,
        &[person_price(0, "1.00", "STD")],
    )
    .unwrap();
    let explained = &explanation.lines[0];
    assert_eq!(
        (explained.found_by, explained.sku.as_str()),
        ("person", "SKU-W")
    );
    assert_eq!(explained.fees.len(), 1, "{explained:#?}");
    assert_eq!(explained.fees[0].amount, "0.10");
}

#[test]
fn worked_example_bananas_by_weight() {
    let book = book(
        json!([{ "sku": "SKU-BAN", "name": "Bananas", "price": "0.69", "taxCode": "FOOD", "soldBy": "weight", "unit": "lb" }]),
        json!([]),
    );
    let checkout = priced(&book, &request(&[("SKU-BAN", "0.45")]), AmountBasis::Line);
    assert_eq!(
        line(&checkout, 0),
        ("0.31".into(), vec![], "0.00".into(), "0.31".into())
    );
    assert_eq!(totals(&checkout), ["0.31", "0.00", "0.00", "0.31"]);
}

#[test]
fn percent_off_is_rounded_once_per_line() {
    let book = book(
        json!([item("SKU-A", "0.55", "FOOD")]),
        json!([{ "id": "P", "description": "10% off", "type": "percentOff", "percent": "10", "skus": ["SKU-A"] }]),
    );
    // 3 × 0.55 at 10% → round2(0.165) = 0.17, not 3 × round2(0.055) = 0.18.
    let checkout = priced(&book, &request(&[("SKU-A", "3")]), AmountBasis::Line);
    assert_eq!(
        line(&checkout, 0),
        (
            "1.65".into(),
            promos(&[("10% off", "0.17")]),
            "0.00".into(),
            "1.48".into()
        )
    );
}

#[test]
fn amount_off_per_unit_and_never_below_zero() {
    let book = book(
        json!([item("SKU-002", "3.49", "STD"), item("SKU-X", "0.30", "STD")]),
        json!([
            { "id": "P-50C", "description": "50c off", "type": "amountOff", "amount": "0.50", "skus": ["SKU-002", "SKU-X"] }
        ]),
    );
    let checkout = priced(
        &book,
        &request(&[("SKU-002", "2"), ("SKU-X", "3")]),
        AmountBasis::Line,
    );
    // 6.98 − 1.00 = 5.98; tax round2(5.98 × 0.0825 = 0.49335) = 0.49.
    assert_eq!(
        line(&checkout, 0),
        (
            "6.98".into(),
            promos(&[("50c off", "1.00")]),
            "0.49".into(),
            "6.47".into()
        )
    );
    // 0.50 off a 0.30 item takes 0.30 a unit, no more.
    assert_eq!(
        line(&checkout, 1),
        (
            "0.90".into(),
            promos(&[("50c off", "0.90")]),
            "0.00".into(),
            "0.00".into()
        )
    );
}

#[test]
fn best_simple_promotion_is_compared_on_exact_per_unit_savings() {
    let items = json!([item("SKU-001", "1.99", "FOOD")]);
    // 10% of 1.99 is 0.199 a unit; 0.20 off saves more, if only by a tenth of a cent.
    let book_a = book(
        items.clone(),
        json!([
            { "id": "P1", "description": "10% off", "type": "percentOff", "percent": "10", "skus": ["SKU-001"] },
            { "id": "P2", "description": "20c off", "type": "amountOff", "amount": "0.20", "skus": ["SKU-001"] }
        ]),
    );
    let checkout = priced(&book_a, &request(&[("SKU-001", "10")]), AmountBasis::Line);
    assert_eq!(line(&checkout, 0).1, promos(&[("20c off", "2.00")]));
    let book_b = book(
        items.clone(),
        json!([
            { "id": "P1", "description": "10% off", "type": "percentOff", "percent": "10", "skus": ["SKU-001"] },
            { "id": "P2", "description": "19c off", "type": "amountOff", "amount": "0.19", "skus": ["SKU-001"] }
        ]),
    );
    let checkout = priced(&book_b, &request(&[("SKU-001", "10")]), AmountBasis::Line);
    assert_eq!(line(&checkout, 0).1, promos(&[("10% off", "1.99")]));
    // Equal savings: the higher priority wins, then the earlier entry.
    let book_c = book(
        items,
        json!([
            { "id": "P1", "description": "first", "type": "amountOff", "amount": "0.10", "skus": ["SKU-001"] },
            { "id": "P2", "description": "second", "type": "amountOff", "amount": "0.10", "skus": ["SKU-001"] },
            { "id": "P3", "description": "urgent", "type": "amountOff", "amount": "0.10", "skus": ["SKU-001"], "priority": 5 }
        ]),
    );
    let checkout = priced(&book_c, &request(&[("SKU-001", "1")]), AmountBasis::Line);
    assert_eq!(line(&checkout, 0).1, promos(&[("urgent", "0.10")]));
}

#[test]
fn buy_x_get_y_mixes_and_matches_and_splits_by_price_share() {
    let book = book(
        json!([
            item("SKU-003", "1.25", "FOOD"),
            item("SKU-004", "1.50", "FOOD")
        ]),
        json!([{ "id": "P-B2G1", "description": "Buy 2 get 1", "type": "buyXGetY", "buy": 2, "get": 1, "skus": ["SKU-003", "SKU-004"] }]),
    );
    // Pool: 1.50, 1.25, 1.25 → one group; the cheapest unit (1.25) is free.
    // Split 1.25 over 2.50 : 1.50 → 0.78125 | 0.46875 → 0.78 | 0.46, the cent left over to the
    // larger remainder (the second line): 0.78 | 0.47.
    let checkout = priced(
        &book,
        &request(&[("SKU-003", "2"), ("SKU-004", "1")]),
        AmountBasis::Line,
    );
    assert_eq!(
        line(&checkout, 0),
        (
            "2.50".into(),
            promos(&[("Buy 2 get 1", "0.78")]),
            "0.00".into(),
            "1.72".into()
        )
    );
    assert_eq!(
        line(&checkout, 1),
        (
            "1.50".into(),
            promos(&[("Buy 2 get 1", "0.47")]),
            "0.00".into(),
            "1.03".into()
        )
    );
    assert_eq!(totals(&checkout), ["4.00", "1.25", "0.00", "2.75"]);
}

#[test]
fn buy_x_get_y_rounds_once_per_group_and_leaves_the_cheapest_over() {
    let book = book(
        json!([item("SKU-003", "1.25", "FOOD")]),
        json!([{ "id": "P", "description": "Buy 2 get 1 half off", "type": "buyXGetY", "buy": 2, "get": 1, "percent": "50", "skus": ["SKU-003"] }]),
    );
    // 7 units: two groups of 3, one unit over. Each group: round2(0.625) = 0.63 → 1.26
    // (rounding the two groups together would give 1.25).
    let checkout = priced(&book, &request(&[("SKU-003", "7")]), AmountBasis::Line);
    assert_eq!(
        line(&checkout, 0).1,
        promos(&[("Buy 2 get 1 half off", "1.26")])
    );
}

#[test]
fn multi_buy_groups_the_dearest_units_first() {
    let book = book(
        json!([
            item("SKU-005", "1.99", "STD"),
            item("SKU-006", "2.29", "STD")
        ]),
        json!([{ "id": "P-3FOR5", "description": "3 for $5", "type": "multiBuy", "quantity": 3, "price": "5.00", "skus": ["SKU-005", "SKU-006"] }]),
    );
    // Pool 2.29, 2.29, 1.99, 1.99 → group (2.29, 2.29, 1.99) = 6.57 → 1.57 off; one 1.99 over.
    // Split 1.57 over 1.99 : 4.58 → 0.4755 | 1.0944 → 0.47 | 1.09, the cent to the first: 0.48.
    let checkout = priced(
        &book,
        &request(&[("SKU-005", "2"), ("SKU-006", "2")]),
        AmountBasis::Line,
    );
    // Taxes: (3.98 − 0.48) × 0.0825 = 0.28875 → 0.29; (4.58 − 1.09) × 0.0825 = 0.287925 → 0.29.
    assert_eq!(
        line(&checkout, 0),
        (
            "3.98".into(),
            promos(&[("3 for $5", "0.48")]),
            "0.29".into(),
            "3.79".into()
        )
    );
    assert_eq!(
        line(&checkout, 1),
        (
            "4.58".into(),
            promos(&[("3 for $5", "1.09")]),
            "0.29".into(),
            "3.78".into()
        )
    );
}

#[test]
fn a_group_without_a_discount_is_not_formed() {
    let book = book(
        json!([item("SKU-005", "1.00", "FOOD")]),
        json!([
            { "id": "P-3FOR5", "description": "3 for $5", "type": "multiBuy", "quantity": 3, "price": "5.00", "skus": ["SKU-005"] },
            { "id": "P-10", "description": "10% off", "type": "percentOff", "percent": "10", "skus": ["SKU-005"] }
        ]),
    );
    // 3 × 1.00 = 3.00 < 5.00: no group, so every unit stays free for the 10% off.
    let checkout = priced(&book, &request(&[("SKU-005", "3")]), AmountBasis::Line);
    assert_eq!(line(&checkout, 0).1, promos(&[("10% off", "0.30")]));
}

#[test]
fn pooled_first_then_simple_on_the_units_left_over() {
    let book = book(
        json!([item("SKU-003", "1.25", "FOOD")]),
        json!([
            { "id": "P-10", "description": "10% off", "type": "percentOff", "percent": "10", "skus": ["SKU-003"] },
            { "id": "P-B2G1", "description": "Buy 2 get 1", "type": "buyXGetY", "buy": 2, "get": 1, "skus": ["SKU-003"] }
        ]),
    );
    // 4 units: one group of 3 (1.25 off), one unit over takes 10%: round2(0.125) = 0.13.
    let checkout = priced(&book, &request(&[("SKU-003", "4")]), AmountBasis::Line);
    assert_eq!(
        line(&checkout, 0).1,
        promos(&[("Buy 2 get 1", "1.25"), ("10% off", "0.13")])
    );
}

#[test]
fn pooled_promotions_apply_by_priority_and_each_unit_joins_one_group() {
    let book = book(
        json!([item("SKU-005", "2.00", "FOOD")]),
        json!([
            { "id": "P-3FOR5", "description": "3 for $5", "type": "multiBuy", "quantity": 3, "price": "5.00", "skus": ["SKU-005"] },
            { "id": "P-2FOR3", "description": "2 for $3", "type": "multiBuy", "quantity": 2, "price": "3.00", "skus": ["SKU-005"], "priority": 1 }
        ]),
    );
    // Priority 1 first: 5 units → two groups of 2 (1.00 off each); the fifth unit cannot form 3.
    let checkout = priced(&book, &request(&[("SKU-005", "5")]), AmountBasis::Line);
    assert_eq!(line(&checkout, 0).1, promos(&[("2 for $3", "2.00")]));
}

#[test]
fn lines_of_the_same_sku_stay_separate_lines() {
    let book = book(
        json!([item("SKU-A", "0.55", "FOOD")]),
        json!([{ "id": "P", "description": "10% off", "type": "percentOff", "percent": "10", "skus": ["SKU-A"] }]),
    );
    let checkout = priced(
        &book,
        &request(&[("SKU-A", "3"), ("SKU-A", "3")]),
        AmountBasis::Line,
    );
    assert_eq!(checkout.line_items.len(), 2);
    // Each line rounds on its own: 0.17 + 0.17, not round2(0.33) once.
    assert_eq!(totals(&checkout)[1], "0.34");
}

#[test]
fn weight_items_take_no_part_in_pools_but_take_simple_promotions() {
    let book = book(
        json!([{ "sku": "SKU-APL", "name": "Apples", "price": "2.49", "taxCode": "FOOD", "soldBy": "weight", "unit": "lb" },
               { "sku": "SKU-BAN", "name": "Bananas", "price": "0.69", "taxCode": "FOOD", "soldBy": "weight", "unit": "lb" }]),
        json!([
            { "id": "P-B2G1", "description": "Buy 2 get 1", "type": "buyXGetY", "buy": 2, "get": 1, "skus": ["SKU-APL"] },
            { "id": "P-20", "description": "20% off", "type": "percentOff", "percent": "20", "skus": ["SKU-APL"] },
            { "id": "P-1", "description": "1.00 off", "type": "amountOff", "amount": "1.00", "skus": ["SKU-BAN"] }
        ]),
    );
    let checkout = priced(
        &book,
        &request(&[("SKU-APL", "3.000"), ("SKU-BAN", "1.25")]),
        AmountBasis::Line,
    );
    // 3 lb × 2.49 = 7.47; 20%: round2(2.49 × 3 × 0.2 = 1.494) = 1.49. No group of 3 "units".
    assert_eq!(
        line(&checkout, 0),
        (
            "7.47".into(),
            promos(&[("20% off", "1.49")]),
            "0.00".into(),
            "5.98".into()
        )
    );
    // 1.00 off per lb, capped at the 0.69 price: round2(0.69 × 1.25 = 0.8625) = 0.86.
    assert_eq!(
        line(&checkout, 1),
        (
            "0.86".into(),
            promos(&[("1.00 off", "0.86")]),
            "0.00".into(),
            "0.00".into()
        )
    );
}

#[test]
fn threshold_splits_by_net_price_and_needs_the_subtotal_net_of_item_promotions() {
    let promotions = json!([
        { "id": "P-SPEND", "description": "$5 off $50", "type": "threshold", "minSubtotal": "50.00", "amount": "5.00" },
        { "id": "P-SPEND2", "description": "$1 off $10", "type": "threshold", "minSubtotal": "10.00", "amount": "1.00" }
    ]);
    let items = json!([
        item("SKU-010", "12.99", "FOOD"),
        item("SKU-009", "7.49", "FOOD")
    ]);
    let book_a = book(items.clone(), promotions.clone());
    // 38.97 + 14.98 = 53.95 ≥ 50: the $5 (saving most) over 3897 : 1498 → 3.61 | 1.39.
    let checkout = priced(
        &book_a,
        &request(&[("SKU-010", "3"), ("SKU-009", "2")]),
        AmountBasis::Line,
    );
    assert_eq!(line(&checkout, 0).1, promos(&[("$5 off $50", "3.61")]));
    assert_eq!(line(&checkout, 1).1, promos(&[("$5 off $50", "1.39")]));
    assert_eq!(totals(&checkout), ["53.95", "5.00", "0.00", "48.95"]);

    // 51.96 gross, but 2.00 of item promotions bring it to 49.96: only the $1 off applies.
    let mut with_item_promotion = promotions.as_array().unwrap().clone();
    with_item_promotion.push(json!({ "id": "P-50C", "description": "50c off", "type": "amountOff", "amount": "0.50", "skus": ["SKU-010"] }));
    let book_b = book(items, serde_json::Value::Array(with_item_promotion));
    let checkout = priced(&book_b, &request(&[("SKU-010", "4")]), AmountBasis::Line);
    assert_eq!(
        line(&checkout, 0).1,
        promos(&[("50c off", "2.00"), ("$1 off $10", "1.00")])
    );
}

#[test]
fn threshold_never_exceeds_the_subtotal() {
    let book = book(
        json!([item("SKU-A", "3.00", "FOOD")]),
        json!([{ "id": "P", "description": "$10 off anything", "type": "threshold", "minSubtotal": "0.00", "amount": "10.00" }]),
    );
    let checkout = priced(&book, &request(&[("SKU-A", "1")]), AmountBasis::Line);
    assert_eq!(totals(&checkout), ["3.00", "3.00", "0.00", "0.00"]);
}

#[test]
fn date_windows_are_half_open_and_stores_restrict() {
    let book = book(
        json!([item("SKU-A", "10.00", "STD")]),
        json!([
            { "id": "P-ENDED", "description": "ended", "type": "percentOff", "percent": "50", "skus": ["SKU-A"], "endsAt": "2024-03-22T17:09:39Z" },
            { "id": "P-STARTS", "description": "starts now", "type": "amountOff", "amount": "1.00", "skus": ["SKU-A"], "startsAt": "2024-03-22T17:09:39Z" },
            { "id": "P-ELSEWHERE", "description": "other store", "type": "percentOff", "percent": "90", "skus": ["SKU-A"], "stores": ["STORE-002"] }
        ]),
    );
    let checkout = priced(&book, &request(&[("SKU-A", "1")]), AmountBasis::Line);
    assert_eq!(line(&checkout, 0).1, promos(&[("starts now", "1.00")]));
    let at_other_store = request_at("STORE-002", "2024-03-22T17:09:39Z", &[("SKU-A", "1")]);
    let checkout = priced(&book, &at_other_store, AmountBasis::Line);
    assert_eq!(line(&checkout, 0).1, promos(&[("other store", "9.00")]));
    // 0.70 × 7%
    assert_eq!(line(&checkout, 0).2, "0.07");
}

#[test]
fn tax_rounds_half_away_from_zero() {
    let book = book(json!([item("SKU-A", "2.00", "STD")]), json!([]));
    // 2.00 × 0.0825 = 0.165 exactly: half away from zero gives 0.17 (banker's would give 0.16).
    let checkout = priced(&book, &request(&[("SKU-A", "1")]), AmountBasis::Line);
    assert_eq!(line(&checkout, 0).2, "0.17");
}

#[test]
fn taxable_fee_is_in_the_line_tax_and_the_fee_carries_zero() {
    let book = book(
        json!([{ "sku": "SKU-007", "name": "Coffee", "price": "2.75", "taxCode": "STD",
                 "fees": [{ "description": "Cup fee", "amount": "0.10", "taxable": true }] }]),
        json!([]),
    );
    let checkout = priced(&book, &request(&[("SKU-007", "2")]), AmountBasis::Line);
    // round2((5.50 + 0.20) × 0.0825 = 0.47025) = 0.47; total 5.50 + 0.47 + 0.20.
    assert_eq!(
        line(&checkout, 0),
        ("5.50".into(), vec![], "0.47".into(), "6.17".into())
    );
    let fee = &checkout.line_items[0].unit_price.deposits_and_fees[0];
    assert_eq!(
        (
            fee.deposit_and_fee_amount.amount_text(),
            fee.sales_tax.amount_text()
        ),
        ("0.20".into(), "0.00".into())
    );
    assert_eq!(totals(&checkout), ["5.50", "0.00", "0.47", "6.17"]);
}

#[test]
fn unit_basis_derives_per_unit_amounts_and_sums_per_line() {
    let book = book(
        json!([item("SKU-A", "0.55", "STD")]),
        json!([{ "id": "P", "description": "10% off", "type": "percentOff", "percent": "10", "skus": ["SKU-A"] }]),
    );
    let cart = request(&[("SKU-A", "3")]);
    // Line: 1.65, promotion 0.17, tax round2(1.48 × 0.0825 = 0.1221) = 0.12.
    let by_line = priced(&book, &cart, AmountBasis::Line);
    assert_eq!(totals(&by_line), ["1.65", "0.17", "0.12", "1.60"]);
    // Unit: promotion round2(0.17 / 3) = 0.06, tax round2(0.12 / 3) = 0.04, total 0.53;
    // totals 1.65, round2(3 × 0.06) = 0.18, round2(3 × 0.04) = 0.12 → 1.59.
    let by_unit = priced(&book, &cart, AmountBasis::Unit);
    assert_eq!(
        line(&by_unit, 0),
        (
            "0.55".into(),
            promos(&[("10% off", "0.06")]),
            "0.04".into(),
            "0.53".into()
        )
    );
    assert_eq!(totals(&by_unit), ["1.65", "0.18", "0.12", "1.59"]);
}

#[test]
fn unit_basis_caps_per_unit_promotions_at_the_unit_price_from_the_last_entry() {
    let book = book(
        json!([item("SKU-A", "0.10", "FOOD")]),
        json!([
            { "id": "P", "description": "35% off", "type": "percentOff", "percent": "35", "skus": ["SKU-A"] },
            { "id": "T", "description": "$1 off", "type": "threshold", "minSubtotal": "0.00", "amount": "1.00" }
        ]),
    );
    // Line: 0.40; 35% → 0.14; the threshold takes the remaining 0.26.
    // Per unit: round2(0.035) = 0.04 and round2(0.065) = 0.07 → 0.11 > 0.10: the last gives a cent.
    let checkout = priced(&book, &request(&[("SKU-A", "4")]), AmountBasis::Unit);
    assert_eq!(
        line(&checkout, 0),
        (
            "0.10".into(),
            promos(&[("35% off", "0.04"), ("$1 off", "0.06")]),
            "0.00".into(),
            "0.00".into()
        )
    );
    assert_eq!(totals(&checkout), ["0.40", "0.40", "0.00", "0.00"]);
}

#[test]
fn scan_codes_are_looked_up_by_barcode_then_by_sku() {
    let book = book(
        json!([{ "sku": "SKU-001", "name": "Water", "price": "1.99", "taxCode": "FOOD",
                 "barcodes": [{ "type": "UPC", "id": "012345678905" }] },
               item("4011", "0.50", "FOOD")]),
        json!([]),
    );
    let mut cart = request(&[("012345678905", "1"), ("4011", "2")]);
    for cart_item in &mut cart.cart_items {
        cart_item.item_type = CartItemType::ScanCode;
    }
    let checkout = priced(&book, &cart, AmountBasis::Line);
    assert_eq!(&*checkout.line_items[0].product_id, "012345678905");
    assert_eq!(line(&checkout, 0).0, "1.99");
    assert_eq!(line(&checkout, 1).0, "1.00");
}

#[test]
fn unpriceable_carts_list_every_constraint() {
    let book = book(
        json!([item("SKU-A", "1.00", "STD"), item("SKU-W", "5.00", "ALC")]),
        json!([]),
    );
    let outcome = price_cart(
        &book,
        &request(&[("SKU-A", "1"), ("SKU-NOPE", "1")]),
        AmountBasis::Line,
    );
    let PricingOutcome::Unpriceable(constraints) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(constraints.len(), 1);
    assert_eq!(constraints[0].kind, ConstraintKind::UnknownSku);
    assert_eq!(constraints[0].field, "cartItems[1].id");
    assert!(constraints[0].detail.contains("SKU-NOPE"));

    // STORE-002 has no ALC rate.
    let at_other_store = request_at("STORE-002", "2024-03-22T17:09:39Z", &[("SKU-W", "1")]);
    let PricingOutcome::Unpriceable(constraints) =
        price_cart(&book, &at_other_store, AmountBasis::Line)
    else {
        panic!()
    };
    assert_eq!(constraints[0].kind, ConstraintKind::MissingTaxRate);

    let nowhere = request_at("STORE-999", "2024-03-22T17:09:39Z", &[("SKU-A", "1")]);
    let PricingOutcome::Unpriceable(constraints) = price_cart(&book, &nowhere, AmountBasis::Line)
    else {
        panic!()
    };
    assert_eq!(constraints[0].kind, ConstraintKind::UnknownStore);

    // A count item in a weight unit, fractional: validation lets "lb" through, pricing refuses.
    let fractional = request(&[("SKU-A", "1.5")]);
    let PricingOutcome::Unpriceable(constraints) =
        price_cart(&book, &fractional, AmountBasis::Line)
    else {
        panic!()
    };
    assert_eq!(
        (constraints[0].kind, constraints[0].field.as_str()),
        (
            ConstraintKind::InvalidQuantity,
            "cartItems[0].quantity.value"
        )
    );

    assert_eq!(
        price_cart(&book, &request(&[]), AmountBasis::Line),
        PricingOutcome::EmptyCart
    );
}

#[test]
fn huge_quantities_price_exactly_without_walking_every_unit() {
    let book = book(
        json!([
            item("SKU-003", "1.25", "FOOD"),
            item("SKU-004", "1.50", "FOOD")
        ]),
        json!([{ "id": "P", "description": "B2G1", "type": "buyXGetY", "buy": 2, "get": 1, "skus": ["SKU-003", "SKU-004"] }]),
    );
    let checkout = priced(
        &book,
        &request(&[("SKU-003", "9999999999"), ("SKU-004", "9999999998")]),
        AmountBasis::Line,
    );
    // 19,999,999,997 units → 6,666,666,665 groups + 2 units left over.
    let discount: rust_decimal::Decimal = checkout
        .line_items
        .iter()
        .flat_map(|l| &l.unit_price.promotions)
        .map(|p| p.promotion_amount.amount())
        .sum();
    assert!(discount > rust_decimal::Decimal::from(8_000_000_000u64));
}

// ---------------------------------------------------------------------------------------------
// Refused price books: each names the entry.

fn refusal(items: serde_json::Value, promotions: serde_json::Value) -> Vec<String> {
    let file = json!({
        "currency": "USD",
        "stores": { "S": { "taxRates": { "STD": "0.07" } } },
        "items": items, "promotions": promotions,
    });
    match PriceBook::from_json(file.to_string().as_bytes()) {
        Ok(_) => panic!("price book was accepted"),
        Err(error) => error.problems.into_iter().map(|p| p.field).collect(),
    }
}

#[test]
fn refused_price_books_name_the_entry() {
    let a = || item("A", "1.00", "STD");
    assert_eq!(refusal(json!([a(), a()]), json!([])), ["items[1].sku"]);
    assert_eq!(
        refusal(json!([item("A", "1.005", "STD")]), json!([])),
        ["items[0].price"]
    );
    assert_eq!(
        refusal(
            json!([{ "sku": "A", "name": "A", "price": "1.00", "taxCode": "STD", "fees": [{ "description": "x", "amount": "0.001" }] }]),
            json!([])
        ),
        ["items[0].fees[0].amount"]
    );
    assert_eq!(
        refusal(
            json!([a()]),
            json!([{ "id": "P", "description": "d", "type": "bogo", "skus": ["A"] }])
        ),
        ["promotions[0].type"]
    );
    assert_eq!(
        refusal(
            json!([a()]),
            json!([{ "id": "P", "description": "d", "type": "percentOff", "percent": "101", "skus": ["A"] }])
        ),
        ["promotions[0].percent"]
    );
    assert_eq!(
        refusal(
            json!([a()]),
            json!([{ "id": "P", "description": "d", "type": "percentOff", "percent": "-1", "skus": ["A"] }])
        ),
        ["promotions[0].percent"]
    );
    assert_eq!(
        refusal(
            json!([a()]),
            json!([{ "id": "P", "description": "d", "type": "amountOff", "amount": "0.50" }])
        ),
        ["promotions[0].skus"]
    );
    assert_eq!(
        refusal(
            json!([a()]),
            json!([{ "id": "P", "description": "d", "type": "threshold", "minSubtotal": "5.00", "amount": "1.00", "skus": ["A"] }])
        ),
        ["promotions[0].skus"]
    );
    assert_eq!(
        refusal(
            json!([a()]),
            json!([{ "id": "P", "description": "d", "type": "threshold", "minSubtotal": "5.001", "amount": "1.00" }])
        ),
        ["promotions[0].minSubtotal"]
    );
    assert_eq!(
        refusal(
            json!([a()]),
            json!([{ "id": "P", "description": "d", "type": "threshold", "minSubtotal": "5.00", "amount": "1.999" }])
        ),
        ["promotions[0].amount"]
    );
    assert_eq!(
        refusal(
            json!([a()]),
            json!([{ "id": "P", "description": "d", "type": "multiBuy", "quantity": 3, "price": "5.005", "skus": ["A"] }])
        ),
        ["promotions[0].price"]
    );
    assert_eq!(
        refusal(
            json!([a()]),
            json!([{ "id": "P", "description": "d", "type": "amountOff", "amount": "0.505", "skus": ["A"] }])
        ),
        ["promotions[0].amount"]
    );
    assert_eq!(
        refusal(
            json!([a()]),
            json!([{ "id": "P", "description": "d", "type": "percentOff", "percent": "10", "skus": ["NOPE"] }])
        ),
        ["promotions[0].skus[0]"]
    );
    // A JSON number where a decimal string belongs is refused, never read as a float.
    assert_eq!(
        refusal(
            json!([{ "sku": "A", "name": "A", "price": 1.5, "taxCode": "STD" }]),
            json!([])
        ),
        ["items[0].price"]
    );
}

#[test]
fn percents_and_tax_rates_may_have_more_decimals_and_buy_x_get_y_defaults_to_free() {
    let file = json!({
        "currency": "USD",
        "stores": { "S": { "taxRates": { "STD": "0.08875" } } },
        "items": [item("A", "1.00", "STD")],
        "promotions": [
            { "id": "P1", "description": "d", "type": "percentOff", "percent": "12.5", "skus": ["A"] },
            { "id": "P2", "description": "d", "type": "buyXGetY", "buy": 1, "get": 1, "skus": ["A"] }
        ]
    });
    let book = PriceBook::from_json(file.to_string().as_bytes()).unwrap();
    assert_eq!(
        book.promotions[1].rule,
        PromotionRule::BuyXGetY {
            buy: 1,
            get: 1,
            percent: rust_decimal::Decimal::ONE_HUNDRED
        }
    );
}

#[test]
fn csv_import_replaces_items_and_names_row_and_column() {
    let base: PriceBookFile = serde_json::from_value(json!({
        "currency": "USD", "stores": { "S": { "taxRates": { "STD": "0.07", "FOOD": "0" } } },
        "items": [], "promotions": []
    }))
    .unwrap();
    let csv = "item_sku,item_name,standard_price,product_tax_code,sold_by,unit,external_product_id,external_product_id_type,fee_description,fee_amount,fee_taxable\n\
               SKU-1,Water,1.99,STD,unit,each,012345678905,UPC,CRV,0.05,false\n\
               SKU-2,Bananas,0.69,FOOD,weight,lb,4011,PLU,,,\n";
    let book = import_items_csv(base.clone(), csv.as_bytes()).unwrap();
    assert_eq!(book.items.len(), 2);
    assert_eq!(book.items[1].sold_by, SoldBy::Weight);
    assert_eq!(book.item_by_barcode("4011"), Some(1));
    assert_eq!(book.items[0].fees[0].amount, decimal("0.05"));

    let bad = "item_sku,item_name,standard_price,product_tax_code\nSKU-1,Water,1.999,STD\nSKU-1,Again,1.00,STD\n";
    let error = import_items_csv(base.clone(), bad.as_bytes()).unwrap_err();
    let fields: Vec<&str> = error.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["row 2, standard_price", "row 3, item_sku"]);

    let unknown_column = "item_sku,item_name,price,product_tax_code\n";
    let error = import_items_csv(base, unknown_column.as_bytes()).unwrap_err();
    assert!(
        error.problems.iter().any(|p| p.field == "row 1, price"),
        "{error}"
    );
}

fn decimal(text: &str) -> rust_decimal::Decimal {
    text.parse().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Generated price books and carts: the invariants of docs/pricing.md rule 8.

#[derive(Debug, Clone)]
struct GenItem {
    price_cents: u32,
    by_weight: bool,
    tax_code: usize,
    fees: Vec<(u32, bool)>,
}

#[derive(Debug, Clone)]
enum GenRule {
    PercentOff(u32),         // hundredths of a percent
    AmountOff(u32),          // cents
    BuyXGetY(u32, u32, u32), // buy, get, percent
    MultiBuy(u32, u32),      // quantity, price cents
    Threshold(u32, u32),     // min cents, amount cents
}

#[derive(Debug, Clone)]
struct GenPromotion {
    rule: GenRule,
    skus: Vec<usize>,
    priority: i64,
    store: Option<bool>,
    window: Option<bool>,
}

fn gen_item() -> impl Strategy<Value = GenItem> {
    // Small prices often: that is where per-unit rounding and caps bite.
    let price = prop_oneof![0u32..40, 0u32..500, 0u32..5000];
    (
        price,
        prop::bool::weighted(0.25),
        0usize..3,
        prop::collection::vec((0u32..60, any::<bool>()), 0..3),
    )
        .prop_map(|(price_cents, by_weight, tax_code, fees)| GenItem {
            price_cents,
            by_weight,
            tax_code,
            fees,
        })
}

fn gen_promotion(items: usize) -> impl Strategy<Value = GenPromotion> {
    // Edges often: 100% off, amounts off above the price, thresholds that take everything.
    let rule = prop_oneof![
        prop_oneof![Just(10_000u32), 0u32..=10_000].prop_map(GenRule::PercentOff),
        prop_oneof![0u32..50, 0u32..800].prop_map(GenRule::AmountOff),
        (1u32..4, 1u32..3, prop_oneof![Just(100u32), 0u32..=100])
            .prop_map(|(b, g, p)| GenRule::BuyXGetY(b, g, p)),
        (1u32..5, 0u32..2000).prop_map(|(q, p)| GenRule::MultiBuy(q, p)),
        (
            prop_oneof![Just(0u32), 0u32..10_000],
            prop_oneof![0u32..300, 0u32..30_000]
        )
            .prop_map(|(m, a)| GenRule::Threshold(m, a)),
    ];
    (
        rule,
        prop::collection::vec(0..items, 1..4),
        -1i64..3,
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(rule, skus, priority, store, window)| GenPromotion {
            rule,
            skus,
            priority,
            store,
            window,
        })
}

fn cents(value: u32) -> String {
    format!("{}.{:02}", value / 100, value % 100)
}

fn gen_book(items: &[GenItem], promotions: &[GenPromotion], rates: &[u32; 3]) -> PriceBook {
    let codes = ["A", "B", "C"];
    let items_json: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            json!({
                "sku": format!("SKU-{index}"), "name": format!("Item {index}"),
                "price": cents(item.price_cents), "taxCode": codes[item.tax_code],
                "soldBy": if item.by_weight { "weight" } else { "unit" },
                "fees": item.fees.iter().map(|(amount, taxable)| json!({ "description": "fee", "amount": cents(*amount), "taxable": taxable })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let promotions_json: Vec<_> = promotions
        .iter()
        .enumerate()
        .map(|(index, promotion)| {
            let mut entry = match &promotion.rule {
                GenRule::PercentOff(p) => json!({ "type": "percentOff", "percent": format!("{}.{:02}", p / 100, p % 100) }),
                GenRule::AmountOff(a) => json!({ "type": "amountOff", "amount": cents(*a) }),
                GenRule::BuyXGetY(b, g, p) => json!({ "type": "buyXGetY", "buy": b, "get": g, "percent": p.to_string() }),
                GenRule::MultiBuy(q, p) => json!({ "type": "multiBuy", "quantity": q, "price": cents(*p) }),
                GenRule::Threshold(m, a) => json!({ "type": "threshold", "minSubtotal": cents(*m), "amount": cents(*a) }),
            };
            let object = entry.as_object_mut().unwrap();
            object.insert("id".into(), json!(format!("P{index}")));
            object.insert("description".into(), json!(format!("Promotion {index}")));
            object.insert("priority".into(), json!(promotion.priority));
            if !matches!(promotion.rule, GenRule::Threshold(..)) {
                let skus: Vec<String> = promotion.skus.iter().map(|i| format!("SKU-{i}")).collect();
                object.insert("skus".into(), json!(skus));
            }
            if let Some(here) = promotion.store {
                object.insert("stores".into(), json!([if here { "S1" } else { "S2" }]));
            }
            if let Some(open) = promotion.window {
                let ends = if open { "2030-01-01T00:00:00Z" } else { "2024-03-22T17:09:39Z" };
                object.insert("startsAt".into(), json!("2024-01-01T00:00:00Z"));
                object.insert("endsAt".into(), json!(ends));
            }
            entry
        })
        .collect();
    let rate = |r: u32| format!("0.{r:04}");
    let file = json!({
        "currency": "USD",
        "stores": {
            "S1": { "taxRates": { "A": rate(rates[0]), "B": rate(rates[1]), "C": rate(rates[2]) } },
            "S2": { "taxRates": { "A": "0.05" } }
        },
        "items": items_json,
        "promotions": promotions_json,
    });
    PriceBook::from_json(file.to_string().as_bytes()).expect("generated price book is valid")
}

fn gen_cart(items: &[GenItem], lines: &[(usize, u32)]) -> CreatePurchasesRequest {
    let cart_items = lines
        .iter()
        .map(|(index, amount)| {
            let index = index % items.len();
            let quantity = if items[index].by_weight {
                // 0.001 to 30.000 lb
                crate::contract::create_purchases::Quantity {
                    value: format!("{}.{:03}", amount / 1000, amount % 1000 + 1).into(),
                    unit: "lb".into(),
                }
            } else {
                crate::contract::create_purchases::Quantity {
                    value: format!("{}", amount % 12 + 1).into(),
                    unit: "each".into(),
                }
            };
            CartItem {
                id: format!("SKU-{index}").into(),
                item_type: CartItemType::Sku,
                quantity,
                external_identifiers: vec![],
                line_item_id: None,
            }
        })
        .collect();
    let mut request = request_at("S1", "2024-03-22T17:09:39Z", &[]);
    request.cart_items = cart_items;
    request
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn every_priced_cart_satisfies_every_checkout_rule_exactly(
        items in prop::collection::vec(gen_item(), 1..8),
        promotions in prop::collection::vec(gen_promotion(8), 0..7),
        rates in [0u32..1500, 0u32..1500, 0u32..1500],
        lines in prop::collection::vec((0usize..8, 0u32..30_000), 1..14),
    ) {
        let promotions: Vec<GenPromotion> = promotions
            .into_iter()
            .map(|mut p| { p.skus.iter_mut().for_each(|s| *s %= items.len()); p })
            .collect();
        let book = gen_book(&items, &promotions, &rates);
        let cart = gen_cart(&items, &lines);
        for basis in [AmountBasis::Line, AmountBasis::Unit] {
            let PricingOutcome::Priced(checkout) = price_cart(&book, &cart, basis) else {
                return Err(TestCaseError::fail("a priceable cart was not priced"));
            };
            let body = serde_json::to_value(&checkout).unwrap();
            let violations = check_checkout_request(&body, &cart.cart_items, basis);
            prop_assert!(violations.is_empty(), "{basis}: {violations:#?}");

            let zero = rust_decimal::Decimal::ZERO;
            let mut sums = [zero; 4];
            for (line, cart_item) in checkout.line_items.iter().zip(&cart.cart_items) {
                prop_assert_eq!(&line.product_id, &cart_item.id);
                let unit_price = &line.unit_price;
                let promotions: rust_decimal::Decimal = unit_price.promotions.iter().map(|p| p.promotion_amount.amount()).sum();
                for promotion in &unit_price.promotions {
                    prop_assert!(promotion.promotion_amount.amount() > zero, "zero or negative promotion");
                }
                prop_assert!(promotions <= unit_price.price.amount(), "promotions {} above price {}", promotions, unit_price.price);
                prop_assert!(unit_price.total_price.amount() >= zero);
                sums[0] += unit_price.price.amount();
                sums[1] += promotions;
                sums[2] += unit_price.sales_tax.amount();
                sums[3] += unit_price.total_price.amount();
            }
            if basis == AmountBasis::Line {
                let t = &checkout.order_totals;
                prop_assert_eq!(sums, [t.sub_total.amount(), t.promotions_total.amount(), t.sales_tax_total.amount(), t.price_total.amount()]);
            }
            prop_assert!(checkout.order_totals.price_total.amount() >= zero);
        }
    }

    /// The explanation's amounts are the charged ones: per line they add up to what the line
    /// charges, and over the lines to the order totals, in both bases.
    #[test]
    fn every_explanation_adds_up_to_the_priced_cents(
        items in prop::collection::vec(gen_item(), 1..8),
        promotions in prop::collection::vec(gen_promotion(8), 0..7),
        rates in [0u32..1500, 0u32..1500, 0u32..1500],
        lines in prop::collection::vec((0usize..8, 0u32..30_000), 1..14),
    ) {
        let promotions: Vec<GenPromotion> = promotions
            .into_iter()
            .map(|mut p| { p.skus.iter_mut().for_each(|s| *s %= items.len()); p })
            .collect();
        let book = gen_book(&items, &promotions, &rates);
        let cart = gen_cart(&items, &lines);
        let cents = |text: &str| crate::money::to_cents(decimal(text));
        for basis in [AmountBasis::Line, AmountBasis::Unit] {
            let Ok((checkout, explanation)) = explain_cart(&book, &cart, basis, &[]) else {
                return Err(TestCaseError::fail("a priceable cart was not explained"));
            };
            let PricingOutcome::Priced(priced) = price_cart(&book, &cart, basis) else {
                return Err(TestCaseError::fail("a priceable cart was not priced"));
            };
            prop_assert_eq!(&checkout, &priced);
            let mut sums = [0i128; 5];
            for (explained, wire) in explanation.lines.iter().zip(&checkout.line_items) {
                let promotions: i128 = explained.promotions.iter().map(|p| cents(&p.amount)).sum();
                let fees: i128 = explained.fees.iter().map(|f| cents(&f.amount)).sum();
                let line_total = cents(&explained.extended_price.amount) - promotions
                    + cents(&explained.tax.amount) + fees;
                prop_assert_eq!(line_total, cents(&explained.line_total));
                let charged = &explained.charged;
                let parts = [&charged.price, &charged.promotions, &charged.sales_tax, &charged.fees, &charged.total].map(|t| cents(t));
                prop_assert_eq!(parts[4], parts[0] - parts[1] + parts[2] + parts[3]);
                for (sum, part) in sums.iter_mut().zip(parts) {
                    *sum += part;
                }
                let wire_promotions: Vec<String> = wire.unit_price.promotions.iter().map(|p| p.promotion_amount.amount_text()).collect();
                match basis {
                    AmountBasis::Line => {
                        let explained_promotions: Vec<String> = explained.promotions.iter().map(|p| p.amount.clone()).collect();
                        prop_assert_eq!(explained_promotions, wire_promotions);
                        prop_assert_eq!(&explained.line_total, &wire.unit_price.total_price.amount_text());
                        prop_assert_eq!(&explained.charged.total, &explained.line_total);
                    }
                    AmountBasis::Unit => {
                        let per_unit = explained.per_unit.as_ref().expect("unit basis shows per-unit amounts");
                        let explained_promotions: Vec<String> = per_unit.promotions.iter().map(|(_, amount)| amount.clone()).collect();
                        prop_assert_eq!(explained_promotions, wire_promotions);
                        prop_assert_eq!(&per_unit.total, &wire.unit_price.total_price.amount_text());
                    }
                }
            }
            let t = &checkout.order_totals;
            prop_assert_eq!(sums[0], t.sub_total.cents());
            prop_assert_eq!(sums[1], t.promotions_total.cents());
            prop_assert_eq!(sums[2], t.sales_tax_total.cents());
            prop_assert_eq!(sums[4], t.price_total.cents());
            prop_assert_eq!(cents(&explanation.totals.total), t.price_total.cents());
        }
    }
}
