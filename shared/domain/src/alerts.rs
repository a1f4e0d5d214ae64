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
    /// A submission got no answer and a later one was refused: Amazon may have charged the
    /// trip; the purchase is held for reconciliation by a person.
    CheckoutOutcomeUnknown,
    /// The Checkout Service answered a 4xx that is not a decline (404, 409, 422, ...): a
    /// configuration or protocol problem; the purchase is held.
    CheckoutRefused,
    /// A purchase stayed Open longer than the configured window.
    PurchaseStuckOpen,
    /// A catalog upload ended FATAL or CANCELLED.
    CatalogIngestionFailed,
    /// A catalog notification could not be read.
    UnreadableNotification,
    /// A catalog notification's SNS signature did not check out (forged, altered, or unsigned).
    UnverifiedNotification,
    /// A stored purchase could not be read back (the sweep skipped it).
    UnreadablePurchase,
}

#[derive(Debug, Error)]
#[error("alert could not be published: {0}")]
pub struct AlertError(pub String);

/// At most this many lines of a list go into an alert's detail; the rest are counted.
pub const MAX_LISTED: usize = 20;

/// `lines`, one a line, cut to [`MAX_LISTED`] with a count of the rest: an alert stays far
/// inside SNS's 256 KB however long the list.
pub fn listed(lines: &[String]) -> String {
    let shown = lines.len().min(MAX_LISTED);
    let mut text = lines[..shown].join("\n");
    if lines.len() > shown {
        text.push_str(&format!("\n… and {} more", lines.len() - shown));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_is_cut_and_counted() {
        let lines: Vec<String> = (0..1000).map(|n| format!("line {n}")).collect();
        let text = listed(&lines);
        assert_eq!(text.lines().count(), MAX_LISTED + 1);
        assert!(text.ends_with("… and 980 more"), "{text}");
        assert_eq!(listed(&lines[..2]), "line 0\nline 1");
    }
}
