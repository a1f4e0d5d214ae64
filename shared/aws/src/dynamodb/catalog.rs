//! The catalog table in DynamoDB: price book versions, ingestions (Catalog API uploads and their status) and the
//! state of the SNS subscription that reports them.
//!
//! Key design: one table, partition key `pk` (a string), no sort key; the key says what an
//! item is:
//! - `ingestion#{ingestionId}`: `ingestionId`, `status`, `statusRank` (N: INQUEUE 0,
//!   INPROGRESS 1, final 2), `reportDownloadLink`, `messageId`, `alerted` (BOOL), `updatedAt`,
//!   and `detail` (JSON of the fields the notification carried that we do not know). A status
//!   is written with `attribute_not_exists(pk) OR statusRank < :rank`, so a duplicate or a late
//!   older status changes nothing, in one conditional write.
//!   What our upload call recorded (`uploadItems`, `uploadPriceBookVersion`, `uploadCall`,
//!   `uploadCalls`, `uploadedAt`) is never touched by a status.
//! - `subscription#{topicArn}`: `topicArn`, `subscriptionArn`, `confirmedAt`.
//! - `pricebook#current`, `pricebook#v{N}`, `pricebook#{sha256}#{n}`: price book versions (see
//!   the `PriceBookStore` implementation).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::purchases::{Item, conditional_put, unavailable};
use jwo_domain::catalog::ingestion::{Ingestion, StatusRecorded, Upload};
use jwo_domain::catalog::price_book_versions::PriceBookHead;
use jwo_domain::contract::catalog::ProcessingStatus;
use jwo_domain::ports::{IngestionStore, PriceBookStore};
use jwo_domain::store::StoreError;

#[derive(Clone)]
pub struct DynamoDbCatalog {
    client: Client,
    table: String,
}

impl DynamoDbCatalog {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbCatalog {
        DynamoDbCatalog {
            client,
            table: table.into(),
        }
    }
}

/// An item from its attributes.
fn item_of<const N: usize>(attributes: [(&str, AttributeValue); N]) -> Item {
    attributes
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// A string attribute.
fn text(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    }
}

/// A number attribute, as `T`.
fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().ok(),
        _ => None,
    }
}

fn ingestion_key(ingestion_id: &str) -> AttributeValue {
    AttributeValue::S(format!("ingestion#{ingestion_id}"))
}

fn to_item(ingestion: &Ingestion) -> Item {
    let mut item = item_of([
        ("pk", ingestion_key(&ingestion.ingestion_id)),
        (
            "ingestionId",
            AttributeValue::S(ingestion.ingestion_id.clone()),
        ),
        ("status", AttributeValue::S(ingestion.status.to_string())),
        (
            "statusRank",
            AttributeValue::N(ingestion.status.rank().to_string()),
        ),
        ("alerted", AttributeValue::Bool(ingestion.alerted)),
        (
            "updatedAt",
            AttributeValue::S(ingestion.updated_at.to_rfc3339()),
        ),
        (
            "detail",
            AttributeValue::S(serde_json::Value::Object(ingestion.detail.clone()).to_string()),
        ),
    ]);
    if let Some(link) = &ingestion.report_download_link {
        item.insert("reportDownloadLink".into(), AttributeValue::S(link.clone()));
    }
    if let Some(message_id) = &ingestion.message_id {
        item.insert("messageId".into(), AttributeValue::S(message_id.clone()));
    }
    item
}

fn from_item(item: &Item) -> Result<Ingestion, StoreError> {
    let text = |name: &str| text(item, name);
    let ingestion_id = text("ingestionId").unwrap_or_default();
    let corrupt = |reason: String| StoreError::Corrupt {
        purchase_id: format!("ingestion {ingestion_id}"),
        reason,
    };
    let status = text("status")
        .as_deref()
        .and_then(ProcessingStatus::parse)
        .ok_or_else(|| corrupt("no known status".into()))?;
    let updated_at: DateTime<Utc> = text("updatedAt")
        .ok_or_else(|| corrupt("no updatedAt".into()))?
        .parse()
        .map_err(|error| corrupt(format!("updatedAt: {error}")))?;
    let detail = match text("detail") {
        Some(json) => serde_json::from_str(&json).map_err(|e| corrupt(format!("detail: {e}")))?,
        None => serde_json::Map::new(),
    };
    Ok(Ingestion {
        status,
        report_download_link: text("reportDownloadLink"),
        message_id: text("messageId"),
        detail,
        alerted: matches!(item.get("alerted"), Some(AttributeValue::Bool(true))),
        updated_at,
        upload: upload_from_item(item),
        ingestion_id,
    })
}

/// An `UpdateItem`: `SET` of every attribute of `set`, and of every attribute of
/// `set_if_absent` that is not stored yet (`if_not_exists`), and `REMOVE` of `absent`; the key
/// is never set. Names go in placeholders (`status` is a reserved word).
fn update_of(
    client: &Client,
    table: &str,
    key: AttributeValue,
    set: Item,
    set_if_absent: Item,
    absent: &[&str],
) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
    let mut update = client.update_item().table_name(table).key("pk", key);
    let attributes = set
        .into_iter()
        .map(|attribute| (attribute, false))
        .chain(set_if_absent.into_iter().map(|attribute| (attribute, true)))
        .filter(|((name, _), _)| name != "pk");
    let mut sets = Vec::new();
    for (n, ((name, value), if_absent)) in attributes.enumerate() {
        sets.push(if if_absent {
            format!("#a{n} = if_not_exists(#a{n}, :a{n})")
        } else {
            format!("#a{n} = :a{n}")
        });
        update = update
            .expression_attribute_names(format!("#a{n}"), name)
            .expression_attribute_values(format!(":a{n}"), value);
    }
    let mut expression = format!("SET {}", sets.join(", "));
    if !absent.is_empty() {
        let removes: Vec<String> = absent
            .iter()
            .enumerate()
            .map(|(n, name)| {
                update = update
                    .clone()
                    .expression_attribute_names(format!("#r{n}"), *name);
                format!("#r{n}")
            })
            .collect();
        expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
    }
    update.update_expression(expression)
}

fn upload_attributes(upload: &Upload) -> Item {
    item_of([
        ("uploadItems", AttributeValue::N(upload.items.to_string())),
        (
            "uploadPriceBookVersion",
            AttributeValue::S(upload.price_book_version.clone()),
        ),
        ("uploadCall", AttributeValue::N(upload.call.to_string())),
        ("uploadCalls", AttributeValue::N(upload.calls.to_string())),
        (
            "uploadedAt",
            AttributeValue::S(upload.uploaded_at.to_rfc3339()),
        ),
    ])
}

fn upload_from_item(item: &Item) -> Option<Upload> {
    Some(Upload {
        items: number(item, "uploadItems")?,
        price_book_version: text(item, "uploadPriceBookVersion")?,
        call: number(item, "uploadCall")?,
        calls: number(item, "uploadCalls")?,
        uploaded_at: text(item, "uploadedAt")?.parse().ok()?,
    })
}

impl IngestionStore for DynamoDbCatalog {
    async fn record_status(&self, update: &Ingestion) -> Result<StatusRecorded, StoreError> {
        use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
        // Everything but what our upload recorded moves with the status.
        let absent: Vec<&str> = [
            ("reportDownloadLink", update.report_download_link.is_none()),
            ("messageId", update.message_id.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, absent)| absent.then_some(name))
        .collect();
        let mut item = to_item(update);
        item.retain(|name, _| !name.starts_with("upload"));
        let result = update_of(
            &self.client,
            &self.table,
            ingestion_key(&update.ingestion_id),
            item,
            Item::new(),
            &absent,
        )
        .condition_expression("attribute_not_exists(pk) OR statusRank < :rank")
        .expression_attribute_values(":rank", AttributeValue::N(update.status.rank().to_string()))
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
        match result {
            Ok(output) => match output.attributes() {
                Some(stored) => Ok(StatusRecorded::Advanced(from_item(stored)?)),
                None => Ok(StatusRecorded::Advanced(update.clone())),
            },
            Err(aws_sdk_dynamodb::error::SdkError::ServiceError(failure))
                if failure.err().is_conditional_check_failed_exception() =>
            {
                let old = match failure.into_err() {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(e) => e.item,
                    _ => None,
                };
                let stored = match old {
                    Some(old) => Some(from_item(&old)?),
                    None => self.get_ingestion(&update.ingestion_id).await?,
                };
                stored.map(StatusRecorded::Unchanged).ok_or_else(|| {
                    StoreError::Unavailable(format!(
                        "ingestion {} exists by the condition but cannot be read",
                        update.ingestion_id
                    ))
                })
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn get_ingestion(&self, ingestion_id: &str) -> Result<Option<Ingestion>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", ingestion_key(ingestion_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item().map(from_item).transpose()
    }

    async fn mark_alerted(&self, ingestion_id: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", ingestion_key(ingestion_id))
            .update_expression("SET alerted = :yes")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn record_upload(
        &self,
        ingestion_id: &str,
        upload: &Upload,
    ) -> Result<Ingestion, StoreError> {
        // The upload's own attributes are set; the status only if none is stored yet (a
        // notification may have come first).
        let new = Ingestion {
            updated_at: upload.uploaded_at,
            ..Ingestion::with_status(ingestion_id, ProcessingStatus::InQueue)
        };
        let output = update_of(
            &self.client,
            &self.table,
            ingestion_key(ingestion_id),
            upload_attributes(upload),
            to_item(&new),
            &[],
        )
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
        .send()
        .await
        .map_err(unavailable)?;
        let stored = output.attributes().ok_or_else(|| {
            StoreError::Unavailable(format!("ingestion {ingestion_id} was not returned"))
        })?;
        from_item(stored)
    }

    async fn list_ingestions(&self) -> Result<Vec<Ingestion>, StoreError> {
        let mut all = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .filter_expression("begins_with(pk, :prefix)")
                .expression_attribute_values(":prefix", AttributeValue::S("ingestion#".into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items() {
                all.push(from_item(item)?);
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        jwo_domain::catalog::ingestion::sort_by_upload(&mut all);
        Ok(all)
    }

    async fn record_subscription(
        &self,
        topic_arn: &str,
        subscription_arn: &str,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(format!("subscription#{topic_arn}")))
            .item("topicArn", AttributeValue::S(topic_arn.to_owned()))
            .item(
                "subscriptionArn",
                AttributeValue::S(subscription_arn.to_owned()),
            )
            .item("confirmedAt", AttributeValue::S(Utc::now().to_rfc3339()))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

/// Gzipped price book JSON is cut into parts of this many bytes, under DynamoDB's 400 KB item.
const PART_BYTES: usize = 350 * 1024;
/// A price book this small once gzipped is also kept in the head item (`inlineBody`), so a cold
/// start reads head and book in one `GetItem`. Small, because every check of the head (each
/// cache period, in each running function) pays for the whole item's size.
const INLINE_BYTES: usize = 16 * 1024;
const HEAD_KEY: &str = "pricebook#current";

fn gunzip(gzipped: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut json = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gzipped), &mut json)?;
    Ok(json)
}

fn part_key(sha256: &str, part: usize) -> AttributeValue {
    AttributeValue::S(format!("pricebook#{sha256}#{part}"))
}

fn head_item(head: &PriceBookHead, key: &str) -> Item {
    item_of([
        ("pk", AttributeValue::S(key.to_owned())),
        (
            "priceBookVersion",
            AttributeValue::N(head.version.to_string()),
        ),
        ("sha256", AttributeValue::S(head.sha256.clone())),
        ("items", AttributeValue::N(head.items.to_string())),
        ("source", AttributeValue::S(head.source.clone())),
        (
            "importedAt",
            AttributeValue::S(head.imported_at.to_rfc3339()),
        ),
    ])
}

fn head_from_item(item: &Item) -> Result<PriceBookHead, StoreError> {
    let corrupt = |reason: &str| StoreError::Corrupt {
        purchase_id: HEAD_KEY.into(),
        reason: reason.into(),
    };
    let text = |name: &str| text(item, name).ok_or_else(|| corrupt(&format!("no {name}")));
    let number =
        |name: &str| number::<u64>(item, name).ok_or_else(|| corrupt(&format!("no number {name}")));
    Ok(PriceBookHead {
        version: number("priceBookVersion")?,
        sha256: text("sha256")?,
        items: number("items")? as usize,
        source: text("source")?,
        imported_at: text("importedAt")?
            .parse()
            .map_err(|_| corrupt("importedAt is not a time"))?,
    })
}

/// Price book versions in the catalog table: the JSON gzipped and cut into parts keyed by its
/// SHA-256 (`pricebook#{sha256}#{n}`, part 0 saying how many), written first; then the head
/// `pricebook#current`, in one conditional write from the version before, so two imports
/// cannot both become version N; then `pricebook#v{N}`, the history. Content-addressed parts
/// make a crashed import harmless: its parts are overwritten with the same bytes, or ignored.
impl PriceBookStore for DynamoDbCatalog {
    async fn head(&self) -> Result<Option<PriceBookHead>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(HEAD_KEY.into()))
            .consistent_read(true)
            .projection_expression("priceBookVersion, sha256, #items, #source, importedAt")
            .expression_attribute_names("#items", "items")
            .expression_attribute_names("#source", "source")
            .send()
            .await
            .map_err(unavailable)?;
        output.item().map(head_from_item).transpose()
    }

    async fn current_with_json(&self) -> Result<Option<(PriceBookHead, Vec<u8>)>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(HEAD_KEY.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(item) = output.item() else {
            return Ok(None);
        };
        let head = head_from_item(item)?;
        let json = match item.get("inlineBody") {
            Some(AttributeValue::B(gzipped)) => {
                gunzip(gzipped.as_ref()).map_err(|error| StoreError::Corrupt {
                    purchase_id: format!("price book {}", head.label()),
                    reason: format!("cannot gunzip: {error}"),
                })?
            }
            _ => self.read(&head).await?,
        };
        Ok(Some((head, json)))
    }

    async fn read(&self, head: &PriceBookHead) -> Result<Vec<u8>, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            purchase_id: format!("price book {}", head.label()),
            reason,
        };
        let get = |part: usize| {
            self.client
                .get_item()
                .table_name(&self.table)
                .key("pk", part_key(&head.sha256, part))
                .send()
        };
        let first = get(0).await.map_err(unavailable)?;
        let first = first
            .item()
            .ok_or_else(|| corrupt("its first part is missing".into()))?;
        let parts = match first.get("parts") {
            Some(AttributeValue::N(n)) => n.parse::<usize>().unwrap_or(0),
            _ => 0,
        };
        let mut items = vec![first.clone()];
        let rest = futures_util::future::try_join_all((1..parts).map(get))
            .await
            .map_err(unavailable)?;
        for (n, output) in rest.into_iter().enumerate() {
            items.push(
                output
                    .item
                    .ok_or_else(|| corrupt(format!("part {} is missing", n + 1)))?,
            );
        }
        let mut gzipped = Vec::new();
        for item in &items {
            match item.get("body") {
                Some(AttributeValue::B(blob)) => gzipped.extend_from_slice(blob.as_ref()),
                _ => return Err(corrupt("a part has no body".into())),
            }
        }
        gunzip(&gzipped).map_err(|error| corrupt(format!("cannot gunzip: {error}")))
    }

    async fn publish(&self, head: &PriceBookHead, json: &[u8]) -> Result<(), StoreError> {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gzip, json).expect("gzip to memory");
        let gzipped = gzip.finish().expect("gzip to memory");
        let chunks: Vec<&[u8]> = gzipped.chunks(PART_BYTES).collect();
        let parts = chunks.len();
        futures_util::future::try_join_all(chunks.into_iter().enumerate().map(|(n, chunk)| {
            let mut put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", part_key(&head.sha256, n))
                .item("body", AttributeValue::B(chunk.to_vec().into()));
            if n == 0 {
                put = put.item("parts", AttributeValue::N(parts.to_string()));
            }
            put.send()
        }))
        .await
        .map_err(unavailable)?;

        let (condition, values) = if head.version == 1 {
            ("attribute_not_exists(pk)", vec![])
        } else {
            (
                "priceBookVersion = :previous",
                vec![(
                    ":previous",
                    AttributeValue::N((head.version - 1).to_string()),
                )],
            )
        };
        let mut current = head_item(head, HEAD_KEY);
        if gzipped.len() <= INLINE_BYTES {
            current.insert(
                "inlineBody".into(),
                AttributeValue::B(gzipped.clone().into()),
            );
        }
        match conditional_put(&self.client, &self.table, current, condition, values).await? {
            Ok(()) => {}
            Err(stored) => {
                let now = stored
                    .as_ref()
                    .and_then(|item| head_from_item(item).ok())
                    .map_or("none".to_owned(), |head| head.label());
                return Err(StoreError::Conflict(format!(
                    "the current price book is {now}, not v{}; import again",
                    head.version - 1
                )));
            }
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(head_item(
                head,
                &format!("pricebook#v{}", head.version),
            )))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

/// Creates the catalog table (key `pk`, on demand). For emulators and tests: in AWS the
/// CloudFormation template creates it.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("complete attribute definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("complete key schema"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// The subscription record of `topic_arn`, if confirmed: (subscription ARN, when).
pub async fn confirmed_subscription(
    client: &Client,
    table: &str,
    topic_arn: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let output = client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("subscription#{topic_arn}")))
        .consistent_read(true)
        .send()
        .await
        .map_err(unavailable)?;
    Ok(output.item().and_then(|item| {
        match (item.get("subscriptionArn"), item.get("confirmedAt")) {
            (Some(AttributeValue::S(arn)), Some(AttributeValue::S(at))) => {
                Some((arn.clone(), at.clone()))
            }
            _ => None,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwo_domain::behaviour::catalog_store;

    #[tokio::test]
    async fn keeps_the_catalog_store_contract_on_moto() {
        let config = crate::sdk::emulator_sdk_config(jwo_test_support::moto_endpoint()).await;
        let client = Client::new(&config);
        let table = jwo_test_support::unique_name("catalog");
        create_table(&client, &table).await.unwrap();
        catalog_store::run_all(&DynamoDbCatalog::new(client, table)).await;
    }
}
