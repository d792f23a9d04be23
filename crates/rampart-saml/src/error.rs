//! The crate's one error type, with nested enums for families (rustls-style layering).
//!
//! Every rejection of a response names what went wrong, and [`Error::kind`] gives a stable,
//! machine-readable string for it (the CLI prints it as `"error"`). Messages are lower-case and
//! never contain key material.

use std::fmt;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is not usable (missing keys, bad URL, ...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A configured certificate or key cannot be used (an IdP certificate whose key type
    /// cannot verify signatures, a signing failure); rampart-xmldsig's error says why.
    #[error("invalid configuration: {what}: {source}")]
    Key {
        /// Which certificate or key (`idp certificate`, `signing key`).
        what: &'static str,
        /// What rampart-xmldsig refused.
        #[source]
        source: rampart_xmldsig::Error,
    },
    /// The `SAMLResponse` value is neither XML nor valid base64 of XML, or is too large.
    #[error("malformed input: {0}")]
    Input(String),
    /// The XML itself was refused (DOCTYPE, entities, limits, syntax) before any SAML check;
    /// rampart-xmldsig's error says which rule, with its own [`kind`](rampart_xmldsig::Error::kind).
    #[error("xml refused: {0}")]
    Xml(#[source] rampart_xmldsig::Error),
    /// The document is XML but not the SAML structure expected here.
    #[error("malformed saml: {0}")]
    Malformed(String),
    /// The response does not hold exactly one assertion (as a direct child of the Response,
    /// and none elsewhere): more than one is how signature-wrapping attacks work.
    #[error("expected exactly one assertion, found {found}")]
    AssertionCount {
        /// How many assertions were found.
        found: usize,
    },
    /// The IdP answered with a non-success status.
    #[error("identity provider returned status {}{}", .codes.join(" / "), .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// The status codes, outermost first (e.g. `...:Responder`, `...:AuthnFailed`).
        codes: Vec<String>,
        /// The `StatusMessage`, if any.
        message: Option<String>,
    },
    /// A signature problem: missing, invalid, untrusted, or a refused algorithm.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// A value in the response does not match what this service provider expects.
    #[error(transparent)]
    Mismatch(#[from] MismatchError),
    /// A time window check failed.
    #[error(transparent)]
    Time(#[from] TimeError),
    /// The assertion was already used (replay), per the replay cache.
    #[error("assertion {assertion_id} was already used (replay)")]
    Replay {
        /// The assertion ID seen before.
        assertion_id: String,
    },
    /// The response carries an `EncryptedAssertion` (or encrypted NameID/attribute) and this
    /// service provider does not decrypt: built without the feature `encrypted-assertions`, or
    /// without a `ServiceProviderBuilder::with_decryption_key`.
    #[error("encrypted assertions not supported: {0} (no decryption key configured)")]
    EncryptedNotSupported(&'static str),
    /// An encrypted element could not be decrypted; [`DecryptionError`] says whether its
    /// algorithm was refused, its structure unusable, or decryption failed (one answer for
    /// every cryptographic cause).
    #[error(transparent)]
    Decryption(#[from] DecryptionError),
    /// A decryption key given to the configuration is unusable.
    #[error("invalid configuration: decryption key: {0}")]
    DecryptionKey(#[from] DecryptionKeyError),
    /// A signed identity value (the NameID) begins or ends with white space: a Unicode space
    /// (U+00A0, U+3000...), or a space or tab that is not pretty-printing layout (a run
    /// holding a line break). Identities are compared exactly as signed; such a value is
    /// refused rather than reported, since a later trim or a padding database collation
    /// would merge it with the colleague whose value lacks the space.
    #[error(
        "{what} begins or ends with white space; identities are compared exactly as the idp signed them"
    )]
    WhiteSpaceAround {
        /// Which value (`nameid`).
        what: &'static str,
    },
    /// The assertion's Conditions hold a condition this SP does not understand: the
    /// assertion is Indeterminate, never Valid (SAML core 2.5.1).
    #[error(
        "condition {name:?} is not understood, so the assertion is not valid (saml core 2.5.1)"
    )]
    UnknownCondition {
        /// The condition's `xsi:type` (for `saml:Condition`) or element name, at most 64
        /// characters.
        name: String,
    },
    /// The metadata document is unusable.
    #[error("invalid metadata: {0}")]
    Metadata(String),
    /// A signing certificate in the metadata cannot be read.
    #[error("invalid metadata: signing certificate of {entity_id:?}: {source}")]
    MetadataCertificate {
        /// The entity whose KeyDescriptor holds it.
        entity_id: String,
        /// What rampart-xmldsig refused.
        #[source]
        source: rampart_xmldsig::Error,
    },
    /// The replay cache back end failed (e.g. Redis unreachable). Fail closed.
    #[error("replay cache unavailable: {0}")]
    ReplayCache(#[source] ReplayCacheError),
    /// The store of issued request IDs failed ([`RequestIdStore`](crate::RequestIdStore)).
    /// Fail closed: refuse the login, or do not send the request.
    #[error("request id store unavailable: {0}")]
    RequestIdStore(#[source] RequestIdStoreError),
}

/// Signature failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// Neither the assertion nor the response that contains it is signed.
    #[error("neither the response nor the assertion is signed")]
    Missing,
    /// The service provider requires a signature on the assertion itself and it has none.
    #[error("the assertion is not signed and the configuration requires it")]
    AssertionNotSigned,
    /// An element carries more than one `ds:Signature` child.
    #[error("more than one signature on the {0} element")]
    Multiple(&'static str),
    /// Two elements carry the same `ID`: references would be ambiguous.
    #[error("id {0:?} appears more than once in the document")]
    DuplicateId(String),
    /// A signature does not cover the element that contains it (enveloped signature over its
    /// parent is the only shape accepted: anything else is signature wrapping).
    #[error("signature does not cover the element that contains it")]
    NotEnveloped,
    /// The signature or digest uses an algorithm refused by the configuration (SHA-1, RSA keys
    /// under 2048 bits) or one not supported at all.
    #[error("signature algorithm refused: {0}")]
    Algorithm(AlgorithmError),
    /// The SignatureMethod is supported but outside the configured allow-list
    /// (`allowed_signature_algorithms`).
    #[error("signature algorithm {0:?} is not in the allowed list")]
    AlgorithmNotAllowed(String),
    /// No configured IdP key verifies the signature, and the document's KeyInfo names a
    /// certificate that is none of the configured ones: signed by someone else's key.
    /// (KeyInfo only picks this error's name; it is never used for trust.)
    #[error("signature does not verify with any trusted identity provider key")]
    UntrustedKey,
    /// The signature is malformed or does not verify (digest or signature value mismatch,
    /// wrong reference, forbidden transform, a signature value that the trusted key does not
    /// verify while KeyInfo names a trusted certificate or none, ...).
    #[error("invalid signature: {0}")]
    Invalid(#[source] rampart_xmldsig::Error),
}

/// Why a signature's algorithm was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlgorithmError {
    /// A SignatureMethod rampart-xmldsig does not implement (HMAC, a misspelt URI, ...).
    #[error("signature method {0:?} is not supported")]
    UnsupportedSignatureMethod(String),
    /// A DigestMethod rampart-xmldsig does not implement.
    #[error("digest method {0:?} is not supported")]
    UnsupportedDigestMethod(String),
    /// rampart-xmldsig refused the algorithm or the key: SHA-1 or an RSA key under 2048 bits
    /// without the legacy opt-in, or a curve and digest that do not go together.
    #[error("{0}")]
    Refused(#[source] rampart_xmldsig::SignatureError),
}

/// Why an encrypted element (XML Encryption 1.1) was not decrypted.
///
/// Only the public shape of the document is told apart (an algorithm, a missing element);
/// every failure that depends on the key or the plaintext (RSA-OAEP, CBC padding, the GCM
/// tag, a wrong key, a plaintext that is not the one element expected) is the single
/// [`DecryptionError::Failed`]: an attacker who sends altered ciphertexts learns nothing
/// from the answers (no padding or OAEP oracle).
///
/// ```
/// let e = rampart_saml::Error::from(rampart_saml::DecryptionError::Failed);
/// assert_eq!(e.kind(), "decryption_failed");
/// assert_eq!(e.to_string(), "decryption failed");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptionError {
    /// An EncryptionMethod this service provider refuses: anything but AES-128/256 in CBC or
    /// GCM for the data and RSA-OAEP (SHA-1 or SHA-256 with the matching MGF1) for the key.
    /// 3DES and RSA PKCS#1 v1.5 (a padding oracle) are refused by name.
    #[error("encryption algorithm {0:?} is refused")]
    Algorithm(String),
    /// The EncryptedData / EncryptedKey structure cannot be used (no CipherValue, a
    /// CipherReference, not base64, no EncryptedKey found, more than the limits allow).
    #[error("malformed encrypted data: {0}")]
    Malformed(&'static str),
    /// Decryption failed, for whatever reason. Deliberately unspecific.
    #[error("decryption failed")]
    Failed,
}

impl DecryptionError {
    /// A stable, machine-readable name, as [`Error::kind`] gives it.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            DecryptionError::Algorithm(_) => "encryption_algorithm_refused",
            DecryptionError::Malformed(_) => "encrypted_data_malformed",
            DecryptionError::Failed => "decryption_failed",
        }
    }
}

/// Why a decryption key was refused by the configuration.
///
/// ```
/// let e = rampart_saml::Error::from(rampart_saml::DecryptionKeyError::Pkcs1);
/// assert_eq!(e.kind(), "config");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptionKeyError {
    /// The PEM text has no `PRIVATE KEY` (PKCS#8) block.
    #[error("no PRIVATE KEY block in the pem text")]
    Pem,
    /// A PKCS#1 `RSA PRIVATE KEY` block: convert it with `openssl pkcs8 -topk8 -nocrypt`.
    #[error("pkcs#1 RSA PRIVATE KEY block: convert it with `openssl pkcs8 -topk8 -nocrypt`")]
    Pkcs1,
    /// Not a PKCS#8 RSA private key of 2048 to 8192 bits (the sizes AWS-LC decrypts with).
    #[error("not a pkcs#8 rsa private key of 2048 to 8192 bits")]
    Rejected,
    /// The certificate holds another public key: IdPs would encrypt for a key we lack.
    #[error("the certificate does not hold this key's public key")]
    CertificateMismatch,
}

/// Why a replay cache could not answer. Any of these refuses the login (fail closed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayCacheError {
    /// The memory cache holds its capacity of unexpired IDs.
    #[error("memory replay cache is full")]
    Full,
    /// The Redis server could not be reached or refused the command.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    #[error("{0}")]
    Redis(#[source] redis::RedisError),
    /// The back end did not answer within the deadline (a frozen or overloaded server, or
    /// one that is reconnecting).
    ///
    /// ```
    /// use std::time::Duration;
    /// let e = rampart_saml::ReplayCacheError::Timeout { after: Duration::from_secs(1) };
    /// assert_eq!(e.kind(), "timeout");
    /// assert_eq!(e.to_string(), "no answer within 1s");
    /// ```
    #[error("no answer within {after:?}")]
    Timeout {
        /// The deadline that passed.
        after: std::time::Duration,
    },
    /// The SQL store failed (database down, timeout, schema refused).
    #[cfg(any(feature = "postgres", feature = "sqlite"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "postgres", feature = "sqlite"))))]
    #[error("{0}")]
    Sql(#[source] crate::SqlStoreError),
    /// Another back end (an application's own [`ReplayCache`](crate::ReplayCache)) failed.
    ///
    /// ```
    /// let e = rampart_saml::ReplayCacheError::Backend("database timeout".into());
    /// assert_eq!(rampart_saml::Error::ReplayCache(e).kind(), "replay_cache_unavailable");
    /// ```
    #[error("{0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why a store of issued request IDs could not answer. Any of these refuses the login.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestIdStoreError {
    /// The memory store holds its capacity of unexpired IDs.
    #[error("memory request id store is full")]
    Full,
    /// The Redis server could not be reached or refused the command.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    #[error("{0}")]
    Redis(#[source] redis::RedisError),
    /// The SQL store failed (database down, timeout, schema refused).
    #[cfg(any(feature = "postgres", feature = "sqlite"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "postgres", feature = "sqlite"))))]
    #[error("{0}")]
    Sql(#[source] crate::SqlStoreError),
    /// The back end did not answer within the deadline (a frozen or overloaded server, or
    /// one that is reconnecting).
    #[error("no answer within {after:?}")]
    Timeout {
        /// The deadline that passed.
        after: std::time::Duration,
    },
    /// Another back end (an application's own [`RequestIdStore`](crate::RequestIdStore))
    /// failed.
    ///
    /// ```
    /// let e = rampart_saml::RequestIdStoreError::Backend("database timeout".into());
    /// assert_eq!(rampart_saml::Error::RequestIdStore(e).kind(), "request_id_store_unavailable");
    /// ```
    #[error("{0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A value that differs from what the service provider expects.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MismatchError {
    /// The response's or assertion's Issuer is not the configured IdP.
    #[error("issuer {found:?} is not the configured identity provider")]
    Issuer {
        /// The Issuer found.
        found: String,
    },
    /// The assertion has no Issuer.
    #[error("assertion has no issuer")]
    MissingIssuer,
    /// The Response Destination is not one of our ACS URLs.
    #[error("destination {found:?} is not this service provider's acs url")]
    Destination {
        /// The Destination found.
        found: String,
    },
    /// A signed Response has no Destination (SAML bindings 3.5.5.2).
    #[error("signed response has no destination (saml bindings 3.5.5.2)")]
    MissingDestination,
    /// No AudienceRestriction names this service provider.
    #[error("audience does not include this service provider (found {found:?})")]
    Audience {
        /// The audiences found.
        found: Vec<String>,
    },
    /// The assertion has no AudienceRestriction (SAML profiles 4.1.4.2 requires one).
    #[error("assertion has no audience restriction")]
    MissingAudience,
    /// The bearer SubjectConfirmationData Recipient is not our ACS URL.
    #[error("subject confirmation recipient {found:?} is not this service provider's acs url")]
    Recipient {
        /// The Recipient found (empty when the attribute is absent).
        found: String,
    },
    /// A bearer SubjectConfirmation has no SubjectConfirmationData, so no Recipient,
    /// NotOnOrAfter or InResponseTo to check (SAML profiles 4.1.4.2 requires them).
    #[error("bearer subject confirmation has no subject confirmation data")]
    MissingSubjectConfirmationData,
    /// InResponseTo does not match the outstanding request.
    #[error("in-response-to {found:?} does not match the outstanding request id")]
    InResponseTo {
        /// The InResponseTo found (empty when absent).
        found: String,
    },
    /// The response is unsolicited (no request id given) and IdP-initiated login is disabled.
    #[error("unsolicited response and idp-initiated login is not accepted")]
    Unsolicited,
    /// No bearer SubjectConfirmation is present.
    #[error("no bearer subject confirmation")]
    NoBearerConfirmation,
    /// The NameID SPNameQualifier names another service provider.
    #[error("name id sp name qualifier {found:?} is not this service provider")]
    SpNameQualifier {
        /// The SPNameQualifier found.
        found: String,
    },
}

/// A time window check failed. All comparisons include the configured clock skew.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// `now` is at or after a NotOnOrAfter (plus skew).
    #[error("{what} expired at {at}")]
    Expired {
        /// Which element's window (`conditions`, `subject confirmation`, `session`).
        what: &'static str,
        /// The NotOnOrAfter as written in the document.
        at: String,
    },
    /// `now` is before a NotBefore (minus skew).
    #[error("{what} not valid before {at}")]
    NotYetValid {
        /// Which element's window.
        what: &'static str,
        /// The NotBefore as written in the document.
        at: String,
    },
    /// The authentication happened longer ago than the configured maximum age.
    #[error("authentication at {at} is older than the maximum authentication age")]
    AuthnTooOld {
        /// The AuthnInstant as written.
        at: String,
    },
    /// A time value is not a valid xs:dateTime.
    #[error("invalid xs:dateTime {0:?}")]
    Invalid(String),
    /// A time computed from the document (a NotOnOrAfter plus the skew, an AuthnInstant plus
    /// the maximum age) is past the representable range (year 9999): refused, not wrapped.
    #[error("{what} time {at:?} is out of range")]
    OutOfRange {
        /// Which value.
        what: &'static str,
        /// The value as written in the document.
        at: String,
    },
}

impl Error {
    /// A stable, machine-readable name for the error, e.g. `"audience_mismatch"`.
    ///
    /// The CLI prints it as `{"valid":false,"error":"<kind>"}`; these strings do not change
    /// between releases (new variants get new strings).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Config(_) | Error::Key { .. } | Error::DecryptionKey(_) => "config",
            Error::Input(_) => "malformed_input",
            Error::Xml(_) => "xml_refused",
            Error::Malformed(_) => "malformed_saml",
            Error::AssertionCount { .. } => "assertion_count",
            Error::Status { .. } => "status_not_success",
            Error::Signature(e) => e.kind(),
            Error::Mismatch(e) => e.kind(),
            Error::Time(e) => e.kind(),
            Error::Replay { .. } => "replay",
            Error::EncryptedNotSupported(_) => "encrypted_not_supported",
            Error::Decryption(e) => e.kind(),
            Error::WhiteSpaceAround { .. } => "white_space_around_value",
            Error::UnknownCondition { .. } => "unknown_condition",
            Error::Metadata(_) | Error::MetadataCertificate { .. } => "invalid_metadata",
            Error::ReplayCache(_) => "replay_cache_unavailable",
            Error::RequestIdStore(_) => "request_id_store_unavailable",
        }
    }

    pub(crate) fn malformed(msg: impl fmt::Display) -> Self {
        Error::Malformed(msg.to_string())
    }
}

impl SignatureError {
    /// A stable, machine-readable name, as [`Error::kind`] gives it.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            SignatureError::Missing => "signature_missing",
            SignatureError::AssertionNotSigned => "assertion_not_signed",
            SignatureError::Multiple(_) => "multiple_signatures",
            SignatureError::DuplicateId(_) => "duplicate_id",
            SignatureError::NotEnveloped => "signature_not_enveloped",
            SignatureError::Algorithm(_) => "algorithm_refused",
            SignatureError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            SignatureError::UntrustedKey => "untrusted_key",
            SignatureError::Invalid(_) => "signature_invalid",
        }
    }
}

impl MismatchError {
    /// A stable, machine-readable name, as [`Error::kind`] gives it.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            MismatchError::Issuer { .. } => "issuer_mismatch",
            MismatchError::MissingIssuer => "issuer_missing",
            MismatchError::Destination { .. } => "destination_mismatch",
            MismatchError::MissingDestination => "destination_missing",
            MismatchError::Audience { .. } => "audience_mismatch",
            MismatchError::MissingAudience => "audience_missing",
            MismatchError::Recipient { .. } => "recipient_mismatch",
            MismatchError::MissingSubjectConfirmationData => "subject_confirmation_data_missing",
            MismatchError::InResponseTo { .. } => "in_response_to_mismatch",
            MismatchError::Unsolicited => "unsolicited_response",
            MismatchError::NoBearerConfirmation => "no_bearer_confirmation",
            MismatchError::SpNameQualifier { .. } => "sp_name_qualifier_mismatch",
        }
    }
}

impl TimeError {
    /// A stable, machine-readable name, as [`Error::kind`] gives it.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            TimeError::Expired { .. } => "expired",
            TimeError::NotYetValid { .. } => "not_yet_valid",
            TimeError::AuthnTooOld { .. } => "authn_too_old",
            TimeError::Invalid(_) => "invalid_time",
            TimeError::OutOfRange { .. } => "time_out_of_range",
        }
    }
}

impl AlgorithmError {
    /// A stable, machine-readable name for the finer reason (the enclosing
    /// [`Error::kind`] is `algorithm_refused` for all of them).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            AlgorithmError::UnsupportedSignatureMethod(_) => "unsupported_signature_method",
            AlgorithmError::UnsupportedDigestMethod(_) => "unsupported_digest_method",
            AlgorithmError::Refused(e) => e.kind(),
        }
    }
}

impl ReplayCacheError {
    /// A stable, machine-readable name for the finer reason (the enclosing
    /// [`Error::kind`] is `replay_cache_unavailable` for all of them).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            ReplayCacheError::Full => "replay_cache_full",
            #[cfg(feature = "redis")]
            ReplayCacheError::Redis(_) => "redis",
            ReplayCacheError::Timeout { .. } => "timeout",
            #[cfg(any(feature = "postgres", feature = "sqlite"))]
            ReplayCacheError::Sql(_) => "sql",
            ReplayCacheError::Backend(_) => "backend",
        }
    }
}

impl RequestIdStoreError {
    /// A stable, machine-readable name for the finer reason (the enclosing
    /// [`Error::kind`] is `request_id_store_unavailable` for all of them).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            RequestIdStoreError::Full => "request_id_store_full",
            #[cfg(feature = "redis")]
            RequestIdStoreError::Redis(_) => "redis",
            #[cfg(any(feature = "postgres", feature = "sqlite"))]
            RequestIdStoreError::Sql(_) => "sql",
            RequestIdStoreError::Timeout { .. } => "timeout",
            RequestIdStoreError::Backend(_) => "backend",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_distinct_per_family() {
        let errors = [
            Error::Signature(SignatureError::Missing),
            Error::Signature(SignatureError::UntrustedKey),
            Error::Mismatch(MismatchError::MissingDestination),
            Error::Time(TimeError::Expired {
                what: "conditions",
                at: "x".into(),
            }),
            Error::Replay {
                assertion_id: "a".into(),
            },
        ];
        let kinds: std::collections::HashSet<_> = errors.iter().map(Error::kind).collect();
        assert_eq!(kinds.len(), errors.len());
    }

    #[test]
    fn status_message_lists_codes() {
        let e = Error::Status {
            codes: vec!["urn:a:Responder".into(), "urn:a:AuthnFailed".into()],
            message: Some("bad password".into()),
        };
        assert_eq!(
            e.to_string(),
            "identity provider returned status urn:a:Responder / urn:a:AuthnFailed: bad password"
        );
    }
}
