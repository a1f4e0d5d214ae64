//! The function as Lambda runs it: `cargo lambda watch --only-lambda-apis` emulates the Lambda
//! runtime API, the function's own binary (as `cargo test` built it) runs against it with the
//! settings the stack gives it, `cargo lambda invoke --data-file` sends an API Gateway REST
//! event, and the purchase lands in DynamoDB (moto), priced from the price book version current
//! in the catalog table.

use std::path::Path;

use jwo_aws::dynamodb::catalog::DynamoDbCatalog;
use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_aws::dynamodb::{catalog, purchases};
use jwo_domain::catalog::price_book_versions::import_price_book;
use jwo_domain::ports::PurchaseStore;
use jwo_domain::pricing::PriceBook;
use jwo_domain::purchase::purchase_id;
use jwo_local::fixed_price_book::SAMPLE_PRICE_BOOK;
use jwo_test_support::{LambdaUnderTest, fixtures, moto_endpoint, unique_name};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoked_through_the_lambda_runtime_it_stores_the_purchase() {
    let config = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("purchases");
    purchases::create_table(&client, &table).await.unwrap();

    let catalog_table = unique_name("catalog");
    catalog::create_table(&client, &catalog_table)
        .await
        .unwrap();
    let catalog = DynamoDbCatalog::new(client.clone(), &catalog_table);
    let sample = PriceBook::from_json(SAMPLE_PRICE_BOOK.as_bytes()).unwrap();
    import_price_book(&catalog, &sample, "sample.json")
        .await
        .unwrap();

    let topic = "arn:aws:sns:us-east-1:123456789012:alerts";
    let function = LambdaUnderTest::start(
        Path::new(env!("CARGO_BIN_EXE_create-purchases")),
        &[
            ("PURCHASES_TABLE", &table),
            ("ALERTS_TOPIC_ARN", topic),
            ("CATALOG_TABLE", &catalog_table),
            // Ask the table on every cart, so the new version below is used at once.
            ("PRICE_BOOK_CACHE_SECONDS", "0"),
            (
                "ALLOWED_CALLER_ARNS",
                "arn:aws:iam::111122223333:role/OrderingGateway",
            ),
        ],
    );

    let event = fixtures("apigw/create_purchases_event.json");
    let response = function.invoke(&event);
    assert_eq!(response["statusCode"], 201, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();

    let sent: Value = serde_json::from_slice(&std::fs::read(&event).unwrap()).unwrap();
    let cart: Value = serde_json::from_str(sent["body"].as_str().unwrap()).unwrap();
    let id = purchase_id(
        cart["storeId"].as_str().unwrap(),
        cart["idempotentShoppingTripId"].as_str().unwrap(),
    );
    assert_eq!(body["purchaseId"], id.as_str());
    let store = DynamoDbPurchaseStore::new(client, table);
    let stored = store.get(&id).await.unwrap().expect("stored in DynamoDB");
    assert!(stored.is_ready_for_checkout());
    assert_eq!(body["orderTotals"]["priceTotal"]["amount"], "9.72");
    assert_eq!(stored.price_book_version.as_deref(), Some("v1"));

    // Given a new version where SKU-002 costs 4.49 (was 3.49; 50c off; 8.25% tax),
    // when another trip with the same cart comes in, it is priced from v2: 4.49 - 0.50 +
    // round2(3.99 × 0.0825 = 0.329175) = 4.32 for that line, 1.08 more than before.
    let dearer = SAMPLE_PRICE_BOOK.replace("\"3.49\"", "\"4.49\"");
    let dearer = PriceBook::from_json(dearer.as_bytes()).unwrap();
    import_price_book(&catalog, &dearer, "dearer.json")
        .await
        .unwrap();
    let mut second: Value = serde_json::from_slice(&std::fs::read(&event).unwrap()).unwrap();
    let mut cart_two = cart.clone();
    cart_two["idempotentShoppingTripId"] = "00000002-2222-3333-4444-999999999999".into();
    second["body"] = cart_two.to_string().into();
    let second_event = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(second_event.path(), second.to_string()).unwrap();
    let response = function.invoke(second_event.path());
    assert_eq!(response["statusCode"], 201, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["orderTotals"]["priceTotal"]["amount"], "10.80");
    let id = purchase_id("STORE-001", "00000002-2222-3333-4444-999999999999");
    let stored = store.get(&id).await.unwrap().expect("stored in DynamoDB");
    assert_eq!(stored.price_book_version.as_deref(), Some("v2"));
}
