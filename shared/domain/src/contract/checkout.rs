//! Checkout Service (docs/contract.md §2): `POST /v1/checkout/carts`, we call Amazon.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::create_purchases::{CartItemType, Quantity};
use crate::money::Money;

/// The priced cart submitted to the Checkout Service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutRequest {
    pub idempotent_shopping_trip_id: String,
    pub store_id: String,
    pub line_items: Vec<LineItem>,
    pub order_totals: OrderTotals,
}

impl CheckoutRequest {
    /// The exact bytes sent (and signed): compact JSON, written into a buffer sized up front.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let mut bytes = SmallWrites(Vec::with_capacity(256 + 512 * self.line_items.len()));
        // Writing plain data into a Vec cannot fail.
        serde_json::to_writer(&mut bytes, self).expect("a checkout request always serializes");
        bytes.0
    }
}

/// A `Vec<u8>` sink for serde_json that pushes its many one-byte writes (every quote, colon
/// and comma) itself instead of calling `memcpy` for each; longer writes are copied as usual.
struct SmallWrites(Vec<u8>);

impl std::io::Write for SmallWrites {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.write_all(bytes).map(|()| bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match bytes {
            [byte] => self.0.push(*byte),
            _ => self.0.extend_from_slice(bytes),
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// The cart item's `id`, echoed (shared with the cart, not copied).
    #[serde(deserialize_with = "super::shared_text")]
    pub product_id: Arc<str>,
    #[serde(rename = "type")]
    pub item_type: CartItemType,
    pub quantity: Quantity,
    pub unit_price: UnitPrice,
}

/// A line's amounts: for the whole line or per unit, by the configured amount basis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitPrice {
    pub price: Money,
    /// Always present; `[]` when no promotion applies.
    pub promotions: Vec<AppliedPromotion>,
    pub sales_tax: Money,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposits_and_fees: Vec<DepositAndFee>,
    pub total_price: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPromotion {
    pub promotion_amount: Money,
    /// The price book's own text, shared rather than copied for every line.
    pub promotion_description: Arc<str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepositAndFee {
    pub deposit_and_fee_amount: Money,
    pub deposit_and_fee_description: Arc<str>,
    pub sales_tax: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderTotals {
    pub sub_total: Money,
    pub promotions_total: Money,
    pub sales_tax_total: Money,
    pub price_total: Money,
}

/// `201 {"orderId": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutResponse {
    pub order_id: String,
}

/// What the Checkout Service says on a 4xx: the exception name and its message, when given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutErrorBody {
    #[serde(
        default,
        alias = "__type",
        alias = "type",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<String>,
    #[serde(default, alias = "Message", skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// How a submission ended, as far as its answers tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutOutcome {
    /// 201: the cart is accepted (or was already, for a repeat of the trip). Authoritative
    /// whenever it arrives.
    Accepted { order_id: String },
    /// 403: signing or allowlisting is wrong. Not retried now; the purchase stays Open.
    Forbidden { message: String },
    /// Any other 4xx: Amazon refused this submission. Whether that is a decline depends on
    /// what came before (docs/contract.md §2, "repeats"): only a 400 to a submission whose
    /// earlier attempts all had known answers is one.
    Refused {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// Only transient failures, until the attempts or the time ran out. Retry later, and not
    /// before `retry_after` when the service asked for a wait longer than the time left.
    GaveUp {
        attempts: u32,
        last_error: String,
        retry_after: Option<std::time::Duration>,
    },
}

/// A submission: how it ended, and how many of its attempts sent the cart and got no answer
/// (a timeout, a dropped connection), after which Amazon may have charged the trip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    pub outcome: CheckoutOutcome,
    pub unanswered_attempts: u32,
}

/// Whether amounts on the wire are for a line's whole quantity or per unit (docs/contract.md §2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AmountBasis {
    #[default]
    Line,
    Unit,
}

impl FromStr for AmountBasis {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "line" => Ok(AmountBasis::Line),
            "unit" => Ok(AmountBasis::Unit),
            other => Err(format!(
                "'{other}' is not an amount basis; use line or unit"
            )),
        }
    }
}

impl fmt::Display for AmountBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmountBasis::Line => "line",
            AmountBasis::Unit => "unit",
        })
    }
}
