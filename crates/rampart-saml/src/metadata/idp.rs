//! IdP metadata parsing (SAML metadata 2.0: 2.3 EntityDescriptor/EntitiesDescriptor, 2.4.3
//! IDPSSODescriptor, 2.4.1.1 KeyDescriptor).

use std::time::{Duration, SystemTime};

use rampart_xmldsig::{Certificate, Document, Element, Limits, collapse_white_space};

use crate::config::IdentityProvider;
use crate::error::Error;
use crate::ns::{self, binding};
use crate::view::collapsed_text;
use crate::xsd;

/// Largest metadata document parsed: 4 MiB (a single IdP's metadata is a few KiB; this
/// leaves room for small federation aggregates, not for the 50 MiB national ones, which
/// belong in an offline tool).
pub const MAX_METADATA_BYTES: usize = 4 << 20;

/// A SingleSignOnService or SingleLogoutService endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoint {
    /// The binding URI (e.g. HTTP-Redirect).
    pub binding: String,
    /// The URL.
    pub location: String,
    /// Where responses go when it is not `location` (a SingleLogoutService's
    /// `ResponseLocation`).
    pub response_location: Option<String>,
}

/// What IdP metadata says about one identity provider.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IdpMetadata {
    /// The IdP entity id.
    pub entity_id: String,
    /// Signing certificates (KeyDescriptors with `use="signing"` or no `use`), several during
    /// a key rollover.
    pub signing_certificates: Vec<Certificate>,
    /// SingleSignOnService endpoints, in document order.
    pub sso_services: Vec<Endpoint>,
    /// SingleLogoutService endpoints, in document order.
    pub slo_services: Vec<Endpoint>,
    /// The earliest `validUntil` of the descriptor and its enclosing EntitiesDescriptors.
    pub valid_until: Option<SystemTime>,
    /// The smallest `cacheDuration` of the descriptor and its enclosing elements: refresh the
    /// metadata this often.
    pub cache_duration: Option<Duration>,
    /// `WantAuthnRequestsSigned` on the IDPSSODescriptor.
    pub want_authn_requests_signed: bool,
    /// NameIDFormat values the IdP supports.
    pub name_id_formats: Vec<String>,
}

impl IdpMetadata {
    /// Parses metadata holding exactly one IdP (an EntityDescriptor, or an EntitiesDescriptor
    /// with one IDPSSODescriptor). Use [`IdpMetadata::parse_all`] for aggregates.
    ///
    /// ```
    /// use rampart_saml::{IdpMetadata, binding};
    /// let xml = std::fs::read("tests/samples/python3-saml/data/metadata/idp_metadata.xml")?;
    /// let m = IdpMetadata::parse(&xml)?;
    /// assert_eq!(m.entity_id, "https://app.onelogin.com/saml/metadata/383123");
    /// assert_eq!(m.signing_certificates.len(), 1);
    /// assert!(m.sso_url(binding::HTTP_REDIRECT).is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Xml`] for refused XML, [`Error::Metadata`] when there is no IdP, more than
    /// one, or a descriptor is malformed (bad certificate, bad time).
    pub fn parse(xml: &[u8]) -> Result<Self, Error> {
        let mut all = Self::parse_all(xml)?;
        match all.len() {
            0 => Err(Error::Metadata("no saml 2.0 idpssodescriptor".into())),
            1 => Ok(all.remove(0)),
            n => Err(Error::Metadata(format!(
                "{n} identity providers: pick one with parse_entity"
            ))),
        }
    }

    /// Parses metadata and returns the IdP with entity id `entity_id`.
    ///
    /// # Errors
    /// As [`IdpMetadata::parse`]; [`Error::Metadata`] when no IdP has that entity id.
    pub fn parse_entity(xml: &[u8], entity_id: &str) -> Result<Self, Error> {
        Self::parse_all(xml)?
            .into_iter()
            .find(|m| m.entity_id == entity_id)
            .ok_or_else(|| Error::Metadata(format!("no identity provider {entity_id:?}")))
    }

    /// Every SAML 2.0 IdP in the document, in document order.
    ///
    /// ```
    /// use rampart_saml::IdpMetadata;
    /// // An EntitiesDescriptor aggregate: parse() refuses it (which IdP?), parse_all lists.
    /// let xml = std::fs::read("tests/samples/python3-saml/data/metadata/idp_multiple_descriptors.xml")?;
    /// let all = IdpMetadata::parse_all(&xml)?;
    /// assert!(all.len() > 1);
    /// assert!(IdpMetadata::parse(&xml).is_err());
    /// let first = IdpMetadata::parse_entity(&xml, &all[0].entity_id)?;
    /// assert_eq!(first.entity_id, all[0].entity_id);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`IdpMetadata::parse`] (an empty list is not an error here).
    pub fn parse_all(xml: &[u8]) -> Result<Vec<Self>, Error> {
        let limits = Limits::default()
            .with_max_bytes(MAX_METADATA_BYTES)
            .with_max_nodes(500_000);
        let doc = Document::parse_with_limits(xml, &limits).map_err(Error::Xml)?;
        let root = doc.root();
        let mut out = Vec::new();
        if root.is(ns::METADATA, "EntityDescriptor") {
            read_entity(root, Window::default(), &mut out)?;
        } else if root.is(ns::METADATA, "EntitiesDescriptor") {
            read_entities(root, Window::default(), &mut out, 0)?;
        } else {
            return Err(Error::Metadata(format!(
                "root is <{}>, not md:EntityDescriptor",
                root.qualified_name()
            )));
        }
        Ok(out)
    }

    /// The first SSO URL for `binding` (see [`binding`](crate::binding)).
    #[must_use]
    pub fn sso_url(&self, binding: &str) -> Option<&str> {
        self.sso_services
            .iter()
            .find(|e| e.binding == binding)
            .map(|e| e.location.as_str())
    }

    /// The first SingleLogoutService URL for `binding`: where a LogoutRequest goes.
    ///
    /// ```
    /// use rampart_saml::{IdpMetadata, binding};
    /// let xml = std::fs::read("tests/samples/python3-saml/data/metadata/idp_metadata2.xml")?;
    /// let m = IdpMetadata::parse(&xml)?;
    /// assert_eq!(m.slo_url(binding::HTTP_REDIRECT), Some("http://idp.example.com/logout"));
    /// assert_eq!(m.slo_url(binding::HTTP_POST), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn slo_url(&self, binding: &str) -> Option<&str> {
        self.slo_services
            .iter()
            .find(|e| e.binding == binding)
            .map(|e| e.location.as_str())
    }

    /// Turns the metadata into the trusted [`IdentityProvider`], checking it is still valid
    /// at `now`.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use rampart_saml::{IdpMetadata, ServiceProvider};
    /// let xml = std::fs::read("tests/samples/python3-saml/data/metadata/idp_metadata.xml")?;
    /// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000); // 2030-01-01
    /// let idp = IdpMetadata::parse(&xml)?.to_identity_provider(now)?;
    /// assert_eq!(idp.certificates().len(), 1);
    /// let sp = ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    ///     .identity_provider(idp)
    ///     .build()?;
    /// assert_eq!(sp.identity_provider().entity_id(), "https://app.onelogin.com/saml/metadata/383123");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Metadata`] when `validUntil` has passed or there is no signing certificate.
    pub fn to_identity_provider(&self, now: SystemTime) -> Result<IdentityProvider, Error> {
        if let Some(until) = self.valid_until
            && now >= until
        {
            return Err(Error::Metadata(format!(
                "metadata expired at {} (validUntil)",
                xsd::format_datetime(until)
            )));
        }
        let mut idp =
            IdentityProvider::new(self.entity_id.clone(), self.signing_certificates.clone())
                .map_err(|e| match e {
                    // The metadata names no usable entity id or certificate: its fault, not
                    // the caller's configuration.
                    Error::Config(m) => Error::Metadata(m),
                    e => e,
                })?;
        idp.sso_redirect_url = self.sso_url(binding::HTTP_REDIRECT).map(str::to_owned);
        idp.sso_post_url = self.sso_url(binding::HTTP_POST).map(str::to_owned);
        idp.want_authn_requests_signed = self.want_authn_requests_signed;
        Ok(idp)
    }
}

#[derive(Clone, Copy, Default)]
struct Window {
    valid_until: Option<SystemTime>,
    cache: Option<Duration>,
}

impl Window {
    fn narrow(self, el: Element<'_>) -> Result<Self, Error> {
        let mut w = self;
        if let Some(v) = el.attribute("validUntil") {
            let t = xsd::parse_system_time(v)
                .map_err(|_| Error::Metadata(format!("bad validUntil {v:?}")))?;
            w.valid_until = Some(w.valid_until.map_or(t, |old| old.min(t)));
        }
        if let Some(v) = el.attribute("cacheDuration") {
            let d = xsd::parse_duration(v)?;
            w.cache = Some(w.cache.map_or(d, |old| old.min(d)));
        }
        Ok(w)
    }
}

/// Nesting of EntitiesDescriptor is bounded by the parser's depth limit; this bound is ours.
const MAX_ENTITIES_NESTING: usize = 16;

fn read_entities(
    el: Element<'_>,
    w: Window,
    out: &mut Vec<IdpMetadata>,
    depth: usize,
) -> Result<(), Error> {
    if depth > MAX_ENTITIES_NESTING {
        return Err(Error::Metadata("entitiesdescriptor nested too deep".into()));
    }
    let w = w.narrow(el)?;
    for child in el.children() {
        if child.is(ns::METADATA, "EntityDescriptor") {
            read_entity(child, w, out)?;
        } else if child.is(ns::METADATA, "EntitiesDescriptor") {
            read_entities(child, w, out, depth + 1)?;
        }
    }
    Ok(())
}

fn read_entity(el: Element<'_>, w: Window, out: &mut Vec<IdpMetadata>) -> Result<(), Error> {
    let w = w.narrow(el)?;
    // xs:anyURI (metadata 2.3.2): XML white space collapses; anything else is part of the id.
    let entity_id = el
        .attribute("entityID")
        .map(collapse_white_space)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::Metadata("entitydescriptor without entityID".into()))?;
    for idp in el.children_named(ns::METADATA, "IDPSSODescriptor") {
        let supports_saml2 = idp
            .attribute("protocolSupportEnumeration")
            .is_some_and(|p| p.split_ascii_whitespace().any(|t| t == ns::PROTOCOL));
        if !supports_saml2 {
            continue;
        }
        let w = w.narrow(idp)?;
        let mut certs = Vec::new();
        for kd in idp.children_named(ns::METADATA, "KeyDescriptor") {
            if !matches!(kd.attribute("use"), None | Some("signing")) {
                continue;
            }
            for ki in kd.children_named(ns::DSIG, "KeyInfo") {
                for data in ki.children_named(ns::DSIG, "X509Data") {
                    for c in data.children_named(ns::DSIG, "X509Certificate") {
                        let cert = Certificate::from_base64(&c.text()).map_err(|source| {
                            Error::MetadataCertificate {
                                entity_id: entity_id.to_string(),
                                source,
                            }
                        })?;
                        if !certs.contains(&cert) {
                            certs.push(cert);
                        }
                    }
                }
            }
        }
        let endpoints = |name| {
            idp.children_named(ns::METADATA, name)
                .filter_map(|s| {
                    Some(Endpoint {
                        binding: s.attribute("Binding")?.to_owned(),
                        location: s.attribute("Location")?.to_owned(),
                        response_location: s.attribute("ResponseLocation").map(str::to_owned),
                    })
                })
                .collect()
        };
        let sso_services = endpoints("SingleSignOnService");
        let slo_services = endpoints("SingleLogoutService");
        let name_id_formats = idp
            .children_named(ns::METADATA, "NameIDFormat")
            .map(|n| collapsed_text(n, "nameidformat"))
            .collect::<Result<_, _>>()?;
        out.push(IdpMetadata {
            entity_id: entity_id.to_string(),
            signing_certificates: certs,
            sso_services,
            slo_services,
            valid_until: w.valid_until,
            cache_duration: w.cache,
            want_authn_requests_signed: matches!(
                idp.attribute("WantAuthnRequestsSigned"),
                Some("true" | "1")
            ),
            name_id_formats,
        });
    }
    Ok(())
}
