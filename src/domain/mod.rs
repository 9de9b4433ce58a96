//! Types and rules shared by the server and the browser.

pub mod attachment;
pub mod error;
pub mod role;
pub mod ticket;
pub mod user;

pub use error::{ApiError, ErrorKind, FieldErrors};
pub use role::{Area, Role};
pub use user::{SessionUser, User};
