//! Where attachment bytes live. object_store gives one interface over the
//! local disk (the default, under the data dir) and S3-compatible stores, so
//! the rest of the server never touches paths.

use anyhow::Context;
use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::path::Path;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Storage(Arc<dyn ObjectStore>);

/// Where an S3-compatible bucket is and how to sign in to it.
pub struct S3Bucket {
    pub name: String,
    pub region: String,
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl Storage {
    /// Files on local disk under `dir` (created if missing).
    pub fn local(dir: &Path) -> anyhow::Result<Storage> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("opening attachment store {}", dir.display()))?;
        Ok(Storage(Arc::new(store)))
    }

    /// Files in an S3-compatible bucket. Credentials not given here come
    /// from the usual `AWS_*` variables (or the instance's role).
    pub fn s3(bucket: &S3Bucket) -> anyhow::Result<Storage> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&bucket.name)
            .with_region(&bucket.region);
        if let Some(endpoint) = &bucket.endpoint {
            // Self-hosted services (MinIO, Ceph, Garage) address buckets by path.
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let Some(key) = &bucket.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &bucket.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let store = builder
            .build()
            .with_context(|| format!("opening S3 bucket {}", bucket.name))?;
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
