//! Reading multipart uploads (REST and server functions alike) with every
//! limit enforced while streaming — the whole body, each file, the number of
//! files and parts, the text — and sniffing what a file really is.

use crate::domain::attachment::{MAX_FILES_PER_REQUEST, sanitize_filename};
use crate::domain::{ApiError, ErrorKind};
use crate::server::error::AppResult;
use axum::body::Body;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use http_body_util::{LengthLimitError, Limited};
use leptos::server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A file as received: its sanitized name and its bytes.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub bytes: Bytes,
}

/// The parts of a multipart form: files under their field names, and text fields.
#[derive(Debug, Default)]
pub struct MultipartForm {
    pub files: Vec<(String, Upload)>,
    /// In form order; a name may repeat (a group of checkboxes).
    pub fields: Vec<(String, String)>,
}

impl MultipartForm {
    /// The first value named `name`.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts(name).first().copied()
    }

    /// Every value named `name`.
    pub fn texts(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    pub fn take_files(&mut self, name: &str) -> Vec<Upload> {
        let (wanted, rest) = std::mem::take(&mut self.files)
            .into_iter()
            .partition(|(field, _)| field == name);
        self.files = rest;
        wanted.into_iter().map(|(_, upload)| upload).collect()
    }
}

/// How much one multipart form may carry.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// The configured attachment limit (`FIELDESK_MAX_UPLOAD_BYTES`).
    pub max_file_bytes: u64,
    pub max_files: usize,
}

/// Parts in one form, files and text fields together. The largest forms we
/// send stay far below: bulk edit with a full queue page ticked (100 ids),
/// a new ticket with multi-select custom fields.
const MAX_PARTS: usize = 500;
/// Text fields are small; anything bigger is not a form we sent.
const MAX_TEXT_FIELD: usize = 256 * 1024;
/// All text fields of a form together.
const MAX_TEXT_TOTAL: usize = 1024 * 1024;
/// Room per part for its boundary line and headers (a long file name
/// included), which multer reads but does not count as the part's bytes.
const PART_OVERHEAD: u64 = 2 * 1024;

impl UploadLimits {
    /// Forms that carry files (new ticket, files on a ticket).
    pub fn form(max_file_bytes: u64) -> Self {
        UploadLimits {
            max_file_bytes,
            max_files: MAX_FILES_PER_REQUEST,
        }
    }

    /// The largest body a form within these limits can have. A body cap at
    /// this size never refuses a form `read_multipart` would take, so the
    /// limits below refuse first, with the precise message.
    pub fn body_bytes(&self) -> u64 {
        self.max_file_bytes
            .saturating_mul(self.max_files as u64)
            .saturating_add(MAX_TEXT_TOTAL as u64)
            .saturating_add(MAX_PARTS as u64 * PART_OVERHEAD)
    }
}

fn too_large(max_bytes: u64) -> ApiError {
    let mut err = ApiError::new(
        ErrorKind::PayloadTooLarge,
        format!(
            "Files can be at most {} MB",
            max_bytes.div_ceil(1024 * 1024)
        ),
    );
    err.fields.insert(
        "file".into(),
        "This file is larger than the upload limit".into(),
    );
    err
}

fn form_too_large(message: &str) -> ApiError {
    ApiError::new(ErrorKind::PayloadTooLarge, message)
}

fn body_too_large(limit: u64) -> ApiError {
    form_too_large(&format!(
        "The request is larger than {} MB",
        limit.div_ceil(1024 * 1024)
    ))
}

fn malformed() -> ApiError {
    ApiError::new(ErrorKind::BadRequest, "The upload could not be read")
}

/// A multipart read that failed: 413 when the body crossed the cap
/// `limit_body` put on it, else the body is not a readable form.
fn read_failed(err: multer::Error) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cause {
        if e.is::<LengthLimitError>() {
            return form_too_large("The request is larger than the upload limit");
        }
        cause = e.source();
    }
    malformed()
}

/// Caps a request body at `limit` bytes, whether or not it declares its
/// length: a `Content-Length` over the limit is refused before anything is
/// read, and a chunked body fails as soon as it crosses the limit. (Axum's
/// `DefaultBodyLimit` only guards its extractors; uploads stream the raw body.)
pub fn limit_body(limit: u64, headers: &HeaderMap, body: Body) -> AppResult<Body> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(body_too_large(limit).into());
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok(Body::new(Limited::new(body, limit)))
}

/// The multipart boundary of a request, if it is `multipart/form-data`.
pub fn boundary(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
}

/// Server-function middleware for the multipart functions
/// (`#[middleware(crate::server::uploads::RequireMultipart)]`): the server
/// function's decoder panics on a request without a multipart boundary (and
/// the client is left with a dropped connection), so such a request gets a
/// 400 here instead, shaped like the function's own errors.
#[derive(Debug, Clone, Copy)]
pub struct RequireMultipart;

impl<S> tower::Layer<S> for RequireMultipart {
    type Service = RequireMultipartService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireMultipartService(inner)
    }
}

pub struct RequireMultipartService<S>(S);

impl<S> tower::Service<Request<Body>> for RequireMultipartService<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if boundary(req.headers()).is_some() {
            return Box::pin(self.0.call(req));
        }
        let res = Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .header(CONTENT_TYPE, "application/json")
            .header(SERVER_FN_ERROR_HEADER, req.uri().path())
            .body(Body::from(malformed().ser()));
        Box::pin(async move { Ok(res.unwrap_or_else(|_| StatusCode::BAD_REQUEST.into_response())) })
    }
}

/// Reads every part within `limits`, refusing the form (413) as soon as it
/// crosses one — a file over the size limit, a file beyond the count (before
/// its bytes are read), too many parts, too much text — so nothing is
/// written anywhere and little is held. A file input left empty (no name,
/// no bytes) is skipped, as browsers send one.
pub async fn read_multipart(
    mut multipart: multer::Multipart<'_>,
    limits: UploadLimits,
) -> AppResult<MultipartForm> {
    let mut form = MultipartForm::default();
    let mut parts = 0;
    let mut text_total = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(read_failed)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(form_too_large("The form has too many parts").into());
        }
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let limit = match file_name {
            Some(_) if form.files.len() == limits.max_files => {
                let mut err = form_too_large("Too many files");
                err.fields.insert(
                    name,
                    match limits.max_files {
                        1 => "Send one file per request".to_owned(),
                        n => format!("Attach at most {n} files at a time"),
                    },
                );
                return Err(err.into());
            }
            Some(_) => limits.max_file_bytes,
            None => MAX_TEXT_FIELD.min(MAX_TEXT_TOTAL - text_total) as u64,
        };
        let mut buf = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(read_failed)? {
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(match file_name {
                    Some(_) => too_large(limits.max_file_bytes),
                    None => form_too_large("The form's text is too long"),
                }
                .into());
            }
            buf.extend_from_slice(&chunk);
        }
        match file_name {
            Some(raw) if raw.is_empty() && buf.is_empty() => {}
            Some(raw) => {
                let upload = Upload {
                    filename: sanitize_filename(&raw),
                    bytes: buf.freeze(),
                };
                form.files.push((name, upload));
            }
            None => {
                text_total += buf.len();
                let text = String::from_utf8(buf.to_vec()).map_err(|_| malformed())?;
                form.fields.push((name, text));
            }
        }
    }
    Ok(form)
}

/// What the bytes are, from their content alone: the client's claimed type
/// and the file name's extension are not trusted. Unknown binary data is
/// `application/octet-stream`; readable text is `text/plain`.
pub fn sniff_content_type(bytes: &[u8]) -> String {
    if let Some(kind) = infer::get(bytes) {
        return kind.mime_type().to_owned();
    }
    let head = &bytes[..bytes.len().min(8192)];
    let looks_textual = !head.contains(&0) && std::str::from_utf8(head).is_ok();
    if looks_textual && looks_like_markup(head) {
        // HTML and SVG are text, but never something we let a browser render.
        return "text/html".to_owned();
    }
    if looks_textual {
        "text/plain".to_owned()
    } else {
        "application/octet-stream".to_owned()
    }
}

fn looks_like_markup(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let start = text.trim_start();
    start.starts_with('<')
        && [
            "<html",
            "<svg",
            "<script",
            "<!doctype",
            "<?xml",
            "<body",
            "<iframe",
        ]
        .iter()
        .any(|tag| text.contains(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_sniffed_not_trusted() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        assert_eq!(sniff_content_type(&png), "image/png");
        assert_eq!(sniff_content_type(b"%PDF-1.7\n..."), "application/pdf");
        assert_eq!(sniff_content_type(b"hello, world\n"), "text/plain");
        assert_eq!(
            sniff_content_type(
                b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
            ),
            "text/html"
        );
        assert_eq!(
            sniff_content_type(b"  <!DOCTYPE html><html><body onload=alert(1)>"),
            "text/html"
        );
        assert_eq!(
            sniff_content_type(&[0, 159, 146, 150, 1, 2]),
            "application/octet-stream"
        );
    }
}
