//! Price book versions: importing a new version into the catalog store, and pricing from the
//! current version through a short-lived cache.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ports::{CurrentPriceBook, PriceBookStore};
use crate::pricing::PriceBook;
use crate::store::StoreError;

/// A price book and the version it is known by (recorded on every purchase priced with it).
#[derive(Debug)]
pub struct VersionedPriceBook {
    pub version: String,
    pub book: PriceBook,
}

/// One stored version of the price book, without its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceBookHead {
    /// 1, 2, 3...: each import that changes the price book makes the next one.
    pub version: u64,
    /// SHA-256 (hex) of the stored JSON.
    pub sha256: String,
    pub items: usize,
    /// The file it was imported from.
    pub source: String,
    pub imported_at: chrono::DateTime<chrono::Utc>,
}

impl PriceBookHead {
    /// How purchases record the version they were priced with: `v3`.
    pub fn label(&self) -> String {
        format!("v{}", self.version)
    }
}

/// What publishing a price book did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// Stored as the new current version.
    New(PriceBookHead),
    /// The same as the current version: nothing was written.
    Unchanged(PriceBookHead),
}

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
pub async fn import_price_book<V: PriceBookStore>(
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
pub async fn load_version<V: PriceBookStore>(
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
        record: format!("price book {}", head.label()),
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
pub struct CachedPriceBook<V> {
    versions: V,
    ttl: Duration,
    cached: RwLock<Option<Cached>>,
    /// Earlier versions read to explain purchases priced with them (versions never change),
    /// the most recent few.
    earlier: RwLock<Vec<Arc<VersionedPriceBook>>>,
    /// One refresh at a time; the others wait for it rather than read the store too.
    refreshing: futures_util::lock::Mutex<()>,
}

impl<V: PriceBookStore> CachedPriceBook<V> {
    pub fn new(versions: V, ttl: Duration) -> CachedPriceBook<V> {
        CachedPriceBook {
            versions,
            ttl,
            cached: RwLock::new(None),
            earlier: RwLock::new(Vec::new()),
            refreshing: futures_util::lock::Mutex::new(()),
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

impl<V> CachedPriceBook<V> {
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

impl<V: PriceBookStore> CurrentPriceBook for CachedPriceBook<V> {
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

    async fn version(&self, label: &str) -> Result<Option<Arc<VersionedPriceBook>>, StoreError> {
        let current = self.current().await?;
        if current.version == label {
            return Ok(Some(current));
        }
        if let Some(book) = self
            .earlier
            .read()
            .expect("price book cache lock")
            .iter()
            .find(|book| book.version == label)
        {
            return Ok(Some(Arc::clone(book)));
        }
        let Some(number) = label.strip_prefix('v').and_then(|n| n.parse::<u64>().ok()) else {
            return Ok(None);
        };
        let Some(head) = self.versions.version_head(number).await? else {
            return Ok(None);
        };
        let json = self.versions.read(&head).await?;
        let book = self.parsed(&head, &json)?;
        let mut earlier = self.earlier.write().expect("price book cache lock");
        earlier.push(Arc::clone(&book));
        if earlier.len() > EARLIER_KEPT {
            earlier.remove(0);
        }
        Ok(Some(book))
    }
}

/// How many earlier versions [`CachedPriceBook`] keeps in memory.
const EARLIER_KEPT: usize = 4;
