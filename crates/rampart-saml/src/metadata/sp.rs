//! SP metadata generation (SAML metadata 2.0, 2.4.4 SPSSODescriptor).
//!
//! [`SpMetadata`] is the one home of the XML; [`ServiceProvider::metadata_xml`] fills one in
//! from its configuration. An operator writing metadata before any IdP is chosen uses
//! [`SpMetadata`] directly: it needs no IdP and no private key.

use rampart_xmldsig::Certificate;

use crate::config::ServiceProvider;
use crate::error::Error;
use crate::escape;
use crate::ns::{self, binding};

/// Builds this service provider's metadata (an `EntityDescriptor` with one
/// `SPSSODescriptor`) from the entity id and ACS URL(s) alone: no identity provider and no
/// private key are needed, and a signing certificate is published as given.
///
/// Defaults: `AuthnRequestsSigned="false"`, `WantAssertionsSigned="false"`, no
/// certificate, no NameID format. Every ACS uses the HTTP-POST binding; the first is the
/// default (`isDefault="true"`, `index="0"`).
///
/// ```
/// use rampart_saml::{Certificate, SpMetadata, name_id_format};
/// # let cert_pem = std::fs::read("tests/keys/sp.cert.pem")?;
/// let xml = SpMetadata::new("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
///     .with_name_id_format(name_id_format::EMAIL)
///     .with_signing_certificate(Certificate::from_pem(&cert_pem)?) // the certificate only: no key
///     .with_want_assertions_signed(true)
///     .to_xml()?;
/// let doc = rampart_xmldsig::Document::parse(xml.as_bytes())?;
/// assert_eq!(doc.root().attribute("entityID"), Some("https://sp.example.com/metadata"));
/// assert!(xml.contains("WantAssertionsSigned=\"true\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct SpMetadata {
    entity_id: String,
    acs_urls: Vec<String>,
    name_id_formats: Vec<String>,
    signing_certificate: Option<Certificate>,
    encryption_certificates: Vec<Certificate>,
    authn_requests_signed: bool,
    want_assertions_signed: bool,
    single_logout_services: Vec<(&'static str, String)>,
}

impl SpMetadata {
    /// Starts metadata for our entity id and default Assertion Consumer Service URL.
    pub fn new(entity_id: impl Into<String>, acs_url: impl Into<String>) -> Self {
        SpMetadata {
            entity_id: entity_id.into(),
            acs_urls: vec![acs_url.into()],
            name_id_formats: Vec::new(),
            signing_certificate: None,
            encryption_certificates: Vec::new(),
            authn_requests_signed: false,
            want_assertions_signed: false,
            single_logout_services: Vec::new(),
        }
    }

    /// Publishes a `SingleLogoutService` endpoint (SAML metadata 2.4.2) for `binding`
    /// ([`binding::HTTP_REDIRECT`] or [`binding::HTTP_POST`]), where IdPs send logout
    /// requests and responses ([`SingleLogout`](crate::SingleLogout) validates them). Call
    /// it once per binding; the order is kept.
    ///
    /// ```
    /// use rampart_saml::{SpMetadata, binding};
    /// let xml = SpMetadata::new("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    ///     .with_single_logout_service(binding::HTTP_REDIRECT, "https://sp.example.com/saml/slo")
    ///     .with_single_logout_service(binding::HTTP_POST, "https://sp.example.com/saml/slo")
    ///     .to_xml()?;
    /// assert!(xml.contains(r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sp.example.com/saml/slo"/>"#));
    /// # Ok::<(), rampart_saml::Error>(())
    /// ```
    ///
    /// A binding other than those two is refused by [`to_xml`](Self::to_xml).
    pub fn with_single_logout_service(
        mut self,
        binding: &str,
        location: impl Into<String>,
    ) -> Self {
        let b = match binding {
            binding::HTTP_REDIRECT => binding::HTTP_REDIRECT,
            binding::HTTP_POST => binding::HTTP_POST,
            _ => "",
        };
        self.single_logout_services.push((b, location.into()));
        self
    }

    /// Adds another ACS URL (HTTP-POST binding), after those already given.
    pub fn with_additional_acs_url(mut self, url: impl Into<String>) -> Self {
        self.acs_urls.push(url.into());
        self
    }

    /// Adds a `NameIDFormat` we accept (see [`name_id_format`](crate::name_id_format)); may
    /// be called several times, the order is kept.
    pub fn with_name_id_format(mut self, format: impl Into<String>) -> Self {
        self.name_id_formats.push(format.into());
        self
    }

    /// Publishes a certificate IdPs may encrypt assertions for, as a `KeyDescriptor
    /// use="encryption"` listing the algorithms this crate decrypts (`md:EncryptionMethod`:
    /// AES-GCM and AES-CBC content, RSA-OAEP key transport). Call it for each key during a
    /// rollover (current and next).
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/sp.cert.pem")?)?;
    /// let xml = rampart_saml::SpMetadata::new("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    ///     .with_encryption_certificate(cert)
    ///     .to_xml()?;
    /// assert!(xml.contains(r#"<md:KeyDescriptor use="encryption">"#));
    /// assert!(xml.contains(r#"<md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "encrypted-assertions")]
    #[cfg_attr(docsrs, doc(cfg(feature = "encrypted-assertions")))]
    pub fn with_encryption_certificate(mut self, certificate: Certificate) -> Self {
        self.encryption_certificates.push(certificate);
        self
    }

    /// Publishes our signing certificate as a `KeyDescriptor use="signing"`, so the IdP can
    /// check our signed AuthnRequests. Only the certificate is needed, never its private key.
    pub fn with_signing_certificate(mut self, certificate: Certificate) -> Self {
        self.signing_certificate = Some(certificate);
        self
    }

    /// Sets `AuthnRequestsSigned`: we promise to sign every AuthnRequest. Requires a
    /// [`with_signing_certificate`](Self::with_signing_certificate) (checked by [`to_xml`](Self::to_xml)).
    pub fn with_authn_requests_signed(mut self, signed: bool) -> Self {
        self.authn_requests_signed = signed;
        self
    }

    /// Sets `WantAssertionsSigned`: we ask the IdP to sign every assertion.
    pub fn with_want_assertions_signed(mut self, want: bool) -> Self {
        self.want_assertions_signed = want;
        self
    }

    /// The metadata document (UTF-8 XML with declaration). Text and attribute values are
    /// escaped, so the output is well-formed whatever the inputs hold.
    ///
    /// # Errors
    /// [`Error::Config`] when the entity id is empty, an ACS URL is empty or has white space
    /// (the same rules as [`ServiceProviderBuilder::build`](crate::ServiceProviderBuilder::build)),
    /// a NameID format is empty, or `AuthnRequestsSigned` is set without a signing
    /// certificate (the IdP could not check the signatures).
    pub fn to_xml(&self) -> Result<String, Error> {
        crate::config::check_sp_identity(&self.entity_id, &self.acs_urls)?;
        if self
            .name_id_formats
            .iter()
            .any(|f| crate::config::blank_or_padded(f))
        {
            return Err(Error::Config(
                "name id format is empty or has white space at either end".into(),
            ));
        }
        for (b, url) in &self.single_logout_services {
            if b.is_empty() {
                return Err(Error::Config(
                    "single logout binding is neither http-redirect nor http-post".into(),
                ));
            }
            if url.is_empty() || url.chars().any(char::is_whitespace) {
                return Err(Error::Config("slo url is empty or has white space".into()));
            }
        }
        if self.authn_requests_signed && self.signing_certificate.is_none() {
            return Err(Error::Config(
                "authn requests signed without a signing certificate to publish".into(),
            ));
        }
        Ok(self.render())
    }

    /// The XML, without the checks of [`to_xml`](Self::to_xml) (a built `ServiceProvider`
    /// has passed them already).
    fn render(&self) -> String {
        let mut x = String::with_capacity(2048);
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.push_str(&format!(
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"{}\">\n",
            escape::attr(&self.entity_id)
        ));
        x.push_str(&format!(
            "  <md:SPSSODescriptor AuthnRequestsSigned=\"{}\" WantAssertionsSigned=\"{}\" \
             protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n",
            self.authn_requests_signed, self.want_assertions_signed
        ));
        // Schema order (metadata 2.4.1, 2.4.2, 2.4.4): KeyDescriptor, SingleLogoutService,
        // NameIDFormat, then AssertionConsumerService.
        if let Some(cert) = &self.signing_certificate {
            push_key_descriptor(&mut x, "signing", cert);
        }
        for cert in &self.encryption_certificates {
            push_key_descriptor(&mut x, "encryption", cert);
        }
        for (b, url) in &self.single_logout_services {
            x.push_str(&format!(
                "    <md:SingleLogoutService Binding=\"{b}\" Location=\"{}\"/>\n",
                escape::attr(url)
            ));
        }
        for format in &self.name_id_formats {
            x.push_str(&format!(
                "    <md:NameIDFormat>{}</md:NameIDFormat>\n",
                escape::text(format)
            ));
        }
        for (i, url) in self.acs_urls.iter().enumerate() {
            x.push_str(&format!(
                "    <md:AssertionConsumerService Binding=\"{}\" Location=\"{}\" index=\"{i}\"{}/>\n",
                binding::HTTP_POST,
                escape::attr(url),
                if i == 0 { " isDefault=\"true\"" } else { "" }
            ));
        }
        x.push_str("  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n");
        x
    }
}

/// A KeyDescriptor for `cert`; an encryption one lists the accepted algorithms (metadata
/// 2.4.1.1), so an IdP that reads them never picks one we refuse.
fn push_key_descriptor(x: &mut String, usage: &str, cert: &Certificate) {
    x.push_str(&format!(
        "    <md:KeyDescriptor use=\"{usage}\">\n      \
         <ds:KeyInfo xmlns:ds=\"{}\">\n        <ds:X509Data>\n          <ds:X509Certificate>",
        ns::DSIG
    ));
    x.push_str(&cert.to_base64());
    x.push_str("</ds:X509Certificate>\n        </ds:X509Data>\n      </ds:KeyInfo>\n");
    #[cfg(feature = "encrypted-assertions")]
    if usage == "encryption" {
        for uri in crate::xmlenc::structure::ACCEPTED {
            x.push_str(&format!(
                "      <md:EncryptionMethod Algorithm=\"{uri}\"/>\n"
            ));
        }
    }
    x.push_str("    </md:KeyDescriptor>\n");
}

impl ServiceProvider {
    /// This SP's metadata: EntityDescriptor with an SPSSODescriptor listing the ACS URLs
    /// (HTTP-POST), the NameID format, `AuthnRequestsSigned` (true when a signing key is
    /// configured, whose certificate is published as a signing KeyDescriptor) and
    /// `WantAssertionsSigned` (true when [`require_signed_assertions`] is set).
    ///
    /// The XML comes from [`SpMetadata`]; to write metadata without an IdP or a private key,
    /// use that directly.
    ///
    /// [`require_signed_assertions`]: crate::ServiceProviderBuilder::require_signed_assertions
    #[must_use]
    pub fn metadata_xml(&self) -> String {
        self.sp_metadata().render()
    }

    /// This configuration as an [`SpMetadata`], to add what the configuration does not hold
    /// (SingleLogoutService endpoints) before writing it.
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
    /// # let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    /// #     .identity_provider(idp).build()?;
    /// let xml = sp.sp_metadata()
    ///     .with_single_logout_service(rampart_saml::binding::HTTP_REDIRECT, "https://sp.example.com/saml/slo")
    ///     .to_xml()?;
    /// assert!(xml.contains("SingleLogoutService"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sp_metadata(&self) -> SpMetadata {
        SpMetadata {
            entity_id: self.entity_id.clone(),
            acs_urls: self.acs_urls.clone(),
            name_id_formats: self.name_id_format.iter().cloned().collect(),
            authn_requests_signed: self.signing_key.is_some(),
            signing_certificate: self
                .signing_key
                .as_ref()
                .and_then(|k| k.certificate().cloned()),
            want_assertions_signed: self.require_signed_assertions,
            encryption_certificates: match &self.encrypted_assertions {
                #[cfg(feature = "encrypted-assertions")]
                crate::config::EncryptedAssertions::Decrypt(keys) => {
                    keys.certificates().cloned().collect()
                }
                _ => Vec::new(),
            },
            single_logout_services: self
                .single_logout_url
                .iter()
                .flat_map(|url| {
                    [
                        (binding::HTTP_REDIRECT, url.clone()),
                        (binding::HTTP_POST, url.clone()),
                    ]
                })
                .collect(),
        }
    }
}
