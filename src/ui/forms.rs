//! Form pieces shared by every page: labelled inputs with their
//! server-side field messages, and the form-level alert.

use crate::domain::ApiError;
use leptos::prelude::*;

/// The error of the last submission, if it failed.
pub fn last_error<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, ApiError>>> + Send + Sync + 'static,
) -> Signal<Option<ApiError>> {
    Signal::derive(move || value.get().and_then(Result::err))
}

/// A form reference that clears the form after each successful submission,
/// so a sent reply (or a changed password) does not linger in the fields.
pub fn reset_on_success<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, ApiError>>> + Send + Sync + 'static,
) -> NodeRef<leptos::html::Form> {
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(value.get(), Some(Ok(_)))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    form
}

/// The form-level message of a failed submission.
#[component]
pub fn FormAlert(error: Signal<Option<ApiError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! { <div role="alert" class="alert alert-error">{e.error}</div> }
        })
    }
}

/// A field's server message, if the last submission had one.
pub fn field_message(
    name: &'static str,
    error: Signal<Option<ApiError>>,
) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.field(name).map(str::to_owned)))
}

/// The line under a control (id `<name>-message`, which the control names in
/// `aria-describedby`): its server message, announced with role=alert when
/// it appears, or else the hint.
#[component]
pub fn FieldMessage(
    name: &'static str,
    hint: String,
    message: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("{name}-message");
    move || match message.get() {
        Some(text) => {
            view! { <p id=id.clone() class="field-error" role="alert">{text}</p> }.into_any()
        }
        None => view! { <p id=id.clone() class="field-hint">{hint.clone()}</p> }.into_any(),
    }
}

/// A labelled input whose server-side message, if any, is tied to it with
/// `aria-describedby` so screen readers announce it.
#[component]
pub fn Field(
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional, into)] hint: String,
    #[prop(optional)] autofocus: bool,
    /// May be left empty (fields are required unless said otherwise).
    #[prop(optional)]
    optional: bool,
    error: Signal<Option<ApiError>>,
) -> impl IntoView {
    let message = field_message(name, error);
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input
                id=name
                name=name
                type=kind
                autocomplete=autocomplete
                autofocus=autofocus
                required=!optional
                aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                aria-describedby=format!("{name}-message")
            />
            <FieldMessage name hint message />
        </div>
    }
}

/// A labelled multi-line input with its server-side message, like `Field`.
#[component]
pub fn TextAreaField(
    name: &'static str,
    label: &'static str,
    #[prop(default = 3)] rows: u32,
    #[prop(optional, into)] hint: String,
    error: Signal<Option<ApiError>>,
) -> impl IntoView {
    let message = field_message(name, error);
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <textarea
                id=name
                name=name
                rows=rows
                required
                aria-invalid=move || if message.get().is_some() { "true" } else { "false" }
                aria-describedby=format!("{name}-message")
            ></textarea>
            <FieldMessage name hint message />
        </div>
    }
}

/// A form submission that carries files: sent as multipart FormData.
pub type UploadAction = Action<leptos::web_sys::FormData, Result<(), ApiError>>;

/// Runs a multipart server function with the submitted form's fields and files.
pub fn upload_action<F, Fut>(server_fn: F) -> UploadAction
where
    F: Fn(leptos::server_fn::codec::MultipartData) -> Fut + 'static,
    Fut: Future<Output = Result<(), ApiError>> + 'static,
{
    Action::new_local(move |data: &leptos::web_sys::FormData| server_fn(data.clone().into()))
}

/// A form with file inputs. With JavaScript it is sent through `action` as
/// multipart FormData; without, the browser posts the same multipart form
/// to the server function's `endpoint` itself.
#[component]
pub fn UploadForm(
    action: UploadAction,
    endpoint: &'static str,
    children: Children,
) -> impl IntoView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = event_target::<leptos::web_sys::HtmlFormElement>(&ev);
        if let Ok(data) = leptos::web_sys::FormData::new_with_form(&form) {
            action.dispatch_local(data);
        }
    };
    view! {
        <form method="post" action=endpoint enctype="multipart/form-data" on:submit=submit>
            {children()}
        </form>
    }
}
