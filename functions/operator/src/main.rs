//! The operator Lambda: tracing, configuration and clients once, then the runtime.

use std::sync::Arc;
use std::time::Instant;

use checkout::lambda::aws_checkout;
use lambda_http::{Error, run, service_fn};
use operator::Operator;
use operator::config::LambdaSettings;
use operator::lambda::handle_event;

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
    // The checkout's own service: completing a purchase submits it as the checkout does.
    let service = Arc::new(Operator::new(Arc::new(
        aws_checkout(settings.checkout).await?,
    )));
    let schema = operator::graphql::schema(service.clone());
    tracing::info!(
        init_ms = started.elapsed().as_millis() as u64,
        "initialized"
    );
    let (service, schema, allowed) = (&*service, &schema, &settings.allowed_callers);
    run(service_fn(move |event| {
        handle_event(service, schema, allowed, event)
    }))
    .await
}
