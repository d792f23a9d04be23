//! rampart-saml: a SAML 2.0 service provider that cannot be fooled.
#![forbid(unsafe_code)]

mod cert;
mod config;
mod dsig;
mod error;
mod escape;
mod login;
mod metadata;
mod ns;
mod replay;
mod request;
mod response;
mod signing;
mod trace;
mod view;
mod xsd;

pub use cert::Certificate;
pub use config::{
    Algorithms, DEFAULT_CLOCK_SKEW, DEFAULT_MAX_AUTHN_AGE, DEFAULT_MAX_RESPONSE_BYTES,
    EncryptedAssertions, IdentityProvider, MAX_CLOCK_SKEW, NeedsIdentityProvider, ServiceProvider,
    ServiceProviderBuilder, name_id_format,
};
pub use error::{Error, MismatchError, SignatureError, TimeError};
pub use login::{Attribute, LOGIN_FORMAT_VERSION, Login, NameId, SignedParts};
pub use metadata::{Endpoint, IdpMetadata, MAX_METADATA_BYTES};
pub use ns::binding;
#[cfg(feature = "redis")]
pub use replay::RedisReplayCache;
pub use replay::{DEFAULT_MEMORY_CAPACITY, MemoryReplayCache, ReplayCache};
pub use request::{
    AuthnContextComparison, AuthnRequest, AuthnRequestBuilder, MAX_RELAY_STATE_BYTES, PostForm,
    RSA_SHA256,
};
pub use response::{Expected, ValidatedResponse};
pub use signing::SigningKey;
pub use trace::{Step, Trace};
