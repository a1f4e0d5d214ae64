//! The Create Purchases Lambda: tracing, configuration and clients once, then the runtime.

use create_purchases::CreatePurchases;
use create_purchases::config::LambdaSettings;
use create_purchases::lambda::handle_event;
use jwo_shared::adapters::dynamodb::DynamoDbPurchaseStore;
use jwo_shared::adapters::price_book_file::FixedPriceBook;
use jwo_shared::adapters::sns_alerts::SnsAlerts;
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let settings = LambdaSettings::from_env()?;
    let price_book_bytes = std::fs::read(&settings.price_book_file)
        .map_err(|error| format!("PRICE_BOOK_FILE {}: {error}", settings.price_book_file))?;
    let price_books = FixedPriceBook::from_json(&price_book_bytes)
        .map_err(|error| format!("PRICE_BOOK_FILE {}: {error}", settings.price_book_file))?;
    let aws = jwo_shared::adapters::aws::sdk_config().await;
    let service = CreatePurchases::new(
        DynamoDbPurchaseStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            settings.purchases_table,
        ),
        SnsAlerts::new(aws_sdk_sns::Client::new(&aws), settings.alerts_topic_arn),
        price_books,
        settings.config,
    );
    let service = &service;
    run(service_fn(move |event| handle_event(service, event))).await
}
