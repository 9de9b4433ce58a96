//! Pure business logic: no I/O, no clocks (time is passed in), so every rule
//! is unit- and property-tested. Services load state, ask an engine what to
//! do, and store the result.

pub mod assignment;
pub mod availability;
pub mod custom_fields;
pub mod import;
pub mod live;
pub mod live_client;
pub mod mail;
// Server only: the browser gets the HTML, not the parser.
#[cfg(feature = "ssr")]
pub mod markdown;
pub mod mentions;
pub mod notify;
pub mod placeholders;
pub mod retry;
pub mod search;
// Server only: the IANA zone database stays out of the WASM bundle (the
// browser asks the server's simulator).
#[cfg(feature = "ssr")]
pub mod sla;
pub mod ticket_change;
