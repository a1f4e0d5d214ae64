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

use super::purchases::{Item, unavailable};
use jwo_domain::store::StoreError;

mod ingestions;
mod price_books;

#[derive(Clone)]
pub struct DynamoDbCatalog {
    pub(super) client: Client,
    pub(super) table: String,
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
pub(super) fn item_of<const N: usize>(attributes: [(&str, AttributeValue); N]) -> Item {
    attributes
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// A string attribute.
pub(super) fn text(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    }
}

/// A number attribute, as `T`.
pub(super) fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().ok(),
        _ => None,
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
