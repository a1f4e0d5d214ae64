//! The price book (`docs/pricing.md`), checked and indexed for the engine. A price book that
//! breaks a rule is refused whole, with every offending entry named ([`super::book_checks`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use thiserror::Error;

use super::book_checks::Checker;
use super::book_file::PriceBookFile;
use super::promotion::{Promotion, PromotionStage};
use crate::contract::checkout::AmountBasis;
use crate::json::FieldError;
use crate::json::fields::Path;
use crate::money::CurrencyCode;

/// **[ours]** The largest money amount a price book may hold. Keeps every product the engine
/// forms (amount × a 10-character quantity × a rate) far inside `Decimal`'s 28 digits.
pub const MAX_BOOK_AMOUNT: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 2); // 1,000,000.00

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
    /// Shared with every wire line that carries the fee.
    pub description: Arc<str>,
    pub amount: Decimal,
    pub taxable: bool,
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

        if !check.problems.errors.is_empty() {
            return Err(PriceBookError {
                problems: check.problems.errors,
            });
        }

        let mut item_promotions = vec![Vec::new(); items.len()];
        let mut thresholds = Vec::new();
        for (index, (promotion, entry)) in promotions.iter().zip(&file.promotions).enumerate() {
            match promotion.rule.stage() {
                PromotionStage::Threshold => thresholds.push(index),
                PromotionStage::Pooled | PromotionStage::PerLine => {
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
            .filter(|&index| promotions[index].rule.stage() == PromotionStage::Pooled)
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
