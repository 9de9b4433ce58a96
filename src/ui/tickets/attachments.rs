//! Files on a ticket: the multi-file picker (also in the new-ticket form) and
//! the ticket page's attachments card with its upload form.

use crate::domain::ApiError;
use crate::domain::attachment::{Attachment, MAX_FILES_PER_REQUEST, download_path, human_size};
use crate::ui::forms::{FieldMessage, FormAlert, UploadAction, UploadForm, last_error};
use leptos::prelude::*;

/// A multi-file picker with its server message (the upload reader reports
/// size problems on `file`, the form's input is `files`).
#[component]
pub(super) fn FileInput(label: &'static str, error: Signal<Option<ApiError>>) -> impl IntoView {
    let message = Signal::derive(move || {
        error
            .get()
            .and_then(|e| e.field("file").or(e.field("files")).map(str::to_owned))
    });
    let hint = format!("Optional. Up to {MAX_FILES_PER_REQUEST} files; screenshots, PDFs, logs.");
    view! {
        <div class="field">
            <label for="files">{label}</label>
            <input id="files" name="files" type="file" multiple aria-describedby="files-message" />
            <FieldMessage name="files" hint message />
        </div>
    }
}

/// The ticket's files, with a way to add more while it is not closed.
#[component]
pub(super) fn Attachments(
    files: Vec<Attachment>,
    action: UploadAction,
    ticket_id: String,
    staff: bool,
    closed: bool,
) -> impl IntoView {
    let error = last_error(action.value());
    let items = files
        .into_iter()
        .map(|f| {
            view! {
                <li>
                    <a href=download_path(f.id)>{f.filename}</a>
                    <span class="muted">{format!(" {}", human_size(f.size))}</span>
                    {(!f.public).then(|| view! { <span class="badge badge-internal">"Internal"</span> })}
                </li>
            }
        })
        .collect::<Vec<_>>();
    let empty = items.is_empty();
    view! {
        <section class="card attachments" aria-labelledby="attachments-title">
            <h2 id="attachments-title">"Attachments"</h2>
            {if empty {
                view! { <p class="muted">"No files yet."</p> }.into_any()
            } else {
                view! { <ul class="file-list">{items}</ul> }.into_any()
            }}
            {(!closed).then(|| view! {
                <UploadForm action endpoint="/api/attach_files">
                    <div class="stack">
                        <FormAlert error />
                        <input type="hidden" name="ticket_id" value=ticket_id />
                        <FileInput label="Add files" error />
                        {staff.then(|| view! {
                            <label class="checkbox">
                                <input type="checkbox" name="internal" value="on" />
                                " Internal (only staff can see these files)"
                            </label>
                        })}
                        <button type="submit" class="btn btn-quiet" disabled=move || action.pending().get()>
                            "Upload"
                        </button>
                    </div>
                </UploadForm>
            })}
        </section>
    }
}
