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

/// Room for wasm-split (scripts/build.sh) to hand each lazy route its own
/// constants. It moves every string and table into the module whose code
/// uses it, but lays them out again with their alignment padding; when that
/// comes out longer than the linker's read-only data segment (by 560 bytes
/// with 175 modules), it gives up and leaves all of them in the main module,
/// which then carries every page's text (86 KB raw of 164 KB). These bytes
/// lengthen the segment; nothing refers to them, so wasm-split emits them
/// nowhere. `#[used]` keeps the linker from dropping them; not zero, so they
/// stay in the read-only data and do not become zero-initialised memory.
#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
#[used]
static WASM_SPLIT_DATA_SLACK: [u8; 8192] = [0x5a; 8192];

#[cfg(feature = "hydrate")]
fn js_sys_set(window: &web_sys::Window, key: &str) -> Result<bool, wasm_bindgen::JsValue> {
    use wasm_bindgen::JsValue;
    let target: &JsValue = window.as_ref();
    js_sys::Reflect::set(target, &JsValue::from_str(key), &JsValue::TRUE)
}
