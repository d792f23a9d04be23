//! Single Logout (SAML core 2.0, 3.7; SAML profiles 4.4) for the HTTP-Redirect and HTTP-POST
//! bindings: SP-initiated LogoutRequests and the IdP's LogoutResponse, IdP-initiated
//! LogoutRequests and our LogoutResponse.
//!
//! Every logout message is signed both ways (profiles 4.4.4.1 and 4.4.4.2 require logout
//! messages to be authenticated): outgoing ones with the SP's signing key (the query string
//! for Redirect, bindings 3.4.4.1; an enveloped XML signature for POST, made by
//! rampart-xmldsig), and incoming unsigned ones are refused with [`LogoutError::Unsigned`].

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_xmldsig::{Document, Limits};

use crate::config::ServiceProvider;
use crate::error::{Error, MismatchError, SignatureError};
use crate::escape;
use crate::login::{Login, NameId};
use crate::ns;
use crate::replay::{MemoryReplayCache, ReplayCache};
use crate::request::{PostForm, check_relay_state, random_id};
use crate::view::View;

mod error;
mod message;
mod redirect;

pub use error::LogoutError;

use message::{Header, check_header, read_header, read_request, read_response, same_subject};
use redirect::{Param, split};

/// Largest logout message accepted, in bytes of XML once decoded or inflated: 64 KiB. Real
/// ones are under 2 KiB; the bound is what stops a DEFLATE bomb.
pub const MAX_LOGOUT_MESSAGE_BYTES: usize = 64 * 1024;

/// Default largest age of an incoming logout message (now - IssueInstant, plus the clock
/// skew): 5 minutes. It also bounds how long message IDs stay in the replay cache.
pub const DEFAULT_MAX_LOGOUT_AGE: Duration = Duration::from_secs(300);

/// Largest [`SingleLogout::with_max_message_age`] accepted: 1 hour.
pub const MAX_LOGOUT_AGE_LIMIT: Duration = Duration::from_secs(3600);

/// Status code of a logout that reached only some session participants (SAML core
/// 3.2.2.2), as the second-level code under Success.
const STATUS_PARTIAL_LOGOUT: &str = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout";

/// Single Logout for one [`ServiceProvider`]: our SingleLogoutService URL(s) (the
/// Destination every incoming logout message must name) and the message age limit.
///
/// ```
/// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
/// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
/// use rampart_saml::{Certificate, NameId, ServiceProvider, SigningKey};
/// let key = SigningKey::from_pkcs8_pem(&std::fs::read("tests/keys/sp.key.pem")?)?
///     .with_certificate(Certificate::from_pem(&std::fs::read("tests/keys/sp.cert.pem")?)?)?;
/// let sp = ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
///     .identity_provider(idp)
///     .with_signing_key(key)
///     .build()?;
/// let slo = sp.single_logout("https://sp.example.com/saml/slo");
/// let now = std::time::SystemTime::now();
/// let request = slo
///     .logout_request("https://idp.example.com/slo", NameId::new("alice@example.com"))
///     .with_session_index("_s1")
///     .build(now)?;
/// // Remember request.id() (RequestIdStore), then send the browser to:
/// let url = request.redirect_url(&sp, Some("/bye"))?;
/// assert!(url.starts_with("https://idp.example.com/slo?SAMLRequest="));
/// assert!(url.contains("&Signature="));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct SingleLogout<'sp> {
    sp: &'sp ServiceProvider,
    slo_urls: Vec<String>,
    max_age: Duration,
}

impl ServiceProvider {
    /// Single Logout at our SingleLogoutService URL `slo_url` (publish it in metadata with
    /// [`SpMetadata::with_single_logout_service`](crate::SpMetadata::with_single_logout_service)).
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
    /// # let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    /// #     .identity_provider(idp).build()?;
    /// let slo = sp.single_logout("https://sp.example.com/saml/slo");
    /// assert_eq!(slo.slo_urls(), ["https://sp.example.com/saml/slo"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn single_logout(&self, slo_url: impl Into<String>) -> SingleLogout<'_> {
        SingleLogout {
            sp: self,
            slo_urls: vec![slo_url.into()],
            max_age: DEFAULT_MAX_LOGOUT_AGE,
        }
    }
}

/// The session an IdP-initiated LogoutRequest must name: the NameID and SessionIndex of the
/// login that started it.
///
/// ```
/// let session = rampart_saml::LogoutSession::new(rampart_saml::NameId::new("alice"))
///     .with_session_index("_s1");
/// assert_eq!(session.session_index(), Some("_s1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct LogoutSession {
    name_id: NameId,
    session_index: Option<String>,
}

impl LogoutSession {
    /// A session of the subject `name_id`, with no SessionIndex (then only requests that
    /// list no SessionIndex, meaning every session of the subject, match).
    pub fn new(name_id: NameId) -> Self {
        LogoutSession {
            name_id,
            session_index: None,
        }
    }

    /// The session's SessionIndex, from the login's AuthnStatement.
    pub fn with_session_index(mut self, index: impl Into<String>) -> Self {
        self.session_index = Some(index.into());
        self
    }

    /// The NameID and SessionIndex of `login`.
    ///
    /// ```no_run
    /// # fn f(login: &rampart_saml::Login) {
    /// let session = rampart_saml::LogoutSession::from_login(login);
    /// # }
    /// ```
    pub fn from_login(login: &Login) -> Self {
        LogoutSession {
            name_id: login.name_id.clone(),
            session_index: login.session_index.clone(),
        }
    }

    /// The session's subject.
    #[must_use]
    pub fn name_id(&self) -> &NameId {
        &self.name_id
    }

    /// The session's SessionIndex, if any.
    #[must_use]
    pub fn session_index(&self) -> Option<&str> {
        self.session_index.as_deref()
    }
}

/// Builds an SP-initiated LogoutRequest; from [`SingleLogout::logout_request`].
///
/// ```
/// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
/// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
/// # let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
/// #     .identity_provider(idp).build()?;
/// let mut name_id = rampart_saml::NameId::new("alice");
/// name_id.format = Some(rampart_saml::name_id_format::PERSISTENT.into());
/// let now = std::time::SystemTime::now();
/// let request = sp
///     .single_logout("https://sp.example.com/saml/slo")
///     .logout_request("https://idp.example.com/slo", name_id)
///     .with_session_index("_s1")
///     .build(now)?;
/// assert!(request.xml().contains("<samlp:SessionIndex>_s1</samlp:SessionIndex>"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct LogoutRequestBuilder<'a> {
    slo: &'a SingleLogout<'a>,
    destination: String,
    name_id: NameId,
    session_indexes: Vec<String>,
    not_on_or_after: Option<SystemTime>,
}

/// A built, unsigned LogoutRequest: keep [`LogoutRequest::id`] (a
/// [`RequestIdStore`](crate::RequestIdStore)) for the LogoutResponse, then send it with
/// [`redirect_url`](Self::redirect_url) or [`post_form`](Self::post_form), which sign it.
#[derive(Debug, Clone)]
pub struct LogoutRequest(Outgoing);

impl<'sp> SingleLogout<'sp> {
    /// Also accepts `url` as the Destination of incoming messages.
    pub fn with_additional_slo_url(mut self, url: impl Into<String>) -> Self {
        self.slo_urls.push(url.into());
        self
    }

    /// Largest age of an incoming message (default [`DEFAULT_MAX_LOGOUT_AGE`], at most
    /// [`MAX_LOGOUT_AGE_LIMIT`]; larger values are capped).
    pub fn with_max_message_age(mut self, age: Duration) -> Self {
        self.max_age = age.min(MAX_LOGOUT_AGE_LIMIT);
        self
    }

    /// Our SingleLogoutService URLs.
    #[must_use]
    pub fn slo_urls(&self) -> &[String] {
        &self.slo_urls
    }

    /// The service provider.
    #[must_use]
    pub fn service_provider(&self) -> &'sp ServiceProvider {
        self.sp
    }

    /// Starts a LogoutRequest for `name_id` (as the login reported it, qualifiers included)
    /// to the IdP's SingleLogoutService `destination`.
    pub fn logout_request(
        &self,
        destination: impl Into<String>,
        name_id: NameId,
    ) -> LogoutRequestBuilder<'_> {
        LogoutRequestBuilder {
            slo: self,
            destination: destination.into(),
            name_id,
            session_indexes: Vec::new(),
            not_on_or_after: None,
        }
    }

    fn check_config(&self) -> Result<(), LogoutError> {
        if self
            .slo_urls
            .iter()
            .any(|u| u.is_empty() || u.chars().any(char::is_whitespace))
        {
            return Err(Error::Config("slo url is empty or has white space".into()).into());
        }
        Ok(())
    }

    fn parse(xml: &[u8]) -> Result<Document, LogoutError> {
        let limits = Limits::default().with_max_bytes(MAX_LOGOUT_MESSAGE_BYTES);
        Document::parse_with_limits(xml, &limits).map_err(|e| Error::Xml(e).into())
    }

    fn header<'d, V: View<'d>>(
        &self,
        root: V,
        local: &str,
        now: SystemTime,
    ) -> Result<(Header, SystemTime), LogoutError> {
        let h = read_header(root, local)?;
        let expires = check_header(
            &h,
            &self.sp.idp.entity_id,
            &self.slo_urls,
            self.sp.clock_skew,
            self.max_age,
            now,
        )?;
        Ok((h, expires))
    }

    /// The XML of a POST-binding form value (base64, or raw XML), within
    /// [`MAX_LOGOUT_MESSAGE_BYTES`].
    fn decode_post(input: &[u8]) -> Result<Vec<u8>, LogoutError> {
        let compact: Vec<u8> = input
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if compact.first() == Some(&b'<') {
            if input.len() > MAX_LOGOUT_MESSAGE_BYTES {
                return Err(LogoutError::TooLarge {
                    limit: MAX_LOGOUT_MESSAGE_BYTES,
                });
            }
            return Ok(input.to_vec());
        }
        if compact.len() / 4 * 3 > MAX_LOGOUT_MESSAGE_BYTES {
            return Err(LogoutError::TooLarge {
                limit: MAX_LOGOUT_MESSAGE_BYTES,
            });
        }
        STANDARD
            .decode(&compact)
            .map_err(|_| Error::Input("form value is neither xml nor base64".into()).into())
    }

    /// The root of a POST-binding message, verified: exactly one `ds:Signature` child of
    /// the root, an enveloped signature over it, through the same verifier as responses.
    fn verified_root<'d>(
        &self,
        doc: &'d Document,
        what: &'static str,
    ) -> Result<rampart_xmldsig::SignedElement<'d>, LogoutError> {
        let root = doc.root();
        let mut sigs = root.children_named(ns::DSIG, "Signature");
        let sig = sigs.next().ok_or(LogoutError::Unsigned)?;
        if sigs.next().is_some() {
            return Err(SignatureError::Multiple(what).into());
        }
        Ok(crate::dsig::verify(doc, sig, self.sp)?.signed)
    }

    /// Validates an IdP-initiated LogoutRequest from the HTTP-Redirect binding. `raw_query`
    /// is the query string exactly as the server received it (never one rebuilt from decoded
    /// parameters: the signature is over the received bytes, SAML bindings 3.4.4.1).
    ///
    /// Checks, in order: the query's signature (RSA-SHA256 or ECDSA-SHA256; RSA-SHA1 only
    /// with `allow_sha1_signatures`) with the IdP's keys; the inflated size; the XML; root
    /// `samlp:LogoutRequest` 2.0; Issuer is the IdP; Destination is our SLO URL; IssueInstant
    /// and NotOnOrAfter with the clock skew; NameID and SessionIndex name `session`.
    ///
    /// ```no_run
    /// # fn f(slo: &rampart_saml::SingleLogout<'_>, raw_query: &str, session: &rampart_saml::LogoutSession)
    /// #   -> Result<(), rampart_saml::LogoutError> {
    /// let cache = rampart_saml::MemoryReplayCache::new();
    /// let now = std::time::SystemTime::now();
    /// let request = slo.validate_logout_request_redirect(raw_query, session, now)?
    ///     .check_replay_in_memory(&cache)?;
    /// // End the session, then answer:
    /// let url = request.response(slo, "https://idp.example.com/slo", now)?
    ///     .redirect_url(slo.service_provider(), request.relay_state())?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A [`LogoutError`] naming the first check that failed.
    pub fn validate_logout_request_redirect(
        &self,
        raw_query: &str,
        session: &LogoutSession,
        now: SystemTime,
    ) -> Result<ValidatedLogoutRequest, LogoutError> {
        self.check_config()?;
        let q = split(raw_query, MAX_LOGOUT_MESSAGE_BYTES)?;
        if q.param != Param::Request {
            return Err(LogoutError::Query("expected a SAMLRequest parameter"));
        }
        q.verify(self.sp)?;
        let relay_state = q.relay_state()?;
        let xml = q.inflate(MAX_LOGOUT_MESSAGE_BYTES)?;
        let doc = Self::parse(&xml)?;
        // The whole message is covered by the query signature: the tree is read as is.
        self.finish_request(doc.root(), session, relay_state, now)
    }

    /// Validates an IdP-initiated LogoutRequest from the HTTP-POST binding: `form_value` is
    /// the `SAMLRequest` form value (base64) or the raw XML. The message must carry an
    /// enveloped signature, verified as a response's is (configured keys only, exactly
    /// its root covered); then the checks of
    /// [`validate_logout_request_redirect`](Self::validate_logout_request_redirect).
    ///
    /// ```no_run
    /// # fn f(slo: &rampart_saml::SingleLogout<'_>, form_value: &[u8], session: &rampart_saml::LogoutSession)
    /// #   -> Result<(), rampart_saml::LogoutError> {
    /// let now = std::time::SystemTime::now();
    /// let request = slo.validate_logout_request_post(form_value, None, session, now)?
    ///     .check_replay_in_memory(&rampart_saml::MemoryReplayCache::new())?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A [`LogoutError`] naming the first check that failed.
    pub fn validate_logout_request_post(
        &self,
        form_value: &[u8],
        relay_state: Option<&str>,
        session: &LogoutSession,
        now: SystemTime,
    ) -> Result<ValidatedLogoutRequest, LogoutError> {
        self.check_config()?;
        let xml = Self::decode_post(form_value)?;
        let doc = Self::parse(&xml)?;
        let root = self.verified_root(&doc, "logout request")?;
        self.finish_request(root, session, relay_state.map(str::to_owned), now)
    }

    fn finish_request<'d, V: View<'d>>(
        &self,
        root: V,
        session: &LogoutSession,
        relay_state: Option<String>,
        now: SystemTime,
    ) -> Result<ValidatedLogoutRequest, LogoutError> {
        let (h, expires) = self.header(root, "LogoutRequest", now)?;
        let body = read_request(root)?;
        if let Some((t, text)) = &body.not_on_or_after {
            let limit = t.checked_add(self.sp.clock_skew).ok_or_else(|| {
                crate::error::TimeError::OutOfRange {
                    what: "not on or after",
                    at: text.clone(),
                }
            })?;
            if now >= limit {
                return Err(crate::error::TimeError::Expired {
                    what: "logout request",
                    at: text.clone(),
                }
                .into());
            }
        }
        if !same_subject(&body.name_id, &session.name_id) {
            return Err(LogoutError::NameIdMismatch);
        }
        // No SessionIndex: every session of the subject ends (SAML core 3.7.1).
        if !body.session_indexes.is_empty()
            && !session
                .session_index
                .as_ref()
                .is_some_and(|s| body.session_indexes.contains(s))
        {
            return Err(LogoutError::SessionIndexMismatch);
        }
        Ok(ValidatedLogoutRequest {
            request: IdpLogoutRequest {
                id: h.id,
                issuer: self.sp.idp.entity_id.clone(),
                name_id: body.name_id,
                session_indexes: body.session_indexes,
                relay_state,
            },
            expires,
            now,
        })
    }

    /// Validates the IdP's LogoutResponse to our LogoutRequest `request_id`, from the
    /// HTTP-Redirect binding (`raw_query` as received). Consume `request_id` from the
    /// [`RequestIdStore`](crate::RequestIdStore) it was remembered in first, so a response
    /// is accepted once.
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
    /// # let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    /// #     .identity_provider(idp).build()?;
    /// let slo = sp.single_logout("https://sp.example.com/saml/slo");
    /// let now = std::time::SystemTime::now();
    /// let e = slo.validate_logout_response_redirect("SAMLResponse=abc", "_r1", now).unwrap_err();
    /// assert_eq!(e.kind(), "logout_unsigned");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A [`LogoutError`]; a non-success status is `LogoutError::Saml(Error::Status)` with
    /// every code and the message.
    pub fn validate_logout_response_redirect(
        &self,
        raw_query: &str,
        request_id: &str,
        now: SystemTime,
    ) -> Result<LogoutOutcome, LogoutError> {
        self.check_config()?;
        let q = split(raw_query, MAX_LOGOUT_MESSAGE_BYTES)?;
        if q.param != Param::Response {
            return Err(LogoutError::Query("expected a SAMLResponse parameter"));
        }
        q.verify(self.sp)?;
        let xml = q.inflate(MAX_LOGOUT_MESSAGE_BYTES)?;
        let doc = Self::parse(&xml)?;
        self.finish_response(doc.root(), request_id, now)
    }

    /// [`validate_logout_response_redirect`](Self::validate_logout_response_redirect) for
    /// the HTTP-POST binding: `form_value` is the `SAMLResponse` form value (base64) or raw
    /// XML, with an enveloped signature.
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
    /// # let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    /// #     .identity_provider(idp).build()?;
    /// let slo = sp.single_logout("https://sp.example.com/saml/slo");
    /// let e = slo.validate_logout_response_post(b"<x/>", "_r1", std::time::SystemTime::now()).unwrap_err();
    /// assert_eq!(e.kind(), "logout_unsigned");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`validate_logout_response_redirect`](Self::validate_logout_response_redirect).
    pub fn validate_logout_response_post(
        &self,
        form_value: &[u8],
        request_id: &str,
        now: SystemTime,
    ) -> Result<LogoutOutcome, LogoutError> {
        self.check_config()?;
        let xml = Self::decode_post(form_value)?;
        let doc = Self::parse(&xml)?;
        let root = self.verified_root(&doc, "logout response")?;
        self.finish_response(root, request_id, now)
    }

    fn finish_response<'d, V: View<'d>>(
        &self,
        root: V,
        request_id: &str,
        now: SystemTime,
    ) -> Result<LogoutOutcome, LogoutError> {
        let (h, _) = self.header(root, "LogoutResponse", now)?;
        let body = read_response(root)?;
        if body.in_response_to.as_deref() != Some(request_id) {
            return Err(MismatchError::InResponseTo {
                found: body.in_response_to.unwrap_or_default(),
            }
            .into());
        }
        if body.codes[0] != ns::STATUS_SUCCESS {
            return Err(Error::Status {
                codes: body.codes,
                message: body.message,
            }
            .into());
        }
        Ok(LogoutOutcome {
            id: h.id,
            in_response_to: request_id.to_owned(),
            partial: body.codes.iter().any(|c| c == STATUS_PARTIAL_LOGOUT),
        })
    }
}

impl LogoutRequestBuilder<'_> {
    /// Adds a SessionIndex (the login's, from its AuthnStatement); may be called again.
    pub fn with_session_index(mut self, index: impl Into<String>) -> Self {
        self.session_indexes.push(index.into());
        self
    }

    /// Sets NotOnOrAfter (default: IssueInstant plus the message age limit).
    pub fn with_not_on_or_after(mut self, at: SystemTime) -> Self {
        self.not_on_or_after = Some(at);
        self
    }

    /// Writes the request with a fresh random ID, issued at `now`.
    ///
    /// # Errors
    /// `Error::Config` when the destination is not an http(s) URL, the NameID is empty, or
    /// the OS random generator fails.
    pub fn build(self, now: SystemTime) -> Result<LogoutRequest, LogoutError> {
        if !(self.destination.starts_with("https://") || self.destination.starts_with("http://")) {
            return Err(Error::Config("idp slo url is not an http(s) url".into()).into());
        }
        if self.name_id.value.is_empty() {
            return Err(Error::Config("name id is empty".into()).into());
        }
        let id = random_id()?;
        let noa = self
            .not_on_or_after
            .or_else(|| now.checked_add(self.slo.max_age))
            .unwrap_or(now);
        let mut xml = String::with_capacity(1024);
        message::open(&mut xml, "LogoutRequest", &id, now, &self.destination);
        xml.push_str(&format!(
            " NotOnOrAfter=\"{}\">",
            crate::xsd::format_datetime(noa)
        ));
        xml.push_str(&format!(
            "<saml:Issuer>{}</saml:Issuer>",
            escape::text(&self.slo.sp.entity_id)
        ));
        message::write_name_id(&mut xml, &self.name_id);
        for s in &self.session_indexes {
            xml.push_str(&format!(
                "<samlp:SessionIndex>{}</samlp:SessionIndex>",
                escape::text(s)
            ));
        }
        xml.push_str("</samlp:LogoutRequest>");
        Ok(LogoutRequest(Outgoing {
            param: Param::Request,
            id,
            destination: self.destination,
            xml,
        }))
    }
}

/// An outgoing message, unsigned: the body of both [`LogoutRequest`] and [`LogoutResponse`],
/// which differ only in the query parameter / form field (`param`) that carries them.
#[derive(Debug, Clone)]
struct Outgoing {
    param: Param,
    id: String,
    destination: String,
    xml: String,
}

impl Outgoing {
    /// Signs the message onto its destination as an HTTP-Redirect URL.
    fn redirect_url(
        &self,
        sp: &ServiceProvider,
        relay_state: Option<&str>,
    ) -> Result<String, LogoutError> {
        let key = signing_key(sp, relay_state)?;
        Ok(crate::redirect::url(
            &self.destination,
            self.param.name(),
            &self.xml,
            relay_state,
            Some(key),
        )?)
    }

    /// Signs the message (enveloped) into the auto-submitting HTTP-POST form.
    fn post_form(
        &self,
        sp: &ServiceProvider,
        relay_state: Option<&str>,
    ) -> Result<PostForm, LogoutError> {
        let key = signing_key(sp, relay_state)?;
        let signed = crate::dsig::sign_request(&self.xml, &self.id, key)?;
        Ok(PostForm::auto_submit(
            &self.destination,
            self.param.name(),
            STANDARD.encode(signed.as_bytes()),
            relay_state,
            "Signing out",
        ))
    }
}

/// The checks before signing any outgoing message: the RelayState bound, then the SP's
/// signing key (logout messages are always signed).
fn signing_key<'a>(
    sp: &'a ServiceProvider,
    relay_state: Option<&str>,
) -> Result<&'a crate::SigningKey, LogoutError> {
    check_relay_state(relay_state)?;
    Ok(sp.signing_key.as_ref().ok_or_else(|| {
        Error::Config("logout messages must be signed: configure a signing key".into())
    })?)
}

impl LogoutRequest {
    /// The request ID: remember it, the LogoutResponse must carry it as InResponseTo.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The IdP SingleLogoutService URL the request is for.
    #[must_use]
    pub fn destination(&self) -> &str {
        &self.0.destination
    }

    /// The request XML, unsigned.
    #[must_use]
    pub fn xml(&self) -> &str {
        &self.0.xml
    }

    /// The URL to send the browser to (HTTP-Redirect binding, SAML bindings 3.4.4): the XML
    /// deflated, base64- and URL-encoded as `SAMLRequest`, then `RelayState`, `SigAlg` and
    /// `Signature` over `SAMLRequest=..&RelayState=..&SigAlg=..` with the SP's signing key
    /// (RSA-SHA256 or ECDSA-SHA256 by key type). See [`SingleLogout`] for an example.
    ///
    /// # Errors
    /// `Error::Config` without a signing key (logout messages are always signed) or with a
    /// RelayState over 80 bytes.
    pub fn redirect_url(
        &self,
        sp: &ServiceProvider,
        relay_state: Option<&str>,
    ) -> Result<String, LogoutError> {
        self.0.redirect_url(sp, relay_state)
    }

    /// The auto-submitting HTML form of the HTTP-POST binding (SAML bindings 3.5.4), the XML
    /// carrying an enveloped signature by the SP's signing key (rampart-xmldsig: exclusive
    /// c14n, SHA-256).
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
    /// # let key = rampart_saml::SigningKey::from_pkcs8_pem(&std::fs::read("tests/keys/sp.key.pem")?)?
    /// #     .with_certificate(rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/sp.cert.pem")?)?)?;
    /// # let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    /// #     .identity_provider(idp).with_signing_key(key).build()?;
    /// let request = sp.single_logout("https://sp.example.com/saml/slo")
    ///     .logout_request("https://idp.example.com/slo", rampart_saml::NameId::new("alice"))
    ///     .build(std::time::SystemTime::now())?;
    /// let form = request.post_form(&sp, None)?;
    /// assert!(form.html.contains(r#"name="SAMLRequest""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`redirect_url`](Self::redirect_url).
    pub fn post_form(
        &self,
        sp: &ServiceProvider,
        relay_state: Option<&str>,
    ) -> Result<PostForm, LogoutError> {
        self.0.post_form(sp, relay_state)
    }
}

/// An IdP-initiated LogoutRequest that passed every check except replay: record its ID with
/// [`check_replay`](Self::check_replay) before ending the session.
#[derive(Debug)]
#[must_use = "the logout request is not yet protected against replay: call check_replay"]
pub struct ValidatedLogoutRequest {
    request: IdpLogoutRequest,
    expires: SystemTime,
    now: SystemTime,
}

impl ValidatedLogoutRequest {
    /// Records the message ID in `cache` (keyed by the IdP and the ID, until the message
    /// could no longer be accepted anyway) and returns the request if the ID was new.
    ///
    /// # Errors
    /// [`LogoutError::Replay`] when the ID was seen before; `Error::ReplayCache` when the
    /// cache fails (fail closed).
    pub async fn check_replay(
        self,
        cache: &impl ReplayCache,
    ) -> Result<IdpLogoutRequest, LogoutError> {
        let fresh = cache
            .insert_if_new(
                &self.request.issuer,
                &self.request.id,
                self.expires,
                self.now,
            )
            .await?;
        self.finish(fresh)
    }

    /// [`check_replay`](Self::check_replay) for the in-memory cache, without async.
    ///
    /// # Errors
    /// As [`check_replay`](Self::check_replay).
    pub fn check_replay_in_memory(
        self,
        cache: &MemoryReplayCache,
    ) -> Result<IdpLogoutRequest, LogoutError> {
        let fresh = cache.insert_if_new_sync(
            &self.request.issuer,
            &self.request.id,
            self.expires,
            self.now,
        )?;
        self.finish(fresh)
    }

    /// The request WITHOUT replay protection: for diagnostics (the CLI's
    /// `saml verify-logout`). A service must not end sessions from this.
    pub fn into_request_without_replay_check(self) -> IdpLogoutRequest {
        self.request
    }

    fn finish(self, fresh: bool) -> Result<IdpLogoutRequest, LogoutError> {
        if fresh {
            Ok(self.request)
        } else {
            Err(LogoutError::Replay {
                id: self.request.id,
            })
        }
    }
}

/// An IdP-initiated LogoutRequest, verified and seen once: end the session, then answer
/// with [`response`](Self::response).
#[derive(Debug, Clone)]
pub struct IdpLogoutRequest {
    id: String,
    issuer: String,
    name_id: NameId,
    session_indexes: Vec<String>,
    relay_state: Option<String>,
}

impl IdpLogoutRequest {
    /// The request ID (our response's InResponseTo).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The IdP that sent it.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The subject to log out, as signed.
    #[must_use]
    pub fn name_id(&self) -> &NameId {
        &self.name_id
    }

    /// The sessions to end; empty means every session of the subject (SAML core 3.7.1).
    #[must_use]
    pub fn session_indexes(&self) -> &[String] {
        &self.session_indexes
    }

    /// The RelayState that came with it, to send back unchanged (SAML bindings 3.4.3).
    #[must_use]
    pub fn relay_state(&self) -> Option<&str> {
        self.relay_state.as_deref()
    }

    /// Our LogoutResponse (status Success) to this request, for the IdP's
    /// SingleLogoutService (response) URL `destination`: the same as
    /// [`reply`](Self::reply) with [`LogoutReply::Success`].
    ///
    /// # Errors
    /// `Error::Config` when the destination is not an http(s) URL or the OS random
    /// generator fails.
    pub fn response(
        &self,
        slo: &SingleLogout<'_>,
        destination: impl Into<String>,
        now: SystemTime,
    ) -> Result<LogoutResponse, LogoutError> {
        self.reply(slo, destination, LogoutReply::Success, now)
    }

    /// Our LogoutResponse to this request saying `reply`: Success when every session it
    /// names is ended, [`LogoutReply::Failed`] (top-level status `Responder`, SAML core
    /// 3.2.2.2) when the application could not end one, so the IdP does not report a logout
    /// that did not happen.
    ///
    /// # Errors
    /// `Error::Config` when the destination is not an http(s) URL or the OS random
    /// generator fails.
    pub fn reply(
        &self,
        slo: &SingleLogout<'_>,
        destination: impl Into<String>,
        reply: LogoutReply,
        now: SystemTime,
    ) -> Result<LogoutResponse, LogoutError> {
        let destination = destination.into();
        if !(destination.starts_with("https://") || destination.starts_with("http://")) {
            return Err(Error::Config("idp slo url is not an http(s) url".into()).into());
        }
        let id = random_id()?;
        let mut xml = String::with_capacity(768);
        message::open(&mut xml, "LogoutResponse", &id, now, &destination);
        xml.push_str(&format!(
            " InResponseTo=\"{}\"><saml:Issuer>{}</saml:Issuer><samlp:Status>\
             <samlp:StatusCode Value=\"{}\"/></samlp:Status></samlp:LogoutResponse>",
            escape::attr(&self.id),
            escape::text(&slo.sp.entity_id),
            match reply {
                LogoutReply::Success => ns::STATUS_SUCCESS,
                LogoutReply::Failed => ns::STATUS_RESPONDER,
            }
        ));
        Ok(LogoutResponse(Outgoing {
            param: Param::Response,
            id,
            destination,
            xml,
        }))
    }
}

/// What our LogoutResponse to an IdP-initiated LogoutRequest reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogoutReply {
    /// Every session the request named is ended (status `Success`).
    Success,
    /// A session could not be ended (status `Responder`: the failure is on our side).
    Failed,
}

/// Our LogoutResponse to an IdP-initiated request; send it with
/// [`redirect_url`](Self::redirect_url) or [`post_form`](Self::post_form), which sign it.
#[derive(Debug, Clone)]
pub struct LogoutResponse(Outgoing);

impl LogoutResponse {
    /// The response ID.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The response XML, unsigned.
    #[must_use]
    pub fn xml(&self) -> &str {
        &self.0.xml
    }

    /// The signed HTTP-Redirect URL (`SAMLResponse`, SAML bindings 3.4.4.1), as
    /// [`LogoutRequest::redirect_url`]. See
    /// [`SingleLogout::validate_logout_request_redirect`] for an example.
    ///
    /// # Errors
    /// `Error::Config` without a signing key or with a RelayState over 80 bytes.
    pub fn redirect_url(
        &self,
        sp: &ServiceProvider,
        relay_state: Option<&str>,
    ) -> Result<String, LogoutError> {
        self.0.redirect_url(sp, relay_state)
    }

    /// The signed HTTP-POST form (`SAMLResponse`), as [`LogoutRequest::post_form`].
    ///
    /// # Errors
    /// As [`redirect_url`](Self::redirect_url).
    pub fn post_form(
        &self,
        sp: &ServiceProvider,
        relay_state: Option<&str>,
    ) -> Result<PostForm, LogoutError> {
        self.0.post_form(sp, relay_state)
    }
}

/// The IdP's answer to our LogoutRequest, verified: status Success.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogoutOutcome {
    /// The LogoutResponse's ID.
    pub id: String,
    /// Our request it answers.
    pub in_response_to: String,
    /// The IdP reports a partial logout (second-level status `PartialLogout`): some
    /// session participants may still hold a session.
    pub partial: bool,
}

/// For the fuzz target: the untrusted-input path of a Redirect message without its
/// signature check (query split, URL and base64 decoding, inflate, XML, reading).
#[cfg(fuzzing)]
#[doc(hidden)]
pub fn fuzz_redirect(raw_query: &str) {
    if let Ok(q) = split(raw_query, MAX_LOGOUT_MESSAGE_BYTES) {
        let _ = q.signed_bytes(q.sig_alg.unwrap_or(""));
        let _ = q.relay_state();
        if let Ok(xml) = q.inflate(MAX_LOGOUT_MESSAGE_BYTES) {
            fuzz_xml(&xml);
        }
    }
}

/// For the fuzz target: reading a logout message's XML as either message.
#[cfg(fuzzing)]
#[doc(hidden)]
pub fn fuzz_xml(xml: &[u8]) {
    let limits = Limits::default().with_max_bytes(MAX_LOGOUT_MESSAGE_BYTES);
    if let Ok(doc) = Document::parse_with_limits(xml, &limits) {
        let _ = read_header(doc.root(), "LogoutRequest");
        let _ = read_request(doc.root());
        let _ = read_response(doc.root());
    }
}
