//! Purchases in an embedded database file, for `jwo serve` and tests.
//!
//! redb: a pure-Rust, ACID key-value store. Every commit is durable when it returns (fsync,
//! `Durability::Immediate`) and copy-on-write pages mean a crash (kill -9 included) leaves the
//! last committed state, so every acknowledged purchase survives. One file, no server, no C
//! toolchain. SQLite would do as well but brings a C build; sled is unmaintained.

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use crate::ports::{Inserted, PurchaseStore, StoreError, Updated};
use crate::purchase::{Purchase, PurchaseState};

/// Purchase id → the purchase as JSON.
const PURCHASES: TableDefinition<&str, &[u8]> = TableDefinition::new("purchases");
/// Purchase ids of the Open purchases (an index kept in the same transactions).
const OPEN: TableDefinition<&str, ()> = TableDefinition::new("open_purchases");

#[derive(Clone)]
pub struct EmbeddedPurchaseStore {
    db: Arc<Database>,
}

fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

fn decode(purchase_id: &str, bytes: &[u8]) -> Result<Purchase, StoreError> {
    serde_json::from_slice(bytes).map_err(|error| StoreError::Corrupt {
        purchase_id: purchase_id.to_owned(),
        reason: error.to_string(),
    })
}

fn encode(purchase: &Purchase) -> Vec<u8> {
    serde_json::to_vec(purchase).expect("a purchase always serializes")
}

impl EmbeddedPurchaseStore {
    /// Opens the store at `path`, creating the file (not its folder) if needed.
    pub fn open(path: &Path) -> Result<EmbeddedPurchaseStore, StoreError> {
        let db = Database::create(path).map_err(|error| {
            StoreError::Unavailable(format!("cannot open {}: {error}", path.display()))
        })?;
        // Create the tables up front so readers never meet a missing table.
        let txn = db.begin_write().map_err(unavailable)?;
        txn.open_table(PURCHASES).map_err(unavailable)?;
        txn.open_table(OPEN).map_err(unavailable)?;
        txn.commit().map_err(unavailable)?;
        Ok(EmbeddedPurchaseStore { db: Arc::new(db) })
    }

    /// Runs blocking database work off the async runtime.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(|error| StoreError::Unavailable(format!("store task failed: {error}")))?
    }

    /// Writes a purchase and keeps the Open index in step, inside `txn`.
    fn put(txn: &WriteTransaction, purchase: &Purchase) -> Result<(), StoreError> {
        let mut purchases = txn.open_table(PURCHASES).map_err(unavailable)?;
        purchases
            .insert(purchase.purchase_id.as_str(), encode(purchase).as_slice())
            .map_err(unavailable)?;
        let mut open = txn.open_table(OPEN).map_err(unavailable)?;
        if purchase.state == PurchaseState::Open {
            open.insert(purchase.purchase_id.as_str(), ())
                .map_err(unavailable)?;
        } else {
            open.remove(purchase.purchase_id.as_str())
                .map_err(unavailable)?;
        }
        Ok(())
    }

    /// The stored purchase with this id, read inside `txn`.
    fn current(txn: &WriteTransaction, purchase_id: &str) -> Result<Option<Purchase>, StoreError> {
        let purchases = txn.open_table(PURCHASES).map_err(unavailable)?;
        let found = purchases.get(purchase_id).map_err(unavailable)?;
        found
            .map(|bytes| decode(purchase_id, bytes.value()))
            .transpose()
    }

    fn read(db: &Database, purchase_id: &str) -> Result<Option<Purchase>, StoreError> {
        let txn = db.begin_read().map_err(unavailable)?;
        let purchases = txn.open_table(PURCHASES).map_err(unavailable)?;
        match purchases.get(purchase_id).map_err(unavailable)? {
            Some(bytes) => decode(purchase_id, bytes.value()).map(Some),
            None => Ok(None),
        }
    }
}

impl PurchaseStore for EmbeddedPurchaseStore {
    async fn insert_if_absent(&self, purchase: &Purchase) -> Result<Inserted, StoreError> {
        let purchase = purchase.clone();
        self.blocking(move |db| {
            // Write transactions are serialized, so the check and the insert are one step.
            let txn = db.begin_write().map_err(unavailable)?;
            if let Some(existing) = Self::current(&txn, &purchase.purchase_id)? {
                txn.abort().map_err(unavailable)?;
                return Ok(Inserted::Existing(Box::new(existing)));
            }
            Self::put(&txn, &purchase)?;
            txn.commit().map_err(unavailable)?;
            Ok(Inserted::New)
        })
        .await
    }

    async fn get(&self, purchase_id: &str) -> Result<Option<Purchase>, StoreError> {
        let purchase_id = purchase_id.to_owned();
        self.blocking(move |db| Self::read(db, &purchase_id)).await
    }

    async fn update(&self, next: &Purchase) -> Result<Updated, StoreError> {
        let next = next.clone();
        self.blocking(move |db| {
            // Holding the write lock from the check to the commit makes the update conditional.
            let txn = db.begin_write().map_err(unavailable)?;
            match Self::current(&txn, &next.purchase_id)? {
                Some(current) if current.version + 1 == next.version => {
                    Self::put(&txn, &next)?;
                    txn.commit().map_err(unavailable)?;
                    Ok(Updated::Done)
                }
                other => {
                    txn.abort().map_err(unavailable)?;
                    Ok(Updated::Conflict(other.map(Box::new)))
                }
            }
        })
        .await
    }

    async fn list_open(&self) -> Result<Vec<Purchase>, StoreError> {
        self.blocking(|db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let open = txn.open_table(OPEN).map_err(unavailable)?;
            let purchases = txn.open_table(PURCHASES).map_err(unavailable)?;
            let mut found = Vec::new();
            for entry in open.iter().map_err(unavailable)? {
                let (id, _) = entry.map_err(unavailable)?;
                if let Some(bytes) = purchases.get(id.value()).map_err(unavailable)? {
                    found.push(decode(id.value(), bytes.value())?);
                }
            }
            Ok(found)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::store_contract;

    fn store() -> (tempfile::TempDir, EmbeddedPurchaseStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedPurchaseStore::open(&dir.path().join("purchases.redb")).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn keeps_the_store_contract() {
        let (_dir, store) = store();
        store_contract::run_all(&store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_inserts_of_one_trip_make_one_record() {
        let (_dir, store) = store();
        store_contract::concurrent_inserts(Arc::new(store)).await;
    }

    #[tokio::test]
    async fn survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("purchases.redb");
        let purchase = store_contract::sample_purchase("reopen", true);
        {
            let store = EmbeddedPurchaseStore::open(&path).unwrap();
            store.insert_if_absent(&purchase).await.unwrap();
        }
        let store = EmbeddedPurchaseStore::open(&path).unwrap();
        assert_eq!(
            store.get(&purchase.purchase_id).await.unwrap(),
            Some(purchase.clone())
        );
        assert_eq!(store.list_open().await.unwrap(), vec![purchase]);
    }

    const WRITER: &str = "JWO_TEST_EMBEDDED_WRITER";

    /// Given a store file by the parent, inserts purchases until killed, printing each purchase
    /// id once its insert has returned (acknowledged).
    fn write_until_killed(path: &str) {
        use std::io::Write;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = EmbeddedPurchaseStore::open(Path::new(path)).unwrap();
            for n in 0.. {
                let purchase = store_contract::sample_purchase(&format!("kill-{n}"), n % 2 == 0);
                store.insert_if_absent(&purchase).await.unwrap();
                let mut out = std::io::stdout().lock();
                writeln!(out, "ack {}", purchase.purchase_id).unwrap();
                out.flush().unwrap();
            }
        });
    }

    #[test]
    fn every_acknowledged_purchase_survives_kill_9() {
        use std::io::BufRead;
        if let Ok(path) = std::env::var(WRITER) {
            return write_until_killed(&path);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("purchases.redb");
        // This very test, run again in a child process, as the writer.
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "adapters::embedded::tests::every_acknowledged_purchase_survives_kill_9",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER, &path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut acknowledged = Vec::new();
        while acknowledged.len() < 40 {
            let line = lines.next().expect("the writer stopped early").unwrap();
            if let Some(id) = line.strip_prefix("ack ") {
                acknowledged.push(id.to_owned());
            }
        }
        child.kill().unwrap(); // SIGKILL: no destructor, no flush, no commit runs
        child.wait().unwrap();
        // Acknowledgements already in the pipe count too.
        acknowledged.extend(
            lines
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("ack ").map(str::to_owned)),
        );

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = EmbeddedPurchaseStore::open(&path).unwrap();
            for id in &acknowledged {
                let stored = store.get(id).await.unwrap();
                assert!(stored.is_some(), "acknowledged purchase {id} was lost");
            }
            let open = store.list_open().await.unwrap();
            assert!(open.len() >= acknowledged.len());
        });
    }

    #[test]
    fn a_second_process_cannot_open_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("purchases.redb");
        let _first = EmbeddedPurchaseStore::open(&path).unwrap();
        assert!(matches!(
            EmbeddedPurchaseStore::open(&path),
            Err(StoreError::Unavailable(_))
        ));
    }
}
