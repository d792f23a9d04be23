//! Rampart: reusable security crates for Rust services, re-exported behind features.
//!
//! Each module is one crate of the workspace, enabled by the feature of the same name
//! (all on by default).
#![forbid(unsafe_code)]

#[cfg(feature = "apikey")]
#[doc(inline)]
pub use rampart_apikey as apikey;
#[cfg(feature = "attempts")]
#[doc(inline)]
pub use rampart_attempts as attempts;
#[cfg(feature = "envelope")]
#[doc(inline)]
pub use rampart_envelope as envelope;
#[cfg(feature = "password")]
#[doc(inline)]
pub use rampart_password as password;
#[cfg(feature = "saml")]
#[doc(inline)]
pub use rampart_saml as saml;
#[cfg(feature = "xmldsig")]
#[doc(inline)]
pub use rampart_xmldsig as xmldsig;
