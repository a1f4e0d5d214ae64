//! Ports: the small traits the handlers are generic over, shaped by what the domain needs
//! (insert-if-absent, conditional change, list what is open), not by any database's API.
//! Their adapters live in [`crate::adapters`].

use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::contract::catalog::ProcessingStatus;
use crate::pricing::PriceBook;
use crate::purchase::Purchase;

/// A store that could not do what was asked. Every variant means "nothing was written".
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store cannot be reached or refused for a reason that may pass (throttling, network,
    /// a file lock): worth retrying, so callers answer 5xx.
    #[error("purchase store unavailable: {0}")]
    Unavailable(String),
    /// A stored record that cannot be read back: needs a person.
    #[error("stored purchase {purchase_id} cannot be read: {reason}")]
    Corrupt { purchase_id: String, reason: String },
    /// Someone else changed the record first (another price book import): nothing was
    /// written; try again from what is stored now.
    #[error("{0}")]
    Conflict(String),
    /// A record the store cannot hold (too large, for one).
    #[error("purchase {purchase_id} cannot be stored: {reason}")]
    Rejected { purchase_id: String, reason: String },
}

/// What an insert-if-absent found.
#[derive(Debug)]
pub enum Inserted {
    /// The record was written.
    New,
    /// A record with this purchase id already exists; here it is, unchanged.
    Existing(Box<Purchase>),
}

/// What a conditional update found.
#[derive(Debug)]
pub enum Updated {
    /// The new version was written.
    Done,
    /// The stored record is no longer the version the change was computed from (or is gone);
    /// nothing was written. Here is what is stored now.
    Conflict(Option<Box<Purchase>>),
}

/// Where purchases are kept: DynamoDB in AWS, an embedded database locally.
pub trait PurchaseStore: Send + Sync + 'static {
    /// Writes `purchase` unless a record with its purchase id exists, durably, before returning.
    fn insert_if_absent(
        &self,
        purchase: &Purchase,
    ) -> impl Future<Output = Result<Inserted, StoreError>> + Send;

    fn get(
        &self,
        purchase_id: &str,
    ) -> impl Future<Output = Result<Option<Purchase>, StoreError>> + Send;

    /// Writes `next` only if the stored record still has `next.version - 1`.
    fn update(&self, next: &Purchase) -> impl Future<Output = Result<Updated, StoreError>> + Send;

    /// Every purchase in the Open state.
    fn list_open(&self) -> impl Future<Output = Result<Vec<Purchase>, StoreError>> + Send;
}

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

/// Where alerts go: an SNS topic in AWS, the log (and a list to show) locally.
pub trait Alerts: Send + Sync + 'static {
    fn publish(&self, alert: &Alert) -> impl Future<Output = Result<(), AlertError>> + Send;
}

/// A price book and the version it is known by (recorded on every purchase priced with it).
#[derive(Debug)]
pub struct VersionedPriceBook {
    pub version: String,
    pub book: PriceBook,
}

/// Where the current price book comes from.
pub trait PriceBooks: Send + Sync + 'static {
    fn current(&self) -> impl Future<Output = Result<Arc<VersionedPriceBook>, StoreError>> + Send;
}

/// One stored version of the price book, without its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceBookHead {
    /// 1, 2, 3...: each import that changes the price book makes the next one.
    pub version: u64,
    /// SHA-256 (hex) of the stored JSON.
    pub sha256: String,
    pub items: usize,
    /// The file it was imported from.
    pub source: String,
    pub imported_at: chrono::DateTime<chrono::Utc>,
}

impl PriceBookHead {
    /// How purchases record the version they were priced with: `v3`.
    pub fn label(&self) -> String {
        format!("v{}", self.version)
    }
}

/// What publishing a price book did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// Stored as the new current version.
    New(PriceBookHead),
    /// The same as the current version: nothing was written.
    Unchanged(PriceBookHead),
}

/// Where price book versions are kept (the catalog table in AWS, files under the data
/// directory locally). A version is written whole before it becomes current, so a reader sees
/// the old version or the new one, never a mix.
pub trait PriceBookVersions: Send + Sync + 'static {
    /// The current version, if any was ever published.
    fn head(&self) -> impl Future<Output = Result<Option<PriceBookHead>, StoreError>> + Send;

    /// The JSON of a stored version.
    fn read(
        &self,
        head: &PriceBookHead,
    ) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

    /// Stores `json` (a validated price book) as `head`, which must be the version after the
    /// current one; [`StoreError::Conflict`] if another import got there first.
    fn publish(
        &self,
        head: &PriceBookHead,
        json: &[u8],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The current version and its JSON: what a cold start needs for its first cart, in one
    /// read where the store can.
    fn current_with_json(
        &self,
    ) -> impl Future<Output = Result<Option<(PriceBookHead, Vec<u8>)>, StoreError>> + Send {
        async {
            match self.head().await? {
                Some(head) => {
                    let json = self.read(&head).await?;
                    Ok(Some((head, json)))
                }
                None => Ok(None),
            }
        }
    }
}

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

/// Where ingestions and the SNS subscription's state are kept (DynamoDB in AWS).
pub trait IngestionStore: Send + Sync + 'static {
    /// Records `update` unless the stored status is as far along or further: duplicates are
    /// harmless, and an older status never overwrites a newer one.
    fn record_status(
        &self,
        update: &Ingestion,
    ) -> impl Future<Output = Result<StatusRecorded, StoreError>> + Send;

    fn get_ingestion(
        &self,
        ingestion_id: &str,
    ) -> impl Future<Output = Result<Option<Ingestion>, StoreError>> + Send;

    /// The alert for the stored status went out.
    fn mark_alerted(
        &self,
        ingestion_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records an upload call of ours that Amazon answered with `ingestion_id`: the ingestion
    /// starts INQUEUE unless a status for it is stored already (a notification can be first).
    fn record_upload(
        &self,
        ingestion_id: &str,
        upload: &Upload,
    ) -> impl Future<Output = Result<Ingestion, StoreError>> + Send;

    /// Every ingestion, oldest upload first.
    fn list_ingestions(&self) -> impl Future<Output = Result<Vec<Ingestion>, StoreError>> + Send;

    /// The subscription of our queue to `topic_arn` is confirmed.
    fn record_subscription(
        &self,
        topic_arn: &str,
        subscription_arn: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Confirms an SNS subscription (`sns:ConfirmSubscription`); answers the subscription ARN.
pub trait Subscriptions: Send + Sync + 'static {
    fn confirm(
        &self,
        topic_arn: &str,
        token: &str,
    ) -> impl Future<Output = Result<String, String>> + Send;
}

/// Why the certificate that signed an SNS message could not be had.
#[derive(Debug, Error)]
pub enum CertificateError {
    /// Not to be fetched at all (not SNS's own address): the message is refused.
    #[error(transparent)]
    Refused(#[from] crate::sns_signature::SignatureError),
    /// The fetch failed (network, an error answer): the message is tried again later.
    #[error("the signing certificate could not be fetched: {0}")]
    Unavailable(String),
}

/// Where the certificates that sign SNS messages come from (the message's `SigningCertURL`).
pub trait SigningCertificates: Send + Sync + 'static {
    /// The certificate, PEM.
    fn certificate(
        &self,
        url: &str,
    ) -> impl Future<Output = Result<Arc<[u8]>, CertificateError>> + Send;
}
