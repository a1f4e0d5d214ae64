//! The catalog store on local disk (`jwo serve`, `jwo catalog` without `--table`): plain files
//! under one directory, so `jwo catalog import` can publish while `jwo serve` prices.
//!
//! - `pricebooks/v{N}.json`: each version, as imported (validated) JSON;
//! - `pricebooks/current.json`: the head, written after its version, so a reader sees the old
//!   version or the new one, never a mix;
//! - `ingestions.json`: the uploads and their statuses, and confirmed subscriptions.
//!
//! Every file is replaced whole (write, fsync, rename, fsync the directory), and changes are
//! made under an exclusive lock on `.lock`, so two commands never interleave.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use jwo_domain::catalog::ingestion::{Ingestion, StatusRecorded, Upload};
use jwo_domain::catalog::price_book_versions::PriceBookHead;
use jwo_domain::contract::catalog::ProcessingStatus;
use jwo_domain::ports::{IngestionStore, PriceBookStore};
use jwo_domain::store::StoreError;

pub struct LocalCatalog {
    dir: PathBuf,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IngestionsFile {
    #[serde(default)]
    ingestions: BTreeMap<String, Ingestion>,
    /// Topic ARN → subscription ARN.
    #[serde(default)]
    subscriptions: BTreeMap<String, String>,
}

fn unavailable(path: &Path, error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("{}: {error}", path.display()))
}

impl LocalCatalog {
    /// Opens (creating it if need be) the catalog store in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<LocalCatalog, StoreError> {
        let dir = dir.into();
        let pricebooks = dir.join("pricebooks");
        fs::create_dir_all(&pricebooks).map_err(|error| unavailable(&pricebooks, error))?;
        Ok(LocalCatalog { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn head_path(&self) -> PathBuf {
        self.dir.join("pricebooks").join("current.json")
    }

    fn version_path(&self, version: u64) -> PathBuf {
        self.dir.join("pricebooks").join(format!("v{version}.json"))
    }

    /// Each version's head, kept beside it (to read an earlier version by number).
    fn version_head_path(&self, version: u64) -> PathBuf {
        self.dir
            .join("pricebooks")
            .join(format!("v{version}.head.json"))
    }

    fn ingestions_path(&self) -> PathBuf {
        self.dir.join("ingestions.json")
    }

    /// Holds the store's lock until dropped.
    fn lock(&self) -> Result<File, StoreError> {
        let path = self.dir.join(".lock");
        let file = File::create(&path).map_err(|error| unavailable(&path, error))?;
        file.lock().map_err(|error| unavailable(&path, error))?;
        Ok(file)
    }

    fn read_json<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>, StoreError> {
        match fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|error| StoreError::Corrupt {
                        record: path.display().to_string(),
                        reason: error.to_string(),
                    })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(unavailable(path, error)),
        }
    }

    /// Replaces `path` with `bytes`, durably: a crash leaves the old file or the new one.
    fn replace(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let temporary = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temporary, path)?;
            File::open(path.parent().unwrap_or(Path::new(".")))?.sync_all()
        };
        write().map_err(|error| unavailable(path, error))
    }

    fn ingestions(&self) -> Result<IngestionsFile, StoreError> {
        Ok(self.read_json(&self.ingestions_path())?.unwrap_or_default())
    }

    /// Reads, changes and writes back the ingestions file under the lock.
    fn change_ingestions<T>(
        &self,
        change: impl FnOnce(&mut IngestionsFile) -> Result<(T, bool), StoreError>,
    ) -> Result<T, StoreError> {
        let _lock = self.lock()?;
        let mut file = self.ingestions()?;
        let (answer, changed) = change(&mut file)?;
        if changed {
            let json = serde_json::to_vec_pretty(&file).expect("ingestions serialize");
            self.replace(&self.ingestions_path(), &json)?;
        }
        Ok(answer)
    }
}

impl PriceBookStore for LocalCatalog {
    async fn head(&self) -> Result<Option<PriceBookHead>, StoreError> {
        self.read_json(&self.head_path())
    }

    async fn version_head(&self, version: u64) -> Result<Option<PriceBookHead>, StoreError> {
        self.read_json(&self.version_head_path(version))
    }

    async fn read(&self, head: &PriceBookHead) -> Result<Vec<u8>, StoreError> {
        let path = self.version_path(head.version);
        fs::read(&path).map_err(|error| unavailable(&path, error))
    }

    async fn publish(&self, head: &PriceBookHead, json: &[u8]) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        let current: Option<PriceBookHead> = self.read_json(&self.head_path())?;
        let expected = current.as_ref().map_or(1, |current| current.version + 1);
        if head.version != expected {
            return Err(StoreError::Conflict(format!(
                "price book v{} was imported meanwhile; import again",
                expected - 1
            )));
        }
        self.replace(&self.version_path(head.version), json)?;
        let head_json = serde_json::to_vec_pretty(head).expect("a head serializes");
        self.replace(&self.version_head_path(head.version), &head_json)?;
        self.replace(&self.head_path(), &head_json)
    }
}

impl IngestionStore for LocalCatalog {
    async fn record_status(&self, update: &Ingestion) -> Result<StatusRecorded, StoreError> {
        self.change_ingestions(|file| {
            match file.ingestions.get_mut(&update.ingestion_id) {
                Some(stored) if stored.status.rank() >= update.status.rank() => {
                    Ok((StatusRecorded::Unchanged(stored.clone()), false))
                }
                Some(stored) => {
                    // What our upload recorded stays; the status and what came with it move.
                    let upload = stored.upload.take();
                    *stored = Ingestion {
                        upload,
                        ..update.clone()
                    };
                    Ok((StatusRecorded::Advanced(stored.clone()), true))
                }
                None => {
                    file.ingestions
                        .insert(update.ingestion_id.clone(), update.clone());
                    Ok((StatusRecorded::Advanced(update.clone()), true))
                }
            }
        })
    }

    async fn get_ingestion(&self, ingestion_id: &str) -> Result<Option<Ingestion>, StoreError> {
        Ok(self.ingestions()?.ingestions.remove(ingestion_id))
    }

    async fn mark_alerted(&self, ingestion_id: &str) -> Result<(), StoreError> {
        self.change_ingestions(|file| match file.ingestions.get_mut(ingestion_id) {
            Some(stored) => {
                stored.alerted = true;
                Ok(((), true))
            }
            None => Err(StoreError::Unavailable(format!(
                "ingestion {ingestion_id} is not stored"
            ))),
        })
    }

    async fn record_upload(
        &self,
        ingestion_id: &str,
        upload: &Upload,
    ) -> Result<Ingestion, StoreError> {
        self.change_ingestions(|file| {
            let stored = file
                .ingestions
                .entry(ingestion_id.to_owned())
                .or_insert_with(|| {
                    let mut new = Ingestion::with_status(ingestion_id, ProcessingStatus::InQueue);
                    new.updated_at = upload.uploaded_at;
                    new
                });
            stored.upload = Some(upload.clone());
            Ok((stored.clone(), true))
        })
    }

    async fn list_ingestions(&self) -> Result<Vec<Ingestion>, StoreError> {
        let mut all: Vec<Ingestion> = self.ingestions()?.ingestions.into_values().collect();
        jwo_domain::catalog::ingestion::sort_by_upload(&mut all);
        Ok(all)
    }

    async fn record_subscription(
        &self,
        topic_arn: &str,
        subscription_arn: &str,
    ) -> Result<(), StoreError> {
        self.change_ingestions(|file| {
            file.subscriptions
                .insert(topic_arn.to_owned(), subscription_arn.to_owned());
            Ok(((), true))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwo_domain::behaviour::catalog_store;

    #[tokio::test]
    async fn keeps_the_catalog_store_contract() {
        let dir = tempfile::tempdir().unwrap();
        catalog_store::run_all(&LocalCatalog::open(dir.path()).unwrap()).await;
    }

    #[tokio::test]
    async fn what_one_process_publishes_another_reads() {
        let dir = tempfile::tempdir().unwrap();
        let writer = LocalCatalog::open(dir.path()).unwrap();
        let reader = LocalCatalog::open(dir.path()).unwrap();
        catalog_store::publish_two_versions(&writer).await;
        assert_eq!(reader.head().await.unwrap().unwrap().version, 2);
        // No temporary files are left behind.
        let left: Vec<_> = fs::read_dir(dir.path().join("pricebooks"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
