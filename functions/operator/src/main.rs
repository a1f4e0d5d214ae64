//! The operator Lambda: tracing, configuration and clients once, then the runtime.

use std::sync::Arc;
use std::time::Instant;

use checkout::Checkout;
use jwo_aws::amazon::checkout_client::CheckoutClient;
use jwo_aws::dynamodb::catalog::DynamoDbCatalog;
use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_aws::sns::alerts::SnsAlerts;
use jwo_domain::catalog::price_book_versions::CachedPriceBook;
use lambda_http::{Error, run, service_fn};
use operator::Operator;
use operator::config::LambdaSettings;
use operator::lambda::handle_event;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = Instant::now();
    lambda_http::tracing::init_default_subscriber();
    let settings = LambdaSettings::from_lookup(jwo_aws::settings::from_env)?;
    let checkout = settings.checkout;
    let aws = jwo_aws::sdk::sdk_config(checkout.call_timeouts).await;
    let credentials = aws
        .credentials_provider()
        .ok_or("no AWS credentials provider: completing a purchase signs its submission")?;
    let client = CheckoutClient::new(
        &checkout.checkout_endpoint,
        &checkout.checkout_region,
        credentials,
    )
    .map_err(|error| format!("CHECKOUT_ENDPOINT: {error}"))?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let price_books = CachedPriceBook::new(
        DynamoDbCatalog::new(dynamodb.clone(), checkout.catalog_table),
        checkout.price_book_cache,
    );
    let service = Operator::new(Arc::new(Checkout::new(
        DynamoDbPurchaseStore::new(dynamodb, checkout.purchases_table),
        SnsAlerts::new(aws_sdk_sns::Client::new(&aws), checkout.alerts_topic_arn),
        client,
        price_books,
        checkout.config,
    )));
    tracing::info!(
        init_ms = started.elapsed().as_millis() as u64,
        "initialized"
    );
    let (service, allowed) = (&service, &settings.allowed_callers);
    run(service_fn(move |event| {
        handle_event(service, allowed, event)
    }))
    .await
}
