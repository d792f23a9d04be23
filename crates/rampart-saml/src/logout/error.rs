//! Errors of Single Logout: the logout-specific failures, and the crate's [`Error`] for the
//! families logout shares with login (XML, signatures, mismatches, times, stores).

use crate::error::Error;

/// Why a logout message was not built or not accepted.
///
/// Messages never echo a NameID, a SessionIndex or key material: a logout message names a
/// person, and the refusal may reach logs.
///
/// ```
/// let e = rampart_saml::LogoutError::Unsigned;
/// assert_eq!(e.kind(), "logout_unsigned");
/// let e = rampart_saml::LogoutError::from(rampart_saml::Error::Config("x".into()));
/// assert_eq!(e.kind(), "config");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogoutError {
    /// A failure shared with response validation (malformed XML or SAML, an XML signature,
    /// Issuer/Destination/InResponseTo mismatches, times, status, configuration, stores).
    #[error(transparent)]
    Saml(#[from] Error),
    /// The HTTP-Redirect query string is unusable (a missing or repeated parameter, a value
    /// that is not base64, both SAMLRequest and SAMLResponse, ...).
    #[error("malformed query string: {0}")]
    Query(&'static str),
    /// The message carries no signature. SAML profiles 4.4.4.1 and 4.4.4.2 require logout
    /// messages to be authenticated; this crate accepts only signed ones.
    #[error("logout message is not signed")]
    Unsigned,
    /// The HTTP-Redirect `SigAlg` is not accepted: RSA-SHA256 and ECDSA-SHA256 are, and
    /// RSA-SHA1 only with `allow_sha1_signatures`.
    #[error("query signature algorithm {0:?} is refused")]
    QueryAlgorithm(String),
    /// The HTTP-Redirect signature over the received query bytes does not verify with any
    /// trusted IdP key (or the key and algorithm do not go together); rampart-xmldsig's
    /// reason is the source.
    #[error("query signature rejected: {0}")]
    QuerySignature(#[source] rampart_xmldsig::SignatureError),
    /// The DEFLATE data of an HTTP-Redirect message does not inflate.
    #[error("saml message does not inflate (raw deflate, saml bindings 3.4.4.1)")]
    Inflate,
    /// The message (encoded, or once inflated) is larger than the limit: a DEFLATE bomb or
    /// not a logout message.
    #[error("logout message larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The NameID of an IdP-initiated LogoutRequest is not the session's.
    #[error("logout request names another subject than this session")]
    NameIdMismatch,
    /// The LogoutRequest lists SessionIndex values and none is the session's.
    #[error("logout request names other sessions than this one")]
    SessionIndexMismatch,
    /// The message ID was accepted before (replay), per the replay cache.
    #[error("logout message {id} was already used (replay)")]
    Replay {
        /// The message ID seen before.
        id: String,
    },
}

impl LogoutError {
    /// A stable, machine-readable name: the crate's [`Error::kind`] for shared failures,
    /// otherwise one of `malformed_query`, `logout_unsigned`, `algorithm_refused`,
    /// `signature_invalid`, `inflate_failed`, `logout_message_too_large`,
    /// `name_id_mismatch`, `session_index_mismatch`, `replay`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        use rampart_xmldsig::SignatureError as S;
        match self {
            LogoutError::Saml(e) => e.kind(),
            LogoutError::Query(_) => "malformed_query",
            LogoutError::Unsigned => "logout_unsigned",
            LogoutError::QueryAlgorithm(_)
            | LogoutError::QuerySignature(
                S::Sha1NotAllowed | S::KeyTooSmall | S::UnsupportedAlgorithm(_),
            ) => "algorithm_refused",
            LogoutError::QuerySignature(_) => "signature_invalid",
            LogoutError::Inflate => "inflate_failed",
            LogoutError::TooLarge { .. } => "logout_message_too_large",
            LogoutError::NameIdMismatch => "name_id_mismatch",
            LogoutError::SessionIndexMismatch => "session_index_mismatch",
            LogoutError::Replay { .. } => "replay",
        }
    }
}

impl From<crate::error::SignatureError> for LogoutError {
    fn from(e: crate::error::SignatureError) -> Self {
        LogoutError::Saml(e.into())
    }
}

impl From<crate::error::MismatchError> for LogoutError {
    fn from(e: crate::error::MismatchError) -> Self {
        LogoutError::Saml(e.into())
    }
}

impl From<crate::error::TimeError> for LogoutError {
    fn from(e: crate::error::TimeError) -> Self {
        LogoutError::Saml(e.into())
    }
}
