//! Service provider configuration: a typestate builder that cannot produce a
//! [`ServiceProvider`] without an identity provider (its entity id and signing keys) and our
//! own entity id (the audience every assertion must name).

use std::time::Duration;

use rampart_xmldsig::{Certificate, SIGNATURE_ALGORITHMS, SignatureAlgorithm, SigningKey};

use crate::error::Error;

/// Default allowed clock skew between the IdP's clock and ours: 90 seconds. Applied to every
/// NotBefore/NotOnOrAfter comparison. Enough for NTP-synchronised servers, small enough that an
/// expired assertion is not useful for long.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(90);

/// Largest clock skew [`ServiceProviderBuilder::with_clock_skew`] accepts: 10 minutes.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(600);

/// Default maximum age of the authentication (now - AuthnInstant): 8 hours, a working day.
/// An IdP single-sign-on session older than that must re-authenticate the user.
pub const DEFAULT_MAX_AUTHN_AGE: Duration = Duration::from_secs(8 * 3600);

/// Default largest accepted `SAMLResponse` (decoded XML bytes): 256 KiB. Real responses are
/// 5-30 KiB; a few IdPs with many group attributes reach ~100 KiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Largest [`ServiceProviderBuilder::with_max_authentication_age`] accepted: 366 days. Longer
/// means "no limit": say so with [`ServiceProviderBuilder::no_max_authentication_age`]. The
/// cap also keeps `AuthnInstant + age` within the representable range.
pub const MAX_AUTHN_AGE_LIMIT: Duration = Duration::from_secs(366 * 86400);

/// Largest [`ServiceProviderBuilder::with_max_response_bytes`] accepted: 16 MiB, far above any
/// real response (a few hundred KiB at most); a larger limit only invites memory exhaustion.
pub const MAX_RESPONSE_BYTES_LIMIT: usize = 16 << 20;

/// Common NameID formats (SAML core 2.0, 8.3).
pub mod name_id_format {
    /// `urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified`
    pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
    /// `urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress`
    pub const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    /// `urn:oasis:names:tc:SAML:2.0:nameid-format:persistent`
    pub const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
    /// `urn:oasis:names:tc:SAML:2.0:nameid-format:transient`
    pub const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
    /// `urn:oasis:names:tc:SAML:2.0:nameid-format:entity`
    pub const ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
}

/// The identity provider this service provider trusts: its entity id, its signing
/// certificates (several during a key rollover: a signature by any of them is accepted) and,
/// optionally, its single-sign-on endpoints (for building requests).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IdentityProvider {
    pub(crate) entity_id: String,
    pub(crate) certificates: Vec<Certificate>,
    pub(crate) sso_redirect_url: Option<String>,
    pub(crate) sso_post_url: Option<String>,
    pub(crate) want_authn_requests_signed: bool,
}

impl IdentityProvider {
    /// An IdP with its entity id and at least one signing certificate.
    ///
    /// # Errors
    /// [`Error::Config`] when the entity id is empty or no certificate is given.
    pub fn new(
        entity_id: impl Into<String>,
        certificates: impl IntoIterator<Item = Certificate>,
    ) -> Result<Self, Error> {
        let entity_id = entity_id.into();
        if blank_or_padded(&entity_id) {
            return Err(Error::Config(
                "identity provider entity id is empty or has white space at either end".into(),
            ));
        }
        let certificates: Vec<Certificate> = certificates.into_iter().collect();
        if certificates.is_empty() {
            return Err(Error::Config(
                "identity provider needs at least one signing certificate".into(),
            ));
        }
        Ok(IdentityProvider {
            entity_id,
            certificates,
            sso_redirect_url: None,
            sso_post_url: None,
            want_authn_requests_signed: false,
        })
    }

    /// Sets the IdP's SingleSignOnService URL for the HTTP-Redirect binding.
    #[must_use]
    pub fn with_sso_redirect_url(mut self, url: impl Into<String>) -> Self {
        self.sso_redirect_url = Some(url.into());
        self
    }

    /// Sets the IdP's SingleSignOnService URL for the HTTP-POST binding.
    #[must_use]
    pub fn with_sso_post_url(mut self, url: impl Into<String>) -> Self {
        self.sso_post_url = Some(url.into());
        self
    }

    /// The IdP entity id.
    #[must_use]
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The trusted signing certificates.
    #[must_use]
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// The HTTP-Redirect SSO URL, if known.
    #[must_use]
    pub fn sso_redirect_url(&self) -> Option<&str> {
        self.sso_redirect_url.as_deref()
    }

    /// The HTTP-POST SSO URL, if known.
    #[must_use]
    pub fn sso_post_url(&self) -> Option<&str> {
        self.sso_post_url.as_deref()
    }
}

/// What to do with `EncryptedAssertion`, `EncryptedID` and `EncryptedAttribute`.
///
/// `Refuse` (the default, and the only choice without the feature `encrypted-assertions`)
/// answers [`Error::EncryptedNotSupported`](crate::Error::EncryptedNotSupported).
/// `ServiceProviderBuilder::with_decryption_key` makes it `Decrypt`: the element is decrypted with
/// the SP's key(s), parsed with the same parser and limits, and checked exactly like a plain
/// one. Encryption is never authentication: a decrypted assertion is accepted only when
/// the signed Response covers its ciphertext or it carries its own valid signature.
///
/// ```compile_fail
/// // Not Copy: `Decrypt` holds key material.
/// fn copy<T: Copy>() {}
/// copy::<rampart_saml::EncryptedAssertions>();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EncryptedAssertions {
    /// Refuse responses with encrypted assertions, NameIDs or attributes with
    /// [`Error::EncryptedNotSupported`](crate::Error::EncryptedNotSupported).
    #[default]
    Refuse,
    /// Decrypt them with these keys (current and next, during a rollover of the SP's own
    /// encryption certificate).
    #[cfg(feature = "encrypted-assertions")]
    #[cfg_attr(docsrs, doc(cfg(feature = "encrypted-assertions")))]
    Decrypt(crate::decryption_key::DecryptionKeys),
}

/// Which signature algorithms are accepted. The default accepts RSA (2048 bits and more) and
/// ECDSA with SHA-256/384/512; SHA-1 and small RSA keys need the loudly named opt-ins.
/// [`ServiceProviderBuilder::allowed_signature_algorithms`] narrows the SignatureMethods
/// further (e.g. RSA-SHA256 only); it never widens past the legacy opt-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Algorithms {
    /// RSA-SHA1 / ECDSA-SHA1 signatures and SHA-1 digests are accepted.
    pub sha1: bool,
    /// RSA keys from 1024 to 2047 bits are accepted.
    pub small_rsa_keys: bool,
    /// `None`: every SignatureMethod rampart-xmldsig supports (the safe default set). `Some`:
    /// a bit per entry of [`rampart_xmldsig::SIGNATURE_ALGORITHMS`] (a bit set keeps `Algorithms` `Copy`).
    allowed: Option<u16>,
}

// A bit per entry of rampart-xmldsig's list: the mask must hold them all.
const _: () = assert!(SIGNATURE_ALGORITHMS.len() <= 16);

impl Algorithms {
    /// Whether a signature with this SignatureMethod passes the allow-list (SHA-1 still needs
    /// the `sha1` opt-in as well).
    #[must_use]
    pub fn allows_signature_algorithm(&self, algorithm: SignatureAlgorithm) -> bool {
        match self.allowed {
            None => true,
            Some(mask) => SIGNATURE_ALGORITHMS
                .iter()
                .position(|a| *a == algorithm)
                .is_some_and(|i| mask & (1 << i) != 0),
        }
    }

    /// The allow-list, or `None` when every supported SignatureMethod is accepted.
    #[must_use]
    pub fn allowed_signature_algorithms(&self) -> Option<Vec<SignatureAlgorithm>> {
        self.allowed.map(|mask| {
            SIGNATURE_ALGORITHMS
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, a)| *a)
                .collect()
        })
    }
}

/// The service provider: our entity id, ACS URL(s), the trusted IdP and the validation policy.
/// Built with [`ServiceProvider::builder`]. Cheap to share (`Arc` it) and `Sync`.
#[derive(Debug)]
pub struct ServiceProvider {
    pub(crate) entity_id: String,
    pub(crate) acs_urls: Vec<String>,
    pub(crate) idp: IdentityProvider,
    pub(crate) clock_skew: Duration,
    pub(crate) max_authn_age: Option<Duration>,
    pub(crate) algorithms: Algorithms,
    pub(crate) accept_idp_initiated: bool,
    pub(crate) require_signed_assertions: bool,
    pub(crate) allow_missing_audience: bool,
    pub(crate) signing_key: Option<SigningKey>,
    pub(crate) max_response_bytes: usize,
    pub(crate) name_id_format: Option<String>,
    pub(crate) affiliations: Vec<String>,
    /// Our SingleLogoutService URL, published in metadata for both bindings.
    pub(crate) single_logout_url: Option<String>,
    pub(crate) encrypted_assertions: EncryptedAssertions,
    pub(crate) verify_options: rampart_xmldsig::VerifyOptions,
}

/// Typestate marker: the builder has no identity provider yet, so it cannot `build()`.
#[derive(Debug)]
pub struct NeedsIdentityProvider;

/// Builds a [`ServiceProvider`]; `build()` exists only once an [`IdentityProvider`] is set.
///
/// ```compile_fail
/// // No identity provider: there is no `build` to call.
/// let sp = rampart_saml::ServiceProvider::builder("https://sp.example", "https://sp.example/acs").build();
/// ```
#[derive(Debug)]
#[must_use]
pub struct ServiceProviderBuilder<I> {
    entity_id: String,
    acs_urls: Vec<String>,
    idp: I,
    clock_skew: Duration,
    max_authn_age: Option<Duration>,
    algorithms: Algorithms,
    accept_idp_initiated: bool,
    require_signed_assertions: bool,
    allow_missing_audience: bool,
    signing_key: Option<SigningKey>,
    max_response_bytes: usize,
    name_id_format: Option<String>,
    affiliations: Vec<String>,
    single_logout_url: Option<String>,
    #[cfg(feature = "encrypted-assertions")]
    decryption_keys: Vec<crate::decryption_key::DecryptionKey>,
}

impl ServiceProvider {
    /// Starts a configuration with our entity id (the audience assertions must name) and the
    /// Assertion Consumer Service URL responses are posted to.
    pub fn builder(
        entity_id: impl Into<String>,
        acs_url: impl Into<String>,
    ) -> ServiceProviderBuilder<NeedsIdentityProvider> {
        ServiceProviderBuilder {
            entity_id: entity_id.into(),
            acs_urls: vec![acs_url.into()],
            idp: NeedsIdentityProvider,
            clock_skew: DEFAULT_CLOCK_SKEW,
            max_authn_age: Some(DEFAULT_MAX_AUTHN_AGE),
            algorithms: Algorithms::default(),
            accept_idp_initiated: false,
            require_signed_assertions: false,
            allow_missing_audience: false,
            signing_key: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            name_id_format: None,
            affiliations: Vec::new(),
            single_logout_url: None,
            #[cfg(feature = "encrypted-assertions")]
            decryption_keys: Vec::new(),
        }
    }

    /// Our entity id.
    #[must_use]
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// Our ACS URLs; the first is the default.
    #[must_use]
    pub fn acs_urls(&self) -> &[String] {
        &self.acs_urls
    }

    /// The trusted identity provider.
    #[must_use]
    pub fn identity_provider(&self) -> &IdentityProvider {
        &self.idp
    }

    /// The allowed clock skew.
    #[must_use]
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew
    }

    /// The accepted algorithms.
    #[must_use]
    pub fn algorithms(&self) -> Algorithms {
        self.algorithms
    }

    /// What happens to encrypted assertions.
    #[must_use]
    pub fn encrypted_assertions(&self) -> &EncryptedAssertions {
        &self.encrypted_assertions
    }

    /// Affiliation ids (besides our entity id) a NameID's SPNameQualifier may name.
    #[must_use]
    pub fn affiliations(&self) -> &[String] {
        &self.affiliations
    }

    /// Our SingleLogoutService URL, if configured
    /// ([`ServiceProviderBuilder::with_single_logout_url`]).
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
    /// let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    ///     .identity_provider(idp)
    ///     .with_single_logout_url("https://sp.example.com/saml/slo")
    ///     .build()?;
    /// assert_eq!(sp.single_logout_url(), Some("https://sp.example.com/saml/slo"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn single_logout_url(&self) -> Option<&str> {
        self.single_logout_url.as_deref()
    }
}

impl ServiceProviderBuilder<NeedsIdentityProvider> {
    /// Sets the trusted identity provider (entity id and signing certificates).
    pub fn identity_provider(
        self,
        idp: IdentityProvider,
    ) -> ServiceProviderBuilder<IdentityProvider> {
        ServiceProviderBuilder {
            entity_id: self.entity_id,
            acs_urls: self.acs_urls,
            idp,
            clock_skew: self.clock_skew,
            max_authn_age: self.max_authn_age,
            algorithms: self.algorithms,
            accept_idp_initiated: self.accept_idp_initiated,
            require_signed_assertions: self.require_signed_assertions,
            allow_missing_audience: self.allow_missing_audience,
            signing_key: self.signing_key,
            max_response_bytes: self.max_response_bytes,
            name_id_format: self.name_id_format,
            affiliations: self.affiliations,
            single_logout_url: self.single_logout_url,
            #[cfg(feature = "encrypted-assertions")]
            decryption_keys: self.decryption_keys,
        }
    }
}

impl<I> ServiceProviderBuilder<I> {
    /// Adds another accepted ACS URL (a Destination/Recipient may name any of them).
    pub fn with_additional_acs_url(mut self, url: impl Into<String>) -> Self {
        self.acs_urls.push(url.into());
        self
    }

    /// Allowed clock skew (default [`DEFAULT_CLOCK_SKEW`], at most [`MAX_CLOCK_SKEW`]).
    pub fn with_clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Maximum time since the user authenticated at the IdP (default
    /// [`DEFAULT_MAX_AUTHN_AGE`], at most [`MAX_AUTHN_AGE_LIMIT`]).
    pub fn with_max_authentication_age(mut self, age: Duration) -> Self {
        self.max_authn_age = Some(age);
        self
    }

    /// Accepts authentications of any age (AuthnInstant is still read and reported).
    pub fn no_max_authentication_age(mut self) -> Self {
        self.max_authn_age = None;
        self
    }

    /// LEGACY: accepts SHA-1 signatures and digests. SHA-1 is broken for collisions; enable only
    /// for an IdP that cannot be reconfigured, and plan its migration.
    pub fn allow_sha1_signatures(mut self) -> Self {
        self.algorithms.sha1 = true;
        self
    }

    /// LEGACY: accepts RSA keys from 1024 to 2047 bits.
    pub fn allow_small_rsa_keys(mut self) -> Self {
        self.algorithms.small_rsa_keys = true;
        self
    }

    /// Accepts only signatures whose SignatureMethod is one of `algorithms` (e.g.
    /// `[SignatureAlgorithm::RsaSha256]` for an IdP known to use nothing else); any other is
    /// refused with [`SignatureError::AlgorithmNotAllowed`](crate::SignatureError::AlgorithmNotAllowed).
    /// Default: every supported SignatureMethod. Narrows only: listing
    /// [`SignatureAlgorithm::RsaSha1`] does not replace [`Self::allow_sha1_signatures`].
    /// An empty list is refused by `build()`.
    pub fn allowed_signature_algorithms(
        mut self,
        algorithms: impl IntoIterator<Item = SignatureAlgorithm>,
    ) -> Self {
        let mut mask = 0u16;
        for a in algorithms {
            if let Some(i) = SIGNATURE_ALGORITHMS.iter().position(|x| *x == a) {
                mask |= 1 << i;
            }
        }
        self.algorithms.allowed = Some(mask);
        self
    }

    /// DANGER: accepts IdP-initiated (unsolicited) responses, which carry no InResponseTo and
    /// so cannot be bound to a login the user started here (login CSRF, SAML profiles
    /// 4.1.5). Replay protection still applies.
    pub fn accept_idp_initiated_unsolicited_responses(mut self) -> Self {
        self.accept_idp_initiated = true;
        self
    }

    /// Requires the assertion itself to be signed (a signature on the enclosing Response alone
    /// is then not enough). Off by default: Google Workspace signs only the Response.
    pub fn require_signed_assertions(mut self) -> Self {
        self.require_signed_assertions = true;
        self
    }

    /// DANGER: accepts assertions without an AudienceRestriction (SAML profiles 4.1.4.2
    /// requires one). Such an assertion is valid at every SP that trusts the IdP, so one SP
    /// could replay a user's assertion at another. When an AudienceRestriction is present it is
    /// still enforced.
    pub fn accept_assertions_without_audience_restriction(mut self) -> Self {
        self.allow_missing_audience = true;
        self
    }

    /// Our signing key, with its certificate attached ([`SigningKey::with_certificate`]):
    /// AuthnRequests are signed, and metadata publishes the certificate with
    /// `AuthnRequestsSigned="true"`. A key without a certificate is refused by `build()`.
    pub fn with_signing_key(mut self, key: SigningKey) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// Largest accepted response, in decoded bytes (default [`DEFAULT_MAX_RESPONSE_BYTES`],
    /// from 1 KiB to [`MAX_RESPONSE_BYTES_LIMIT`]).
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Declares this SP a member of the affiliation `affiliation_id` (SAML metadata 2.3.2,
    /// AffiliationDescriptor): a NameID whose SPNameQualifier names it is accepted as ours.
    /// SAML core 8.3.7 lets SPNameQualifier name "the service provider or affiliation of
    /// providers"; without this, any SPNameQualifier but our entity id is refused (a NameID
    /// federated for another SP names someone else's account there, not necessarily here).
    pub fn with_affiliation(mut self, affiliation_id: impl Into<String>) -> Self {
        self.affiliations.push(affiliation_id.into());
        self
    }

    /// Adds a key to decrypt `EncryptedAssertion`, `EncryptedID` and `EncryptedAttribute`
    /// with (XML Encryption: RSA-OAEP key transport, AES-CBC or AES-GCM content). Call it
    /// again for the next key during a rollover of the SP's encryption certificate: IdPs
    /// may encrypt for either, and metadata publishes both with `use="encryption"`.
    ///
    /// ```
    /// # let key_pem = std::fs::read("tests/keys/sp.key.pem")?;
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/sp.cert.pem")?)?;
    /// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert.clone()])?;
    /// let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    ///     .identity_provider(idp)
    ///     .with_decryption_key(rampart_saml::DecryptionKey::from_pkcs8_pem(&key_pem, cert)?)
    ///     .build()?;
    /// assert_ne!(sp.encrypted_assertions(), &rampart_saml::EncryptedAssertions::Refuse);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "encrypted-assertions")]
    #[cfg_attr(docsrs, doc(cfg(feature = "encrypted-assertions")))]
    pub fn with_decryption_key(mut self, key: crate::decryption_key::DecryptionKey) -> Self {
        self.decryption_keys.push(key);
        self
    }

    /// The NameID format asked for in AuthnRequests' NameIDPolicy and listed in metadata.
    pub fn with_name_id_format(mut self, format: impl Into<String>) -> Self {
        self.name_id_format = Some(format.into());
        self
    }

    /// Our SingleLogoutService URL: [`ServiceProvider::metadata_xml`] publishes it for the
    /// HTTP-Redirect and HTTP-POST bindings (serve [`ServiceProvider::single_logout`] there).
    ///
    /// ```
    /// use rampart_saml::{Certificate, IdentityProvider, ServiceProvider};
    /// let cert = Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// let sp = ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/acs")
    ///     .identity_provider(IdentityProvider::new("https://idp.example.com/metadata", [cert])?)
    ///     .with_single_logout_url("https://sp.example.com/slo")
    ///     .build()?;
    /// let xml = sp.metadata_xml();
    /// assert_eq!(xml.matches(r#"Location="https://sp.example.com/slo""#).count(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_single_logout_url(mut self, url: impl Into<String>) -> Self {
        self.single_logout_url = Some(url.into());
        self
    }
}

/// Whether a configured identifier is unusable: empty, or with white space of any kind at
/// either end. Values read from responses are compared exactly (XML white space collapsed,
/// nothing else), so a padded configured value could never match, or would match only a
/// value the IdP padded the same way.
pub(crate) fn blank_or_padded(s: &str) -> bool {
    s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace)
}

/// The checks every SP description passes, built for validation or published as metadata.
pub(crate) fn check_sp_identity(entity_id: &str, acs_urls: &[String]) -> Result<(), Error> {
    if blank_or_padded(entity_id) {
        return Err(Error::Config(
            "service provider entity id is empty or has white space at either end".into(),
        ));
    }
    // Compared as exact strings with Destination and Recipient; not required to be
    // http(s): test suites and some IdPs use opaque values.
    for url in acs_urls {
        if url.is_empty() || url.chars().any(char::is_whitespace) {
            return Err(Error::Config(format!(
                "acs url {url:?} is empty or has white space"
            )));
        }
    }
    Ok(())
}

impl ServiceProviderBuilder<IdentityProvider> {
    /// Checks and finishes the configuration.
    ///
    /// # Errors
    /// [`Error::Config`] when the entity id or an ACS URL is empty, an ACS URL has white
    /// space, the clock skew exceeds [`MAX_CLOCK_SKEW`], the maximum authentication age
    /// exceeds [`MAX_AUTHN_AGE_LIMIT`], the response size limit is outside 1 KiB to
    /// [`MAX_RESPONSE_BYTES_LIMIT`], or the signing key has no certificate; [`Error::Key`]
    /// when an IdP certificate holds a key type that cannot verify signatures (RSA, ECDSA
    /// P-256/P-384 can).
    pub fn build(self) -> Result<ServiceProvider, Error> {
        check_sp_identity(&self.entity_id, &self.acs_urls)?;
        if let Some(url) = &self.single_logout_url
            && (url.is_empty() || url.chars().any(char::is_whitespace))
        {
            return Err(Error::Config(format!(
                "single logout url {url:?} is empty or has white space"
            )));
        }
        if self.clock_skew > MAX_CLOCK_SKEW {
            return Err(Error::Config("clock skew above 10 minutes".into()));
        }
        if self.max_response_bytes < 1024 {
            return Err(Error::Config("max response bytes below 1 KiB".into()));
        }
        if self.max_response_bytes > MAX_RESPONSE_BYTES_LIMIT {
            return Err(Error::Config("max response bytes above 16 MiB".into()));
        }
        if self.algorithms.allowed == Some(0) {
            return Err(Error::Config(
                "allowed signature algorithms is empty: no response could verify".into(),
            ));
        }
        if self.max_authn_age.is_some_and(|a| a > MAX_AUTHN_AGE_LIMIT) {
            return Err(Error::Config(
                "max authentication age above 366 days (use no_max_authentication_age)".into(),
            ));
        }
        if self
            .signing_key
            .as_ref()
            .is_some_and(|k| k.certificate().is_none())
        {
            return Err(Error::Config(
                "signing key has no certificate (attach it with SigningKey::with_certificate)"
                    .into(),
            ));
        }
        let verify_options = crate::dsig::verify_options(&self.idp.certificates, self.algorithms)?;
        #[cfg(feature = "encrypted-assertions")]
        let encrypted_assertions = if self.decryption_keys.is_empty() {
            EncryptedAssertions::Refuse
        } else {
            EncryptedAssertions::Decrypt(crate::decryption_key::DecryptionKeys::new(
                self.decryption_keys,
            ))
        };
        #[cfg(not(feature = "encrypted-assertions"))]
        let encrypted_assertions = EncryptedAssertions::Refuse;
        Ok(ServiceProvider {
            verify_options,
            entity_id: self.entity_id,
            acs_urls: self.acs_urls,
            idp: self.idp,
            clock_skew: self.clock_skew,
            max_authn_age: self.max_authn_age,
            algorithms: self.algorithms,
            accept_idp_initiated: self.accept_idp_initiated,
            require_signed_assertions: self.require_signed_assertions,
            allow_missing_audience: self.allow_missing_audience,
            signing_key: self.signing_key,
            max_response_bytes: self.max_response_bytes,
            name_id_format: self.name_id_format,
            affiliations: self.affiliations,
            single_logout_url: self.single_logout_url,
            encrypted_assertions,
        })
    }
}
