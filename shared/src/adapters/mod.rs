//! Adapters: the ports of [`crate::ports`] over real infrastructure.
//! - [`dynamodb`]: purchases in DynamoDB (AWS, and `moto` in tests),
//! - [`dynamodb_catalog`] / [`local_catalog`]: the catalog store (price book versions,
//!   ingestions, the catalog subscription) in DynamoDB, or in files under a directory,
//! - [`embedded`]: purchases in a local redb file (`jwo serve`, tests),
//! - [`sns_alerts`] / [`local_alerts`]: alerts to an SNS topic, or to the log and a list,
//! - [`sns_subscriptions`]: confirming an SNS subscription,
//! - [`price_book_file`]: a fixed price book read once (tests, benchmarks, `jwo price`).

pub mod aws;
pub mod dynamodb;
pub mod dynamodb_catalog;
pub mod embedded;
pub mod local_alerts;
pub mod local_catalog;
pub mod price_book_file;
pub mod sns_alerts;
pub mod sns_certificates;
pub mod sns_subscriptions;

#[cfg(test)]
pub(crate) mod catalog_contract;
#[cfg(test)]
pub(crate) mod store_contract;
