//! Ingestions: what the catalog store knows of each Catalog API upload and the statuses Amazon
//! reported for it.

use serde::{Deserialize, Serialize};

use crate::contract::catalog::ProcessingStatus;

/// What the catalog store knows of one Catalog API upload (an ingestion).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ingestion {
    pub ingestion_id: String,
    pub status: ProcessingStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_download_link: Option<String>,
    /// The SNS message that brought this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// What the notification carried that we do not know, kept as it came.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub detail: serde_json::Map<String, serde_json::Value>,
    /// Whether the alert this status needs (FATAL, CANCELLED) was published.
    #[serde(default)]
    pub alerted: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// What we sent, when the upload was ours (`jwo catalog upload`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<Upload>,
}

impl Ingestion {
    /// A status update with nothing else known yet.
    pub fn with_status(ingestion_id: &str, status: ProcessingStatus) -> Ingestion {
        Ingestion {
            ingestion_id: ingestion_id.to_owned(),
            status,
            report_download_link: None,
            message_id: None,
            detail: serde_json::Map::new(),
            alerted: false,
            updated_at: chrono::Utc::now(),
            upload: None,
        }
    }
}

/// One Catalog API upload call of ours: what it carried.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Upload {
    /// Catalog items in the call.
    pub items: usize,
    /// The price book version the items came from.
    pub price_book_version: String,
    /// Which call of the upload this was (1-based), and of how many.
    pub call: usize,
    pub calls: usize,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
    /// Attempts of this call that got no answer before the one accepted. The Catalog API has
    /// no idempotency key, so each may have made an ingestion of its own, of the same items:
    /// harmless (items are taken as they are), but that ingestion is not ours on record.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unanswered_attempts: u32,
}

fn is_zero(count: &u32) -> bool {
    *count == 0
}

/// What recording a status found.
#[derive(Debug, PartialEq)]
pub enum StatusRecorded {
    /// The status is newer than what was stored (or the ingestion is new): written.
    Advanced(Ingestion),
    /// The stored status is as far along already (a duplicate, or a late older status):
    /// nothing was written. Here is what is stored.
    Unchanged(Ingestion),
}

/// Oldest upload first (by upload time, then call number), ingestions we did not upload last.
pub fn sort_by_upload(ingestions: &mut [Ingestion]) {
    ingestions.sort_by(|a, b| {
        let key = |ingestion: &Ingestion| {
            (
                ingestion.upload.is_none(),
                ingestion
                    .upload
                    .as_ref()
                    .map(|upload| (upload.uploaded_at, upload.call)),
                ingestion.updated_at,
            )
        };
        key(a).cmp(&key(b))
    });
}
