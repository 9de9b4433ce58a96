//! Attachments in an S3-compatible bucket (`FIELDESK_S3_BUCKET`). S3 itself
//! cannot be reached from here, so a small HTTP server on loopback answers
//! the object requests the way S3 does (path-style PUT, GET, HEAD, DELETE)
//! and keeps the objects in memory; the server under test talks to it with
//! its real S3 client, signing included.

use crate::common::*;
use crate::on_both_backends;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode as Status};
use axum::response::{IntoResponse, Response};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

on_both_backends!(
    by_backend:
    attachments_live_in_the_bucket,
);

const BUCKET: &str = "fieldesk-files";

/// What the bucket holds, and the signature scheme each request carried.
#[derive(Default)]
struct Bucket {
    objects: Mutex<HashMap<String, Bytes>>,
    authorizations: Mutex<Vec<String>>,
}

/// An S3 stand-in on a loopback port.
struct S3StandIn {
    url: String,
    bucket: Arc<Bucket>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for S3StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl S3StandIn {
    async fn start() -> S3StandIn {
        let bucket = Arc::new(Bucket::default());
        let app = Router::new()
            .route("/{bucket}/{*key}", axum::routing::any(object))
            .with_state(bucket.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        S3StandIn {
            url,
            bucket,
            server,
        }
    }

    fn keys(&self) -> Vec<String> {
        self.bucket
            .objects
            .lock()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }
}

/// The headers S3 sends with an object (object_store requires both).
fn object_headers(bytes: &Bytes) -> [(&'static str, String); 3] {
    [
        ("etag", format!("\"{:x}\"", bytes.len())),
        ("last-modified", "Tue, 24 Nov 2026 10:00:00 GMT".to_owned()),
        ("content-length", bytes.len().to_string()),
    ]
}

async fn object(
    State(bucket): State<Arc<Bucket>>,
    Path((name, key)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if name != BUCKET {
        return (
            Status::NOT_FOUND,
            "<Error><Code>NoSuchBucket</Code></Error>",
        )
            .into_response();
    }
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    bucket.authorizations.lock().unwrap().push(auth.to_owned());
    let mut objects = bucket.objects.lock().unwrap();
    match method {
        Method::PUT => {
            let headers = object_headers(&body);
            objects.insert(key, body);
            (Status::OK, [headers[0].clone()]).into_response()
        }
        Method::GET | Method::HEAD => match objects.get(&key) {
            Some(bytes) => {
                let body = if method == Method::GET {
                    bytes.clone()
                } else {
                    Bytes::new()
                };
                (Status::OK, object_headers(bytes), body).into_response()
            }
            None => (Status::NOT_FOUND, "<Error><Code>NoSuchKey</Code></Error>").into_response(),
        },
        Method::DELETE => {
            objects.remove(&key);
            Status::NO_CONTENT.into_response()
        }
        _ => Status::METHOD_NOT_ALLOWED.into_response(),
    }
}

async fn attachments_live_in_the_bucket(backend: Backend) {
    let s3 = S3StandIn::start().await;
    let app = TestApp::start_with(backend, |config| {
        config.s3_bucket = Some(BUCKET.into());
        config.s3_endpoint = Some(s3.url.clone());
        config.s3_access_key_id = Some("test-key".into());
        config.s3_secret_access_key = Some("test-secret".into());
    })
    .await;
    let customer = app.bearer("customer@acme.test").await;
    let ticket = app.new_ticket(&customer, "Scanned invoice").await;
    let id = ticket["id"].as_str().unwrap();
    let content = b"%PDF-1.4\n% the scanned invoice\n".to_vec();
    let form = Form::new().part(
        "file",
        Part::bytes(content.clone())
            .file_name("invoice.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let res = app.upload(&customer, id, form).await;
    let file = expect_json(res, StatusCode::CREATED).await;

    // The bytes went to the bucket (signed requests), not to the data dir.
    assert_eq!(s3.keys().len(), 1, "{:?}", s3.keys());
    assert!(!app.state.config.data_dir.join("files").exists());
    let authorizations = s3.bucket.authorizations.lock().unwrap().clone();
    assert!(
        authorizations
            .iter()
            .all(|a| a.starts_with("AWS4-HMAC-SHA256 Credential=test-key/")),
        "{authorizations:?}"
    );

    // And come back from it, byte for byte.
    let download = app
        .get(
            &format!("/api/v1/attachments/{}", file["id"].as_str().unwrap()),
            &customer,
        )
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.bytes().await.unwrap().to_vec(), content);

    // A refused upload leaves nothing behind in the bucket either.
    let too_many = Form::new()
        .part("file", Part::bytes(b"one".to_vec()).file_name("a.txt"))
        .part("file", Part::bytes(b"two".to_vec()).file_name("b.txt"));
    let res = app.upload(&customer, id, too_many).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(s3.keys().len(), 1);
}
