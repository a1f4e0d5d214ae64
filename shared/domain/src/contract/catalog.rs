//! Catalog API (docs/contract.md §3): uploads we make, and the ingestion results Amazon reports.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::wire_enum;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingestion_notifications_are_read_tolerantly() {
        for body in [
            r#"{"ingestionId":"i","processingStatus":"FATAL","reportDownloadLink":"https://x","extra":{"a":1}}"#,
            r#"{"IngestionId":"i","status":"FATAL"}"#,
            r#"{"ingestion_id":"i","processing_status":"FATAL"}"#,
        ] {
            let notification: IngestionNotification = serde_json::from_str(body).unwrap();
            assert_eq!(
                notification.processing_status,
                ProcessingStatus::Fatal,
                "{body}"
            );
            assert!(notification.processing_status.needs_attention());
        }
        let kept: IngestionNotification = serde_json::from_str(
            r#"{"ingestionId":"i","processingStatus":"DONE","extra":{"a":1}}"#,
        )
        .unwrap();
        assert_eq!(kept.other["extra"]["a"], 1);
        assert!(
            serde_json::from_str::<IngestionNotification>(
                r#"{"ingestionId":"i","processingStatus":"LOST"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn statuses_only_move_forward() {
        use ProcessingStatus::*;
        assert!(InQueue.rank() < InProgress.rank() && InProgress.rank() < Done.rank());
        assert!(
            Done.is_final() && Fatal.is_final() && Cancelled.is_final() && !InProgress.is_final()
        );
    }

    #[test]
    fn catalog_items_use_the_catalog_api_names_and_keep_unknown_attributes() {
        let item: CatalogItem = serde_json::from_str(
            r#"{"item_sku":"SKU-1","item_name":"Water","store_id":"S","standard_price":"1.99",
                "external_product_id":"012345678905","external_product_id_type":"UPC","color":"blue"}"#,
        )
        .unwrap();
        assert_eq!(item.other["color"], "blue");
        let upload = serde_json::to_value(CatalogUploadRequest {
            catalog_items: vec![item],
        })
        .unwrap();
        assert_eq!(upload["catalogItems"][0]["item_sku"], "SKU-1");
        assert_eq!(upload["catalogItems"][0]["color"], "blue");
        let error: CatalogErrorBody = serde_json::from_str(r#"{"errorMsg":"bad"}"#).unwrap();
        assert_eq!(error.error_msg, "bad");
    }
}
