//! The catalog store the `jwo catalog` commands work on: files under `--data-dir` (what
//! `jwo serve` prices from), or the stack's DynamoDB catalog table (`--table`).

use std::path::PathBuf;

use clap::Args;
use jwo_aws::dynamodb::catalog::DynamoDbCatalog;
use jwo_domain::catalog::ingestion::{Ingestion, StatusRecorded, Upload};
use jwo_domain::catalog::price_book_versions::PriceBookHead;
use jwo_domain::ports::{IngestionStore, PriceBookStore};
use jwo_domain::store::StoreError;
use jwo_local::catalog_files::LocalCatalog;

#[derive(Debug, Args)]
pub struct CatalogStoreArgs {
    /// The local connector's data directory (as `jwo serve --data-dir`); its catalog is
    /// DIR/catalog.
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".jwo",
        conflicts_with = "table"
    )]
    pub data_dir: PathBuf,
    /// The stack's DynamoDB catalog table (output CatalogTableName) instead of the local
    /// catalog; the AWS SDK's own configuration (credentials, AWS_REGION, AWS_ENDPOINT_URL)
    /// reaches it.
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
}

pub enum CatalogStore {
    Local(LocalCatalog),
    DynamoDb(DynamoDbCatalog),
}

impl CatalogStoreArgs {
    pub async fn open(&self) -> Result<CatalogStore, String> {
        match &self.table {
            Some(table) => {
                let aws = jwo_aws::sdk::sdk_config(jwo_aws::sdk::CallTimeouts::default()).await;
                Ok(CatalogStore::DynamoDb(DynamoDbCatalog::new(
                    aws_sdk_dynamodb::Client::new(&aws),
                    table,
                )))
            }
            None => LocalCatalog::open(self.data_dir.join("catalog"))
                .map(CatalogStore::Local)
                .map_err(|error| format!("--data-dir {}: {error}", self.data_dir.display())),
        }
    }
}

impl CatalogStore {
    /// Where it is, for messages.
    pub fn describe(&self) -> String {
        match self {
            CatalogStore::Local(catalog) => catalog.dir().display().to_string(),
            CatalogStore::DynamoDb(_) => "the DynamoDB catalog table".to_owned(),
        }
    }
}

/// One call on whichever store it is.
macro_rules! on_store {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            CatalogStore::Local($store) => $call.await,
            CatalogStore::DynamoDb($store) => $call.await,
        }
    };
}

impl PriceBookStore for CatalogStore {
    async fn head(&self) -> Result<Option<PriceBookHead>, StoreError> {
        on_store!(self, store => store.head())
    }

    async fn read(&self, head: &PriceBookHead) -> Result<Vec<u8>, StoreError> {
        on_store!(self, store => store.read(head))
    }

    async fn publish(&self, head: &PriceBookHead, json: &[u8]) -> Result<(), StoreError> {
        on_store!(self, store => store.publish(head, json))
    }
}

impl IngestionStore for CatalogStore {
    async fn record_status(&self, update: &Ingestion) -> Result<StatusRecorded, StoreError> {
        on_store!(self, store => store.record_status(update))
    }

    async fn get_ingestion(&self, ingestion_id: &str) -> Result<Option<Ingestion>, StoreError> {
        on_store!(self, store => store.get_ingestion(ingestion_id))
    }

    async fn mark_alerted(&self, ingestion_id: &str) -> Result<(), StoreError> {
        on_store!(self, store => store.mark_alerted(ingestion_id))
    }

    async fn record_upload(
        &self,
        ingestion_id: &str,
        upload: &Upload,
    ) -> Result<Ingestion, StoreError> {
        on_store!(self, store => store.record_upload(ingestion_id, upload))
    }

    async fn list_ingestions(&self) -> Result<Vec<Ingestion>, StoreError> {
        on_store!(self, store => store.list_ingestions())
    }

    async fn record_subscription(
        &self,
        topic_arn: &str,
        subscription_arn: &str,
    ) -> Result<(), StoreError> {
        on_store!(self, store => store.record_subscription(topic_arn, subscription_arn))
    }
}
