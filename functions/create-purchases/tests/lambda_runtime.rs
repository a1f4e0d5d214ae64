//! The function as Lambda runs it: `cargo lambda watch --only-lambda-apis` emulates the Lambda
//! runtime API, the function's own binary (as `cargo test` built it) runs against it with the
//! settings the stack gives it, `cargo lambda invoke --data-file` sends an API Gateway REST
//! event, and the purchase lands in DynamoDB (moto).

use std::path::Path;

use jwo_end_to_end::{LambdaUnderTest, fixtures, moto_endpoint, repo_root, unique_name};
use jwo_shared::adapters::dynamodb::{self, DynamoDbPurchaseStore};
use jwo_shared::ports::PurchaseStore;
use jwo_shared::purchase::purchase_id;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoked_through_the_lambda_runtime_it_stores_the_purchase() {
    let config = jwo_shared::adapters::aws::emulator_sdk_config(moto_endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("purchases");
    dynamodb::create_table(&client, &table).await.unwrap();

    let topic = "arn:aws:sns:us-east-1:123456789012:alerts";
    let price_book = repo_root().join("infra/pricebook/sample.json");
    let function = LambdaUnderTest::start(
        Path::new(env!("CARGO_BIN_EXE_create-purchases")),
        &[
            ("PURCHASES_TABLE", &table),
            ("ALERTS_TOPIC_ARN", topic),
            ("PRICE_BOOK_FILE", price_book.to_str().unwrap()),
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
    let stored = DynamoDbPurchaseStore::new(client, table)
        .get(&id)
        .await
        .unwrap()
        .expect("stored in DynamoDB");
    assert!(stored.is_ready_for_checkout());
    assert_eq!(body["orderTotals"]["priceTotal"]["amount"], "9.72");
}
