//! The price book file as the retailer writes it (see `docs/pricing.md`): every amount a decimal
//! string, every field checked later by the loader ([`super::price_book`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceBookFile {
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_basis: Option<String>,
    pub stores: BTreeMap<String, StoreEntry>,
    pub items: Vec<ItemEntry>,
    #[serde(default)]
    pub promotions: Vec<PromotionEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoreEntry {
    /// Tax code → rate as a fraction (`"0.0825"` for 8.25%).
    pub tax_rates: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemEntry {
    pub sku: String,
    pub name: String,
    /// Per unit, or per `unit` of weight for weight items.
    pub price: String,
    pub tax_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub barcodes: Vec<BarcodeEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fees: Vec<FeeEntry>,
    /// Catalog attributes, passed through to the Catalog API upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarcodeEntry {
    #[serde(rename = "type")]
    pub barcode_type: String,
    pub id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeEntry {
    pub description: String,
    /// Per unit (per unit of weight for weight items).
    pub amount: String,
    #[serde(default)]
    pub taxable: bool,
}

/// One promotion as written. Which fields apply depends on `type`; the loader refuses a field
/// that does not belong to the type, so a typo'd price book is caught before it prices a cart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromotionEntry {
    pub id: String,
    pub description: String,
    #[serde(rename = "type")]
    pub promotion_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buy: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_subtotal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skus: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stores: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}
