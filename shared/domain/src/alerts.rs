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
    /// A catalog notification was not verified as a recent message of Amazon's topic: its SNS
    /// signature did not check out (forged, altered, unsigned), or it came from another topic,
    /// too long ago, or with a lower SignatureVersion than required.
    UnverifiedNotification,
    /// A stored purchase could not be read back (the sweep skipped it).
    UnreadablePurchase,
    /// Carts arrive while no price book can be read: they are stored unpriced.
    NoPriceBook,
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

/// An alert about one cause that many purchases share (a 403, no price book) goes out once
/// per this window, not once per purchase.
pub const CAUSE_WINDOW: std::time::Duration = std::time::Duration::from_secs(3600);

/// One alert per cause and window, for as long as the process (a warm Lambda, `jwo serve`)
/// lives: concurrent Lambda instances each send at most one.
#[derive(Debug, Default)]
pub struct OncePerCause {
    sent: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

impl OncePerCause {
    /// Whether an alert about `cause` goes out now; from now on it counts as sent for
    /// [`CAUSE_WINDOW`] unless [`OncePerCause::failed`] says it did not go out.
    pub fn take(&self, cause: &str) -> bool {
        let now = std::time::Instant::now();
        let mut sent = self.lock();
        match sent.get(cause) {
            Some(at) if now.duration_since(*at) < CAUSE_WINDOW => false,
            _ => {
                sent.insert(cause.to_owned(), now);
                true
            }
        }
    }

    /// The alert about `cause` could not be published: the next one may go.
    pub fn failed(&self, cause: &str) {
        self.lock().remove(cause);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, std::time::Instant>> {
        self.sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_alerted_once_until_its_alert_fails() {
        let causes = OncePerCause::default();
        assert!(causes.take("403"));
        assert!(!causes.take("403"));
        assert!(causes.take("NoPriceBook"));
        causes.failed("403");
        assert!(causes.take("403"));
        assert!(!causes.take("403"));
    }

    #[test]
    fn a_long_list_is_cut_and_counted() {
        let lines: Vec<String> = (0..1000).map(|n| format!("line {n}")).collect();
        let text = listed(&lines);
        assert_eq!(text.lines().count(), MAX_LISTED + 1);
        assert!(text.ends_with("… and 980 more"), "{text}");
        assert_eq!(listed(&lines[..2]), "line 0\nline 1");
    }
}
