//! Validation of the Create Purchases body (docs/contract.md §1): every offending field is reported
//! with its path and a reason, and only a fully valid body becomes a typed request.
//!
//! Each field rule is a small function below, used by both ways in:
//! - a fast path: a well-typed body is deserialized straight into the request and the rules
//!   serde cannot express are checked on it (the usual case, and the cheap one);
//! - the walk: the body is read as untyped JSON field by field, which is what finds and names
//!   every problem at once. Any body the fast path does not accept is walked, so the walk alone
//!   decides what a 400 says.

use thiserror::Error;

use crate::contract::create_purchases::CreatePurchasesRequest;
use crate::json::FieldError;
use crate::json::object_only::ObjectOnly;

/// Quantity units that count whole things; a fractional quantity in one of these is refused.
/// Anything else (`lb`, `kg`, `oz`, ...) is a measure and may be fractional.
pub const COUNT_UNITS: &[&str] = &[
    "unit", "units", "each", "ea", "count", "ct", "item", "items", "piece", "pieces", "pc", "pcs",
];

pub fn is_count_unit(unit: &str) -> bool {
    COUNT_UNITS
        .iter()
        .any(|count| count.eq_ignore_ascii_case(unit))
}

/// A Create Purchases body that must be answered with 400. Carries every offending field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct InvalidRequest {
    pub message: String,
    pub errors: Vec<FieldError>,
}

/// At most this many offending fields are listed in a 400; the rest are counted in one more
/// entry, so a huge bad body cannot make an answer larger than the body (Lambda answers at most
/// 6 MB).
pub const MAX_LISTED_ERRORS: usize = 100;

impl InvalidRequest {
    fn new(mut errors: Vec<FieldError>) -> InvalidRequest {
        let message = match errors.as_slice() {
            [only] => format!("invalid request: {} {}", only.field, only.reason),
            many => format!("invalid request: {} fields are invalid", many.len()),
        };
        if errors.len() > MAX_LISTED_ERRORS {
            let more = errors.len() - MAX_LISTED_ERRORS;
            errors.truncate(MAX_LISTED_ERRORS);
            errors.push(FieldError {
                field: "body".into(),
                reason: format!("and {more} more fields are invalid"),
            });
        }
        InvalidRequest { message, errors }
    }
}

/// Validates a raw Create Purchases body and returns the typed request, or every problem.
pub fn validate_create_purchases(body: &[u8]) -> Result<CreatePurchasesRequest, InvalidRequest> {
    match typed(body) {
        Some(request) => Ok(request),
        None => walk::walk(body),
    }
}

/// The fast path for a body with no problem: the typed parse and the field rules. Any body it
/// does not accept goes to the walk, which names every problem.
fn typed(body: &[u8]) -> Option<CreatePurchasesRequest> {
    // UTF-8 checked once for the whole body (parsing a `str` skips the check per string), and
    // so wherever the bytes are: serde_json skips an unknown member's string unchecked.
    let text = std::str::from_utf8(body).ok()?;
    let ObjectOnly(request) =
        serde_json::from_str::<ObjectOnly<CreatePurchasesRequest>>(text).ok()?;
    rules::follows_field_rules(&request).then_some(request)
}

mod rules;
mod walk;

#[cfg(test)]
mod tests;
