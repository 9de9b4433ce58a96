//! Authentication: passwords, access tokens, refresh-token sessions, and the
//! middleware that tells every handler who is calling.

pub mod password;
pub mod refresh;
pub mod service;
pub mod session;
pub mod token;

pub use session::{Caller, Session};
pub use token::{Claims, JwtKeys, MagicLinkClaims};
