//! Reading JSON the way the contract needs it: walking untyped JSON while naming every offending
//! field ([`fields`], shared by the Create Purchases validation and the checkout-rules checker),
//! and serde helpers that refuse what is not an object ([`object_only`]).

pub(crate) mod fields;
pub mod object_only;

use serde::{Deserialize, Serialize};

/// One offending field of a request: the JSON path and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}
