//! Where attachment bytes live. object_store gives one interface over the
//! local disk (the default, under the data dir) and S3-compatible stores, so
//! the rest of the server never touches paths.

use anyhow::Context;
use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::path::Path;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Storage(Arc<dyn ObjectStore>);

impl Storage {
    /// Files on local disk under `dir` (created if missing).
    pub fn local(dir: &Path) -> anyhow::Result<Storage> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("opening attachment store {}", dir.display()))?;
        Ok(Storage(Arc::new(store)))
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        self.0
            .put(&StorePath::from(key), bytes.into())
            .await
            .with_context(|| format!("storing {key}"))?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> anyhow::Result<Bytes> {
        let object = self
            .0
            .get(&StorePath::from(key))
            .await
            .with_context(|| format!("reading {key}"))?;
        Ok(object.bytes().await?)
    }

    /// Best effort: used to clean up after a write whose transaction failed.
    pub async fn delete(&self, key: &str) {
        if let Err(e) = self.0.delete(&StorePath::from(key)).await {
            tracing::warn!(error = %e, key, "could not delete orphaned attachment");
        }
    }
}
