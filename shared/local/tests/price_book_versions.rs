//! Price book versions in the catalog files: imports, the pricing cache, and the Catalog API
//! items made from the sample price book.

use std::time::Duration;

use jwo_domain::catalog::catalog_items::{catalog_items, upload_calls};
use jwo_domain::catalog::price_book_versions::{
    CachedPriceBook, PriceBookHead, Published, import_price_book, load_version,
};
use jwo_domain::contract::catalog::CatalogItem;
use jwo_domain::ports::{CurrentPriceBook, PriceBookStore};
use jwo_domain::pricing::PriceBook;
use jwo_domain::store::StoreError;
use jwo_local::catalog_files::LocalCatalog;
use jwo_local::fixed_price_book::SAMPLE_PRICE_BOOK;

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
        PriceBook::from_json(SAMPLE_PRICE_BOOK.replace("\"1.99\"", "\"2.09\"").as_bytes()).unwrap();
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
    let none = CachedPriceBook::new(LocalCatalog::open(dir.path()).unwrap(), Duration::ZERO);
    let error = none.current().await.unwrap_err().to_string();
    assert!(error.contains("jwo catalog import"), "{error}");

    import_price_book(&catalog, &sample(), "sample.json")
        .await
        .unwrap();
    let long = CachedPriceBook::new(
        LocalCatalog::open(dir.path()).unwrap(),
        Duration::from_secs(3600),
    );
    let short = CachedPriceBook::new(
        LocalCatalog::open(dir.path()).unwrap(),
        Duration::from_millis(50),
    );
    assert_eq!(long.current().await.unwrap().version, "v1");
    assert_eq!(short.current().await.unwrap().version, "v1");

    let changed =
        PriceBook::from_json(SAMPLE_PRICE_BOOK.replace("\"1.99\"", "\"2.09\"").as_bytes()).unwrap();
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
    let Published::New(head) = import_price_book(&catalog, &sample(), "s").await.unwrap() else {
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
