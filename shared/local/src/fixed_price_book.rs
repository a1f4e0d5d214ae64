//! A price book read once (a file shipped with the function, or the embedded sample), known by
//! a version that is the hash of its bytes.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use jwo_domain::catalog::price_book_versions::VersionedPriceBook;
use jwo_domain::ports::CurrentPriceBook;
use jwo_domain::pricing::{PriceBook, PriceBookError};
use jwo_domain::store::StoreError;

/// The sample price book, compiled in: what `jwo serve` prices with by default.
pub const SAMPLE_PRICE_BOOK: &str = include_str!("../pricebook/sample.json");

pub struct FixedPriceBook {
    current: Arc<VersionedPriceBook>,
}

impl FixedPriceBook {
    pub fn from_json(bytes: &[u8]) -> Result<FixedPriceBook, PriceBookError> {
        let book = PriceBook::from_json(bytes)?;
        let version = format!("sha256:{}", &hex::encode(Sha256::digest(bytes))[..16]);
        Ok(FixedPriceBook {
            current: Arc::new(VersionedPriceBook { version, book }),
        })
    }

    pub fn sample() -> FixedPriceBook {
        FixedPriceBook::from_json(SAMPLE_PRICE_BOOK.as_bytes())
            .expect("the sample price book is valid")
    }
}

impl CurrentPriceBook for FixedPriceBook {
    async fn current(&self) -> Result<Arc<VersionedPriceBook>, StoreError> {
        Ok(Arc::clone(&self.current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_version_follows_the_bytes() {
        async fn version_of(json: &str) -> String {
            let book = FixedPriceBook::from_json(json.as_bytes()).unwrap();
            book.current().await.unwrap().version.clone()
        }
        let sample = FixedPriceBook::sample().current().await.unwrap();
        assert_eq!(sample.version, version_of(SAMPLE_PRICE_BOOK).await);
        let changed = SAMPLE_PRICE_BOOK.replace("\"1.99\"", "\"2.09\"");
        assert_ne!(sample.version, version_of(&changed).await);
    }
}
