//! The Create Purchases Lambda: tracing, configuration and clients once, then the runtime.

use std::sync::Once;
use std::time::Instant;

use create_purchases::CreatePurchases;
use create_purchases::config::LambdaSettings;
use create_purchases::lambda::handle_event;
use jwo_aws::dynamodb::catalog::DynamoDbCatalog;
use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_aws::sns::alerts::SnsAlerts;
use jwo_domain::catalog::price_book_versions::CachedPriceBook;
use lambda_http::{Error, run, service_fn};

// mimalloc: a cart is many small allocations (its strings, lines and amounts), and glibc's
// malloc took about a sixth of the pricing path (BENCHMARKS.md, the pricing path
// against issue 18's goals).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = Instant::now();
    lambda_http::tracing::init_default_subscriber();
    let settings = LambdaSettings::from_lookup(jwo_aws::settings::from_env)?;
    let aws = jwo_aws::sdk::sdk_config(settings.call_timeouts).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let price_books = CachedPriceBook::new(
        DynamoDbCatalog::new(dynamodb.clone(), settings.catalog_table),
        settings.price_book_cache,
    );
    let service = CreatePurchases::new(
        DynamoDbPurchaseStore::new(dynamodb, settings.purchases_table),
        SnsAlerts::new(aws_sdk_sns::Client::new(&aws), settings.alerts_topic_arn),
        price_books,
        settings.config,
    );
    tracing::info!(
        init_ms = started.elapsed().as_millis() as u64,
        "initialized"
    );
    let service = &service;
    let first_response = Once::new();
    let first_response = &first_response;
    run(service_fn(move |event| async move {
        let received = Instant::now();
        let response = handle_event(service, event).await;
        // The cold start as the function sees it: process start to its first answer, and how
        // much of that the first invocation itself took (the rest is waiting for the event).
        first_response.call_once(|| {
            tracing::info!(
                cold_start_ms = started.elapsed().as_millis() as u64,
                first_invocation_ms = received.elapsed().as_millis() as u64,
                "first response"
            )
        });
        response
    }))
    .await
}
