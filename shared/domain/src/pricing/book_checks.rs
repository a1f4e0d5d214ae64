//! The loader's checks of each price book entry: every problem is named by its path, and an
//! entry that passes becomes its checked form.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::book_file::{BarcodeEntry, ItemEntry, PromotionEntry, StoreEntry};
use super::price_book::{Fee, Item, MAX_BOOK_AMOUNT, SoldBy};
use super::promotion::{Promotion, PromotionRule, PromotionType};
use crate::contract::Timestamp;
use crate::contract::create_purchases::ExternalIdentifierType;
use crate::json::fields::{Fields, Path};
use crate::money::{has_at_most_two_decimals, parse_plain_decimal};

#[derive(Default)]
pub(super) struct Checker {
    pub(super) problems: Fields,
}

impl Checker {
    pub(super) fn error(&mut self, path: &Path<'_>, reason: impl Into<String>) {
        self.problems.error(path, reason);
    }

    /// Every name of `list` is `what` of this price book (`known`), or named as not.
    fn all_known(
        &mut self,
        path: &Path<'_>,
        list: &[String],
        known: impl Fn(&str) -> bool,
        what: &str,
    ) {
        for (index, name) in list.iter().enumerate() {
            if !known(name) {
                self.error(
                    &path.index(index),
                    format!("'{name}' is not {what} of this price book"),
                );
            }
        }
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

    pub(super) fn tax_rate(&mut self, path: &Path<'_>, text: &str) -> Option<Decimal> {
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

    pub(super) fn barcode(&mut self, path: &Path<'_>, barcode: &BarcodeEntry) {
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

    pub(super) fn item(&mut self, path: &Path<'_>, entry: &ItemEntry) -> Option<Item> {
        self.non_empty(&path.key("sku"), &entry.sku);
        if entry.sku.chars().count() > crate::contract::MAX_ID_CHARS {
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
                    description: fee.description.as_str().into(),
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

    pub(super) fn promotion(
        &mut self,
        path: &Path<'_>,
        entry: &PromotionEntry,
        position: usize,
        skus: &HashMap<String, usize>,
        stores: &BTreeMap<String, StoreEntry>,
    ) -> Option<Promotion> {
        self.non_empty(&path.key("id"), &entry.id);
        self.non_empty(&path.key("description"), &entry.description);

        let Some(kind) = PromotionType::parse(&entry.promotion_type) else {
            let types: Vec<&str> = PromotionType::ALL
                .iter()
                .map(|kind| kind.as_str())
                .collect();
            let (last, rest) = types.split_last().expect("there are promotion types");
            self.error(
                &path.key("type"),
                format!(
                    "'{}' is not a promotion type; use {} or {last}",
                    entry.promotion_type,
                    rest.join(", ")
                ),
            );
            return None;
        };
        // Which optional fields each type takes; any other is refused.
        let allowed = kind.fields();
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
                    format!("does not apply to a {kind} promotion"),
                );
            }
        }

        if kind.needs_skus() {
            match &entry.skus {
                None => self.error(
                    &path.key("skus"),
                    "is required: an item promotion must list the SKUs it applies to",
                ),
                Some(list) if list.is_empty() => {
                    self.error(&path.key("skus"), "must list at least one SKU")
                }
                Some(list) => self.all_known(
                    &path.key("skus"),
                    list,
                    |sku| skus.contains_key(sku),
                    "an item",
                ),
            }
        }
        if let Some(list) = &entry.stores {
            self.all_known(
                &path.key("stores"),
                list,
                |store| stores.contains_key(store),
                "a store",
            );
        }
        let starts_at = self.instant(&path.key("startsAt"), entry.starts_at.as_deref());
        let ends_at = self.instant(&path.key("endsAt"), entry.ends_at.as_deref());
        if let (Some(Some(start)), Some(Some(end))) = (starts_at, ends_at)
            && end <= start
        {
            self.error(&path.key("endsAt"), "must be after startsAt");
        }

        let rule = match kind {
            PromotionType::PercentOff => PromotionRule::PercentOff {
                percent: self.required_percent(path, entry.percent.as_deref(), None)?,
            },
            PromotionType::AmountOff => PromotionRule::AmountOff {
                amount: self.required_money(path, "amount", entry.amount.as_deref())?,
            },
            PromotionType::BuyXGetY => {
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
            PromotionType::MultiBuy => {
                let quantity = self.required_count(path, "quantity", entry.quantity);
                let price = self.required_money(path, "price", entry.price.as_deref());
                PromotionRule::MultiBuy {
                    quantity: quantity?,
                    price: price?,
                }
            }
            PromotionType::Threshold => {
                let min_subtotal =
                    self.required_money(path, "minSubtotal", entry.min_subtotal.as_deref());
                let amount = self.required_money(path, "amount", entry.amount.as_deref());
                PromotionRule::Threshold {
                    min_subtotal: min_subtotal?,
                    amount: amount?,
                }
            }
        };
        Some(Promotion {
            fraction: rule.fraction(),
            id: entry.id.clone(),
            description: entry.description.as_str().into(),
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
