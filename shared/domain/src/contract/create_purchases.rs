//! Create Purchases (docs/contract.md §1): `POST /v1/order/purchases`, Amazon calls us.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Redacted, Timestamp, shared_text};
use crate::json::object_only::{object, objects, optional_object};
use crate::wire_enum;

wire_enum! {
    /// How a cart item is identified.
    CartItemType { Sku = "SKU", ScanCode = "SCANCODE" }
}

wire_enum! {
    /// Where the shopper authenticated.
    AuthLocation { Entry = "ENTRY", ManualInStore = "MANUAL_IN_STORE" }
}

wire_enum! {
    /// `FINANCIAL` is a card tap at the gate, `SCAN_CODE` an app QR code.
    PayloadType { Financial = "FINANCIAL", ScanCode = "SCAN_CODE" }
}

wire_enum! {
    /// **[ours]** who a scanned code belongs to.
    ScanResultType { Shopper = "SHOPPER", Associate = "ASSOCIATE" }
}

wire_enum! {
    /// **[ours]** the catalog's barcode kinds.
    ExternalIdentifierType { Upc = "UPC", Ean = "EAN", Gtin = "GTIN", Isbn = "ISBN", Plu = "PLU" }
}

/// The request body. Only ever built by [`crate::validation::validate_create_purchases`] from
/// what Amazon sent, or by our own tools that play Amazon's side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePurchasesRequest {
    pub request_id: String,
    pub idempotent_shopping_trip_id: String,
    pub store_id: String,
    #[serde(deserialize_with = "object")]
    pub shopping_trip: ShoppingTrip,
    #[serde(deserialize_with = "objects")]
    pub cart_items: Vec<CartItem>,
    #[serde(
        default,
        deserialize_with = "optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub shopper_identity: Option<ShopperIdentity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shopper_device_id: Option<Redacted>,
    #[serde(
        default,
        deserialize_with = "optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub payment_source: Option<PaymentSource>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShoppingTrip {
    pub start_time: Timestamp,
    pub end_time: Timestamp,
    #[serde(deserialize_with = "objects")]
    pub auth_events: Vec<AuthEvent>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthEvent {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<AuthLocation>,
    pub payload_type: PayloadType,
    #[serde(
        default,
        deserialize_with = "optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub scan_result: Option<ScanResult>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResult {
    /// The scanned shopper or associate code: an identifier of a person, so never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Redacted>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub scan_type: Option<ScanResultType>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartItem {
    /// The retailer SKU (`item_sku` in the catalog) or a scan code. Shared with its wire line.
    #[serde(deserialize_with = "shared_text")]
    pub id: Arc<str>,
    #[serde(rename = "type")]
    pub item_type: CartItemType,
    #[serde(deserialize_with = "object")]
    pub quantity: Quantity,
    #[serde(
        default,
        deserialize_with = "objects",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub external_identifiers: Vec<ExternalIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_id: Option<String>,
}

/// A quantity exactly as Amazon wrote it (`"1.0"`, `"0.45"`); the text is echoed back to the
/// Checkout Service unchanged, so "same quantities" holds to the character.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quantity {
    #[serde(deserialize_with = "shared_text")]
    pub value: Arc<str>,
    #[serde(deserialize_with = "shared_text")]
    pub unit: Arc<str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalIdentifier {
    pub id: String,
    #[serde(rename = "type")]
    pub id_type: ExternalIdentifierType,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopperIdentity {
    pub id: Redacted,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSource {
    pub id: Redacted,
}

/// `201 {"purchaseId": "..."}`; an empty cart answers with `""`. **[ours]** the priced totals
/// ride along for the caller's convenience.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePurchasesResponse {
    pub purchase_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_totals: Option<super::checkout::OrderTotals>,
}
