//! Ingestions in the catalog table: `ingestion#{ingestionId}` items, each status one
//! conditional write that never goes backwards, and the subscription record.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::super::purchases::{Item, unavailable};
use super::{DynamoDbCatalog, item_of, number, text};
use jwo_domain::catalog::ingestion::{Ingestion, StatusRecorded, Upload};
use jwo_domain::contract::catalog::ProcessingStatus;
use jwo_domain::ports::IngestionStore;
use jwo_domain::store::StoreError;

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
        record: format!("ingestion {ingestion_id}"),
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
    let mut item = item_of([
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
    ]);
    if upload.unanswered_attempts > 0 {
        item.insert(
            "uploadUnansweredAttempts".into(),
            AttributeValue::N(upload.unanswered_attempts.to_string()),
        );
    }
    item
}

fn upload_from_item(item: &Item) -> Option<Upload> {
    Some(Upload {
        items: number(item, "uploadItems")?,
        price_book_version: text(item, "uploadPriceBookVersion")?,
        call: number(item, "uploadCall")?,
        calls: number(item, "uploadCalls")?,
        uploaded_at: text(item, "uploadedAt")?.parse().ok()?,
        unanswered_attempts: number(item, "uploadUnansweredAttempts").unwrap_or(0),
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
