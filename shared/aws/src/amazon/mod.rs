//! Talking to Amazon's APIs: request signing (and its verification, for the local stand-ins of
//! Amazon's side).

pub mod catalog_client;
pub mod checkout_client;
pub mod http;
pub mod signed_json;
pub mod sigv4;
