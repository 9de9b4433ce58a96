//! Types and rules shared by the server and the browser.

pub mod access;
pub mod attachment;
pub mod audit;
pub mod availability;
pub mod desk;
pub mod error;
pub mod event;
pub mod live;
pub mod notification;
pub mod policy;
pub mod role;
pub mod sla;
pub mod ticket;
pub mod user;
mod wire;

pub(crate) use wire::wire_enum;

pub use error::{ApiError, ErrorKind, FieldErrors};
pub use policy::{Capability, Gate};
pub use role::{Area, Role};
pub use user::{SessionUser, User};
