//! The price book as Catalog API items (`POST /v1/catalog/upload`), and the calls they take.

use crate::contract::catalog::{CatalogItem, MAX_ITEMS_PER_UPLOAD};
use crate::pricing::PriceBook;

/// The price book's items as Catalog API items, one per item and store (`stores` empty: every
/// store of the price book), stores in order, items in file order. An item's first barcode is
/// its `external_product_id`.
pub fn catalog_items(book: &PriceBook, stores: &[String]) -> Result<Vec<CatalogItem>, String> {
    let file = book.file();
    let stores: Vec<&String> = if stores.is_empty() {
        file.stores.keys().collect()
    } else {
        for store in stores {
            if !file.stores.contains_key(store) {
                return Err(format!(
                    "store {store} is not in the price book (it has {})",
                    file.stores.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        stores.iter().collect()
    };
    Ok(stores
        .into_iter()
        .flat_map(|store| {
            file.items.iter().map(move |item| {
                let barcode = item.barcodes.first();
                CatalogItem {
                    item_sku: item.sku.clone(),
                    item_name: item.name.clone(),
                    store_id: store.clone(),
                    standard_price: item.price.clone(),
                    external_product_id: barcode.map(|barcode| barcode.id.clone()),
                    external_product_id_type: barcode.map(|barcode| barcode.barcode_type.clone()),
                    brand_name: item.brand.clone(),
                    product_tax_code: Some(item.tax_code.clone()),
                    product_category: item.category.clone(),
                    product_subcategory: item.subcategory.clone(),
                    other: serde_json::Map::new(),
                }
            })
        })
        .collect())
}

/// The upload calls: consecutive chunks of at most `per_call` items (capped at the Catalog
/// API's 10,000).
pub fn upload_calls(items: &[CatalogItem], per_call: usize) -> Vec<&[CatalogItem]> {
    items
        .chunks(per_call.clamp(1, MAX_ITEMS_PER_UPLOAD))
        .collect()
}
