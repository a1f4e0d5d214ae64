//! The catalog: price book versions, the Catalog API items made from a price book, and the
//! ingestions Amazon reports on.

pub mod catalog_items;
pub mod ingestion;
pub mod price_book_versions;
