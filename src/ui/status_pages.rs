//! Not found, access denied and error notices.

use crate::domain::ApiError;
use leptos::prelude::*;
use leptos_meta::Title;

/// Sets the HTTP status of the page being rendered.
#[cfg(feature = "ssr")]
pub(crate) fn set_status(code: u16) {
    if let (Some(res), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(code),
    ) {
        res.set_status(status);
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_status(404);
    view! {
        <Title text="Page not found" />
        <main class="status-page">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <a class="btn btn-primary" href="/">"Go to your home page"</a>
        </main>
    }
}

#[component]
pub fn AccessDenied() -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_status(403);
    view! {
        <Title text="Access denied" />
        <section class="status-page">
            <h1>"Access denied"</h1>
            <p>"Your role does not give access to this area. Use the navigation to go where you can work."</p>
        </section>
    }
}

/// A failed load, said plainly; the details stay in the server log.
#[component]
pub fn ErrorNotice(error: ApiError) -> impl IntoView {
    view! {
        <div role="alert" class="alert alert-error">
            <strong>"Could not load this page. "</strong>
            {error.error}
        </div>
    }
}
