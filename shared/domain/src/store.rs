//! What the stores answer: the outcomes of a conditional write, and the one error type of every
//! store (purchases, price book versions, ingestions).

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::purchase::Purchase;

/// A store that could not do what was asked. Every variant means "nothing was written".
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store cannot be reached or refused for a reason that may pass (throttling, network,
    /// a file lock): worth retrying, so callers answer 5xx.
    #[error("purchase store unavailable: {0}")]
    Unavailable(String),
    /// A stored record that cannot be read back: needs a person. `record` names it (`purchase
    /// STORE-001/trip-1`, `price book v3`, `ingestion ...`, or a file).
    #[error("stored {record} cannot be read: {reason}")]
    Corrupt { record: String, reason: String },
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

/// One page of Open purchases.
#[derive(Debug)]
pub struct OpenPage {
    /// In purchase-id order; a record that cannot be read is its error, in its place.
    pub purchases: Vec<Result<Purchase, StoreError>>,
    /// The purchase id to list after for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// Which of a store's purchases to list: those created in `[since, until)`, oldest first.
#[derive(Debug, Clone)]
pub struct HistoryQuery {
    pub store_id: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// Where a page of a store's history ended: the last purchase's creation key and id. The next
/// page starts after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryCursor {
    /// [`creation_key`] of the purchase's creation time.
    pub created: String,
    pub purchase_id: String,
}

/// One page of a store's history.
#[derive(Debug)]
pub struct HistoryPage {
    /// Oldest first (purchases created at the same instant in an order of the store's own); a
    /// record that cannot be read is its error, in its place.
    pub purchases: Vec<Result<Purchase, StoreError>>,
    pub next: Option<HistoryCursor>,
}

/// A creation time as the stores index it: fixed width, so text order is time order.
pub fn creation_key(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}
