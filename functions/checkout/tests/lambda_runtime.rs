//! The function as Lambda runs it: its own binary under `cargo lambda watch`'s runtime API,
//! invoked with `cargo lambda invoke --data-file` with a DynamoDB stream event and a scheduled
//! event, against DynamoDB and SNS on moto.

use std::path::Path;

use chrono::{Duration, Utc};
use jwo_aws::dynamodb::purchases;
use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_domain::alerts::AlertKind;
use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::ports::{CurrentPriceBook, PurchaseStore};
use jwo_domain::pricing::price_cart;
use jwo_domain::purchase::Purchase;
use jwo_domain::validation::validate_create_purchases;
use jwo_local::fixed_price_book::FixedPriceBook;
use jwo_test_support::{LambdaUnderTest, fixtures, moto_endpoint, new_topic, unique_name};
use serde_json::{Value, json};

/// A purchase held back by an unknown SKU, stored three hours ago.
async fn held_back_purchase() -> Purchase {
    let mut body: Value = serde_json::from_slice(
        &std::fs::read(fixtures("create_purchases/1.02_multi_item_cart.json")).unwrap(),
    )
    .unwrap();
    body["cartItems"] = json!([{ "id": "NO-SUCH-SKU", "type": "SKU", "quantity": { "value": "1", "unit": "each" } }]);
    let request = validate_create_purchases(body.to_string().as_bytes()).unwrap();
    let book = FixedPriceBook::sample().current().await.unwrap();
    let pricing = price_cart(&book.book, &request, AmountBasis::Line);
    Purchase::new(
        &request,
        pricing,
        Some(&book.version),
        None,
        Utc::now() - Duration::hours(3),
        Duration::days(30),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoked_through_the_lambda_runtime_it_answers_stream_batches_and_sweeps() {
    let aws = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let table = unique_name("checkout-runtime");
    purchases::create_table(&dynamo, &table).await.unwrap();
    let catalog = unique_name("checkout-runtime-catalog");
    jwo_aws::dynamodb::catalog::create_table(&dynamo, &catalog)
        .await
        .unwrap();
    let store = DynamoDbPurchaseStore::new(dynamo, &table);
    let held_back = held_back_purchase().await;
    store.insert_if_absent(&held_back).await.unwrap();
    let topic = new_topic(&aws).await;

    let function = LambdaUnderTest::start(
        Path::new(env!("CARGO_BIN_EXE_checkout")),
        &[
            ("PURCHASES_TABLE", &table),
            ("ALERTS_TOPIC_ARN", &topic),
            ("CATALOG_TABLE", &catalog),
            // Nothing here is submitted: no record in the event is ready for checkout.
            (
                "CHECKOUT_ENDPOINT",
                "https://us-east-1.test.checkout.amazonphysicalstores.com",
            ),
            ("STUCK_OPEN_AFTER_MINUTES", "60"),
        ],
    );

    // The stream batch: a new purchase that is not in the table (reported failed, so it is
    // retried and then kept by the on-failure destination), a held-back one and a change of
    // ours (both skipped).
    let answer = function.invoke(&fixtures("dynamodb/checkout_stream_event.json"));
    assert_eq!(
        answer,
        json!({ "batchItemFailures": [{ "itemIdentifier": "111100000000000000000001" }] })
    );

    // The schedule: the purchase held back for three hours is alerted as stuck, once.
    let answer = function.invoke(&fixtures("eventbridge/scheduled_sweep_event.json"));
    assert_eq!(
        answer,
        json!({ "open": 1, "completed": 0, "declined": 0, "held": 0, "failed": 0, "stuckAlerts": 1, "unreadable": 0, "alertsPublished": 0, "repriced": 0 })
    );
    let stored = store.get(&held_back.purchase_id).await.unwrap().unwrap();
    assert!(stored.was_alerted(AlertKind::PurchaseStuckOpen));
    let again = function.invoke(&fixtures("eventbridge/scheduled_sweep_event.json"));
    assert_eq!(again["stuckAlerts"], 0);
}
