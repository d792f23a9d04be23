//! AuthnRequests (SAML core 2.0, 3.4.1) for the HTTP-Redirect and HTTP-POST bindings
//! (SAML bindings 2.0, 3.4 and 3.5).

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::{SecureRandom as _, SystemRandom};

use crate::config::ServiceProvider;
use crate::error::Error;
use crate::escape;
use crate::xsd;

/// Largest RelayState accepted: SAML bindings 3.4.3 and 3.5.3 say it MUST NOT exceed 80 bytes.
pub const MAX_RELAY_STATE_BYTES: usize = 80;

/// How the requested authentication context is compared (SAML core 3.3.2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthnContextComparison {
    /// One of the listed classes exactly.
    Exact,
    /// At least as strong as one of the listed classes.
    Minimum,
    /// At most as strong as the strongest listed class.
    Maximum,
    /// Stronger than any listed class.
    Better,
}

impl AuthnContextComparison {
    fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Minimum => "minimum",
            Self::Maximum => "maximum",
            Self::Better => "better",
        }
    }
}

/// Builds an AuthnRequest; obtained from [`ServiceProvider::authn_request`].
///
/// ```
/// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
/// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
/// # let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
/// #     .identity_provider(idp)
/// #     .build()?;
/// # let now = std::time::SystemTime::now();
/// use rampart_saml::name_id_format;
/// let request = sp
///     .authn_request("https://idp.example.com/sso")
///     .with_force_authn(true)
///     .with_name_id_policy(name_id_format::EMAIL, true)
///     .build(now)?;
/// // Keep the id in the user's session: the response must answer exactly this request.
/// assert!(request.id().starts_with('_'));
/// assert!(request.xml().contains(r#"ForceAuthn="true""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct AuthnRequestBuilder<'sp> {
    sp: &'sp ServiceProvider,
    destination: String,
    force_authn: bool,
    is_passive: bool,
    name_id_format: Option<String>,
    allow_create: bool,
    authn_context: Option<(AuthnContextComparison, Vec<String>)>,
    acs_index: usize,
}

/// A built AuthnRequest. Keep [`AuthnRequest::id`] with the user's session: the response must
/// carry it as InResponseTo.
#[derive(Debug, Clone)]
pub struct AuthnRequest {
    id: String,
    destination: String,
    xml: String,
}

/// A request ready for the HTTP-POST binding: the HTML page that auto-submits it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PostForm {
    /// The complete HTML document (auto-submits with script, has a button for no-script).
    pub html: String,
    /// The base64 `SAMLRequest` value in the form.
    pub saml_request: String,
}

impl PostForm {
    /// The page that posts `value` (base64) as the form field `field`, with `relay_state`, to
    /// `destination` as soon as it loads (a button for browsers without script).
    pub(crate) fn auto_submit(
        destination: &str,
        field: &str,
        value: String,
        relay_state: Option<&str>,
        title: &str,
    ) -> Self {
        let mut html = String::with_capacity(value.len() + 1024);
        html.push_str(&format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body onload=\"document.forms[0].submit()\">\n"
        ));
        html.push_str(&format!(
            "<form method=\"post\" action=\"{}\">\n<input type=\"hidden\" name=\"{field}\" value=\"{}\">\n",
            escape::attr(destination),
            escape::attr(&value)
        ));
        if let Some(rs) = relay_state {
            html.push_str(&format!(
                "<input type=\"hidden\" name=\"RelayState\" value=\"{}\">\n",
                escape::attr(rs)
            ));
        }
        html.push_str(
            "<noscript><p>Script is disabled: press Continue.</p></noscript>\n\
             <button type=\"submit\">Continue</button>\n</form>\n</body></html>\n",
        );
        PostForm {
            html,
            saml_request: value,
        }
    }
}

impl ServiceProvider {
    /// Starts an AuthnRequest for the IdP SSO endpoint `destination`.
    pub fn authn_request(&self, destination: impl Into<String>) -> AuthnRequestBuilder<'_> {
        AuthnRequestBuilder {
            sp: self,
            destination: destination.into(),
            force_authn: false,
            is_passive: false,
            name_id_format: self.name_id_format.clone(),
            allow_create: true,
            authn_context: None,
            acs_index: 0,
        }
    }
}

/// A fresh request/message ID: `_` and 32 hex digits from the OS CSPRNG (an NCName, 128 bits:
/// SAML core 1.3.4 asks for at least 128 bits of randomness).
pub(crate) fn random_id() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Config("operating system random number generator failed".into()))?;
    Ok(std::iter::once("_".to_string())
        .chain(bytes.iter().map(|b| format!("{b:02x}")))
        .collect())
}

impl AuthnRequestBuilder<'_> {
    /// `ForceAuthn="true"`: the IdP must authenticate the user again, ignoring its session.
    pub fn with_force_authn(mut self, yes: bool) -> Self {
        self.force_authn = yes;
        self
    }

    /// `IsPassive="true"`: the IdP must not interact with the user.
    pub fn with_is_passive(mut self, yes: bool) -> Self {
        self.is_passive = yes;
        self
    }

    /// NameIDPolicy Format and AllowCreate (SAML core 3.4.1.1).
    pub fn with_name_id_policy(mut self, format: impl Into<String>, allow_create: bool) -> Self {
        self.name_id_format = Some(format.into());
        self.allow_create = allow_create;
        self
    }

    /// RequestedAuthnContext with AuthnContextClassRef values (e.g.
    /// `urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport`).
    pub fn requested_authn_context(
        mut self,
        comparison: AuthnContextComparison,
        class_refs: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.authn_context = Some((comparison, class_refs.into_iter().map(Into::into).collect()));
        self
    }

    /// Which of the SP's ACS URLs the response should go to (default 0, the first).
    pub fn with_acs_url_index(mut self, index: usize) -> Self {
        self.acs_index = index;
        self
    }

    /// Writes the request with a fresh random ID, issued at `now`.
    ///
    /// # Errors
    /// [`Error::Config`] if the ACS index does not exist, the destination is not an http(s)
    /// URL, or the OS random generator fails.
    pub fn build(self, now: SystemTime) -> Result<AuthnRequest, Error> {
        let acs = self
            .sp
            .acs_urls
            .get(self.acs_index)
            .ok_or_else(|| Error::Config("no acs url at that index".into()))?;
        if !(self.destination.starts_with("https://") || self.destination.starts_with("http://")) {
            return Err(Error::Config("idp sso url is not an http(s) url".into()));
        }
        let id = random_id()?;
        let mut xml = String::with_capacity(1024);
        xml.push_str(
            "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
        );
        xml.push_str(&format!(
            " ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}\" \
             AssertionConsumerServiceURL=\"{}\" \
             ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"",
            escape::attr(&id),
            xsd::format_datetime(now),
            escape::attr(&self.destination),
            escape::attr(acs),
        ));
        if self.force_authn {
            xml.push_str(" ForceAuthn=\"true\"");
        }
        if self.is_passive {
            xml.push_str(" IsPassive=\"true\"");
        }
        xml.push('>');
        xml.push_str(&format!(
            "<saml:Issuer>{}</saml:Issuer>",
            escape::text(&self.sp.entity_id)
        ));
        if let Some(format) = &self.name_id_format {
            xml.push_str(&format!(
                "<samlp:NameIDPolicy Format=\"{}\" AllowCreate=\"{}\"/>",
                escape::attr(format),
                self.allow_create
            ));
        }
        if let Some((cmp, refs)) = &self.authn_context {
            xml.push_str(&format!(
                "<samlp:RequestedAuthnContext Comparison=\"{}\">",
                cmp.as_str()
            ));
            for r in refs {
                xml.push_str(&format!(
                    "<saml:AuthnContextClassRef>{}</saml:AuthnContextClassRef>",
                    escape::text(r)
                ));
            }
            xml.push_str("</samlp:RequestedAuthnContext>");
        }
        xml.push_str("</samlp:AuthnRequest>");
        Ok(AuthnRequest {
            id,
            destination: self.destination,
            xml,
        })
    }
}

impl AuthnRequest {
    /// The request ID: store it, then pass it to response validation as the expected
    /// InResponseTo.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The request XML, unsigned (the redirect binding signs the query string instead).
    #[must_use]
    pub fn xml(&self) -> &str {
        &self.xml
    }

    /// The URL to send the browser to (HTTP-Redirect binding, SAML bindings 3.4.4): the XML
    /// DEFLATE-compressed (raw, RFC 1951), base64-encoded and URL-encoded as `SAMLRequest`,
    /// then `RelayState`, and, when the SP has a signing key, `SigAlg` and `Signature`
    /// (RSA-SHA256 or ECDSA-SHA256, by key type) over `SAMLRequest=..&RelayState=..&SigAlg=..`
    /// exactly as 3.4.4.1 orders the URL-encoded values.
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
    /// # let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    /// #     .identity_provider(idp)
    /// #     .build()?;
    /// # let now = std::time::SystemTime::now();
    /// let request = sp.authn_request("https://idp.example.com/sso").build(now)?;
    /// let url = request.redirect_url(&sp, Some("/dashboard"))?;
    /// assert!(url.starts_with("https://idp.example.com/sso?SAMLRequest="));
    /// assert!(url.contains("&RelayState=%2Fdashboard"));
    /// assert!(!url.contains("Signature="), "no signing key configured: unsigned");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] when RelayState exceeds 80 bytes (bindings 3.4.3) or signing fails.
    pub fn redirect_url(
        &self,
        sp: &ServiceProvider,
        relay_state: Option<&str>,
    ) -> Result<String, Error> {
        check_relay_state(relay_state)?;
        crate::redirect::url(
            &self.destination,
            "SAMLRequest",
            &self.xml,
            relay_state,
            sp.signing_key.as_ref(),
        )
    }

    /// The HTML page for the HTTP-POST binding (SAML bindings 3.5.4): a form posting the
    /// base64 XML as `SAMLRequest` (and `RelayState`) to the IdP, submitted on load. When the
    /// SP has a signing key the XML carries an enveloped signature (RSA-SHA256 or
    /// ECDSA-SHA256, exclusive c14n) made by rampart-xmldsig. Every value is HTML-escaped.
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
    /// # let now = std::time::SystemTime::now();
    /// use rampart_saml::{Certificate, ServiceProvider, SigningKey};
    /// let key = SigningKey::from_pkcs8_pem(&std::fs::read("tests/keys/sp.key.pem")?)?
    ///     .with_certificate(Certificate::from_pem(&std::fs::read("tests/keys/sp.cert.pem")?)?)?;
    /// let sp = ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    ///     .identity_provider(idp)
    ///     .with_signing_key(key)
    ///     .build()?;
    /// let request = sp.authn_request("https://idp.example.com/sso").build(now)?;
    /// let form = request.post_form(&sp, None)?;
    /// assert!(form.html.contains(r#"action="https://idp.example.com/sso""#));
    /// assert!(form.html.contains(&form.saml_request));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] when RelayState exceeds 80 bytes or signing fails.
    pub fn post_form(
        &self,
        sp: &ServiceProvider,
        relay_state: Option<&str>,
    ) -> Result<PostForm, Error> {
        check_relay_state(relay_state)?;
        let xml = match &sp.signing_key {
            Some(key) => crate::dsig::sign_request(&self.xml, &self.id, key)?,
            None => self.xml.clone(),
        };
        let saml_request = STANDARD.encode(xml.as_bytes());
        Ok(PostForm::auto_submit(
            &self.destination,
            "SAMLRequest",
            saml_request,
            relay_state,
            "Signing in",
        ))
    }
}

/// RelayState is at most 80 bytes (SAML bindings 3.4.3, 3.5.3).
pub(crate) fn check_relay_state(relay_state: Option<&str>) -> Result<(), Error> {
    match relay_state {
        Some(rs) if rs.len() > MAX_RELAY_STATE_BYTES => Err(Error::Config(
            "relay state longer than 80 bytes (saml bindings 3.4.3)".into(),
        )),
        _ => Ok(()),
    }
}
