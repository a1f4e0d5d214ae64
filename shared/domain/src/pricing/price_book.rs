//! The price book (PRICING.md): the file format, and the checked, indexed form the engine uses.
//! A price book that breaks a rule is refused whole, with every offending entry named.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::contract::create_purchases::ExternalIdentifierType;
use crate::contract::{FieldError, Timestamp};
use crate::json_fields::Path;
use crate::money::{CurrencyCode, has_at_most_two_decimals, parse_plain_decimal};

/// **[ours]** The largest money amount a price book may hold. Keeps every product the engine
/// forms (amount × a 10-character quantity × a rate) far inside `Decimal`'s 28 digits.
pub const MAX_BOOK_AMOUNT: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 2); // 1,000,000.00

/// Whether amounts on the wire are for a line's whole quantity or per unit (CONTRACT.md §2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AmountBasis {
    #[default]
    Line,
    Unit,
}

impl FromStr for AmountBasis {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "line" => Ok(AmountBasis::Line),
            "unit" => Ok(AmountBasis::Unit),
            other => Err(format!(
                "'{other}' is not an amount basis; use line or unit"
            )),
        }
    }
}

impl fmt::Display for AmountBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmountBasis::Line => "line",
            AmountBasis::Unit => "unit",
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The file, as written by the retailer. Every amount is a decimal string.

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

// ---------------------------------------------------------------------------------------------
// The checked form.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoldBy {
    /// Whole units; quantities must be whole numbers.
    Unit,
    /// By weight; quantities are decimals, and the item takes no part in pooled promotions.
    Weight,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub sku: String,
    pub name: String,
    pub price: Decimal,
    pub tax_code: String,
    pub sold_by: SoldBy,
    pub unit: String,
    pub fees: Vec<Fee>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fee {
    pub description: String,
    pub amount: Decimal,
    pub taxable: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PromotionRule {
    PercentOff {
        percent: Decimal,
    },
    AmountOff {
        amount: Decimal,
    },
    BuyXGetY {
        buy: u32,
        get: u32,
        percent: Decimal,
    },
    MultiBuy {
        quantity: u32,
        price: Decimal,
    },
    Threshold {
        min_subtotal: Decimal,
        amount: Decimal,
    },
}

impl PromotionRule {
    /// Pooled promotions group units across lines and are applied first.
    pub fn is_pooled(&self) -> bool {
        matches!(
            self,
            PromotionRule::BuyXGetY { .. } | PromotionRule::MultiBuy { .. }
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Promotion {
    pub id: String,
    pub description: String,
    pub rule: PromotionRule,
    pub stores: Option<HashSet<String>>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Larger wins; missing is 0.
    pub priority: i64,
    /// Position in the file: the last tie-breaker.
    pub position: usize,
    /// `percent / 100` of a `percentOff` or `buyXGetY`, worked out once at load.
    pub fraction: Decimal,
}

impl Promotion {
    /// Whether the promotion applies at `store_id` for a trip that ended at `trip_end`.
    /// Windows are half open: `startsAt ≤ endTime < endsAt`.
    pub fn is_active(&self, store_id: &str, trip_end: DateTime<Utc>) -> bool {
        self.stores
            .as_ref()
            .is_none_or(|stores| stores.contains(store_id))
            && self.starts_at.is_none_or(|start| start <= trip_end)
            && self.ends_at.is_none_or(|end| trip_end < end)
    }
}

/// A checked price book, indexed for pricing.
#[derive(Clone, Debug)]
pub struct PriceBook {
    file: PriceBookFile,
    pub currency: CurrencyCode,
    pub amount_basis: AmountBasis,
    /// Store id → tax code → rate.
    pub tax_rates: HashMap<String, HashMap<String, Decimal>>,
    pub items: Vec<Item>,
    pub promotions: Vec<Promotion>,
    sku_index: HashMap<String, usize>,
    barcode_index: HashMap<String, usize>,
    /// For each item, the item promotions (pooled or simple) that list it, in file order.
    item_promotions: Vec<Vec<usize>>,
    /// Pooled promotions in the order they are applied: priority first, then file order.
    pooled_order: Vec<usize>,
    /// Threshold promotions, in file order.
    thresholds: Vec<usize>,
    /// Store id → each item's tax rate there (by item index); `None` where the store has no
    /// rate for the item's tax code. Worked out once, so pricing a line hashes nothing.
    item_tax_rates: HashMap<String, Vec<Option<Decimal>>>,
}

/// A price book that cannot be used. Names every offending entry.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub struct PriceBookError {
    pub problems: Vec<FieldError>,
}

impl fmt::Display for PriceBookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "price book refused:")?;
        for problem in &self.problems {
            write!(f, "\n  {}: {}", problem.field, problem.reason)?;
        }
        Ok(())
    }
}

impl PriceBookError {
    fn single(field: impl Into<String>, reason: impl Into<String>) -> PriceBookError {
        PriceBookError {
            problems: vec![FieldError {
                field: field.into(),
                reason: reason.into(),
            }],
        }
    }
}

impl PriceBook {
    /// Reads and checks a JSON price book.
    pub fn from_json(json: &[u8]) -> Result<PriceBook, PriceBookError> {
        let deserializer = &mut serde_json::Deserializer::from_slice(json);
        let file: PriceBookFile =
            serde_path_to_error::deserialize(deserializer).map_err(|error| {
                let path = error.path().to_string();
                let field = if path == "." {
                    "price book".to_owned()
                } else {
                    path
                };
                PriceBookError::single(field, error.into_inner().to_string())
            })?;
        PriceBook::from_file(file)
    }

    /// Checks a price book file and indexes it.
    pub fn from_file(file: PriceBookFile) -> Result<PriceBook, PriceBookError> {
        let mut check = Checker::default();
        let root = Path::root("price book");

        let currency = file
            .currency
            .parse::<CurrencyCode>()
            .map_err(|reason| check.error(&root.key("currency"), reason))
            .ok();
        let amount_basis = match &file.amount_basis {
            None => Some(AmountBasis::default()),
            Some(text) => text
                .parse()
                .map_err(|reason| check.error(&root.key("amountBasis"), reason))
                .ok(),
        };

        let stores_path = root.key("stores");
        let mut tax_rates = HashMap::new();
        for (store_id, store) in &file.stores {
            let store_path = stores_path.key(store_id);
            let rates_path = store_path.key("taxRates");
            let mut rates = HashMap::new();
            for (code, text) in &store.tax_rates {
                if let Some(rate) = check.tax_rate(&rates_path.key(code), text) {
                    rates.insert(code.clone(), rate);
                }
            }
            tax_rates.insert(store_id.clone(), rates);
        }

        let items_path = root.key("items");
        let mut items = Vec::with_capacity(file.items.len());
        let mut sku_index = HashMap::with_capacity(file.items.len());
        let mut barcode_index = HashMap::new();
        for (position, entry) in file.items.iter().enumerate() {
            let path = items_path.index(position);
            if let Some(first) = sku_index.insert(entry.sku.clone(), position) {
                check.error(
                    &path.key("sku"),
                    format!("SKU '{}' is already listed at items[{first}]", entry.sku),
                );
                sku_index.insert(entry.sku.clone(), first);
            }
            for (barcode_position, barcode) in entry.barcodes.iter().enumerate() {
                let barcodes_path = path.key("barcodes");
                let barcode_path = barcodes_path.index(barcode_position);
                check.barcode(&barcode_path, barcode);
                if let Some(first) = barcode_index.insert(barcode.id.clone(), position)
                    && first != position
                {
                    check.error(
                        &barcode_path.key("id"),
                        format!(
                            "barcode '{}' already belongs to items[{first}] ('{}')",
                            barcode.id, file.items[first].sku
                        ),
                    );
                    barcode_index.insert(barcode.id.clone(), first);
                }
            }
            if let Some(item) = check.item(&path, entry) {
                items.push(item);
            }
        }

        let promotions_path = root.key("promotions");
        let mut promotions = Vec::with_capacity(file.promotions.len());
        let mut promotion_ids = HashMap::new();
        for (position, entry) in file.promotions.iter().enumerate() {
            let path = promotions_path.index(position);
            if let Some(first) = promotion_ids.insert(entry.id.as_str(), position) {
                check.error(
                    &path.key("id"),
                    format!(
                        "promotion id '{}' is already used by promotions[{first}]",
                        entry.id
                    ),
                );
            }
            if let Some(promotion) =
                check.promotion(&path, entry, position, &sku_index, &file.stores)
            {
                promotions.push(promotion);
            }
        }

        if !check.problems.is_empty() {
            return Err(PriceBookError {
                problems: check.problems,
            });
        }

        let mut item_promotions = vec![Vec::new(); items.len()];
        let mut thresholds = Vec::new();
        for (index, (promotion, entry)) in promotions.iter().zip(&file.promotions).enumerate() {
            match &promotion.rule {
                PromotionRule::Threshold { .. } => thresholds.push(index),
                _ => {
                    for sku in entry.skus.iter().flatten() {
                        let list: &mut Vec<usize> = &mut item_promotions[sku_index[sku]];
                        if !list.contains(&index) {
                            list.push(index);
                        }
                    }
                }
            }
        }
        let mut pooled_order: Vec<usize> = (0..promotions.len())
            .filter(|&index| promotions[index].rule.is_pooled())
            .collect();
        // Stable sort: equal priorities keep file order.
        pooled_order.sort_by_key(|&index| std::cmp::Reverse(promotions[index].priority));

        let item_tax_rates = tax_rates
            .iter()
            .map(|(store_id, rates): (&String, &HashMap<String, Decimal>)| {
                let by_item = items
                    .iter()
                    .map(|item| rates.get(&item.tax_code).copied())
                    .collect();
                (store_id.clone(), by_item)
            })
            .collect();

        Ok(PriceBook {
            item_tax_rates,
            currency: currency.expect("checked above"),
            amount_basis: amount_basis.expect("checked above"),
            tax_rates,
            items,
            promotions,
            sku_index,
            barcode_index,
            item_promotions,
            pooled_order,
            thresholds,
            file,
        })
    }

    /// The file this book was read from (for storing and uploading it again).
    pub fn file(&self) -> &PriceBookFile {
        &self.file
    }

    pub fn item_by_sku(&self, sku: &str) -> Option<usize> {
        self.sku_index.get(sku).copied()
    }

    pub fn item_by_barcode(&self, barcode: &str) -> Option<usize> {
        self.barcode_index.get(barcode).copied()
    }

    /// Each item's tax rate at `store_id`, by item index; `None` for an unknown store.
    pub(crate) fn store_tax_rates(&self, store_id: &str) -> Option<&[Option<Decimal>]> {
        self.item_tax_rates.get(store_id).map(Vec::as_slice)
    }

    pub(crate) fn item_promotions(&self, item: usize) -> &[usize] {
        &self.item_promotions[item]
    }

    pub(crate) fn pooled_order(&self) -> &[usize] {
        &self.pooled_order
    }

    pub(crate) fn thresholds(&self) -> &[usize] {
        &self.thresholds
    }
}

#[derive(Default)]
struct Checker {
    problems: Vec<FieldError>,
}

impl Checker {
    fn error(&mut self, path: &Path<'_>, reason: impl Into<String>) {
        self.problems.push(FieldError {
            field: path.render(),
            reason: reason.into(),
        });
    }

    fn non_empty(&mut self, path: &Path<'_>, text: &str) {
        if text.trim().is_empty() {
            self.error(path, "must not be empty");
        }
    }

    /// A money amount: a decimal string, not negative, at most two decimals, at most
    /// [`MAX_BOOK_AMOUNT`].
    fn money(&mut self, path: &Path<'_>, text: &str) -> Option<Decimal> {
        let reason = match parse_plain_decimal(text) {
            None => format!("'{text}' is not a decimal amount like \"1.99\""),
            Some(value) if value.is_sign_negative() => format!("'{text}' must not be negative"),
            Some(value) if !has_at_most_two_decimals(value) => {
                format!("'{text}' has more than two decimals")
            }
            Some(value) if value > MAX_BOOK_AMOUNT => {
                format!("'{text}' is larger than {MAX_BOOK_AMOUNT}")
            }
            Some(value) => return Some(value.normalize()),
        };
        self.error(path, reason);
        None
    }

    fn percent(&mut self, path: &Path<'_>, text: &str) -> Option<Decimal> {
        match parse_plain_decimal(text) {
            Some(value) if !value.is_sign_negative() && value <= Decimal::ONE_HUNDRED => {
                Some(value)
            }
            Some(_) => {
                self.error(path, format!("'{text}' is outside 0–100"));
                None
            }
            None => {
                self.error(
                    path,
                    format!("'{text}' is not a decimal percent like \"10\""),
                );
                None
            }
        }
    }

    fn tax_rate(&mut self, path: &Path<'_>, text: &str) -> Option<Decimal> {
        match parse_plain_decimal(text) {
            Some(rate) if !rate.is_sign_negative() && rate < Decimal::ONE => Some(rate),
            Some(_) => {
                self.error(
                    path,
                    format!("'{text}' is not a rate between 0 and 1 (rates are fractions: \"0.0825\" for 8.25%)"),
                );
                None
            }
            None => {
                self.error(
                    path,
                    format!("'{text}' is not a decimal rate like \"0.0825\""),
                );
                None
            }
        }
    }

    fn barcode(&mut self, path: &Path<'_>, barcode: &BarcodeEntry) {
        let Some(kind) = ExternalIdentifierType::parse(&barcode.barcode_type) else {
            let accepted: Vec<&str> = ExternalIdentifierType::ALL
                .iter()
                .map(|kind| kind.as_str())
                .collect();
            self.error(
                &path.key("type"),
                format!(
                    "'{}' is not one of {}",
                    barcode.barcode_type,
                    accepted.join(", ")
                ),
            );
            return;
        };
        let id = barcode.id.as_str();
        let digits = id.bytes().all(|b| b.is_ascii_digit());
        let (valid, expected) = match kind {
            ExternalIdentifierType::Upc => (digits && matches!(id.len(), 8 | 12), "8 or 12 digits"),
            ExternalIdentifierType::Ean => (digits && matches!(id.len(), 8 | 13), "8 or 13 digits"),
            ExternalIdentifierType::Gtin => (digits && id.len() == 14, "14 digits"),
            ExternalIdentifierType::Plu => (digits && (3..=6).contains(&id.len()), "3 to 6 digits"),
            ExternalIdentifierType::Isbn => {
                let (body, check) = id.split_at(id.len().saturating_sub(1));
                let valid = id.len() == 10
                    && body.bytes().all(|b| b.is_ascii_digit())
                    && (check == "X" || check.bytes().all(|b| b.is_ascii_digit()));
                (valid, "10 characters: 9 digits and a check digit or X")
            }
        };
        if !valid {
            self.error(
                &path.key("id"),
                format!(
                    "'{id}' is not a {} code: expected {expected}, check digit included",
                    kind.as_str()
                ),
            );
        }
    }

    fn item(&mut self, path: &Path<'_>, entry: &ItemEntry) -> Option<Item> {
        self.non_empty(&path.key("sku"), &entry.sku);
        if entry.sku.chars().count() > crate::validation::MAX_ID_CHARS {
            self.error(
                &path.key("sku"),
                "is longer than 255 characters (cart item ids are at most 255)",
            );
        }
        self.non_empty(&path.key("name"), &entry.name);
        self.non_empty(&path.key("taxCode"), &entry.tax_code);
        let price = self.money(&path.key("price"), &entry.price);
        let sold_by = match entry.sold_by.as_deref() {
            None | Some("unit") => Some(SoldBy::Unit),
            Some("weight") => Some(SoldBy::Weight),
            Some(other) => {
                self.error(
                    &path.key("soldBy"),
                    format!("'{other}' is not one of unit, weight"),
                );
                None
            }
        };
        let fees_path = path.key("fees");
        let fees: Vec<Option<Fee>> = entry
            .fees
            .iter()
            .enumerate()
            .map(|(position, fee)| {
                let fee_path = fees_path.index(position);
                self.non_empty(&fee_path.key("description"), &fee.description);
                let amount = self.money(&fee_path.key("amount"), &fee.amount)?;
                Some(Fee {
                    description: fee.description.clone(),
                    amount,
                    taxable: fee.taxable,
                })
            })
            .collect();
        let sold_by = sold_by?;
        let unit = entry.unit.clone().unwrap_or_else(|| {
            match sold_by {
                SoldBy::Unit => "each",
                SoldBy::Weight => "lb",
            }
            .to_owned()
        });
        Some(Item {
            sku: entry.sku.clone(),
            name: entry.name.clone(),
            price: price?,
            tax_code: entry.tax_code.clone(),
            sold_by,
            unit,
            fees: fees.into_iter().collect::<Option<_>>()?,
        })
    }

    fn promotion(
        &mut self,
        path: &Path<'_>,
        entry: &PromotionEntry,
        position: usize,
        skus: &HashMap<String, usize>,
        stores: &BTreeMap<String, StoreEntry>,
    ) -> Option<Promotion> {
        self.non_empty(&path.key("id"), &entry.id);
        self.non_empty(&path.key("description"), &entry.description);

        // Which optional fields each type takes; any other is refused.
        let allowed: &[&str] = match entry.promotion_type.as_str() {
            "percentOff" => &["percent", "skus"],
            "amountOff" => &["amount", "skus"],
            "buyXGetY" => &["buy", "get", "percent", "skus"],
            "multiBuy" => &["quantity", "price", "skus"],
            "threshold" => &["minSubtotal", "amount"],
            other => {
                self.error(
                    &path.key("type"),
                    format!("'{other}' is not a promotion type; use percentOff, amountOff, buyXGetY, multiBuy or threshold"),
                );
                return None;
            }
        };
        let present = [
            ("percent", entry.percent.is_some()),
            ("amount", entry.amount.is_some()),
            ("buy", entry.buy.is_some()),
            ("get", entry.get.is_some()),
            ("quantity", entry.quantity.is_some()),
            ("price", entry.price.is_some()),
            ("minSubtotal", entry.min_subtotal.is_some()),
            ("skus", entry.skus.is_some()),
        ];
        for (field, is_present) in present {
            if is_present && !allowed.contains(&field) {
                self.error(
                    &path.key(field),
                    format!("does not apply to a {} promotion", entry.promotion_type),
                );
            }
        }

        let is_threshold = entry.promotion_type == "threshold";
        if !is_threshold {
            match &entry.skus {
                None => self.error(
                    &path.key("skus"),
                    "is required: an item promotion must list the SKUs it applies to",
                ),
                Some(list) if list.is_empty() => {
                    self.error(&path.key("skus"), "must list at least one SKU")
                }
                Some(list) => {
                    let skus_path = path.key("skus");
                    for (index, sku) in list.iter().enumerate() {
                        if !skus.contains_key(sku) {
                            self.error(
                                &skus_path.index(index),
                                format!("'{sku}' is not an item of this price book"),
                            );
                        }
                    }
                }
            }
        }
        if let Some(list) = &entry.stores {
            let stores_path = path.key("stores");
            for (index, store) in list.iter().enumerate() {
                if !stores.contains_key(store) {
                    self.error(
                        &stores_path.index(index),
                        format!("'{store}' is not a store of this price book"),
                    );
                }
            }
        }
        let starts_at = self.instant(&path.key("startsAt"), entry.starts_at.as_deref());
        let ends_at = self.instant(&path.key("endsAt"), entry.ends_at.as_deref());
        if let (Some(Some(start)), Some(Some(end))) = (starts_at, ends_at)
            && end <= start
        {
            self.error(&path.key("endsAt"), "must be after startsAt");
        }

        let rule = match entry.promotion_type.as_str() {
            "percentOff" => PromotionRule::PercentOff {
                percent: self.required_percent(path, entry.percent.as_deref(), None)?,
            },
            "amountOff" => PromotionRule::AmountOff {
                amount: self.required_money(path, "amount", entry.amount.as_deref())?,
            },
            "buyXGetY" => {
                let buy = self.required_count(path, "buy", entry.buy);
                let get = self.required_count(path, "get", entry.get);
                let percent = self.required_percent(
                    path,
                    entry.percent.as_deref(),
                    Some(Decimal::ONE_HUNDRED),
                );
                PromotionRule::BuyXGetY {
                    buy: buy?,
                    get: get?,
                    percent: percent?,
                }
            }
            "multiBuy" => {
                let quantity = self.required_count(path, "quantity", entry.quantity);
                let price = self.required_money(path, "price", entry.price.as_deref());
                PromotionRule::MultiBuy {
                    quantity: quantity?,
                    price: price?,
                }
            }
            _ => {
                let min_subtotal =
                    self.required_money(path, "minSubtotal", entry.min_subtotal.as_deref());
                let amount = self.required_money(path, "amount", entry.amount.as_deref());
                PromotionRule::Threshold {
                    min_subtotal: min_subtotal?,
                    amount: amount?,
                }
            }
        };
        let fraction = match &rule {
            PromotionRule::PercentOff { percent } | PromotionRule::BuyXGetY { percent, .. } => {
                *percent / Decimal::ONE_HUNDRED
            }
            _ => Decimal::ZERO,
        };
        Some(Promotion {
            fraction,
            id: entry.id.clone(),
            description: entry.description.clone(),
            rule,
            stores: entry
                .stores
                .as_ref()
                .map(|list| list.iter().cloned().collect()),
            starts_at: starts_at?,
            ends_at: ends_at?,
            priority: entry.priority.unwrap_or(0),
            position,
        })
    }

    fn required_money(
        &mut self,
        path: &Path<'_>,
        key: &'static str,
        text: Option<&str>,
    ) -> Option<Decimal> {
        match text {
            Some(text) => self.money(&path.key(key), text),
            None => {
                self.error(&path.key(key), "is required");
                None
            }
        }
    }

    fn required_percent(
        &mut self,
        path: &Path<'_>,
        text: Option<&str>,
        default: Option<Decimal>,
    ) -> Option<Decimal> {
        match (text, default) {
            (Some(text), _) => self.percent(&path.key("percent"), text),
            (None, Some(default)) => Some(default),
            (None, None) => {
                self.error(&path.key("percent"), "is required");
                None
            }
        }
    }

    fn required_count(
        &mut self,
        path: &Path<'_>,
        key: &'static str,
        count: Option<u32>,
    ) -> Option<u32> {
        match count {
            Some(count) if count >= 1 => Some(count),
            Some(_) => {
                self.error(&path.key(key), "must be at least 1");
                None
            }
            None => {
                self.error(&path.key(key), "is required");
                None
            }
        }
    }

    /// `Some(None)` when absent, `None` when invalid.
    fn instant(&mut self, path: &Path<'_>, text: Option<&str>) -> Option<Option<DateTime<Utc>>> {
        match text {
            None => Some(None),
            Some(text) => match Timestamp::parse(text) {
                Ok(timestamp) => Some(Some(timestamp.instant())),
                Err(reason) => {
                    self.error(path, reason);
                    None
                }
            },
        }
    }
}
