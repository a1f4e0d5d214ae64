//! Catalog API (CONTRACT.md §3): uploads we make, and the ingestion results Amazon reports.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::wire_enum;

/// At most this many items in one `POST /v1/catalog/upload` call.
pub const MAX_ITEMS_PER_UPLOAD: usize = 10_000;
/// At most this many catalog calls a second.
pub const MAX_CALLS_PER_SECOND: u32 = 10;

wire_enum! {
    /// Where an ingestion is.
    ProcessingStatus {
        InQueue = "INQUEUE",
        InProgress = "INPROGRESS",
        Done = "DONE",
        Cancelled = "CANCELLED",
        Fatal = "FATAL",
    }
}

impl ProcessingStatus {
    /// Final states never move again; a notification for an earlier state arriving late must
    /// not overwrite them.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ProcessingStatus::Done | ProcessingStatus::Cancelled | ProcessingStatus::Fatal
        )
    }

    /// Needs a person: the upload did not go through.
    pub fn needs_attention(self) -> bool {
        matches!(self, ProcessingStatus::Cancelled | ProcessingStatus::Fatal)
    }

    /// Order along the lifecycle, for "an older status never overwrites a newer one".
    pub fn rank(self) -> u8 {
        match self {
            ProcessingStatus::InQueue => 0,
            ProcessingStatus::InProgress => 1,
            ProcessingStatus::Done | ProcessingStatus::Cancelled | ProcessingStatus::Fatal => 2,
        }
    }
}

/// `POST /v1/catalog/upload` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogUploadRequest {
    pub catalog_items: Vec<CatalogItem>,
}

/// One catalog item, in the Catalog API's own (snake_case) field names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogItem {
    pub item_sku: String,
    pub item_name: String,
    pub store_id: String,
    /// A decimal string, as in the price book.
    pub standard_price: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_product_id_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_tax_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_subcategory: Option<String>,
    /// Attributes this version does not know, kept as they are.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The upload answer: processing is asynchronous, the `ingestionId` tracks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogUploadResponse {
    pub ingestion_id: String,
}

/// `POST /v1/catalog/getCatalogUploadStatus` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogUploadStatusRequest {
    pub ingestion_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogUploadStatusResponse {
    pub processing_status: ProcessingStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_download_link: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Errors from catalog calls carry `{"errorMsg": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogErrorBody {
    pub error_msg: String,
}

/// **[ours]** the SNS `Message` of an upload result is not published, so it is read
/// tolerantly: `ingestionId` and a status like the getCatalogUploadStatus answer, under the
/// spellings we have reason to expect, with everything else kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestionNotification {
    #[serde(alias = "IngestionId", alias = "ingestion_id")]
    pub ingestion_id: String,
    #[serde(
        alias = "status",
        alias = "ProcessingStatus",
        alias = "processing_status"
    )]
    pub processing_status: ProcessingStatus,
    #[serde(
        default,
        alias = "ReportDownloadLink",
        alias = "report_download_link",
        skip_serializing_if = "Option::is_none"
    )]
    pub report_download_link: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
