//! Reading multipart uploads (REST and server functions alike) with a size
//! limit enforced while streaming, and sniffing what a file really is.

use crate::domain::attachment::{MAX_FILES_PER_REQUEST, sanitize_filename};
use crate::domain::{ApiError, ErrorKind};
use crate::server::error::AppResult;
use bytes::{Bytes, BytesMut};

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

/// Text fields are small; anything bigger is not a form we sent.
const MAX_TEXT_FIELD: usize = 256 * 1024;

pub fn too_large(max_bytes: u64) -> ApiError {
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

fn malformed() -> ApiError {
    ApiError::new(ErrorKind::BadRequest, "The upload could not be read")
}

/// Reads every part, refusing a file over `max_file_bytes` as soon as it
/// crosses the limit (nothing is written anywhere before that). A file input
/// left empty (no name, no bytes) is skipped, as browsers send one.
pub async fn read_multipart(
    mut multipart: multer::Multipart<'_>,
    max_file_bytes: u64,
) -> AppResult<MultipartForm> {
    let mut form = MultipartForm::default();
    while let Some(mut field) = multipart.next_field().await.map_err(|_| malformed())? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let limit = match file_name {
            Some(_) => max_file_bytes,
            None => MAX_TEXT_FIELD as u64,
        };
        let mut buf = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(match file_name {
                    Some(_) => too_large(max_file_bytes),
                    None => malformed(),
                }
                .into());
            }
            buf.extend_from_slice(&chunk);
        }
        match file_name {
            Some(raw) if raw.is_empty() && buf.is_empty() => {}
            Some(raw) => {
                if form.files.len() == MAX_FILES_PER_REQUEST {
                    let mut err = ApiError::new(ErrorKind::Validation, "Too many files");
                    err.fields.insert(
                        name,
                        format!("Attach at most {MAX_FILES_PER_REQUEST} files at a time"),
                    );
                    return Err(err.into());
                }
                let upload = Upload {
                    filename: sanitize_filename(&raw),
                    bytes: buf.freeze(),
                };
                form.files.push((name, upload));
            }
            None => {
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
