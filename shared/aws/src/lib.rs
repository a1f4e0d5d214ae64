//! The ordering connector's ports over AWS, and the clients of Amazon's APIs:
//! - [`dynamodb`]: purchases and the catalog store (price book versions, ingestions) in DynamoDB,
//! - [`sns`]: everything SNS — envelopes, signature verification, signing certificates,
//!   subscriptions, and alerts to a topic,
//! - [`amazon`]: the Checkout Service and Catalog API clients, SigV4-signed, with [`retry`],
//! - [`sdk`]: the one AWS SDK configuration (HTTPS client, timeouts, the emulator for tests),
//! - [`settings`] and [`functions`]: the rule every function's settings follow, and what each
//!   function is (binary, environment variables, IAM actions).

pub mod amazon;
pub mod callers;
pub mod dynamodb;
pub mod functions;
pub mod pacer;
pub mod retry;
pub mod sdk;
pub mod settings;
pub mod sns;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
