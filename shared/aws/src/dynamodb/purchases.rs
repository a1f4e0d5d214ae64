//! Purchases in DynamoDB.
//!
//! Key design: one item per purchase, partition key `purchaseId` (a string, no sort key). The
//! purchase id is derived from the idempotency key (store id + trip id), so insert-if-absent is
//! a single `PutItem` guarded by `attribute_not_exists(purchaseId)`, and a lookup by purchase id
//! is a `GetItem`: no index is needed for either.
//!
//! Item attributes:
//! - `purchaseId` (S), `storeId` (S), `idempotentShoppingTripId` (S): the keys, readable;
//! - `state` (S: Open | Completed | Canceled), `readyForCheckout` (BOOL), `constraintCount` (N):
//!   what the table's stream filter and a console reader need without parsing;
//! - `version` (N): every update is a `PutItem` guarded by `version = :expected`;
//! - `createdAt` (S, fixed-width UTC time): with `storeId` the key of the index `StorePurchases`
//!   (keys only, so updates never write to it) that lists a store's history by time;
//! - `openIndex` (S, `Open`): present only while the purchase is Open (or closed with an alert
//!   still to publish), the partition key of the sparse index `OpenPurchases` (sort key
//!   `purchaseId`) that the sweep reads;
//! - `expiresAt` (N, epoch seconds): the table's TTL attribute, set only once a purchase is
//!   Completed or Canceled (retention, default 30 days): nothing unresolved ever expires;
//! - `document` (S): the whole purchase as JSON; over 300 KB it is gzipped into
//!   `documentGzip` (B) instead;
//! - `documentParts` (N): for the rare purchase still over 350 KB gzipped (a 1 MB cart of
//!   incompressible identifiers), the gzipped document is split across that many part items,
//!   `{purchaseId}#part{i}` with `part` (B) and the `version` of the purchase they belong to.
//!   The purchase item and its parts are written in one `TransactWriteItems` (parts beyond the
//!   new count deleted in it) and read in one `TransactGetItems`, so no reader ever sees a
//!   purchase with another version's parts. No cart the 1 MB body limit admits is refused.

use std::collections::HashMap;
use std::io::{Read, Write};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use jwo_domain::ports::PurchaseStore;
use jwo_domain::purchase::Purchase;
use jwo_domain::store::{
    HistoryCursor, HistoryPage, HistoryQuery, Inserted, OpenPage, StoreError, Updated, creation_key,
};

/// Documents larger than this are stored gzipped.
const GZIP_ABOVE_BYTES: usize = 300 * 1024;
/// A gzipped document larger than this is split into parts of at most this size.
const PART_BYTES: usize = 350 * 1024;
/// The most parts a purchase has: one transaction takes at most 4 MB, so about 3.4 MB gzipped.
/// The largest cart the 1 MB body limit admits needs far fewer (BENCHMARKS.md).
pub const MAX_PARTS: usize = 10;

pub(crate) type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoDbPurchaseStore {
    client: Client,
    table: String,
}

impl DynamoDbPurchaseStore {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbPurchaseStore {
        DynamoDbPurchaseStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

pub(crate) fn unavailable<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(format!("{}", DisplayErrorContext(&error)))
}

/// A purchase as DynamoDB items: the purchase item, and the parts of a split document.
pub struct Encoded {
    pub item: Item,
    pub parts: Vec<Item>,
}

/// The key of a split document's part `index`.
fn part_key(purchase_id: &str, index: usize) -> String {
    format!("{purchase_id}{PART_KEY_MARK}{index}")
}

/// Marks a part's key: purchase ids are UUIDs and never hold a `#`.
const PART_KEY_MARK: &str = "#part";

/// Whether an item key is a split document's part rather than a purchase (the table's stream
/// carries both).
pub fn is_document_part(key: &str) -> bool {
    key.contains(PART_KEY_MARK)
}

/// The item for a purchase, with the parts its document is split into if it is that large.
pub fn to_item(purchase: &Purchase) -> Encoded {
    let document = serde_json::to_vec(purchase).expect("a purchase always serializes");
    let mut item: Item = [
        (
            "purchaseId",
            AttributeValue::S(purchase.purchase_id.clone()),
        ),
        ("storeId", AttributeValue::S(purchase.store_id.clone())),
        (
            "idempotentShoppingTripId",
            AttributeValue::S(purchase.idempotent_shopping_trip_id.clone()),
        ),
        (
            STORE_INDEX_TIME,
            AttributeValue::S(creation_key(purchase.created_at)),
        ),
        ("state", AttributeValue::S(purchase.state.to_string())),
        (
            "readyForCheckout",
            AttributeValue::Bool(purchase.is_ready_for_checkout()),
        ),
        (
            "constraintCount",
            AttributeValue::N(purchase.constraints.len().to_string()),
        ),
        ("version", AttributeValue::N(purchase.version.to_string())),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    // The sparse index's key only while the sweep has work there (Open, or an alert still to
    // publish): closing a purchase takes it out of the index.
    if purchase.needs_sweep() {
        item.insert(
            OPEN_INDEX_KEY.into(),
            AttributeValue::S(OPEN_INDEX_VALUE.into()),
        );
    }
    // The TTL attribute only on a Completed or Canceled purchase with no alert left to publish:
    // nothing unresolved expires.
    let expires_at = purchase
        .expires_at
        .filter(|_| !purchase.needs_sweep())
        .map(|expires_at| AttributeValue::N(expires_at.timestamp().to_string()));
    if let Some(expires_at) = &expires_at {
        item.insert("expiresAt".into(), expires_at.clone());
    }
    if document.len() <= GZIP_ABOVE_BYTES {
        let text = String::from_utf8(document).expect("JSON is UTF-8");
        item.insert("document".into(), AttributeValue::S(text));
        return Encoded {
            item,
            parts: Vec::new(),
        };
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&document).expect("writing to memory");
    let compressed = encoder.finish().expect("writing to memory");
    if compressed.len() <= PART_BYTES {
        item.insert(
            "documentGzip".into(),
            AttributeValue::B(Blob::new(compressed)),
        );
        return Encoded {
            item,
            parts: Vec::new(),
        };
    }
    let parts: Vec<Item> = compressed
        .chunks(PART_BYTES)
        .enumerate()
        .map(|(index, chunk)| {
            let mut part: Item = [
                (
                    "purchaseId",
                    AttributeValue::S(part_key(&purchase.purchase_id, index)),
                ),
                ("part", AttributeValue::B(Blob::new(chunk))),
                ("version", AttributeValue::N(purchase.version.to_string())),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
            if let Some(expires_at) = &expires_at {
                part.insert("expiresAt".into(), expires_at.clone());
            }
            part
        })
        .collect();
    item.insert(
        "documentParts".into(),
        AttributeValue::N(parts.len().to_string()),
    );
    Encoded { item, parts }
}

/// How many parts the document of `item` is split into (0: it is in the item).
fn parts_of(item: &Item) -> usize {
    match item.get("documentParts") {
        Some(AttributeValue::N(count)) => count.parse().unwrap_or(usize::MAX),
        _ => 0,
    }
}

/// The purchase in an item whose document is in the item itself (not split into parts).
pub fn from_item(item: &Item) -> Result<Purchase, StoreError> {
    from_items(item, &[])
}

/// The purchase in an item and, for a split document, its parts in order.
fn from_items(item: &Item, parts: &[Item]) -> Result<Purchase, StoreError> {
    let purchase_id = match item.get("purchaseId") {
        Some(AttributeValue::S(id)) => id.clone(),
        _ => String::from("(no purchaseId)"),
    };
    let corrupt = |reason: String| StoreError::Corrupt {
        record: format!("purchase {purchase_id}"),
        reason,
    };
    let gunzip = |compressed: &[u8]| {
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(compressed)
            .read_to_end(&mut decoded)
            .map(|_| decoded)
            .map_err(|error| corrupt(format!("documentGzip: {error}")))
    };
    let expected_parts = parts_of(item);
    let document = match (item.get("document"), item.get("documentGzip")) {
        (Some(AttributeValue::S(text)), _) => text.as_bytes().to_vec(),
        (_, Some(AttributeValue::B(blob))) => gunzip(blob.as_ref())?,
        _ if expected_parts > 0 => {
            if parts.len() != expected_parts {
                return Err(corrupt(format!(
                    "{} of its {expected_parts} document parts were read",
                    parts.len()
                )));
            }
            let mut compressed = Vec::new();
            for (index, part) in parts.iter().enumerate() {
                match (part.get("part"), part.get("version")) {
                    (Some(AttributeValue::B(blob)), version) if version == item.get("version") => {
                        compressed.extend_from_slice(blob.as_ref())
                    }
                    _ => {
                        return Err(corrupt(format!(
                            "document part {index} is missing or of another version"
                        )));
                    }
                }
            }
            gunzip(&compressed)?
        }
        _ => return Err(corrupt("the item has no document".into())),
    };
    serde_json::from_slice(&document).map_err(|error| corrupt(error.to_string()))
}

impl DynamoDbPurchaseStore {
    async fn read(&self, purchase_id: &str) -> Result<Option<Purchase>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("purchaseId", AttributeValue::S(purchase_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        match output.item {
            Some(item) => self.decode(item).await.map(Some),
            None => Ok(None),
        }
    }

    /// The purchase in `item`, its parts read first if its document is split: the purchase
    /// item and its parts in one transactional read, so all of one version.
    async fn decode(&self, item: Item) -> Result<Purchase, StoreError> {
        use aws_sdk_dynamodb::types::{Get, TransactGetItem};
        let mut item = item;
        // A purchase rewritten between reads with another part count: read it again.
        for _ in 0..3 {
            let count = parts_of(&item);
            if count == 0 {
                return from_item(&item);
            }
            let purchase_id = match item.get("purchaseId") {
                Some(AttributeValue::S(id)) => id.clone(),
                _ => return from_item(&item),
            };
            if count > MAX_PARTS {
                return Err(StoreError::Corrupt {
                    record: format!("purchase {purchase_id}"),
                    reason: format!("documentParts is {count}; at most {MAX_PARTS} are written"),
                });
            }
            let keys = std::iter::once(purchase_id.clone())
                .chain((0..count).map(|index| part_key(&purchase_id, index)));
            let mut read = self.client.transact_get_items();
            for key in keys {
                let get = Get::builder()
                    .table_name(&self.table)
                    .key("purchaseId", AttributeValue::S(key))
                    .build()
                    .expect("table and key are set");
                read = read.transact_items(TransactGetItem::builder().get(get).build());
            }
            let output = read.send().await.map_err(unavailable)?;
            let mut items = output
                .responses
                .unwrap_or_default()
                .into_iter()
                .map(|response| response.item);
            let Some(Some(current)) = items.next() else {
                return Err(StoreError::Unavailable(format!(
                    "purchase {purchase_id} was deleted while it was read"
                )));
            };
            if parts_of(&current) == count {
                let parts: Vec<Item> = items.flatten().collect();
                return from_items(&current, &parts);
            }
            item = current;
        }
        Err(StoreError::Unavailable(
            "a split purchase kept changing while it was read".into(),
        ))
    }

    /// Writes `encoded` under `condition`: one `PutItem`, or for a split document one
    /// transaction of the purchase item (under the condition), its parts, and the deletion of
    /// parts an earlier, larger version had beyond them.
    async fn write(
        &self,
        encoded: Encoded,
        condition: &str,
        expected_version: Option<u64>,
    ) -> Result<Result<(), Option<Item>>, StoreError> {
        let values: Vec<(&str, AttributeValue)> = expected_version
            .map(|version| (":expected", AttributeValue::N(version.to_string())))
            .into_iter()
            .collect();
        // A large document goes through the transaction even unsplit: it deletes the parts a
        // larger earlier version may have left.
        if encoded.parts.is_empty() && !encoded.item.contains_key("documentGzip") {
            return conditional_put(&self.client, &self.table, encoded.item, condition, values)
                .await;
        }
        let purchase_id = match encoded.item.get("purchaseId") {
            Some(AttributeValue::S(id)) => id.clone(),
            _ => String::new(),
        };
        if encoded.parts.len() > MAX_PARTS {
            return Err(StoreError::Rejected {
                purchase_id,
                reason: format!(
                    "the purchase is {} parts gzipped; at most {MAX_PARTS} fit one transaction",
                    encoded.parts.len()
                ),
            });
        }
        transact_put(
            &self.client,
            &self.table,
            encoded,
            condition,
            values,
            &purchase_id,
        )
        .await
    }
}

/// [`DynamoDbPurchaseStore::write`] of a split document.
async fn transact_put(
    client: &Client,
    table: &str,
    encoded: Encoded,
    condition: &str,
    values: Vec<(&str, AttributeValue)>,
    purchase_id: &str,
) -> Result<Result<(), Option<Item>>, StoreError> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
    let count = encoded.parts.len();
    let mut main = Put::builder()
        .table_name(table)
        .set_item(Some(encoded.item))
        .condition_expression(condition)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    for (name, value) in values {
        main = main.expression_attribute_values(name, value);
    }
    let mut actions = vec![
        TransactWriteItem::builder()
            .put(main.build().expect("table and item are set"))
            .build(),
    ];
    for part in encoded.parts {
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(part))
            .build()
            .expect("table and item are set");
        actions.push(TransactWriteItem::builder().put(put).build());
    }
    for stale in count..MAX_PARTS {
        let delete = Delete::builder()
            .table_name(table)
            .key(
                "purchaseId",
                AttributeValue::S(part_key(purchase_id, stale)),
            )
            .build()
            .expect("table and key are set");
        actions.push(TransactWriteItem::builder().delete(delete).build());
    }
    match client
        .transact_write_items()
        .set_transact_items(Some(actions))
        .send()
        .await
    {
        Ok(_) => Ok(Ok(())),
        Err(SdkError::ServiceError(failure)) => match failure.into_err() {
            TransactWriteItemsError::TransactionCanceledException(canceled) => {
                let first = canceled
                    .cancellation_reasons()
                    .first()
                    .cloned()
                    .unwrap_or_else(|| {
                        aws_sdk_dynamodb::types::CancellationReason::builder().build()
                    });
                if first.code() == Some("ConditionalCheckFailed") {
                    Ok(Err(first.item))
                } else {
                    Err(StoreError::Unavailable(format!(
                        "the write of split purchase {purchase_id} was canceled: {}",
                        canceled.message().unwrap_or("no reason given")
                    )))
                }
            }
            other => {
                use aws_sdk_dynamodb::error::ProvideErrorMetadata;
                if other.code() == Some("ValidationException") {
                    Err(StoreError::Rejected {
                        purchase_id: purchase_id.to_owned(),
                        reason: other.message().unwrap_or("refused").to_owned(),
                    })
                } else {
                    Err(StoreError::Unavailable(format!(
                        "{}",
                        DisplayErrorContext(&other)
                    )))
                }
            }
        },
        Err(error) => Err(unavailable(error)),
    }
}

/// A `PutItem` under `condition`: `Ok(Err(old item))` when the condition fails (expected, and
/// answered with the item that made it fail), `Err` for a real fault.
pub(crate) async fn conditional_put(
    client: &Client,
    table: &str,
    item: Item,
    condition: &str,
    values: Vec<(&str, AttributeValue)>,
) -> Result<Result<(), Option<Item>>, StoreError> {
    let mut put = client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    for (name, value) in values {
        put = put.expression_attribute_values(name, value);
    }
    match put.send().await {
        Ok(_) => Ok(Ok(())),
        Err(SdkError::ServiceError(failure))
            if failure.err().is_conditional_check_failed_exception() =>
        {
            let old = match failure.into_err() {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e) => e.item,
                _ => None,
            };
            Ok(Err(old))
        }
        Err(SdkError::ServiceError(failure)) if is_too_large(failure.err()) => {
            Err(StoreError::Rejected {
                purchase_id: String::new(),
                reason: format!("{}", DisplayErrorContext(failure.err())),
            })
        }
        Err(error) => Err(unavailable(error)),
    }
}

fn is_too_large(error: &aws_sdk_dynamodb::operation::put_item::PutItemError) -> bool {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    error.code() == Some("ValidationException")
        && error.message().is_some_and(|m| m.contains("size"))
}

impl PurchaseStore for DynamoDbPurchaseStore {
    async fn insert_if_absent(&self, purchase: &Purchase) -> Result<Inserted, StoreError> {
        let attach_id = |error: StoreError| match error {
            StoreError::Rejected { reason, .. } => StoreError::Rejected {
                purchase_id: purchase.purchase_id.clone(),
                reason,
            },
            other => other,
        };
        match self
            .write(to_item(purchase), "attribute_not_exists(purchaseId)", None)
            .await
            .map_err(attach_id)?
        {
            Ok(()) => Ok(Inserted::New),
            Err(Some(old)) => Ok(Inserted::Existing(Box::new(self.decode(old).await?))),
            // Older DynamoDB-compatible stores may not return the old item: read it.
            Err(None) => match self.read(&purchase.purchase_id).await? {
                Some(existing) => Ok(Inserted::Existing(Box::new(existing))),
                None => Err(StoreError::Unavailable(format!(
                    "purchase {} exists by the condition but cannot be read",
                    purchase.purchase_id
                ))),
            },
        }
    }

    async fn get(&self, purchase_id: &str) -> Result<Option<Purchase>, StoreError> {
        self.read(purchase_id).await
    }

    async fn update(&self, next: &Purchase) -> Result<Updated, StoreError> {
        let expected = next.version.saturating_sub(1);
        match self
            .write(to_item(next), "version = :expected", Some(expected))
            .await?
        {
            Ok(()) => Ok(Updated::Done),
            Err(Some(current)) => Ok(Updated::Conflict(Some(Box::new(
                self.decode(current).await?,
            )))),
            Err(None) => Ok(Updated::Conflict(
                self.read(&next.purchase_id).await?.map(Box::new),
            )),
        }
    }

    /// A query of the sparse index `OpenPurchases`: only Open purchases carry its key
    /// (`openIndex`), so a page costs what is open, however many purchases were ever stored.
    /// The index is eventually consistent; a purchase listed just after it closed is found
    /// closed when it is read for checkout.
    async fn list_open(&self, after: Option<&str>, limit: usize) -> Result<OpenPage, StoreError> {
        let start = after.map(|after| {
            HashMap::from([
                (
                    OPEN_INDEX_KEY.to_owned(),
                    AttributeValue::S(OPEN_INDEX_VALUE.into()),
                ),
                ("purchaseId".to_owned(), AttributeValue::S(after.to_owned())),
            ])
        });
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(OPEN_INDEX)
            .key_condition_expression("#open = :open")
            .expression_attribute_names("#open", OPEN_INDEX_KEY)
            .expression_attribute_values(":open", AttributeValue::S(OPEN_INDEX_VALUE.into()))
            .limit(i32::try_from(limit.clamp(1, 1000)).expect("at most 1000"))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(unavailable)?;
        let next = page
            .last_evaluated_key()
            .and_then(|key| match key.get("purchaseId") {
                Some(AttributeValue::S(id)) => Some(id.clone()),
                _ => None,
            });
        let mut purchases = Vec::with_capacity(page.items().len());
        for item in page.items.unwrap_or_default() {
            purchases.push(self.decode(item).await);
        }
        Ok(OpenPage { purchases, next })
    }

    /// A query of the index `StorePurchases` (store id, creation time; keys only), then each
    /// purchase read from the table, a few at a time.
    async fn list_history(
        &self,
        query: &HistoryQuery,
        after: Option<&HistoryCursor>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError> {
        use futures_util::StreamExt;
        let empty = HistoryPage {
            purchases: Vec::new(),
            next: None,
        };
        // The key condition's BETWEEN includes both ends; the window excludes `until`.
        let Some(last) = query
            .until
            .checked_sub_signed(chrono::Duration::nanoseconds(1))
        else {
            return Ok(empty);
        };
        if query.since > last {
            return Ok(empty);
        }
        // A cursor outside the window (from another one) would be refused by DynamoDB: one
        // before it starts at since, one after it ends the listing.
        let (since_key, last_key) = (creation_key(query.since), creation_key(last));
        if after.is_some_and(|after| after.created > last_key) {
            return Ok(empty);
        }
        let after = after.filter(|after| after.created >= since_key);
        let start = after.map(|after| {
            HashMap::from([
                (
                    "storeId".to_owned(),
                    AttributeValue::S(query.store_id.clone()),
                ),
                (
                    STORE_INDEX_TIME.to_owned(),
                    AttributeValue::S(after.created.clone()),
                ),
                (
                    "purchaseId".to_owned(),
                    AttributeValue::S(after.purchase_id.clone()),
                ),
            ])
        });
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(STORE_INDEX)
            .key_condition_expression("#store = :store AND #created BETWEEN :since AND :last")
            .expression_attribute_names("#store", "storeId")
            .expression_attribute_names("#created", STORE_INDEX_TIME)
            .expression_attribute_values(":store", AttributeValue::S(query.store_id.clone()))
            .expression_attribute_values(":since", AttributeValue::S(since_key))
            .expression_attribute_values(":last", AttributeValue::S(last_key))
            .limit(i32::try_from(limit.clamp(1, 1000)).expect("at most 1000"))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(unavailable)?;
        let text = |item: &Item, name: &str| match item.get(name) {
            Some(AttributeValue::S(text)) => Some(text.clone()),
            _ => None,
        };
        let next = page.last_evaluated_key().and_then(|key| {
            Some(HistoryCursor {
                created: text(key, STORE_INDEX_TIME)?,
                purchase_id: text(key, "purchaseId")?,
            })
        });
        let ids: Vec<String> = page
            .items()
            .iter()
            .filter_map(|item| text(item, "purchaseId"))
            .collect();
        let purchases = futures_util::stream::iter(ids)
            .map(|id| async move {
                match self.read(&id).await {
                    Ok(Some(purchase)) => Ok(purchase),
                    // Deleted by retention between the query and the read.
                    Ok(None) => Err(StoreError::Corrupt {
                        record: format!("purchase {id}"),
                        reason: "in the store's history but no longer stored".into(),
                    }),
                    Err(error) => Err(error),
                }
            })
            .buffered(8)
            .collect()
            .await;
        Ok(HistoryPage { purchases, next })
    }
}

/// The sparse index of Open purchases: its name, its partition key attribute (present only on
/// Open purchases) and that key's one value; the sort key is `purchaseId`.
pub const OPEN_INDEX: &str = "OpenPurchases";
pub const OPEN_INDEX_KEY: &str = "openIndex";
const OPEN_INDEX_VALUE: &str = "Open";
/// The index of a store's purchases by creation time (partition key `storeId`, sort key
/// [`STORE_INDEX_TIME`], keys only).
pub const STORE_INDEX: &str = "StorePurchases";
pub const STORE_INDEX_TIME: &str = "createdAt";

/// Creates the purchases table with the key design above, on demand billing, and the stream
/// that drives checkout (new and old images). For emulators and tests: in AWS the
/// CloudFormation template creates it (with TTL and PITR too).
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    };
    let string = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("complete attribute definition")
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("complete key schema")
    };
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(string("purchaseId"))
        .attribute_definitions(string(OPEN_INDEX_KEY))
        .attribute_definitions(string("storeId"))
        .attribute_definitions(string(STORE_INDEX_TIME))
        .key_schema(key("purchaseId", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(OPEN_INDEX)
                .key_schema(key(OPEN_INDEX_KEY, KeyType::Hash))
                .key_schema(key("purchaseId", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("complete index"),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(STORE_INDEX)
                .key_schema(key("storeId", KeyType::Hash))
                .key_schema(key(STORE_INDEX_TIME, KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .expect("complete index"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .expect("complete stream specification"),
        )
        .send()
        .await
        .map_err(unavailable)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwo_domain::behaviour::purchase_store;

    #[test]
    fn items_round_trip_plain_and_gzipped() {
        let purchase = purchase_store::sample_purchase("item-1", true);
        let item = to_item(&purchase).item;
        assert!(item.contains_key("document") && !item.contains_key("documentGzip"));
        assert_eq!(item["state"], AttributeValue::S("Open".into()));
        assert_eq!(item["readyForCheckout"], AttributeValue::Bool(true));
        assert_eq!(from_item(&item).unwrap(), purchase);

        // A cart big enough to need compression.
        let big = big_purchase("item-big");
        let item = to_item(&big).item;
        let AttributeValue::B(blob) = &item["documentGzip"] else {
            panic!("not gzipped")
        };
        assert!(
            blob.as_ref().len() < 390 * 1024,
            "{} bytes",
            blob.as_ref().len()
        );
        assert_eq!(from_item(&item).unwrap(), big);
    }

    /// A 5,000-line purchase: big enough to be stored gzipped.
    fn big_purchase(trip: &str) -> Purchase {
        let mut big = purchase_store::sample_purchase(trip, true);
        let line = big.cart_items[0].clone();
        big.cart_items = (0..5_000)
            .map(|n| {
                let mut line = line.clone();
                line.line_item_id = Some(format!("line-{n}"));
                line
            })
            .collect();
        big
    }

    async fn store_on_moto() -> DynamoDbPurchaseStore {
        let config = crate::sdk::emulator_sdk_config(jwo_test_support::moto_endpoint()).await;
        let client = Client::new(&config);
        let table = jwo_test_support::unique_name("purchases");
        create_table(&client, &table).await.unwrap();
        DynamoDbPurchaseStore::new(client, table)
    }

    #[tokio::test]
    async fn keeps_the_store_contract_on_moto() {
        purchase_store::run_all(&store_on_moto().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_inserts_of_one_trip_make_one_record_on_moto() {
        purchase_store::concurrent_inserts(
            std::sync::Arc::new(store_on_moto().await),
            |task| async { tokio::spawn(task).await.unwrap() },
        )
        .await;
    }

    #[tokio::test]
    async fn a_large_cart_is_stored_gzipped_and_read_back() {
        let store = store_on_moto().await;
        let big = big_purchase("big-1");
        assert!(matches!(
            store.insert_if_absent(&big).await.unwrap(),
            Inserted::New
        ));
        assert_eq!(store.get(&big.purchase_id).await.unwrap(), Some(big));
    }

    #[tokio::test]
    async fn an_unreachable_or_missing_table_is_unavailable_and_nothing_is_written() {
        let store = store_on_moto().await;
        let missing = DynamoDbPurchaseStore::new(store.client.clone(), "no-such-table");
        let purchase = purchase_store::sample_purchase("fault-1", true);
        assert!(matches!(
            missing.insert_if_absent(&purchase).await,
            Err(StoreError::Unavailable(_))
        ));
        // Nothing listens on port 9 (discard) on loopback.
        let config = crate::sdk::emulator_sdk_config("http://127.0.0.1:9").await;
        let unreachable = DynamoDbPurchaseStore::new(Client::new(&config), store.table());
        assert!(matches!(
            unreachable.insert_if_absent(&purchase).await,
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(store.get(&purchase.purchase_id).await.unwrap(), None);
    }

    #[test]
    fn only_a_closed_purchase_carries_the_ttl_and_only_an_open_one_the_index_key() {
        let mut open = purchase_store::sample_purchase("ttl-1", true);
        // Even a record from before the rule, Open with an expiry, gets no TTL attribute.
        open.expires_at = Some(open.created_at);
        let item = to_item(&open).item;
        assert!(!item.contains_key("expiresAt"));
        assert!(item.contains_key(OPEN_INDEX_KEY));
        let done = open.complete("order", open.created_at).unwrap();
        let item = to_item(&done).item;
        assert!(item.contains_key("expiresAt"));
        assert!(!item.contains_key(OPEN_INDEX_KEY));
        // Closed with an alert still to publish: swept, and not deleted before it is out.
        let mut declined = open
            .cancel(
                jwo_domain::purchase::CancelReason::Declined,
                "test",
                open.created_at,
            )
            .unwrap();
        declined.add_pending_alert(declined.blocked_alert());
        let item = to_item(&declined).item;
        assert!(!item.contains_key("expiresAt"));
        assert!(item.contains_key(OPEN_INDEX_KEY));
    }

    #[test]
    fn an_incompressible_purchase_is_split_and_every_part_is_needed() {
        let mut big = purchase_store::sample_purchase("item-split", true);
        let line = big.cart_items[0].clone();
        big.cart_items = (0..3_000)
            .map(|_| {
                let mut line = line.clone();
                line.line_item_id = Some(
                    std::iter::repeat_with(fastrand::alphanumeric)
                        .take(255)
                        .collect(),
                );
                line
            })
            .collect();
        let encoded = to_item(&big);
        assert!(encoded.parts.len() >= 2, "{} parts", encoded.parts.len());
        assert!(!encoded.item.contains_key("documentGzip"));
        assert!(encoded.parts.iter().all(|part| {
            let AttributeValue::S(key) = &part["purchaseId"] else {
                return false;
            };
            is_document_part(key)
        }));
        assert!(!is_document_part(&big.purchase_id));
        assert_eq!(from_items(&encoded.item, &encoded.parts).unwrap(), big);
        // One part short, or a part of another version: corrupt, never a wrong purchase.
        assert!(matches!(
            from_items(&encoded.item, &encoded.parts[1..]),
            Err(StoreError::Corrupt { .. })
        ));
        let mut stale = encoded.parts.clone();
        stale[1].insert("version".into(), AttributeValue::N("0".into()));
        assert!(matches!(
            from_items(&encoded.item, &stale),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            from_item(&encoded.item),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn an_item_without_a_document_is_corrupt_not_a_panic() {
        let mut item = to_item(&purchase_store::sample_purchase("item-2", true)).item;
        item.remove("document");
        assert!(matches!(from_item(&item), Err(StoreError::Corrupt { .. })));
    }
}
