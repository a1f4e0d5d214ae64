//! Ports: the small traits the handlers are generic over, shaped by what the domain needs
//! (insert-if-absent, conditional change, list what is open), not by any database's API.
//! Traits only: their adapters live in the `jwo-aws` crate (DynamoDB, SNS, the Checkout Service
//! over HTTPS) and the `jwo-local` crate (an embedded database, files, the log).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use crate::alerts::{Alert, AlertError};
use crate::catalog::ingestion::{Ingestion, StatusRecorded, Upload};
use crate::catalog::price_book_versions::{PriceBookHead, VersionedPriceBook};
use crate::contract::checkout::Submission;
use crate::purchase::Purchase;
use crate::store::{
    HistoryCursor, HistoryPage, HistoryQuery, Inserted, OpenPage, StoreError, Updated,
};

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

    /// One page of at most `limit` Open purchases, in purchase-id order, after the purchase id
    /// `after` (from the start when `None`). Read from an index that holds Open purchases only,
    /// so the cost follows what is open, not what was ever stored. A record that cannot be
    /// read is an `Err` entry of the page, never the end of the listing.
    fn list_open(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<OpenPage, StoreError>> + Send;

    /// One page of at most `limit` purchases of a store created in the query's window, oldest
    /// first, after `after`. Read from an index by store and creation time, so the cost follows
    /// the window, not the table. Completed and Canceled purchases are there until retention
    /// deletes them.
    fn list_history(
        &self,
        query: &HistoryQuery,
        after: Option<&HistoryCursor>,
        limit: usize,
    ) -> impl Future<Output = Result<HistoryPage, StoreError>> + Send;

    /// Every Open purchase, page by page (tests and tools; the sweep reads pages itself). A
    /// record that cannot be read fails it.
    fn all_open(&self) -> impl Future<Output = Result<Vec<Purchase>, StoreError>> + Send {
        async {
            let mut all = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = self.list_open(after.as_deref(), 100).await?;
                for purchase in page.purchases {
                    all.push(purchase?);
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => return Ok(all),
                }
            }
        }
    }
}

/// Where alerts go: an SNS topic in AWS, the log (and a list to show) locally.
pub trait Alerts: Send + Sync + 'static {
    fn publish(&self, alert: &Alert) -> impl Future<Output = Result<(), AlertError>> + Send;
}

/// Where the current price book comes from.
pub trait CurrentPriceBook: Send + Sync + 'static {
    fn current(&self) -> impl Future<Output = Result<Arc<VersionedPriceBook>, StoreError>> + Send;

    /// The version purchases record as `label` (`v3`), if it can still be read: what explains
    /// a purchase priced before the current version.
    fn version(
        &self,
        label: &str,
    ) -> impl Future<Output = Result<Option<Arc<VersionedPriceBook>>, StoreError>> + Send {
        async move {
            let current = self.current().await?;
            Ok((current.version == label).then_some(current))
        }
    }
}

/// One price book source (and its cache) shared by the functions of one process.
impl<B: CurrentPriceBook> CurrentPriceBook for Arc<B> {
    fn current(&self) -> impl Future<Output = Result<Arc<VersionedPriceBook>, StoreError>> + Send {
        B::current(self)
    }

    fn version(
        &self,
        label: &str,
    ) -> impl Future<Output = Result<Option<Arc<VersionedPriceBook>>, StoreError>> + Send {
        B::version(self, label)
    }
}

/// Where price book versions are kept (the catalog table in AWS, files under the data
/// directory locally). A version is written whole before it becomes current, so a reader sees
/// the old version or the new one, never a mix.
pub trait PriceBookStore: Send + Sync + 'static {
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

    /// The head of stored version `version` (1, 2, 3...), if it is still known.
    fn version_head(
        &self,
        version: u64,
    ) -> impl Future<Output = Result<Option<PriceBookHead>, StoreError>> + Send {
        async move { Ok(self.head().await?.filter(|head| head.version == version)) }
    }

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

/// Amazon's Checkout Service: takes a priced cart and charges the shopping trip.
pub trait CheckoutService: Send + Sync + 'static {
    /// Submits the exact `body` bytes (the cart as priced and stored), trying again after
    /// transient failures until `deadline` (no attempt runs past it), and says how it ended.
    fn submit(&self, body: &[u8], deadline: Instant) -> impl Future<Output = Submission> + Send;
}
