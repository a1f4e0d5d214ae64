//! Pricing (`docs/pricing.md`): the price book and the engine that prices a cart from it.
//! - [`book_file`]: the file as the retailer writes it,
//! - [`book_checks`] and [`price_book`]: the loader's checks, and the checked, indexed book,
//! - [`promotion`]: the promotion types and rules,
//! - [`engine`]: pricing a cart, and [`allocation`]: splitting cents fairly.

mod allocation;
mod book_checks;
mod book_file;
mod csv_import;
mod engine;
mod explanation;
mod price_book;
mod promotion;

pub use allocation::largest_remainder;
pub use book_file::{BarcodeEntry, FeeEntry, ItemEntry, PriceBookFile, PromotionEntry, StoreEntry};
pub use csv_import::{CSV_COLUMNS, import_items_csv};
pub use engine::{
    Constraint, ConstraintKind, LinePrice, PricingOutcome, Unpriced, explain_cart, price_cart,
    price_cart_with,
};
pub use explanation::{
    CartExplanation, Charged, FeeStep, LineExplanation, PerUnit, PricedBy, PromotionStep, Step,
    TaxStep, ThresholdStep,
};
pub use price_book::{Fee, Item, MAX_BOOK_AMOUNT, PriceBook, PriceBookError, SoldBy};
pub use promotion::{Promotion, PromotionRule, PromotionStage, PromotionType};

#[cfg(test)]
mod tests;
