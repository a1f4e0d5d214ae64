//! `jwo price` as a retailer runs it: a body on stdin, the Checkout Service body on stdout.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use jwo_domain::checkout_rules::check_checkout_request;
use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::validation::validate_create_purchases;
use jwo_test_support::{fixtures, sample_price_book};
use serde_json::Value;

fn jwo_price(price_book: &std::path::Path, extra: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .arg("price")
        .arg("--pricebook")
        .arg(price_book)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("jwo runs");
    // jwo may exit (a refused price book) before reading its input: a closed pipe is fine.
    if let Err(error) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures("create_purchases").join(name)).unwrap()
}

fn amount(body: &Value, pointer: &str) -> String {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer}"))
        .to_owned()
}

#[test]
fn prices_the_multi_item_case_exactly() {
    let request = fixture("1.02_multi_item_cart.json");
    let output = jwo_price(&sample_price_book(), &[], &request);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: Value = serde_json::from_slice(&output.stdout).unwrap();
    // 2 × water 1.99, 10% off → round2(0.398) = 0.40, tax round2(3.58 × 0.0825) = 0.30, CRV 0.10.
    assert_eq!(amount(&body, "/lineItems/0/unitPrice/price/amount"), "3.98");
    assert_eq!(
        amount(
            &body,
            "/lineItems/0/unitPrice/promotions/0/promotionAmount/amount"
        ),
        "0.40"
    );
    assert_eq!(
        amount(&body, "/lineItems/0/unitPrice/salesTax/amount"),
        "0.30"
    );
    assert_eq!(
        amount(&body, "/lineItems/0/unitPrice/totalPrice/amount"),
        "3.98"
    );
    // Chips 3.49 − 0.50, tax round2(2.99 × 0.0825 = 0.246675) = 0.25.
    assert_eq!(
        amount(&body, "/lineItems/1/unitPrice/totalPrice/amount"),
        "3.24"
    );
    // 3 yogurts, buy 2 get 1: 3.75 − 1.25, no tax on food.
    assert_eq!(
        amount(&body, "/lineItems/2/unitPrice/totalPrice/amount"),
        "2.50"
    );
    assert_eq!(amount(&body, "/orderTotals/subTotal/amount"), "11.22");
    assert_eq!(amount(&body, "/orderTotals/promotionsTotal/amount"), "2.15");
    assert_eq!(amount(&body, "/orderTotals/salesTaxTotal/amount"), "0.55");
    assert_eq!(amount(&body, "/orderTotals/priceTotal/amount"), "9.72");
    let cart = validate_create_purchases(&request).unwrap();
    assert_eq!(
        check_checkout_request(&body, &cart.cart_items, AmountBasis::Line),
        vec![]
    );
}

#[test]
fn unit_basis_on_request() {
    let request = fixture("1.13_group_trip_multiple_auth_events.json");
    let output = jwo_price(&sample_price_book(), &["--basis", "unit"], &request);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(amount(&body, "/lineItems/0/unitPrice/price/amount"), "1.99");
    let cart = validate_create_purchases(&request).unwrap();
    assert_eq!(
        check_checkout_request(&body, &cart.cart_items, AmountBasis::Unit),
        vec![]
    );
}

#[test]
fn explain_prints_the_body_and_how_each_line_was_priced_in_either_basis() {
    let request = fixture("1.13_group_trip_multiple_auth_events.json");
    for basis in ["line", "unit"] {
        let output = jwo_price(
            &sample_price_book(),
            &["--basis", basis, "--explain"],
            &request,
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
        let plain = jwo_price(&sample_price_book(), &["--basis", basis], &request);
        let body: Value = serde_json::from_slice(&plain.stdout).unwrap();
        assert_eq!(answer["checkout"], body, "--explain carries the very body");
        let explanation = &answer["explanation"];
        assert_eq!(explanation["amountBasis"], basis);
        let lines = explanation["lines"].as_array().unwrap();
        assert_eq!(lines.len(), body["lineItems"].as_array().unwrap().len());
        for line in lines {
            assert_eq!(line["foundBy"], "SKU");
            assert!(
                line["tax"]["how"]
                    .as_str()
                    .unwrap()
                    .contains("half away from zero")
            );
        }
        assert_eq!(
            explanation["totals"]["total"],
            body["orderTotals"]["priceTotal"]["amount"]
        );
    }
}

#[test]
fn an_empty_cart_prints_nothing_and_succeeds() {
    let output = jwo_price(&sample_price_book(), &[], &fixture("1.07_empty_cart.json"));
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
}

#[test]
fn an_invalid_request_exits_3_naming_the_field() {
    let output = jwo_price(
        &sample_price_book(),
        &[],
        &fixture("3.25_quantity_value_exceeds_10.json"),
    );
    assert_eq!(output.status.code(), Some(3));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cartItems[0].quantity.value"), "{stderr}");
}

#[test]
fn an_unknown_sku_exits_4_naming_the_sku() {
    let mut request: Value =
        serde_json::from_slice(&fixture("1.01_single_item_sku_unit.json")).unwrap();
    request["cartItems"][0]["id"] = "SKU-GONE".into();
    let output = jwo_price(&sample_price_book(), &[], request.to_string().as_bytes());
    assert_eq!(output.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SKU-GONE") && stderr.contains("UnknownSku"),
        "{stderr}"
    );
}

#[test]
fn a_refused_price_book_exits_1_naming_the_entry() {
    let dir = std::env::temp_dir().join(format!("jwo-price-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("book.json");
    let mut book: Value =
        serde_json::from_slice(&std::fs::read(sample_price_book()).unwrap()).unwrap();
    book["items"][1]["price"] = "3.499".into();
    std::fs::write(&path, book.to_string()).unwrap();
    let output = jwo_price(&path, &[], &fixture("1.01_single_item_sku_unit.json"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("items[1].price"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_basis_is_a_usage_error() {
    let output = jwo_price(&sample_price_book(), &["--basis", "order"], b"");
    assert_eq!(output.status.code(), Some(2));
}

/// A fixture as one line of JSON.
fn compact(name: &str) -> String {
    serde_json::from_slice::<Value>(&fixture(name))
        .unwrap()
        .to_string()
}

#[test]
fn jsonl_prices_every_line_in_order_and_answers_a_bad_one_on_its_own_line() {
    let mut unknown: Value =
        serde_json::from_slice(&fixture("1.01_single_item_sku_unit.json")).unwrap();
    unknown["cartItems"][0]["id"] = "SKU-GONE".into();
    let input = [
        compact("1.02_multi_item_cart.json"),
        compact("3.25_quantity_value_exceeds_10.json"),
        String::new(),
        compact("1.07_empty_cart.json"),
        unknown.to_string(),
        "not json".to_owned(),
        compact("1.03_weight_item.json"),
    ]
    .join("\n");

    let output = jwo_price(&sample_price_book(), &["--jsonl"], input.as_bytes());

    assert_eq!(output.status.code(), Some(5), "some carts were not priced");
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each output line is JSON"))
        .collect();
    assert_eq!(lines.len(), 6, "one line per cart, the blank line skipped");
    // Each priced line is exactly what `jwo price` alone prints for that cart.
    for (line, name) in [
        (0, "1.02_multi_item_cart.json"),
        (5, "1.03_weight_item.json"),
    ] {
        let alone: Value =
            serde_json::from_slice(&jwo_price(&sample_price_book(), &[], &fixture(name)).stdout)
                .unwrap();
        assert_eq!(lines[line], alone, "{name}");
    }
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["error"], "invalid");
    assert_eq!(
        lines[1]["errors"][0]["field"],
        "cartItems[0].quantity.value"
    );
    assert_eq!(
        lines[2],
        serde_json::json!({ "line": 4, "emptyCart": true })
    );
    assert_eq!(lines[3]["error"], "unpriceable");
    assert!(
        lines[3]["errors"].to_string().contains("SKU-GONE"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4]["line"], 6);
    assert_eq!(lines[4]["error"], "invalid");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("6 carts: 2 priced, 1 empty, 2 invalid, 1 unpriceable, in "),
        "{stderr}"
    );
}

#[test]
fn jsonl_with_every_cart_priced_succeeds() {
    let input = format!(
        "{}\n{}\n",
        compact("1.01_single_item_sku_unit.json"),
        compact("1.04_scancode_item.json")
    );
    let output = jwo_price(
        &sample_price_book(),
        &["--jsonl", "--explain"],
        input.as_bytes(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().count(), 2);
    for line in text.lines() {
        let answer: Value = serde_json::from_str(line).unwrap();
        assert!(
            answer["checkout"].is_object() && answer["explanation"].is_object(),
            "{answer}"
        );
    }
}
