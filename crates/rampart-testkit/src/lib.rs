//! What every Rampart crate's tests repeated, in one home: real servers started by the test
//! itself (Redis, PostgreSQL, SMTP, and SoftHSM2 tokens), the "skip loudly, fail under `CI=true`" rule for missing tools, and a `block_on`
//! for futures that never wait. A dev-dependency only: no Rampart crate links it.
//!
//! ```
//! use rampart_testkit::{RedisServer, tool};
//!
//! // Skips with a loud message on a laptop without Redis; under CI=true it panics instead.
//! if let Some(server) = RedisServer::start() {
//!     assert!(server.url().starts_with("redis+unix://"));
//! }
//! assert!(tool::available("sh"));
//! ```
#![forbid(unsafe_code)]

mod future;
#[cfg(feature = "http")]
pub mod http;
mod moto;
mod postgres;
mod redis;
#[cfg(feature = "saml-idp")]
pub mod saml_idp;
pub mod smtp;
pub mod softhsm;
#[cfg(feature = "sql")]
pub mod sql;
pub mod tool;

pub use future::block_on_ready;
pub use moto::MotoServer;
pub use postgres::PostgresServer;
pub use redis::RedisServer;
pub use smtp::SmtpServer;
pub use softhsm::SoftHsm;
