//! The catalog side of the price book: importing a new version into the catalog store, pricing
//! from the current version through a short-lived cache, and turning the price book into
//! Catalog API items (CONTRACT.md §3).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::contract::catalog::{CatalogItem, MAX_ITEMS_PER_UPLOAD};
use crate::ports::{
    PriceBookHead, PriceBookVersions, PriceBooks, Published, StoreError, VersionedPriceBook,
};
use crate::pricing::PriceBook;

/// How long Create Purchases prices from a version before asking the store whether it is still
/// current (`PRICE_BOOK_CACHE_SECONDS`).
pub const DEFAULT_PRICE_BOOK_CACHE: Duration = Duration::from_secs(30);

/// The JSON a price book is stored as: its file form, so a CSV import and a JSON import of the
/// same items store the same bytes.
pub fn stored_json(book: &PriceBook) -> Vec<u8> {
    serde_json::to_vec_pretty(book.file()).expect("a price book file serializes")
}

/// Stores `book` as the next version, unless it is the current one already. `source` says where
/// it came from (a file name), for the record.
pub async fn import_price_book<V: PriceBookVersions>(
    versions: &V,
    book: &PriceBook,
    source: &str,
) -> Result<Published, StoreError> {
    let json = stored_json(book);
    let sha256 = hex::encode(Sha256::digest(&json));
    let current = versions.head().await?;
    if let Some(current) = current.as_ref().filter(|head| head.sha256 == sha256) {
        return Ok(Published::Unchanged(current.clone()));
    }
    let head = PriceBookHead {
        version: current.map_or(1, |head| head.version + 1),
        sha256,
        items: book.items.len(),
        source: source.to_owned(),
        imported_at: chrono::Utc::now(),
    };
    versions.publish(&head, &json).await?;
    Ok(Published::New(head))
}

/// Reads and checks a stored version.
pub async fn load_version<V: PriceBookVersions>(
    versions: &V,
    head: &PriceBookHead,
) -> Result<PriceBook, StoreError> {
    checked(head, &versions.read(head).await?)
}

/// A stored version's JSON, checked against its SHA-256 and parsed.
fn checked(head: &PriceBookHead, json: &[u8]) -> Result<PriceBook, StoreError> {
    if hex::encode(Sha256::digest(json)) != head.sha256 {
        return Err(corrupt(
            head,
            "its content does not match its SHA-256".into(),
        ));
    }
    PriceBook::from_json(json).map_err(|error| corrupt(head, error.to_string()))
}

fn corrupt(head: &PriceBookHead, reason: String) -> StoreError {
    StoreError::Corrupt {
        purchase_id: format!("price book {}", head.label()),
        reason,
    }
}

struct Cached {
    book: Arc<VersionedPriceBook>,
    version: u64,
    checked_at: Instant,
}

/// The current price book, as Create Purchases needs it: read from the store once, then asked
/// again at most every `ttl`. Asking is one small read (the head); the book itself is read and
/// checked only when the version changed. If the store cannot be reached, the book in hand is
/// kept (a stale price for seconds beats refusing every cart) and the store is asked again on
/// the next cart.
pub struct CachedPriceBooks<V> {
    versions: V,
    ttl: Duration,
    cached: RwLock<Option<Cached>>,
    /// One refresh at a time; the others wait for it rather than read the store too.
    refreshing: tokio::sync::Mutex<()>,
}

impl<V: PriceBookVersions> CachedPriceBooks<V> {
    pub fn new(versions: V, ttl: Duration) -> CachedPriceBooks<V> {
        CachedPriceBooks {
            versions,
            ttl,
            cached: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn versions(&self) -> &V {
        &self.versions
    }

    fn fresh(&self) -> Option<Arc<VersionedPriceBook>> {
        let cached = self.cached.read().expect("price book cache lock");
        cached
            .as_ref()
            .filter(|cached| cached.checked_at.elapsed() < self.ttl)
            .map(|cached| Arc::clone(&cached.book))
    }

    async fn refresh(&self) -> Result<Arc<VersionedPriceBook>, StoreError> {
        let held = {
            let cached = self.cached.read().expect("price book cache lock");
            cached
                .as_ref()
                .map(|cached| (cached.version, Arc::clone(&cached.book)))
        };
        let no_version = || {
            StoreError::Unavailable(
                "no price book has been imported yet; run `jwo catalog import`".into(),
            )
        };
        let (head, book) = match held {
            // The first cart: the current version and its content, in one read if the store can.
            None => {
                let (head, json) = self
                    .versions
                    .current_with_json()
                    .await?
                    .ok_or_else(no_version)?;
                let book = self.parsed(&head, &json)?;
                (head, book)
            }
            Some((version, held)) => {
                let newer = async {
                    match self.versions.head().await? {
                        Some(head) if head.version == version => Ok((head, None)),
                        Some(head) => {
                            let json = self.versions.read(&head).await?;
                            let book = self.parsed(&head, &json)?;
                            Ok((head, Some(book)))
                        }
                        None => Err(no_version()),
                    }
                };
                match newer.await {
                    Ok((head, book)) => (head, book.unwrap_or(held)),
                    // A store that cannot answer, or a new version that cannot be read, must
                    // not stop the carts: the version in hand prices them, and the next cart
                    // asks again.
                    Err(error) => {
                        tracing::warn!(%error, version, "price book store unavailable; pricing from the version in hand");
                        return Ok(held);
                    }
                }
            }
        };
        *self.cached.write().expect("price book cache lock") = Some(Cached {
            book: Arc::clone(&book),
            version: head.version,
            checked_at: Instant::now(),
        });
        Ok(book)
    }
}

impl<V> CachedPriceBooks<V> {
    fn parsed(
        &self,
        head: &PriceBookHead,
        json: &[u8],
    ) -> Result<Arc<VersionedPriceBook>, StoreError> {
        let book = checked(head, json)?;
        tracing::info!(
            version = head.version,
            items = head.items,
            "pricing from price book"
        );
        Ok(Arc::new(VersionedPriceBook {
            version: head.label(),
            book,
        }))
    }
}

impl<V: PriceBookVersions> PriceBooks for CachedPriceBooks<V> {
    async fn current(&self) -> Result<Arc<VersionedPriceBook>, StoreError> {
        if let Some(book) = self.fresh() {
            return Ok(book);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        if let Some(book) = self.fresh() {
            return Ok(book);
        }
        self.refresh().await
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local_catalog::LocalCatalog;
    use crate::adapters::price_book_file::SAMPLE_PRICE_BOOK;

    fn sample() -> PriceBook {
        PriceBook::from_json(SAMPLE_PRICE_BOOK.as_bytes()).unwrap()
    }

    #[tokio::test]
    async fn an_import_makes_the_next_version_unless_nothing_changed() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = LocalCatalog::open(dir.path()).unwrap();
        let Published::New(first) = import_price_book(&catalog, &sample(), "sample.json")
            .await
            .unwrap()
        else {
            panic!("not new")
        };
        assert_eq!((first.version, first.label()), (1, "v1".to_owned()));
        // The same book again, however it is written, is not a new version.
        assert_eq!(
            import_price_book(&catalog, &sample(), "again.json")
                .await
                .unwrap(),
            Published::Unchanged(first.clone())
        );
        let changed =
            PriceBook::from_json(SAMPLE_PRICE_BOOK.replace("\"1.99\"", "\"2.09\"").as_bytes())
                .unwrap();
        let Published::New(second) = import_price_book(&catalog, &changed, "changed.json")
            .await
            .unwrap()
        else {
            panic!("not new")
        };
        assert_eq!(second.version, 2);
        assert_eq!(catalog.head().await.unwrap(), Some(second.clone()));
        // Both versions stay readable.
        assert_eq!(
            load_version(&catalog, &first).await.unwrap().file(),
            sample().file()
        );
        assert_eq!(
            load_version(&catalog, &second).await.unwrap().file(),
            changed.file()
        );
    }

    #[tokio::test]
    async fn the_cache_asks_again_after_its_ttl_and_follows_a_new_version() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = LocalCatalog::open(dir.path()).unwrap();
        let none = CachedPriceBooks::new(LocalCatalog::open(dir.path()).unwrap(), Duration::ZERO);
        let error = none.current().await.unwrap_err().to_string();
        assert!(error.contains("jwo catalog import"), "{error}");

        import_price_book(&catalog, &sample(), "sample.json")
            .await
            .unwrap();
        let long = CachedPriceBooks::new(
            LocalCatalog::open(dir.path()).unwrap(),
            Duration::from_secs(3600),
        );
        let short = CachedPriceBooks::new(
            LocalCatalog::open(dir.path()).unwrap(),
            Duration::from_millis(50),
        );
        assert_eq!(long.current().await.unwrap().version, "v1");
        assert_eq!(short.current().await.unwrap().version, "v1");

        let changed =
            PriceBook::from_json(SAMPLE_PRICE_BOOK.replace("\"1.99\"", "\"2.09\"").as_bytes())
                .unwrap();
        import_price_book(&catalog, &changed, "changed.json")
            .await
            .unwrap();
        // Within the TTL the version in hand is used; after it, the new one.
        assert_eq!(long.current().await.unwrap().version, "v1");
        tokio::time::sleep(Duration::from_millis(60)).await;
        let now = short.current().await.unwrap();
        assert_eq!(now.version, "v2");
        assert_eq!(now.book.file(), changed.file());
    }

    #[tokio::test]
    async fn a_stored_version_that_does_not_match_its_hash_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = LocalCatalog::open(dir.path()).unwrap();
        let Published::New(head) = import_price_book(&catalog, &sample(), "s").await.unwrap()
        else {
            panic!()
        };
        let tampered = PriceBookHead {
            sha256: "00".repeat(32),
            ..head
        };
        assert!(matches!(
            load_version(&catalog, &tampered).await,
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn every_item_goes_to_every_store_in_chunks_of_at_most_ten_thousand() {
        let book = sample();
        let items = catalog_items(&book, &[]).unwrap();
        let stores = book.file().stores.len();
        assert_eq!(items.len(), book.items.len() * stores);
        let first = &items[0];
        let entry = &book.file().items[0];
        assert_eq!(
            (
                &first.item_sku,
                &first.standard_price,
                &first.product_tax_code
            ),
            (&entry.sku, &entry.price, &Some(entry.tax_code.clone()))
        );
        let store = book.file().stores.keys().next().unwrap().clone();
        assert!(
            catalog_items(&book, std::slice::from_ref(&store))
                .unwrap()
                .iter()
                .all(|item| item.store_id == store)
        );
        assert!(
            catalog_items(&book, &["NOPE".into()])
                .unwrap_err()
                .contains("NOPE")
        );

        let many: Vec<CatalogItem> = (0..25_001).map(|_| first.clone()).collect();
        let sizes: Vec<usize> = upload_calls(&many, 50_000)
            .iter()
            .map(|c| c.len())
            .collect();
        assert_eq!(sizes, vec![10_000, 10_000, 5_001]);
        let sizes: Vec<usize> = upload_calls(&many[..250], 100)
            .iter()
            .map(|c| c.len())
            .collect();
        assert_eq!(sizes, vec![100, 100, 50]);
    }
}
