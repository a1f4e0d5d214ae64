//! Pricing (PRICING.md): the price book and the engine that prices a cart from it.

mod allocation;
mod csv_import;
mod engine;
mod price_book;

pub use allocation::largest_remainder;
pub use csv_import::{CSV_COLUMNS, import_items_csv};
pub use engine::{Constraint, ConstraintKind, PricingOutcome, price_cart};
pub use price_book::{
    AmountBasis, BarcodeEntry, Fee, FeeEntry, Item, ItemEntry, MAX_BOOK_AMOUNT, PriceBook,
    PriceBookError, PriceBookFile, Promotion, PromotionEntry, PromotionRule, SoldBy, StoreEntry,
};

#[cfg(test)]
mod tests;
