//! A SAML 2.0 service provider that cannot be fooled: validates IdP responses (HTTP-POST
//! binding), builds AuthnRequests (HTTP-Redirect and HTTP-POST), reads IdP metadata, writes SP
//! metadata, rejects replayed assertions, and does Single Logout ([`SingleLogout`]).
//!
//! ```
//! use rampart_saml::{Certificate, Expected, IdentityProvider, MemoryReplayCache, ServiceProvider};
//! # let cert_pem = std::fs::read("tests/keys/idp.cert.pem")?;
//! # let saml_response = std::fs::read("tests/fixtures/both_signed.xml")?; // the POSTed form value
//! # let now = std::time::SystemTime::from(time::macros::datetime!(2030-01-01 00:01 UTC));
//! let idp = IdentityProvider::new("https://idp.example.com/metadata", [Certificate::from_pem(&cert_pem)?])?
//!     .with_sso_redirect_url("https://idp.example.com/sso");
//! let sp = ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
//!     .identity_provider(idp)
//!     .build()?;
//! let request = sp.authn_request("https://idp.example.com/sso").build(now)?;
//! let _redirect_to = request.redirect_url(&sp, Some("/dashboard"))?; // keep request.id() in the session
//! # let request_id = "_req0123456789abcdef0123456789abcdef"; // the fixture answers this request
//! let login = sp
//!     .validate_response(&saml_response, Expected::Request(request_id), now)?
//!     .check_replay_in_memory(&MemoryReplayCache::new())?;
//! assert_eq!(login.name_id.value, "alice@example.com");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What a response must pass
//! In order (each failure is a specific [`Error`] with a stable [`Error::kind`]; the whole list
//! is recorded by [`ServiceProvider::validate_response_explained`] into a [`Trace`]):
//!
//! 1. input: raw XML or the base64 form value, at most `max_response_bytes` (256 KiB);
//! 2. XML: no DOCTYPE, no entities beyond the predefined five, within rampart-xmldsig's limits;
//! 3. root `samlp:Response` version 2.0; solicited, or IdP-initiated only when
//!    [`accept_idp_initiated_unsolicited_responses`](ServiceProviderBuilder::accept_idp_initiated_unsolicited_responses)
//!    was called; Status `Success` (else [`Error::Status`] with every code and the message);
//! 4. IDs unique in the document; exactly one Assertion or EncryptedAssertion, a direct
//!    child of the Response, and no other anywhere (Advice inside it excepted). Encrypted
//!    elements are refused with [`Error::EncryptedNotSupported`] unless the SP has a
//!    decryption key (feature `encrypted-assertions`, see below);
//! 5. signatures: the Response's and/or the Assertion's, each an enveloped signature over the
//!    element that contains it, verified by rampart-xmldsig with the configured IdP keys only
//!    (KeyInfo is never used), SHA-256+ and RSA-2048+ or ECDSA unless the legacy opt-ins
//!    [`allow_sha1_signatures`](ServiceProviderBuilder::allow_sha1_signatures) /
//!    [`allow_small_rsa_keys`](ServiceProviderBuilder::allow_small_rsa_keys) are set. At
//!    least one must cover the assertion; from here on every value is read through the
//!    verified view (`SignedElement`), never from the raw tree;
//! 6. Destination is an ACS URL (required when the Response is signed, SAML bindings
//!    3.5.5.2); Issuers are the IdP; InResponseTo is the outstanding request;
//! 7. NameID read in full (comments cannot truncate it) with its qualifiers; a bearer
//!    SubjectConfirmation whose Recipient is an ACS URL and whose NotOnOrAfter has not passed;
//!    one Conditions, whose times pass, every AudienceRestriction names us, and no condition
//!    is unknown (SAML core 2.5.1: unknown is Indeterminate, never Valid); AuthnStatement
//!    times and the maximum authentication age; attributes with all values;
//! 8. replay: [`ValidatedResponse::check_replay`] records the assertion ID until the assertion
//!    expires ([`MemoryReplayCache`], `RedisReplayCache` with feature `redis`, or the SQL
//!    store `PostgresStore` / `SqliteStore` with feature `postgres` / `sqlite`).
//!
//! The request a response answers (step 6) is known from the user's session; to make each
//! request ID single-use across replicas, remember it when the request is sent and consume it
//! before validating its response ([`RequestIdStore`]: memory, Redis or SQL).
//!
//! # Encrypted assertions (feature `encrypted-assertions`)
//! With `ServiceProviderBuilder::with_decryption_key` (several for a rollover of the SP's
//! encryption certificate, all published in [`ServiceProvider::metadata_xml`] with
//! `use="encryption"`), an `EncryptedAssertion` (XML Encryption 1.0/1.1) is decrypted:
//! RSA-OAEP key transport (`xmlenc#rsa-oaep-mgf1p`, `xmlenc11#rsa-oaep` with SHA-1 or
//! SHA-256 and the matching MGF1), AES-128/256 in CBC (XML Encryption's padding) or GCM; the
//! EncryptedKey inside the data's KeyInfo or beside it (`RetrievalMethod`, `KeyName`, as
//! Okta sends it). 3DES and RSA PKCS#1 v1.5 (a padding oracle) are refused
//! ([`DecryptionError::Algorithm`]), with no opt-in: the one sample that uses RSA 1.5
//! (OneLogin's test IdP, 2014) pairs it with 3DES, and every current IdP offers OAEP. A Response signature is verified on the ciphertext
//! before anything is decrypted; the plaintext is parsed with the same parser and limits and
//! the assertion then passes steps 5 to 8 like a plain one: encryption is not
//! authentication, so an encrypted assertion that neither the signed Response nor its own
//! signature covers is refused. Every failure that depends on the key or the plaintext is
//! the one [`DecryptionError::Failed`] (no padding or OAEP oracle), and a content key that
//! no decryption key unwraps is replaced by a random one, so a bad OAEP block fails later at
//! the data, like a bad padding or tag (the answer is the same; the timing is close, not
//! proven equal: the decrypted bytes still go through the XML parser before they fail).
//!
//! The cryptography is AWS-LC's, through `aws-lc-rs`: ring has no RSA decryption, and the
//! pure-Rust `rsa` crate's Marvin timing attack (RUSTSEC-2023-0071) is unpatched. AWS-LC
//! decrypts with RSA keys of 2048 to 8192 bits only, so an SP key under 2048 bits is refused
//! when configured (generate a new one: the SP's own key is never an IdP's constraint).
//!
//! # Many tenants, one service provider
//! A [`TenantRegistry`] maps tenant ids to each tenant's own [`ServiceProvider`]: its IdP's
//! entity id and certificates, and its own options (IdP-initiated login stays an opt-in per
//! tenant). The tenant is chosen before anything is verified, by the ACS path
//! ([`TenantRegistry::validate_response`]) or, at an ACS shared by all tenants, by the
//! tenant that issued the request id kept in the user's session
//! ([`TenantRegistry::validate_at_shared_acs`] with [`TenantRequestIds`], which stores the
//! tenant with each id on any [`RequestIdStore`]). The response is then validated with that
//! tenant's configuration alone, so its Issuer is pinned to that tenant's IdP after the
//! signature verifies: a multi-tenant IdP often signs for every tenant with one key, and a
//! signature alone never moves a user from tenant A into tenant B.
//! [`TenantRegistry::peek_issuer`] reads the claimed Issuer for routing only; what it returns
//! ([`IssuerCandidates`]) cannot become a login. The registry is an `Arc` to clone into
//! every handler; a lookup is a hash lookup under a read lock held only to clone the
//! tenant's `Arc`, so tenants are added, replaced and removed at run time without waiting
//! for validations.
//!
//! # Metadata that refreshes itself
//! A [`MetadataRefresher`] keeps one tenant's IdP metadata current in the registry. The
//! caller's [`MetadataFetcher`] gets the bytes ([`FileFetcher`]; `ReqwestFetcher` for URLs
//! with feature `fetch-reqwest`). Each document must carry an enveloped signature over its
//! root by a pinned metadata-signing certificate
//! ([`with_metadata_signing_certificate`](MetadataRefresherBuilder::with_metadata_signing_certificate);
//! unsigned metadata is then refused, and accepting it otherwise is the loud
//! [`accept_unsigned_metadata`](MetadataRefresherBuilder::accept_unsigned_metadata)), must
//! describe the pinned IdP entity id, and must not be past its `validUntil`. The next
//! refresh comes after `cacheDuration`, clamped to a minimum and a maximum interval and never
//! after `validUntil`. A failed refresh keeps the last good metadata and is reported in
//! [`RefreshStatus`] (last success, last error, next attempt); once the last good metadata
//! expires the tenant is removed (fail closed). A response signed by a key we do not hold
//! (the IdP rotated) makes [`MetadataRefresher::validate_response`] refresh once, at most
//! once per interval per tenant, and validate again once. Time comes from the caller.
//!
//! # Identities are the exact string the IdP signed
//! Values are read as XML says and nothing more. Where the schema collapses white space
//! (`xs:anyURI`: Issuer, Audience, AuthnContextClassRef, metadata entity ids) only XML's four
//! white-space characters are stripped; a U+00A0 or U+3000 stays part of the value, so
//! `https://sp.example.com/metadata\u{a0}` is not our audience. A NameID (`xs:string`) is
//! reported as signed, less pretty-printing layout (white space holding a line break); any
//! other white space at either end refuses the response ([`Error::WhiteSpaceAround`]), since an
//! application's `trim()` or a padding SQL collation would merge `alice\u{a0}` with `alice`.
//! Element content is never read short: an Issuer, Audience or NameID with child elements,
//! or an attribute value nested deeper than 8 levels, is refused. Normalizing identities
//! (NFC, case folding of e-mail addresses) is the application's explicit choice:
//! [`NameId::nfc`], [`NameId::email_case_folded`].
//!
//! # Single Logout
//! [`ServiceProvider::single_logout`] (SAML core 3.7, profiles 4.4) at our SingleLogoutService
//! URL, published in [`ServiceProvider::metadata_xml`] by
//! [`ServiceProviderBuilder::with_single_logout_url`] (or per binding with
//! [`SpMetadata::with_single_logout_service`]):
//!
//! - SP-initiated: [`SingleLogout::logout_request`] builds a LogoutRequest (NameID with its
//!   qualifiers, SessionIndex, NotOnOrAfter); [`LogoutRequest::redirect_url`] signs the query
//!   `SAMLRequest=..&RelayState=..&SigAlg=..` (SAML bindings 3.4.4.1) and
//!   [`LogoutRequest::post_form`] carries an enveloped signature. Remember its ID in a
//!   [`RequestIdStore`] and consume it when the IdP's LogoutResponse arrives
//!   ([`SingleLogout::validate_logout_response_redirect`] / `_post`: signature, Issuer,
//!   Destination, InResponseTo, IssueInstant, status Success, a partial logout reported).
//! - IdP-initiated: [`SingleLogout::validate_logout_request_redirect`] / `_post` check the
//!   signature, Issuer, Destination, IssueInstant and NotOnOrAfter with the clock skew, and
//!   that NameID and SessionIndex name the [`LogoutSession`] the application passes in;
//!   [`ValidatedLogoutRequest::check_replay`] refuses a message ID seen before; then
//!   [`IdpLogoutRequest::response`] is the signed LogoutResponse to send back.
//!
//! Logout messages are signed both ways; an unsigned incoming one is refused
//! ([`LogoutError::Unsigned`]). A Redirect signature is verified over the raw query string as
//! received, never a re-encoded one (another percent-encoding of the same value is other
//! bytes). RSA-SHA256 and ECDSA-SHA256 are accepted, RSA-SHA1 only with
//! [`allow_sha1_signatures`](ServiceProviderBuilder::allow_sha1_signatures). A POST
//! message's enveloped signature goes through the same verifier as responses. DEFLATE data
//! is inflated to at most [`MAX_LOGOUT_MESSAGE_BYTES`] (a bomb stops there, with
//! [`LogoutError::TooLarge`]).
//!
//! Time: every check takes `now` from the caller and allows [`DEFAULT_CLOCK_SKEW`] (90 s) of
//! clock difference unless configured otherwise.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
#[cfg(feature = "encrypted-assertions")]
mod decryption_key;
mod dsig;
mod error;
mod escape;
// Only in cargo-fuzz builds (which pass `--cfg fuzzing`): never part of the API.
#[cfg(all(fuzzing, feature = "encrypted-assertions"))]
#[doc(hidden)]
pub mod fuzzing;
mod login;
mod logout;
mod metadata;
mod ns;
mod redirect;
#[cfg(feature = "redis")]
mod redis_call;
mod refresh;
mod replay;
mod request;
mod request_ids;
mod response;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod sql_store;
#[cfg(any(feature = "redis", feature = "postgres", feature = "sqlite"))]
mod state_key;
mod tenants;
mod trace;
mod view;
#[cfg(feature = "encrypted-assertions")]
mod xmlenc;
mod xsd;

pub use config::{
    Algorithms, DEFAULT_CLOCK_SKEW, DEFAULT_MAX_AUTHN_AGE, DEFAULT_MAX_RESPONSE_BYTES,
    EncryptedAssertions, IdentityProvider, MAX_AUTHN_AGE_LIMIT, MAX_CLOCK_SKEW,
    MAX_RESPONSE_BYTES_LIMIT, NeedsIdentityProvider, ServiceProvider, ServiceProviderBuilder,
    name_id_format,
};
#[cfg(feature = "encrypted-assertions")]
#[cfg_attr(docsrs, doc(cfg(feature = "encrypted-assertions")))]
pub use decryption_key::{DecryptionKey, DecryptionKeys};
pub use dsig::signature_placement;
pub use error::{
    AlgorithmError, DecryptionError, DecryptionKeyError, Error, MismatchError, ReplayCacheError,
    RequestIdStoreError, SignatureError, TimeError,
};
pub use login::{Attribute, LOGIN_FORMAT_VERSION, Login, LoginRecord, NameId, SignedParts};
pub use logout::{
    DEFAULT_MAX_LOGOUT_AGE, IdpLogoutRequest, LogoutError, LogoutOutcome, LogoutReply,
    LogoutRequest, LogoutRequestBuilder, LogoutResponse, LogoutSession, MAX_LOGOUT_AGE_LIMIT,
    MAX_LOGOUT_MESSAGE_BYTES, SingleLogout, ValidatedLogoutRequest,
};
#[cfg(fuzzing)]
#[doc(hidden)]
pub use logout::{fuzz_redirect, fuzz_xml};
pub use metadata::{Endpoint, IdpMetadata, MAX_METADATA_BYTES, SpMetadata};
pub use ns::binding;
/// SignatureMethods, as named by [`ServiceProviderBuilder::allowed_signature_algorithms`].
pub use rampart_xmldsig::SignatureAlgorithm;
/// The SP's signing key (RSA or ECDSA P-256) with its certificate
/// ([`SigningKey::with_certificate`]), as rampart-xmldsig signs with it.
pub use rampart_xmldsig::SigningKey;
/// Certificates (the IdP's trust anchors, the SP's own) and their fingerprints: one type,
/// parsed once, shared with rampart-xmldsig.
pub use rampart_xmldsig::{Certificate, Sha256Fingerprint};
#[cfg(feature = "fetch-reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "fetch-reqwest")))]
pub use refresh::ReqwestFetcher;
pub use refresh::{
    DEFAULT_MAX_REFRESH_INTERVAL, DEFAULT_MIN_REFRESH_INTERVAL, DEFAULT_RETRY_INTERVAL,
    DEFAULT_UNKNOWN_KEY_REFRESH_INTERVAL, FetchError, FileFetcher, MetadataFetcher,
    MetadataRefresher, MetadataRefresherBuilder, RefreshError, RefreshStatus,
};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use replay::RedisReplayCache;
pub use replay::{DEFAULT_MEMORY_CAPACITY, MemoryReplayCache, ReplayCache};
pub use request::{
    AuthnContextComparison, AuthnRequest, AuthnRequestBuilder, MAX_RELAY_STATE_BYTES, PostForm,
};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use request_ids::RedisRequestIds;
pub use request_ids::{DEFAULT_REQUEST_ID_CAPACITY, MemoryRequestIds, RequestIdStore};
pub use response::{Expected, ValidatedResponse};
#[cfg(feature = "postgres")]
pub use sql_store::PostgresStore;
#[cfg(feature = "sqlite")]
pub use sql_store::SqliteStore;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub use sql_store::{SqlBackend, SqlStore, SqlStoreError, SqlStoreOptions};
/// The sqlx this crate's SQL stores are built on (their pools and `from_pool` take its types),
/// re-exported so a service names the same version.
#[cfg(any(feature = "postgres", feature = "sqlite"))]
#[doc(no_inline)]
pub use sqlx;
pub use tenants::{
    IssuerCandidates, TenantError, TenantRegistry, TenantRequestIds, TenantResponse,
};
pub use trace::{Step, Trace};
