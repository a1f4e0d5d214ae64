//! Purchases in an embedded database file, for `jwo serve` and tests.
//!
//! redb: a pure-Rust, ACID key-value store. Every commit is durable when it returns (fsync,
//! `Durability::Immediate`) and copy-on-write pages mean a crash (kill -9 included) leaves the
//! last committed state, so every acknowledged purchase survives. One file, no server, no C
//! toolchain. SQLite would do as well but brings a C build; sled is unmaintained.
//!
//! Writes are group-committed (see [`EmbeddedPurchaseStore`]); reads run beside them.

use std::path::Path;
use std::sync::{Arc, mpsc};

use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    WriteTransaction,
};
use tokio::sync::{mpsc as tokio_mpsc, oneshot};

use jwo_domain::ports::PurchaseStore;
use jwo_domain::purchase::Purchase;
use jwo_domain::store::{
    HistoryCursor, HistoryPage, HistoryQuery, Inserted, OpenPage, StoreError, Updated, creation_key,
};

/// Purchase id → the purchase's version (8 bytes, big-endian), then the purchase as JSON. The
/// writer checks a conditional update against the version without decoding the record.
const PURCHASES: TableDefinition<&str, &[u8]> = TableDefinition::new("purchases");
/// Purchase ids of the Open purchases (an index kept in the same transactions).
const OPEN: TableDefinition<&str, ()> = TableDefinition::new("open_purchases");
/// `{storeId}\0{creation key}\0{purchaseId}` of every purchase: a store's history in time order.
/// Both parts never change, so the entry is written once, when the purchase is inserted.
const HISTORY: TableDefinition<&str, ()> = TableDefinition::new("store_history");
/// Writes committed together at most (one fsync for all of them).
const MAX_GROUP: usize = 256;

/// Group commit: every write goes to one writer thread, which applies whatever writes are
/// waiting in one transaction and commits them with one fsync before answering any of them.
/// Concurrent purchases share the cost of durability instead of queueing for a commit each.
#[derive(Clone)]
pub struct EmbeddedPurchaseStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<Database>,
    writes: Option<mpsc::Sender<Write>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue ends the writer; joining it releases the file before we return,
        // so the same file can be opened again at once.
        self.writes.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

enum WriteKind {
    Insert,
    Update,
}

enum Written {
    Inserted(Inserted),
    Updated(Updated),
}

struct Write {
    kind: WriteKind,
    purchase: Purchase,
    answer: oneshot::Sender<Result<Written, StoreError>>,
}

fn unavailable(error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

const VERSION_BYTES: usize = 8;

fn corrupt(purchase_id: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        record: format!("purchase {purchase_id}"),
        reason: reason.to_string(),
    }
}

fn decode(purchase_id: &str, bytes: &[u8]) -> Result<Purchase, StoreError> {
    let json = bytes
        .get(VERSION_BYTES..)
        .ok_or_else(|| corrupt(purchase_id, "the record is truncated"))?;
    serde_json::from_slice(json).map_err(|error| corrupt(purchase_id, error))
}

fn version_of(purchase_id: &str, bytes: &[u8]) -> Result<u64, StoreError> {
    let prefix: [u8; VERSION_BYTES] = bytes
        .get(..VERSION_BYTES)
        .and_then(|prefix| prefix.try_into().ok())
        .ok_or_else(|| corrupt(purchase_id, "the record is truncated"))?;
    Ok(u64::from_be_bytes(prefix))
}

fn encode(purchase: &Purchase) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(4096);
    bytes.extend_from_slice(&purchase.version.to_be_bytes());
    serde_json::to_writer(&mut bytes, purchase).expect("a purchase always serializes");
    bytes
}

impl EmbeddedPurchaseStore {
    /// Opens the store at `path`, creating the file (not its folder) if needed.
    pub fn open(path: &Path) -> Result<EmbeddedPurchaseStore, StoreError> {
        Self::start(path, None)
    }

    /// Opens the store, and a queue that receives the id of every purchase inserted ready for
    /// checkout, once its insert is committed: what the table's stream is in AWS, for the
    /// local checkout worker.
    pub fn open_with_ready_queue(
        path: &Path,
    ) -> Result<(EmbeddedPurchaseStore, tokio_mpsc::UnboundedReceiver<String>), StoreError> {
        let (ready, queue) = tokio_mpsc::unbounded_channel();
        Ok((Self::start(path, Some(ready))?, queue))
    }

    fn start(
        path: &Path,
        ready: Option<tokio_mpsc::UnboundedSender<String>>,
    ) -> Result<EmbeddedPurchaseStore, StoreError> {
        let db = Database::create(path).map_err(|error| {
            StoreError::Unavailable(format!("cannot open {}: {error}", path.display()))
        })?;
        // Create the tables up front so readers never meet a missing table.
        let txn = db.begin_write().map_err(unavailable)?;
        txn.open_table(PURCHASES).map_err(unavailable)?;
        txn.open_table(OPEN).map_err(unavailable)?;
        index_history_of_older_files(&txn)?;
        txn.commit().map_err(unavailable)?;
        let db = Arc::new(db);
        let (writes, queue) = mpsc::channel();
        let writer_db = Arc::clone(&db);
        let writer = std::thread::Builder::new()
            .name("purchase-store-writer".into())
            .spawn(move || run_writer(&writer_db, &queue, ready.as_ref()))
            .map_err(unavailable)?;
        Ok(EmbeddedPurchaseStore {
            inner: Arc::new(Inner {
                db,
                writes: Some(writes),
                writer: Some(writer),
            }),
        })
    }

    /// Runs blocking database reads off the async runtime.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.inner.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(|error| StoreError::Unavailable(format!("store task failed: {error}")))?
    }

    /// Hands a write to the writer and waits for its commit.
    async fn write(&self, kind: WriteKind, purchase: &Purchase) -> Result<Written, StoreError> {
        let (answer, answered) = oneshot::channel();
        let write = Write {
            kind,
            purchase: purchase.clone(),
            answer,
        };
        let stopped = || StoreError::Unavailable("the purchase store's writer stopped".into());
        self.inner
            .writes
            .as_ref()
            .ok_or_else(stopped)?
            .send(write)
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
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

/// The writer thread: takes the writes waiting (up to [`MAX_GROUP`]), applies them in order in
/// one transaction (each sees the ones before it), commits once, then answers each. If the
/// commit fails, every write of the group is answered "unavailable": none was acknowledged.
fn run_writer(
    db: &Database,
    queue: &mpsc::Receiver<Write>,
    ready: Option<&tokio_mpsc::UnboundedSender<String>>,
) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(write) => group.push(write),
                Err(_) => break,
            }
        }
        match commit_group(db, &group) {
            Ok(results) => {
                for (write, result) in group.into_iter().zip(results) {
                    let newly_ready = matches!(result, Ok(Written::Inserted(Inserted::New)))
                        && write.purchase.is_ready_for_checkout();
                    if let (true, Some(ready)) = (newly_ready, ready) {
                        // Nobody listening any more is no loss: a restart sweeps Open purchases.
                        let _ = ready.send(write.purchase.purchase_id.clone());
                    }
                    let _ = write.answer.send(result);
                }
            }
            Err(error) => {
                for write in group {
                    let _ = write.answer.send(Err(unavailable(&error)));
                }
            }
        }
    }
}

/// Per write its result; `Err` for the whole group when the transaction itself fails.
fn commit_group(
    db: &Database,
    group: &[Write],
) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
    let txn = db.begin_write().map_err(unavailable)?;
    let mut results = Vec::with_capacity(group.len());
    for write in group {
        let id = write.purchase.purchase_id.as_str();
        let stored_version = match stored_version(&txn, id) {
            Ok(version) => version,
            // One unreadable record fails its own write, not the group's.
            Err(corrupt @ StoreError::Corrupt { .. }) => {
                results.push(Err(corrupt));
                continue;
            }
            Err(error) => return Err(error),
        };
        let result = match (&write.kind, stored_version) {
            (WriteKind::Insert, None) => {
                put(&txn, &write.purchase)?;
                index_in_history(
                    &mut txn.open_table(HISTORY).map_err(unavailable)?,
                    &write.purchase,
                )?;
                Ok(Written::Inserted(Inserted::New))
            }
            (WriteKind::Update, Some(version)) if version + 1 == write.purchase.version => {
                put(&txn, &write.purchase)?;
                Ok(Written::Updated(Updated::Done))
            }
            // The rare answers that carry the stored record: a replay, a lost race.
            (WriteKind::Insert, Some(_)) => current(&txn, id).map(|existing| {
                Written::Inserted(Inserted::Existing(Box::new(
                    existing.expect("present: its version was just read"),
                )))
            }),
            (WriteKind::Update, _) => current(&txn, id)
                .map(|current| Written::Updated(Updated::Conflict(current.map(Box::new)))),
        };
        results.push(result);
    }
    txn.commit().map_err(unavailable)?;
    Ok(results)
}

fn history_key(store_id: &str, created: &str, purchase_id: &str) -> String {
    format!("{store_id}\0{created}\0{purchase_id}")
}

/// Enters `purchase` in its store's history. Store and creation time never change, so this is
/// done once, when the purchase is inserted (or a file from before the index is opened).
fn index_in_history(
    history: &mut redb::Table<&str, ()>,
    purchase: &Purchase,
) -> Result<(), StoreError> {
    let key = history_key(
        &purchase.store_id,
        &creation_key(purchase.created_at),
        &purchase.purchase_id,
    );
    history.insert(key.as_str(), ()).map_err(unavailable)?;
    Ok(())
}

/// A file written before the history index had its purchases but no index: index them once.
fn index_history_of_older_files(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut history = txn.open_table(HISTORY).map_err(unavailable)?;
    if !history.is_empty().map_err(unavailable)? {
        return Ok(());
    }
    let purchases = txn.open_table(PURCHASES).map_err(unavailable)?;
    for entry in purchases.iter().map_err(unavailable)? {
        let (id, bytes) = entry.map_err(unavailable)?;
        // An unreadable record is the sweep's to report; it must not stop the store opening.
        let Ok(purchase) = decode(id.value(), bytes.value()) else {
            continue;
        };
        index_in_history(&mut history, &purchase)?;
    }
    Ok(())
}

/// Writes a purchase and keeps the Open index in step, inside `txn`.
fn put(txn: &WriteTransaction, purchase: &Purchase) -> Result<(), StoreError> {
    let mut purchases = txn.open_table(PURCHASES).map_err(unavailable)?;
    purchases
        .insert(purchase.purchase_id.as_str(), encode(purchase).as_slice())
        .map_err(unavailable)?;
    let mut open = txn.open_table(OPEN).map_err(unavailable)?;
    if purchase.needs_sweep() {
        open.insert(purchase.purchase_id.as_str(), ())
            .map_err(unavailable)?;
    } else {
        open.remove(purchase.purchase_id.as_str())
            .map_err(unavailable)?;
    }
    Ok(())
}

/// The version of the stored purchase with this id as `txn` sees it (its own earlier writes
/// included), if there is one.
fn stored_version(txn: &WriteTransaction, purchase_id: &str) -> Result<Option<u64>, StoreError> {
    read_in(txn, purchase_id, version_of)
}

/// Reads the stored bytes of `purchase_id` as `txn` sees them, with `read`.
fn read_in<T>(
    txn: &WriteTransaction,
    purchase_id: &str,
    read: impl Fn(&str, &[u8]) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let purchases = txn.open_table(PURCHASES).map_err(unavailable)?;
    let found = purchases.get(purchase_id).map_err(unavailable)?;
    found
        .map(|bytes| read(purchase_id, bytes.value()))
        .transpose()
}

/// The stored purchase with this id as `txn` sees it (its own earlier writes included).
fn current(txn: &WriteTransaction, purchase_id: &str) -> Result<Option<Purchase>, StoreError> {
    read_in(txn, purchase_id, decode)
}

impl PurchaseStore for EmbeddedPurchaseStore {
    async fn insert_if_absent(&self, purchase: &Purchase) -> Result<Inserted, StoreError> {
        match self.write(WriteKind::Insert, purchase).await? {
            Written::Inserted(inserted) => Ok(inserted),
            Written::Updated(_) => unreachable!("an insert is answered as an insert"),
        }
    }

    async fn get(&self, purchase_id: &str) -> Result<Option<Purchase>, StoreError> {
        // Inline, not on the blocking pool: a lookup by key is a few microseconds in the page
        // cache, less than the hop to another thread and back.
        Self::read(&self.inner.db, purchase_id)
    }

    async fn update(&self, next: &Purchase) -> Result<Updated, StoreError> {
        match self.write(WriteKind::Update, next).await? {
            Written::Updated(updated) => Ok(updated),
            Written::Inserted(_) => unreachable!("an update is answered as an update"),
        }
    }

    /// From the index of Open purchase ids (written in the same transaction as each change).
    async fn list_open(&self, after: Option<&str>, limit: usize) -> Result<OpenPage, StoreError> {
        let after = after.map(str::to_owned);
        let limit = limit.max(1);
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let open = txn.open_table(OPEN).map_err(unavailable)?;
            let purchases = txn.open_table(PURCHASES).map_err(unavailable)?;
            let range = match &after {
                Some(after) => open.range::<&str>((
                    std::ops::Bound::Excluded(after.as_str()),
                    std::ops::Bound::Unbounded,
                )),
                None => open.range::<&str>(..),
            }
            .map_err(unavailable)?;
            let mut page = OpenPage {
                purchases: Vec::new(),
                next: None,
            };
            let mut last: Option<String> = None;
            for entry in range {
                let (id, _) = entry.map_err(unavailable)?;
                if page.purchases.len() == limit {
                    // There is more: the next page starts after the last id of this one.
                    page.next = last;
                    break;
                }
                let id = id.value().to_owned();
                page.purchases
                    .push(match purchases.get(id.as_str()).map_err(unavailable)? {
                        Some(bytes) => decode(&id, bytes.value()),
                        None => Err(StoreError::Corrupt {
                            record: format!("purchase {id}"),
                            reason: "listed as Open but not stored".into(),
                        }),
                    });
                last = Some(id);
            }
            Ok(page)
        })
        .await
    }

    /// From the history index (written in the same transaction as each purchase).
    async fn list_history(
        &self,
        query: &HistoryQuery,
        after: Option<&HistoryCursor>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError> {
        use std::ops::Bound;
        let since = creation_key(query.since);
        let start = match after {
            // A cursor inside the window; one before it (from another window) starts at since.
            Some(after) if after.created >= since => Bound::Excluded(history_key(
                &query.store_id,
                &after.created,
                &after.purchase_id,
            )),
            _ => Bound::Included(format!("{}\0{since}", query.store_id)),
        };
        // Every key of a purchase created at `until` or later sorts after this one.
        let end = format!("{}\0{}", query.store_id, creation_key(query.until));
        let limit = limit.max(1);
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let history = txn.open_table(HISTORY).map_err(unavailable)?;
            let purchases = txn.open_table(PURCHASES).map_err(unavailable)?;
            let mut page = HistoryPage {
                purchases: Vec::new(),
                next: None,
            };
            let (Bound::Included(first) | Bound::Excluded(first)) = &start else {
                unreachable!("the start is bounded")
            };
            if *first >= end {
                // An empty window, or a cursor past its end.
                return Ok(page);
            }
            let range = history
                .range::<&str>((
                    start.as_ref().map(String::as_str),
                    Bound::Excluded(end.as_str()),
                ))
                .map_err(unavailable)?;
            let mut last: Option<HistoryCursor> = None;
            for entry in range {
                let (key, _) = entry.map_err(unavailable)?;
                if page.purchases.len() == limit {
                    page.next = last;
                    break;
                }
                let mut parts = key.value().rsplitn(3, '\0');
                let (Some(id), Some(created)) = (parts.next(), parts.next()) else {
                    continue;
                };
                page.purchases
                    .push(match purchases.get(id).map_err(unavailable)? {
                        Some(bytes) => decode(id, bytes.value()),
                        None => Err(StoreError::Corrupt {
                            record: format!("purchase {id}"),
                            reason: "in the store's history but not stored".into(),
                        }),
                    });
                last = Some(HistoryCursor {
                    created: created.to_owned(),
                    purchase_id: id.to_owned(),
                });
            }
            Ok(page)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwo_domain::behaviour::purchase_store;

    fn store() -> (tempfile::TempDir, EmbeddedPurchaseStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedPurchaseStore::open(&dir.path().join("purchases.redb")).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn keeps_the_store_contract() {
        let (_dir, store) = store();
        purchase_store::run_all(&store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_inserts_of_one_trip_make_one_record() {
        let (_dir, store) = store();
        purchase_store::concurrent_inserts(Arc::new(store), |task| async {
            tokio::spawn(task).await.unwrap()
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writes_are_committed_together_and_each_answered_for_itself() {
        let dir = tempfile::tempdir().unwrap();
        let (store, mut ready) =
            EmbeddedPurchaseStore::open_with_ready_queue(&dir.path().join("p.redb")).unwrap();
        let store = Arc::new(store);
        // 200 purchases at once, every other one ready for checkout.
        let mut inserts = Vec::new();
        for n in 0..200 {
            let store = Arc::clone(&store);
            let purchase = purchase_store::sample_purchase(&format!("group-{n}"), n % 2 == 0);
            inserts.push(tokio::spawn(async move {
                let inserted = store.insert_if_absent(&purchase).await.unwrap();
                (purchase, inserted)
            }));
        }
        let mut expected_ready = std::collections::BTreeSet::new();
        for insert in inserts {
            let (purchase, inserted) = insert.await.unwrap();
            assert!(matches!(inserted, Inserted::New));
            if purchase.is_ready_for_checkout() {
                expected_ready.insert(purchase.purchase_id);
            }
        }
        let mut queued = std::collections::BTreeSet::new();
        while let Ok(id) = ready.try_recv() {
            assert!(queued.insert(id), "a purchase was queued twice");
        }
        assert_eq!(queued, expected_ready);
        assert_eq!(store.all_open().await.unwrap().len(), 200);

        // Two changes computed from the same version, racing: exactly one is written.
        let base = store
            .get(&purchase_store::sample_purchase("group-1", false).purchase_id)
            .await
            .unwrap()
            .unwrap();
        let (a, b) = (
            base.with_alert_sent(
                jwo_domain::alerts::AlertKind::PurchaseBlocked,
                chrono::Utc::now(),
            ),
            base.with_alert_sent(
                jwo_domain::alerts::AlertKind::PurchaseStuckOpen,
                chrono::Utc::now(),
            ),
        );
        let (first, second) = tokio::join!(store.update(&a), store.update(&b));
        let done = [first.unwrap(), second.unwrap()]
            .iter()
            .filter(|u| matches!(u, Updated::Done))
            .count();
        assert_eq!(done, 1);
    }

    #[tokio::test]
    async fn survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("purchases.redb");
        let purchase = purchase_store::sample_purchase("reopen", true);
        {
            let store = EmbeddedPurchaseStore::open(&path).unwrap();
            store.insert_if_absent(&purchase).await.unwrap();
        }
        let store = EmbeddedPurchaseStore::open(&path).unwrap();
        assert_eq!(
            store.get(&purchase.purchase_id).await.unwrap(),
            Some(purchase.clone())
        );
        assert_eq!(store.all_open().await.unwrap(), vec![purchase]);
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
                let purchase = purchase_store::sample_purchase(&format!("kill-{n}"), n % 2 == 0);
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
                "embedded::tests::every_acknowledged_purchase_survives_kill_9",
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
            let open = store.all_open().await.unwrap();
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
