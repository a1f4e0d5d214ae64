use super::walk::walk;
use super::*;
use serde_json::json;

fn valid() -> serde_json::Value {
    json!({
        "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "idempotentShoppingTripId": "trip-1",
        "storeId": "STORE-001",
        "shoppingTrip": {
            "startTime": "2024-03-22T17:00:00Z",
            "endTime": "2024-03-22T17:09:39.250Z",
            "authEvents": [{ "id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "payloadType": "FINANCIAL",
                             "scanResult": { "id": "shopper-secret-1", "type": "SHOPPER" } }]
        },
        "cartItems": [{ "id": "SKU-001", "type": "SKU", "quantity": { "value": "2", "unit": "each" } }],
        "shopperIdentity": { "id": "shopper-secret-2" },
        "shopperDeviceId": "device-secret-3",
        "paymentSource": { "id": "payment-secret-4" }
    })
}

fn fields_of(body: serde_json::Value) -> Vec<String> {
    match validate_create_purchases(body.to_string().as_bytes()) {
        Ok(_) => vec![],
        Err(error) => error.errors.into_iter().map(|e| e.field).collect(),
    }
}

#[test]
fn unknown_fields_are_tolerated_everywhere() {
    let mut body = valid();
    body["newTopLevel"] = json!({ "x": 1 });
    body["shoppingTrip"]["newTrip"] = json!(true);
    body["shoppingTrip"]["authEvents"][0]["newEvent"] = json!("y");
    body["cartItems"][0]["newItem"] = json!([1, 2]);
    body["cartItems"][0]["quantity"]["precision"] = json!(2);
    assert_eq!(fields_of(body), Vec::<String>::new());
}

#[test]
fn null_optional_fields_count_as_absent_and_null_required_ones_as_missing() {
    let mut body = valid();
    body["shopperIdentity"] = json!(null);
    body["paymentSource"] = json!(null);
    assert_eq!(fields_of(body.clone()), Vec::<String>::new());
    body["storeId"] = json!(null);
    assert_eq!(fields_of(body), vec!["storeId"]);
}

#[test]
fn limits_count_characters_not_bytes() {
    let mut body = valid();
    body["idempotentShoppingTripId"] = json!("é".repeat(255));
    assert_eq!(fields_of(body.clone()), Vec::<String>::new());
    body["idempotentShoppingTripId"] = json!("é".repeat(256));
    assert_eq!(fields_of(body), vec!["idempotentShoppingTripId"]);
}

#[test]
fn quantities_are_positive_plain_decimals_and_whole_for_count_units() {
    for (value, unit, ok) in [
        ("1.0", "unit", true),
        ("0.45", "lb", true),
        ("1.5", "lb", true),
        ("1.5", "EACH", false),
        ("0", "lb", false),
        ("1e2", "each", false),
        (" 1", "each", false),
        ("12345678901", "each", false),
    ] {
        let mut body = valid();
        body["cartItems"][0]["quantity"] = json!({ "value": value, "unit": unit });
        let fields = fields_of(body);
        assert_eq!(fields.is_empty(), ok, "{value} {unit}: {fields:?}");
    }
}

#[test]
fn a_body_that_is_not_utf8_is_refused_wherever_the_bytes_are() {
    let mut body = valid();
    body["newTopLevel"] = json!("NOT-UTF-8");
    let text = body.to_string();
    let at = text.find("NOT-UTF-8").unwrap();
    let mut bytes = text.into_bytes();
    bytes[at] = 0xff;
    let error = validate_create_purchases(&bytes).unwrap_err();
    let [only] = error.errors.as_slice() else {
        panic!("{error:?}")
    };
    assert_eq!(only.field, "body");
    assert!(
        only.reason.starts_with("is not valid JSON"),
        "{}",
        only.reason
    );
    assert_eq!(fast_path_agrees_with_the_walk(&bytes), Ok(()));
}

#[test]
fn an_empty_cart_is_valid() {
    let mut body = valid();
    body["cartItems"] = json!([]);
    assert_eq!(fields_of(body), Vec::<String>::new());
}

#[test]
fn debug_output_never_shows_payment_or_shopper_identifiers() {
    let request = validate_create_purchases(valid().to_string().as_bytes()).unwrap();
    let printed = format!("{request:?}");
    for secret in [
        "shopper-secret-1",
        "shopper-secret-2",
        "device-secret-3",
        "payment-secret-4",
    ] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    // ...but they are kept for the wire.
    let wire = serde_json::to_string(&request).unwrap();
    assert!(wire.contains("payment-secret-4"));
}

/// The fast path must never accept what the walk refuses, and both must build the same
/// request.
fn fast_path_agrees_with_the_walk(body: &[u8]) -> Result<(), String> {
    match (typed(body), walk(body)) {
        (Some(fast), Ok(walked)) if fast == walked => Ok(()),
        (Some(fast), Ok(walked)) => Err(format!("fast {fast:?} != walked {walked:?}")),
        (Some(_), Err(error)) => Err(format!(
            "fast path accepted what the walk refuses: {error:?}"
        )),
        (None, _) => Ok(()),
    }
}

fn fixture_bodies() -> Vec<(String, Vec<u8>)> {
    let dir = jwo_test_support::fixtures("create_purchases");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| !path.ends_with("cases.json"))
        .map(|path| (path.display().to_string(), std::fs::read(path).unwrap()))
        .collect()
}

#[test]
fn both_ways_agree_on_every_fixture() {
    for (name, body) in fixture_bodies() {
        fast_path_agrees_with_the_walk(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        // And the public entry point answers as the walk does.
        assert_eq!(
            validate_create_purchases(&body).is_ok(),
            walk(&body).is_ok(),
            "{name}"
        );
    }
}

/// Every JSON pointer inside `value`.
fn pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}/{key}");
                out.push(here.clone());
                pointers(child, here, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let here = format!("{at}/{index}");
                out.push(here.clone());
                pointers(child, here, out);
            }
        }
        _ => {}
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]
    #[test]
    fn both_ways_agree_on_mutated_bodies(fixture in 0usize..100, target in 0usize..1000, mutation in 0usize..12) {
        let bodies = fixture_bodies();
        let (_, body) = &bodies[fixture % bodies.len()];
        let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else { return Ok(()) };
        let mut all = Vec::new();
        pointers(&value, String::new(), &mut all);
        if all.is_empty() { return Ok(()) }
        let pointer = &all[target % all.len()];
        let replacement = match mutation {
            0 => json!(null), 1 => json!(""), 2 => json!("x".repeat(256)), 3 => json!(1),
            4 => json!(true), 5 => json!("NOT_AN_ENUM"), 6 => json!({}), 7 => json!([]),
            8 => json!("1.5"), 9 => json!("2024-03-22T16:00:00Z"), 10 => json!("line-1"),
            _ => {
                // Remove the member or element.
                let (parent, last) = pointer.rsplit_once('/').unwrap();
                match value.pointer_mut(parent).unwrap() {
                    serde_json::Value::Object(map) => { map.remove(last); }
                    serde_json::Value::Array(items) => { items.remove(last.parse::<usize>().unwrap()); }
                    _ => {}
                }
                let body = serde_json::to_vec(&value).unwrap();
                proptest::prop_assert!(fast_path_agrees_with_the_walk(&body).is_ok(), "{:?}", fast_path_agrees_with_the_walk(&body));
                return Ok(());
            }
        };
        *value.pointer_mut(pointer).unwrap() = replacement;
        let body = serde_json::to_vec(&value).unwrap();
        let agreed = fast_path_agrees_with_the_walk(&body);
        proptest::prop_assert!(agreed.is_ok(), "{} := mutation {}: {:?}", pointer, mutation, agreed);
    }
}

#[test]
fn duplicate_keys_take_the_last_value_either_way() {
    let body = br#"{"storeId": "BAD STORE", "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "idempotentShoppingTripId": "t", "storeId": "S",
        "shoppingTrip": {"startTime": "2024-03-22T17:00:00Z", "endTime": "2024-03-22T17:09:39Z", "authEvents": []}, "cartItems": []}"#;
    assert_eq!(validate_create_purchases(body).unwrap().store_id, "S");
}

#[test]
fn enum_errors_list_the_accepted_values() {
    let mut body = valid();
    body["cartItems"][0]["type"] = json!("UPC");
    let error = validate_create_purchases(body.to_string().as_bytes()).unwrap_err();
    assert_eq!(error.errors[0].reason, "'UPC' is not one of SKU, SCANCODE");
}

#[test]
fn a_body_with_a_million_problems_lists_the_first_hundred() {
    let mut body = valid();
    body["cartItems"] = serde_json::Value::Array(vec![json!({}); 10_000]);
    let error = validate_create_purchases(body.to_string().as_bytes()).unwrap_err();
    assert_eq!(error.errors.len(), MAX_LISTED_ERRORS + 1);
    let last = error.errors.last().unwrap();
    assert_eq!(last.field, "body");
    // Each empty item misses id, type and quantity.
    assert_eq!(
        last.reason,
        format!("and {} more fields are invalid", 30_000 - MAX_LISTED_ERRORS)
    );
    assert!(
        error.message.contains("30000 fields are invalid"),
        "{}",
        error.message
    );
}
