//! Amazon's published Create Purchases test cases, one fixture file each, run through
//! validation, pricing with the sample price book, and the checkout rules.

use std::collections::BTreeSet;

use jwo_domain::checkout_rules::check_checkout_request;
use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::pricing::{PriceBook, PricingOutcome, price_cart};
use jwo_domain::validation::validate_create_purchases;
use jwo_test_support::{create_purchases_cases, fixtures, sample_price_book};

#[test]
fn every_fixture_file_is_a_listed_case() {
    let listed: BTreeSet<String> = create_purchases_cases()
        .into_iter()
        .map(|(case, _)| case.file)
        .collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(fixtures("create_purchases"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "cases.json")
        .collect();
    assert_eq!(listed, on_disk);
    // Amazon's list: 15 success cases, the idempotency pair, 35 validation cases.
    let count = |prefix: &str| {
        listed
            .iter()
            .filter(|name| name.starts_with(prefix))
            .count()
    };
    assert_eq!(count("1."), 15);
    assert_eq!(count("2."), 2);
    assert!(count("3.") >= 35);
}

#[test]
fn invalid_requests_name_exactly_the_offending_fields() {
    for (case, body) in create_purchases_cases()
        .into_iter()
        .filter(|(case, _)| case.status == 400)
    {
        let error = validate_create_purchases(&body).expect_err(&case.file);
        let named: BTreeSet<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        let expected: BTreeSet<&str> = case.fields.iter().map(String::as_str).collect();
        assert_eq!(named, expected, "{}: {:#?}", case.file, error.errors);
        assert!(
            error.errors.iter().all(|e| !e.reason.is_empty()),
            "{}",
            case.file
        );
        assert!(!error.message.is_empty());
    }
}

#[test]
fn valid_requests_round_trip_and_price_within_the_checkout_rules() {
    let book = PriceBook::from_json(&std::fs::read(sample_price_book()).unwrap()).unwrap();
    let mut priced = 0;
    for (case, body) in create_purchases_cases()
        .into_iter()
        .filter(|(case, _)| case.status != 400)
    {
        let request =
            validate_create_purchases(&body).unwrap_or_else(|e| panic!("{}: {e:#?}", case.file));
        // Everything the contract knows is kept, exactly as sent.
        let sent: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            sent,
            "{}",
            case.file
        );
        for basis in [AmountBasis::Line, AmountBasis::Unit] {
            match price_cart(&book, &request, basis) {
                PricingOutcome::EmptyCart => {
                    assert!(request.cart_items.is_empty(), "{}", case.file)
                }
                PricingOutcome::Priced(checkout) => {
                    let body = serde_json::to_value(&checkout).unwrap();
                    let violations = check_checkout_request(&body, &request.cart_items, basis);
                    assert!(
                        violations.is_empty(),
                        "{} ({basis}): {violations:#?}",
                        case.file
                    );
                    assert_eq!(
                        checkout.idempotent_shopping_trip_id,
                        request.idempotent_shopping_trip_id
                    );
                    priced += 1;
                }
                PricingOutcome::Unpriceable(constraints) => {
                    panic!("{}: {constraints:#?}", case.file)
                }
            }
        }
    }
    assert_eq!(priced, 2 * 16, "every non-empty success case, both bases");
}

#[test]
fn the_idempotency_pair_shares_a_trip_but_not_a_cart() {
    let cases = create_purchases_cases();
    let find = |prefix: &str| {
        let (_, body) = cases
            .iter()
            .find(|(case, _)| case.file.starts_with(prefix))
            .unwrap();
        validate_create_purchases(body).unwrap()
    };
    let (first, replay) = (find("2.1_"), find("2.2_"));
    assert_eq!(
        first.idempotent_shopping_trip_id,
        replay.idempotent_shopping_trip_id
    );
    assert_eq!(first.store_id, replay.store_id);
    assert_ne!(first.cart_items, replay.cart_items);
}
