//! URL-based access: a customer without an account follows one ticket
//! through a signed, expiring link mailed to them (`/access/{token}`).

use super::attachment::Attachment;
use super::ticket::{Comment, Ticket};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What every refused link says, whatever was wrong with it (expired,
/// altered, for another purpose): the details would only help an attacker.
pub const INVALID_LINK: &str = "This link has expired or is not valid — request a new one";

/// At most this many tickets get a link in one "email me my links" mail.
pub const MAX_LINKS_PER_MAIL: usize = 10;

/// The ticket a link opens, as its requester sees it: public messages and
/// files only, no escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkedTicket {
    pub ticket: Ticket,
    /// The description as safe HTML (Markdown, rendered on the server).
    pub description_html: String,
    pub organization_name: String,
    pub requester_name: String,
    /// The newest public messages (a page, oldest first).
    pub comments: Vec<Comment>,
    /// Where the page of older messages starts (`before` of
    /// `GET /access/{token}/comments`); null when these are all.
    #[serde(default)]
    pub older_comments: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// The page a link opens.
pub fn access_path(token: &str) -> String {
    format!("/access/{token}")
}

/// A file of the linked ticket, downloaded with the link's token.
pub fn access_download_path(token: &str, attachment: Uuid) -> String {
    format!("/api/v1/access/{token}/attachments/{attachment}")
}
