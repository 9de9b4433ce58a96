//! Files on tickets (and, keyed the same way, on other owners), as the API
//! and the UI see them.

use crate::domain::audit::OwnerType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A file attached to an owner (a ticket, later a work order or a service
/// report). `content_type` is what we sniffed from the bytes, never what
/// the uploader claimed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow, utoipa::ToSchema))]
pub struct Attachment {
    pub id: Uuid,
    pub owner_type: OwnerType,
    pub owner_id: Uuid,
    /// The ticket, for a ticket's file (as before owners): None otherwise.
    pub ticket_id: Option<Uuid>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// False for files on internal notes: staff only.
    pub public: bool,
    pub uploader_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// At most this many files in one request.
pub const MAX_FILES_PER_REQUEST: usize = 10;
const MAX_FILENAME_CHARS: usize = 200;

/// Where the bytes are served (the REST route; cookie sessions work too).
pub fn download_path(id: Uuid) -> String {
    format!("/api/v1/attachments/{id}")
}

/// A file name safe to store and to put in a header: no directories, no
/// control or quote characters, not empty, not absurdly long. The extension
/// is kept because people rely on it when they open the download.
pub fn sanitize_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '*' | '?' | '|'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        return "file".to_owned();
    }
    if cleaned.chars().count() <= MAX_FILENAME_CHARS {
        return cleaned.to_owned();
    }
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.chars().count() <= 10 => (stem, Some(ext)),
        _ => (cleaned, None),
    };
    let keep = MAX_FILENAME_CHARS - ext.map_or(0, |e| e.chars().count() + 1);
    let stem: String = stem.chars().take(keep).collect();
    match ext {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem,
    }
}

/// Image types a browser may show in the page. Everything else (SVG
/// included: it can carry script) is served as a download.
pub fn shows_inline(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

/// `1.2 MB`, `830 KB`, `12 bytes`: sizes as people read them.
pub fn human_size(bytes: i64) -> String {
    const KB: f64 = 1000.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.0} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_and_dangerous_characters() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\Users\\me\\bill.pdf"), "bill.pdf");
        assert_eq!(sanitize_filename("a\"b<c>\r\n.txt"), "abc.txt");
        assert_eq!(sanitize_filename("  "), "file");
        assert_eq!(sanitize_filename(".htaccess"), "htaccess");
        assert_eq!(sanitize_filename("résumé.pdf"), "résumé.pdf");
        let long = format!("{}.pdf", "x".repeat(500));
        let short = sanitize_filename(&long);
        assert_eq!(short.chars().count(), MAX_FILENAME_CHARS);
        assert!(short.ends_with(".pdf"));
    }

    #[test]
    fn only_raster_images_show_inline() {
        assert!(shows_inline("image/png"));
        assert!(shows_inline("image/jpeg"));
        assert!(!shows_inline("image/svg+xml"));
        assert!(!shows_inline("text/html"));
        assert!(!shows_inline("application/pdf"));
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(12), "12 bytes");
        assert_eq!(human_size(830_000), "830 KB");
        assert_eq!(human_size(1_240_000), "1.2 MB");
    }
}
