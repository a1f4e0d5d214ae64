//! The catalog table in DynamoDB: ingestions (Catalog API uploads and their status) and the
//! state of the SNS subscription that reports them.
//!
//! Key design: one table, partition key `pk` (a string), no sort key; the key says what an
//! item is:
//! - `ingestion#{ingestionId}`: `ingestionId`, `status`, `statusRank` (N: INQUEUE 0,
//!   INPROGRESS 1, final 2), `reportDownloadLink`, `messageId`, `alerted` (BOOL), `updatedAt`,
//!   and `detail` (JSON of the fields the notification carried that we do not know). A status
//!   is written with `attribute_not_exists(pk) OR statusRank < :rank`, so a duplicate or a late
//!   older status changes nothing, in one conditional write.
//! - `subscription#{topicArn}`: `topicArn`, `subscriptionArn`, `confirmedAt`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::dynamodb::{Item, conditional_put, unavailable};
use crate::contract::catalog::ProcessingStatus;
use crate::ports::{Ingestion, IngestionStore, StatusRecorded, StoreError};

#[derive(Clone)]
pub struct DynamoDbIngestionStore {
    client: Client,
    table: String,
}

impl DynamoDbIngestionStore {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbIngestionStore {
        DynamoDbIngestionStore {
            client,
            table: table.into(),
        }
    }
}

fn ingestion_key(ingestion_id: &str) -> AttributeValue {
    AttributeValue::S(format!("ingestion#{ingestion_id}"))
}

fn to_item(ingestion: &Ingestion) -> Item {
    let mut item: Item = [
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
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    if let Some(link) = &ingestion.report_download_link {
        item.insert("reportDownloadLink".into(), AttributeValue::S(link.clone()));
    }
    if let Some(message_id) = &ingestion.message_id {
        item.insert("messageId".into(), AttributeValue::S(message_id.clone()));
    }
    item
}

fn from_item(item: &Item) -> Result<Ingestion, StoreError> {
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    };
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
        ingestion_id,
    })
}

impl IngestionStore for DynamoDbIngestionStore {
    async fn record_status(&self, update: &Ingestion) -> Result<StatusRecorded, StoreError> {
        let rank = AttributeValue::N(update.status.rank().to_string());
        match conditional_put(
            &self.client,
            &self.table,
            to_item(update),
            "attribute_not_exists(pk) OR statusRank < :rank",
            vec![(":rank", rank)],
        )
        .await?
        {
            Ok(()) => Ok(StatusRecorded::Advanced(update.clone())),
            Err(Some(stored)) => Ok(StatusRecorded::Unchanged(from_item(&stored)?)),
            Err(None) => match self.get_ingestion(&update.ingestion_id).await? {
                Some(stored) => Ok(StatusRecorded::Unchanged(stored)),
                None => Err(StoreError::Unavailable(format!(
                    "ingestion {} exists by the condition but cannot be read",
                    update.ingestion_id
                ))),
            },
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
