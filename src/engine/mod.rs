//! Pure business logic: no I/O, no clocks (time is passed in), so every rule
//! is unit- and property-tested. Services load state, ask an engine what to
//! do, and store the result.

pub mod import;
pub mod search;
pub mod ticket_change;
