//! The ordering connector's pure domain: what the connector knows and decides, with no AWS SDK,
//! no HTTP, no database and no I/O (the test command checks this crate's dependency tree).
//! - [`contract`]: the wire types of Amazon's APIs (see `docs/contract.md`),
//! - [`money`]: decimal money with one named rounding strategy,
//! - [`validation`]: the Create Purchases body, every offending field named,
//! - [`pricing`]: the price book and the pricing engine (see `docs/pricing.md`),
//! - [`checkout_rules`]: Amazon's six checkout rules, checked independently of the engine,
//! - [`purchase`]: the purchase record and its lifecycle (see `docs/design.md`),
//! - [`checkout_session`]: the purchase as people see and resolve it,
//! - [`catalog`]: price book versions, Catalog API items and ingestions, as data,
//! - [`alerts`]: what needs a person,
//! - [`json`]: walking JSON while naming every offending field,
//! - [`store`]: what the stores answer,
//! - [`ports`]: the traits the handlers are generic over; their adapters live in the `jwo-aws`
//!   and `jwo-local` crates.

pub mod alerts;
#[cfg(any(test, feature = "behaviour-suites"))]
pub mod behaviour;
pub mod catalog;
pub mod checkout_rules;
pub mod checkout_session;
pub mod contract;
pub mod json;
pub mod money;
pub mod ports;
pub mod pricing;
pub mod purchase;
pub mod store;
pub mod validation;
