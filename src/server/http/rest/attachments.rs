//! Files on tickets: `POST/GET /tickets/{id}/attachments`, `GET /attachments/{id}`.

use super::{Page, path_id, whole_page};
use crate::domain::attachment::{Attachment, shows_inline};
use crate::domain::{ApiError, ErrorKind, FieldErrors};
use crate::server::audit::Origin;
use crate::server::auth::Caller;
use crate::server::error::AppResult;
use crate::server::state::AppState;
use crate::server::tickets;
use crate::server::uploads::{UploadLimits, boundary, limit_body, read_multipart};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use utoipa::{OpenApi, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets/{id}/attachments", get(list).post(upload))
        .route("/attachments/{id}", get(download))
}

/// The document of the routes above.
#[derive(OpenApi)]
#[openapi(paths(list, upload, download))]
pub struct Api;

/// A file's bytes, of any type (documentation only).
pub(super) struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .into()
    }
}

impl ToSchema for FileBytes {}

/// The multipart form of an upload.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the form for the OpenAPI document; the handler streams the body itself to enforce the size limit"
)]
struct UploadForm {
    /// The file; its type is sniffed from the bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `false` attaches it internally (staff only); default `true`.
    public: Option<bool>,
}

/// One file per request, in the multipart field `file`; staff may send
/// `public=false` to attach it internally.
#[utoipa::path(post, path = "/tickets/{id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The stored file", body = Attachment),
        (status = 400, description = "Not a readable multipart/form-data body", body = ApiError),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 403, description = "The caller may not add files to this ticket", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
        (status = 409, description = "The ticket no longer takes files (e.g. merged)", body = ApiError),
        (status = 413, description = "The file exceeds the upload limit, or the request has more than one file, too many parts or too much text", body = ApiError),
        (status = 422, description = "No file, or an invalid `public`", body = ApiError),
    ))]
async fn upload(
    State(state): State<AppState>,
    origin: Origin,
    Caller(session): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(StatusCode, Json<Attachment>)> {
    let id = path_id(&id)?;
    let limits = UploadLimits {
        max_file_bytes: state.config.max_upload_bytes,
        max_files: 1,
    };
    let body = limit_body(limits.body_bytes(), &headers, body)?;
    let boundary = boundary(&headers).ok_or_else(|| {
        ApiError::new(
            ErrorKind::BadRequest,
            "Send the file as multipart/form-data in a field named `file`",
        )
    })?;
    let multipart = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut form = read_multipart(multipart, limits).await?;
    let files = form.take_files("file");
    let mut errs = FieldErrors::new();
    errs.check(!files.is_empty(), "file", "Choose a file to attach");
    let public = match form.text("public").map(str::trim) {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => {
            errs.add("public", "Use true or false");
            true
        }
    };
    errs.into_result()?;
    let stored =
        tickets::add_attachments(&state, &session.principal, id, &files, public, &origin).await?;
    let attachment = stored.into_iter().next().ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(attachment)))
}

/// The files on a ticket the caller may see (customers: public ones only).
#[utoipa::path(get, path = "/tickets/{id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "Every file, oldest first (one page)", body = Page<Attachment>),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 404, description = "No such ticket visible to the caller", body = ApiError),
    ))]
async fn list(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Page<Attachment>>> {
    let items = tickets::attachments(&state, &session.principal, path_id(&id)?).await?;
    Ok(whole_page(items))
}

/// The bytes, under the type we sniffed. Only raster images are shown
/// inline; everything else (SVG and HTML included) is a download, and the
/// sandbox CSP keeps a file opened directly from running script.
#[utoipa::path(get, path = "/attachments/{id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The file, under its sniffed content type", content_type = "*/*",
            body = inline(FileBytes)),
        (status = 401, description = "No valid bearer token", body = ApiError),
        (status = 404, description = "No such file visible to the caller", body = ApiError),
    ))]
async fn download(
    State(state): State<AppState>,
    Caller(session): Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (file, bytes) = tickets::download(&state, &session.principal, path_id(&id)?).await?;
    file_response(&file, bytes)
}

/// A stored file as a response: the headers that keep it from running
/// anything in our origin.
pub(super) fn file_response(file: &Attachment, bytes: bytes::Bytes) -> AppResult<Response> {
    let disposition = if shows_inline(&file.content_type) {
        "inline"
    } else {
        "attachment"
    };
    let ascii_name: String = file
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = utf8_percent_encode(&file.filename, NON_ALPHANUMERIC);
    let header = |value: String| HeaderValue::from_str(&value).map_err(anyhow::Error::from);
    Ok((
        [
            (CONTENT_TYPE, header(file.content_type.clone())?),
            (
                CONTENT_DISPOSITION,
                header(format!(
                    "{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"
                ))?,
            ),
            (CACHE_CONTROL, HeaderValue::from_static("private, no-cache")),
            (
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox; frame-ancestors 'none'"),
            ),
        ],
        bytes,
    )
        .into_response())
}
