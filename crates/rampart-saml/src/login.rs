//! The result of a successful validation: who logged in, as the IdP asserted it.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// Version of the [`LoginRecord`] serde form; bumped on any incompatible change. Stored
/// sessions written by older versions keep loading (golden files in `tests/vectors/`).
pub const LOGIN_FORMAT_VERSION: u32 = 1;

/// The subject's NameID, read in full (all text nodes, comments ignored: CVE-2017-11428).
///
/// `value` holds exactly the characters the IdP signed: never trimmed, case-folded or
/// normalized. Two NameIDs that differ only in invisible characters (a U+00A0 NO-BREAK SPACE,
/// a U+200B ZERO WIDTH SPACE, a decomposed `é`) are two identities, as they are to the IdP.
/// A value with white space at either end is refused during validation
/// ([`Error::WhiteSpaceAround`](crate::Error::WhiteSpaceAround)), except pretty-printing
/// layout (XML white space holding a line break, the value on its own line), which is not
/// part of the value. An application that wants
/// to merge such variants (say, accounts keyed by e-mail address) does so knowingly with
/// [`NameId::nfc`] or [`NameId::email_case_folded`], and keys its accounts by that value
/// from the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NameId {
    /// The identifier.
    pub value: String,
    /// `Format` (SAML core 8.3), if given.
    pub format: Option<String>,
    /// `NameQualifier`, if given.
    pub name_qualifier: Option<String>,
    /// `SPNameQualifier`, if given (checked to be this SP, or an affiliation configured with `affiliation()`, when present).
    pub sp_name_qualifier: Option<String>,
    /// `SPProvidedID`, if given.
    pub sp_provided_id: Option<String>,
}

impl NameId {
    /// The value in Unicode Normalization Form C (UAX #15): a decomposed `e\u{301}` and a
    /// composed `é` become one string. Nothing is trimmed or case-folded.
    ///
    /// ```
    /// # let id = rampart_saml::NameId::new("Ame\u{301}lie@example.com");
    /// assert_eq!(id.nfc(), "Am\u{e9}lie@example.com");
    /// ```
    #[must_use]
    pub fn nfc(&self) -> String {
        use unicode_normalization::UnicodeNormalization as _;
        self.value.nfc().collect()
    }

    /// For an e-mail-shaped value (exactly one `@`, with text on both sides): NFC, then
    /// lower case, the usual key of accounts by e-mail address. `None` for any other value,
    /// so an opaque persistent identifier is never folded by accident. RFC 5321 lets a mail
    /// server treat the local part as case-sensitive; folding is the application's choice.
    ///
    /// ```
    /// # use rampart_saml::NameId;
    /// assert_eq!(NameId::new("Alice@Example.COM").email_case_folded().as_deref(), Some("alice@example.com"));
    /// assert_eq!(NameId::new("AbC123").email_case_folded(), None);
    /// ```
    #[must_use]
    pub fn email_case_folded(&self) -> Option<String> {
        let (local, domain) = self.value.split_once('@')?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return None;
        }
        Some(self.nfc().to_lowercase())
    }

    /// A NameID with this value and no format or qualifiers (for tests and for comparing
    /// with stored identities).
    ///
    /// ```
    /// assert_eq!(rampart_saml::NameId::new("alice").value, "alice");
    /// ```
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        NameId {
            value: value.into(),
            format: None,
            name_qualifier: None,
            sp_name_qualifier: None,
            sp_provided_id: None,
        }
    }
}

/// One attribute with every value, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attribute {
    /// `Name`.
    pub name: String,
    /// `NameFormat`, if given.
    pub name_format: Option<String>,
    /// `FriendlyName`, if given.
    pub friendly_name: Option<String>,
    /// The text of each AttributeValue (an `xsi:nil` value is an empty string).
    pub values: Vec<String>,
}

/// Which parts of the response carried a valid signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SignedParts {
    /// Only the Response (which contains the assertion).
    Response,
    /// Only the Assertion.
    Assertion,
    /// Both.
    ResponseAndAssertion,
}

/// A validated login: every field comes from the signed part of the response.
///
/// Only validation makes one: there is no `Deserialize`, so a value read back from a session
/// store cannot pass for a freshly validated login. Store a [`LoginRecord`]
/// ([`Login::to_record`]) instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Login {
    /// [`LOGIN_FORMAT_VERSION`] when written.
    pub version: u32,
    /// The IdP entity id (the assertion's Issuer).
    pub issuer: String,
    /// The subject.
    pub name_id: NameId,
    /// The Response ID.
    pub response_id: Option<String>,
    /// The Assertion ID (the replay-cache key).
    pub assertion_id: String,
    /// The request this answers, or `None` for an IdP-initiated login.
    pub in_response_to: Option<String>,
    /// When the IdP authenticated the user.
    pub authn_instant: time::OffsetDateTime,
    /// The IdP session index, for single logout.
    pub session_index: Option<String>,
    /// When the IdP wants this SP's session to end at the latest.
    pub session_not_on_or_after: Option<time::OffsetDateTime>,
    /// The AuthnContextClassRef (how the user authenticated), if given.
    pub authn_context_class_ref: Option<String>,
    /// Attributes, in document order.
    pub attributes: Vec<Attribute>,
    /// Whether the Conditions carried OneTimeUse (replay protection always applies anyway).
    pub one_time_use: bool,
    /// The assertion cannot be accepted at or after this time (earliest NotOnOrAfter, plus
    /// skew): how long its ID stays in the replay cache.
    pub valid_until: time::OffsetDateTime,
    /// Which parts were signed.
    pub signed: SignedParts,
    /// SHA-256 fingerprint of the configured certificate whose key verified the signature.
    pub signing_certificate_sha256: String,
}

/// The stored form of a [`Login`] (serde, version [`LOGIN_FORMAT_VERSION`]), for a session
/// store: the same fields, written with [`Login::to_record`]. Reading one back gives a
/// `LoginRecord`, never a `Login`: what was stored is what the application decided to keep,
/// not the result of a validation.
///
/// ```
/// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
/// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
/// # let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
/// #     .identity_provider(idp)
/// #     .build()?;
/// # let xml = std::fs::read("tests/fixtures/both_signed.xml")?;
/// # let now = std::time::SystemTime::from(time::macros::datetime!(2030-01-01 00:01 UTC));
/// # let expected = rampart_saml::Expected::Request("_req0123456789abcdef0123456789abcdef");
/// use rampart_saml::LoginRecord;
/// let login = sp
///     .validate_response(&xml, expected, now)?
///     .check_replay_in_memory(&rampart_saml::MemoryReplayCache::new())?;
/// let stored = serde_json::to_string(&login.to_record())?;
/// let loaded: LoginRecord = serde_json::from_str(&stored)?;
/// assert_eq!(loaded.name_id.value, "alice@example.com");
/// assert_eq!(loaded, login.to_record());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoginRecord {
    /// [`LOGIN_FORMAT_VERSION`] when written.
    pub version: u32,
    /// The IdP entity id (the assertion's Issuer).
    pub issuer: String,
    /// The subject.
    pub name_id: NameId,
    /// The Response ID.
    pub response_id: Option<String>,
    /// The Assertion ID (the replay-cache key).
    pub assertion_id: String,
    /// The request this answers, or `None` for an IdP-initiated login.
    pub in_response_to: Option<String>,
    /// When the IdP authenticated the user.
    #[serde(with = "time::serde::rfc3339")]
    pub authn_instant: time::OffsetDateTime,
    /// The IdP session index, for single logout.
    pub session_index: Option<String>,
    /// When the IdP wants this SP's session to end at the latest.
    #[serde(with = "time::serde::rfc3339::option")]
    pub session_not_on_or_after: Option<time::OffsetDateTime>,
    /// The AuthnContextClassRef (how the user authenticated), if given.
    pub authn_context_class_ref: Option<String>,
    /// Attributes, in document order.
    pub attributes: Vec<Attribute>,
    /// Whether the Conditions carried OneTimeUse (replay protection always applies anyway).
    pub one_time_use: bool,
    /// The assertion cannot be accepted at or after this time (earliest NotOnOrAfter, plus
    /// skew): how long its ID stays in the replay cache.
    #[serde(with = "time::serde::rfc3339")]
    pub valid_until: time::OffsetDateTime,
    /// Which parts were signed.
    pub signed: SignedParts,
    /// SHA-256 fingerprint of the configured certificate whose key verified the signature.
    pub signing_certificate_sha256: String,
}

impl Login {
    /// Values of the attribute named `name` (matched on `Name`, then on `FriendlyName`).
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
    /// # let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    /// #     .identity_provider(idp)
    /// #     .build()?;
    /// # let xml = std::fs::read("tests/fixtures/both_signed.xml")?;
    /// # let now = std::time::SystemTime::from(time::macros::datetime!(2030-01-01 00:01 UTC));
    /// # let expected = rampart_saml::Expected::Request("_req0123456789abcdef0123456789abcdef");
    /// let login = sp
    ///     .validate_response(&xml, expected, now)?
    ///     .check_replay_in_memory(&rampart_saml::MemoryReplayCache::new())?;
    /// // By Name (a URI here) or by FriendlyName; every value, in document order.
    /// assert_eq!(login.attribute("urn:oid:2.5.4.42"), Some(&["Alice".to_string()][..]));
    /// assert_eq!(login.attribute("givenName"), login.attribute("urn:oid:2.5.4.42"));
    /// assert_eq!(login.attribute("groups").map(<[String]>::len), Some(40));
    /// assert_eq!(login.attribute("nickname"), Some(&[String::new()][..])); // xsi:nil
    /// assert_eq!(login.attribute("missing"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .or_else(|| {
                self.attributes
                    .iter()
                    .find(|a| a.friendly_name.as_deref() == Some(name))
            })
            .map(|a| a.values.as_slice())
    }

    /// The stored form of this login, for a session store.
    #[must_use]
    pub fn to_record(&self) -> LoginRecord {
        LoginRecord::from(self.clone())
    }

    /// `valid_until` as a `SystemTime`.
    #[must_use]
    pub fn valid_until_system_time(&self) -> SystemTime {
        SystemTime::from(self.valid_until)
    }
}

impl From<Login> for LoginRecord {
    fn from(l: Login) -> Self {
        LoginRecord {
            version: l.version,
            issuer: l.issuer,
            name_id: l.name_id,
            response_id: l.response_id,
            assertion_id: l.assertion_id,
            in_response_to: l.in_response_to,
            authn_instant: l.authn_instant,
            session_index: l.session_index,
            session_not_on_or_after: l.session_not_on_or_after,
            authn_context_class_ref: l.authn_context_class_ref,
            attributes: l.attributes,
            one_time_use: l.one_time_use,
            valid_until: l.valid_until,
            signed: l.signed,
            signing_certificate_sha256: l.signing_certificate_sha256,
        }
    }
}
