//! Shared by the `jwo` command's tests.

use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::pricing::{PriceBook, price_cart};
use jwo_domain::purchase::Purchase;
use jwo_domain::validation::validate_create_purchases;
use jwo_test_support::{fixtures, sample_price_book};
use serde_json::{Value, json};

/// Amazon's multi-item test cart for trip `trip`, priced with the sample price book, as the
/// Create Purchases handler would store it.
pub fn priced_purchase(trip: &str) -> Purchase {
    let mut body: Value = serde_json::from_slice(
        &std::fs::read(fixtures("create_purchases/1.02_multi_item_cart.json")).unwrap(),
    )
    .unwrap();
    body["idempotentShoppingTripId"] = json!(trip);
    let request = validate_create_purchases(body.to_string().as_bytes()).unwrap();
    let book = PriceBook::from_json(&std::fs::read(sample_price_book()).unwrap()).unwrap();
    let pricing = price_cart(&book, &request, AmountBasis::Line);
    Purchase::new(
        &request,
        pricing,
        Some("v1"),
        None,
        chrono::Utc::now(),
        chrono::Duration::days(1),
    )
}
