//! Authentication: passwords, access tokens, refresh-token sessions, and the
//! middleware that tells every handler who is calling.

pub mod gate;
pub mod password;
pub mod principal;
pub mod refresh;
pub mod service;
pub mod session;
pub mod standings;
pub mod token;

pub use principal::{Person, Principal, SystemReason, TicketScope};
pub use session::{Caller, Session};
pub use token::{Claims, JwtKeys, MagicLinkClaims};
