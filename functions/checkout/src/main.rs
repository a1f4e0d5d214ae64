//! The Checkout Lambda: tracing, configuration and clients once, then the runtime.

use std::time::Instant;

use checkout::config::LambdaSettings;
use checkout::lambda::{aws_checkout, handle_event};
use lambda_runtime::{Error, run, service_fn};

// mimalloc: a cart is many small allocations (its strings, lines and amounts), and glibc's
// malloc took about a sixth of the pricing path (BENCHMARKS.md, the pricing path
// against issue 18's goals).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = Instant::now();
    lambda_runtime::tracing::init_default_subscriber();
    let settings = LambdaSettings::from_lookup(jwo_aws::settings::from_env)?;
    let service = aws_checkout(settings).await?;
    tracing::info!(
        init_ms = started.elapsed().as_millis() as u64,
        "initialized"
    );
    let service = &service;
    run(service_fn(move |event| handle_event(service, event))).await
}
