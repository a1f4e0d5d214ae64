//! The catalog notifications Lambda: tracing, configuration and clients once, then the runtime.

use catalog_notifications::lambda::handle_event;
use catalog_notifications::{CatalogNotifications, LambdaSettings};
use jwo_aws::dynamodb::catalog::DynamoDbCatalog;
use jwo_aws::sns::alerts::SnsAlerts;
use jwo_aws::sns::subscriptions::SnsSubscriptions;
use lambda_runtime::{Error, run, service_fn};

// mimalloc: a cart is many small allocations (its strings, lines and amounts), and glibc's
// malloc took about a sixth of the pricing path (BENCHMARKS.md, the pricing path
// against issue 18's goals).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = LambdaSettings::from_lookup(jwo_aws::settings::from_env)?;
    let signatures = settings.signing_certificates()?;
    let aws = jwo_aws::sdk::sdk_config(settings.call_timeouts).await;
    let sns = aws_sdk_sns::Client::new(&aws);
    let service = CatalogNotifications::new(
        settings.acceptance,
        DynamoDbCatalog::new(aws_sdk_dynamodb::Client::new(&aws), settings.catalog_table),
        SnsAlerts::new(sns.clone(), settings.alerts_topic_arn),
        SnsSubscriptions::new(sns),
        signatures,
    );
    let service = &service;
    run(service_fn(move |event| handle_event(service, event))).await
}
