//! The ordering connector's ports on one machine, for `jwo serve`, the tests and the tools (no
//! Lambda depends on this crate):
//! - [`embedded`]: purchases in a local redb file, with group commit,
//! - [`catalog_files`]: price book versions, ingestions and subscriptions in files,
//! - [`log_alerts`]: alerts to the log, and a list to show,
//! - [`fixed_price_book`]: one price book read once, and the sample price book compiled in
//!   (`pricebook/sample.json`, which this crate owns),
//! - [`latency`]: latency percentiles, for `jwo load` and the benchmarks.

pub mod catalog_files;
pub mod embedded;
pub mod fixed_price_book;
pub mod latency;
pub mod log_alerts;
