//! Fieldesk: help desk and field service management.
//!
//! `domain` and `engine` are shared and pure; `api` holds the server
//! functions (thin shells); `ui` the Leptos components; `server` everything
//! that only runs on the server (`ssr` feature).

pub mod api;
pub mod app;
pub mod domain;
pub mod engine;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronous hydration (what `leptos::mount::hydrate_lazy` does), so a
    // lazy route's chunk is loaded before its part of the page hydrates.
    wasm_bindgen_futures::spawn_local(async {
        leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App)
            .await
            .forget();
        // Lets end-to-end tests wait until the page is interactive.
        if let Some(window) = web_sys::window() {
            let _ = js_sys_set(&window, "__fieldeskHydrated");
        }
    });
}

#[cfg(feature = "hydrate")]
fn js_sys_set(window: &web_sys::Window, key: &str) -> Result<bool, wasm_bindgen::JsValue> {
    use wasm_bindgen::JsValue;
    let target: &JsValue = window.as_ref();
    js_sys::Reflect::set(target, &JsValue::from_str(key), &JsValue::TRUE)
}
