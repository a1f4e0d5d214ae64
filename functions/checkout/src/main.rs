//! The Checkout Lambda: tracing, configuration and clients once, then the runtime.

use std::time::Instant;

use checkout::Checkout;
use checkout::config::LambdaSettings;
use checkout::lambda::handle_event;
use jwo_shared::adapters::dynamodb::DynamoDbPurchaseStore;
use jwo_shared::adapters::sns_alerts::SnsAlerts;
use jwo_shared::amazon::checkout_client::CheckoutClient;
use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = Instant::now();
    lambda_runtime::tracing::init_default_subscriber();
    let settings = LambdaSettings::from_env()?;
    let aws = jwo_shared::adapters::aws::sdk_config().await;
    let credentials = aws
        .credentials_provider()
        .ok_or("no AWS credentials provider: the checkout must sign its requests")?;
    let client = CheckoutClient::new(
        &settings.checkout_endpoint,
        &settings.checkout_region,
        credentials,
    )
    .map_err(|error| format!("CHECKOUT_ENDPOINT: {error}"))?;
    let service = Checkout::new(
        DynamoDbPurchaseStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            settings.purchases_table,
        ),
        SnsAlerts::new(aws_sdk_sns::Client::new(&aws), settings.alerts_topic_arn),
        client,
        settings.settings,
    );
    tracing::info!(
        init_ms = started.elapsed().as_millis() as u64,
        "initialized"
    );
    let service = &service;
    run(service_fn(move |event| handle_event(service, event))).await
}
