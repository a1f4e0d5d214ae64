//! The Checkout Lambda: tracing, configuration and clients once, then the runtime.

use std::time::Instant;

use checkout::Checkout;
use checkout::config::LambdaSettings;
use checkout::lambda::handle_event;
use jwo_aws::amazon::checkout_client::CheckoutClient;
use jwo_aws::dynamodb::catalog::DynamoDbCatalog;
use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_aws::sns::alerts::SnsAlerts;
use jwo_domain::catalog::price_book_versions::CachedPriceBook;
use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = Instant::now();
    lambda_runtime::tracing::init_default_subscriber();
    let settings = LambdaSettings::from_lookup(jwo_aws::settings::from_env)?;
    let aws = jwo_aws::sdk::sdk_config(settings.call_timeouts).await;
    let credentials = aws
        .credentials_provider()
        .ok_or("no AWS credentials provider: the checkout must sign its requests")?;
    let client = CheckoutClient::new(
        &settings.checkout_endpoint,
        &settings.checkout_region,
        credentials,
    )
    .map_err(|error| format!("CHECKOUT_ENDPOINT: {error}"))?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let price_books = CachedPriceBook::new(
        DynamoDbCatalog::new(dynamodb.clone(), settings.catalog_table),
        settings.price_book_cache,
    );
    let service = Checkout::new(
        DynamoDbPurchaseStore::new(dynamodb, settings.purchases_table),
        SnsAlerts::new(aws_sdk_sns::Client::new(&aws), settings.alerts_topic_arn),
        client,
        price_books,
        settings.config,
    );
    tracing::info!(
        init_ms = started.elapsed().as_millis() as u64,
        "initialized"
    );
    let service = &service;
    run(service_fn(move |event| handle_event(service, event))).await
}
