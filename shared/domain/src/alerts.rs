//! Alerts: what needs a person, one kind per cause.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Something that needs a person: published, never dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub kind: AlertKind,
    /// One line, for an e-mail subject or a pager.
    pub subject: String,
    /// What happened and what to do. Never holds payment, shopper or device identifiers.
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlertKind {
    /// A purchase was stored but cannot go to checkout (unknown SKU, missing tax rate...).
    PurchaseBlocked,
    /// The Checkout Service refused a cart (400).
    CheckoutDeclined,
    /// The Checkout Service refused our signature or account (403).
    CheckoutForbidden,
    /// A purchase stayed Open longer than the configured window.
    PurchaseStuckOpen,
    /// A catalog upload ended FATAL or CANCELLED.
    CatalogIngestionFailed,
    /// A catalog notification could not be read.
    UnreadableNotification,
    /// A catalog notification's SNS signature did not check out (forged, altered, or unsigned).
    UnverifiedNotification,
}

#[derive(Debug, Error)]
#[error("alert could not be published: {0}")]
pub struct AlertError(pub String);
