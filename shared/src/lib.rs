//! The ordering connector's library, shared by every Lambda function and the `jwo` command.
//!
//! The pure domain lives here with no AWS SDK, no Lambda types and no I/O:
//! - [`contract`]: the wire types of CONTRACT.md,
//! - [`money`]: decimal money with one named rounding strategy,
//! - [`validation`]: the Create Purchases body, every offending field named,
//! - [`pricing`]: the price book and the pricing engine of PRICING.md,
//! - [`checkout_rules`]: Amazon's six checkout rules, checked independently of the engine,
//! - [`purchase`]: the purchase record and its lifecycle,
//! - [`catalog`]: price book versions (import, the pricing cache) and Catalog API items.
//!
//! At the edges: [`ports`], the small traits the handlers are generic over, and [`adapters`],
//! their implementations over DynamoDB, SNS, and an embedded database.

pub mod adapters;
pub mod amazon;
pub mod catalog;
pub mod checkout_rules;
pub mod contract;
mod json_fields;
pub mod latency;
pub mod money;
pub mod ports;
pub mod pricing;
pub mod purchase;
pub mod retry;
pub mod settings;
pub mod sns_signature;
pub mod validation;
