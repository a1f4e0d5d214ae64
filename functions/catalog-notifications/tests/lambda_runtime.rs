//! The function as Lambda runs it: its own binary under `cargo lambda watch`'s runtime API,
//! invoked with `cargo lambda invoke --data-file` with an SQS event (a signed notification in
//! its SNS envelope, an unreadable message, and a forged notification), against DynamoDB and
//! SNS on moto, with signatures verified against the tests' signing certificate.

use std::path::Path;

use jwo_aws::dynamodb::catalog;
use jwo_aws::dynamodb::catalog::DynamoDbCatalog;
use jwo_domain::contract::catalog::ProcessingStatus;
use jwo_domain::ports::IngestionStore;
use jwo_test_support::{
    LambdaUnderTest, fixtures, moto_endpoint, new_topic, sns_signing_certificate, unique_name,
};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoked_through_the_lambda_runtime_it_records_and_reports_only_the_unreadable() {
    let aws = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let table = unique_name("catalog-runtime");
    catalog::create_table(&dynamo, &table).await.unwrap();
    let alerts = new_topic(&aws).await;

    let function = LambdaUnderTest::start(
        Path::new(env!("CARGO_BIN_EXE_catalog-notifications")),
        &[
            ("CATALOG_TABLE", &table),
            ("ALERTS_TOPIC_ARN", &alerts),
            (
                "SNS_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:catalog-upload-results",
            ),
            // The fixture's messages were published in November 2026: accepted for a century.
            ("SNS_MAX_MESSAGE_AGE_SECONDS", "3153600000"),
            (
                "SNS_SIGNING_CERTIFICATE",
                sns_signing_certificate().to_str().unwrap(),
            ),
        ],
    );
    let answer = function.invoke(&fixtures("sqs/catalog_notifications_event.json"));

    assert_eq!(
        answer,
        json!({ "batchItemFailures": [
            { "itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da" },
            { "itemIdentifier": "7c3f1e2a-9b8d-4c6e-a5f4-3e2d1c0b9a87" },
        ] })
    );
    let catalog = DynamoDbCatalog::new(dynamo, &table);
    let stored = catalog
        .get_ingestion("ing-signed-v1")
        .await
        .unwrap()
        .expect("recorded in DynamoDB");
    assert_eq!(stored.status, ProcessingStatus::Done);
    assert_eq!(
        stored.report_download_link.as_deref(),
        Some("https://example.com/reports/ing-signed-v1")
    );
    assert!(
        catalog.get_ingestion("ing-forged").await.unwrap().is_none(),
        "the forged notification changed nothing"
    );
}
