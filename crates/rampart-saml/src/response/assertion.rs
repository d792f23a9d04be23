//! Reading the assertion, from its verified view only: Issuer, NameID, the bearer
//! SubjectConfirmation, AuthnStatement and attributes, into a [`Login`].

use std::time::SystemTime;

use time::OffsetDateTime;

use super::Validation;
use super::conditions::out_of_range;
use crate::error::{Error, MismatchError, TimeError};
use crate::login::{Attribute, LOGIN_FORMAT_VERSION, Login, NameId, SignedParts};
use crate::ns;
use crate::view::{View, collapsed_text, deep_text, identity_without_layout, simple_text};
use crate::xsd;

impl<'d> Validation<'_, 'd> {
    pub(super) fn read_assertion<'v, V: View<'v>>(&mut self, a: V) -> Result<Login, Error> {
        let now = self.now;
        let now_text = || xsd::format_datetime(now);
        let skew = self.skew().as_secs();
        let r = match a.attribute("Version") {
            Some("2.0") => Ok(()),
            Some(v) => Err(Error::malformed(format!(
                "assertion version {v:?} is not 2.0"
            ))),
            None => Err(Error::malformed(
                "assertion has no Version attribute (2.0 expected)",
            )),
        };
        self.trace
            .record("assertion.version", |()| "2.0".into(), r)?;
        let assertion_id = a
            .attribute("ID")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::malformed("assertion has no ID"))?
            .to_owned();
        xsd::parse_datetime(
            a.attribute("IssueInstant")
                .ok_or_else(|| Error::malformed("assertion has no IssueInstant"))?,
        )?;

        // Issuer (required on an assertion, SAML core 2.3.3).
        let r: Result<String, Error> = match a
            .first_child(ns::ASSERTION, "Issuer")
            .map(|i| collapsed_text(i, "issuer"))
            .transpose()?
        {
            Some(i) if i == self.sp.idp.entity_id => Ok(i),
            Some(i) => Err(MismatchError::Issuer { found: i }.into()),
            None => Err(MismatchError::MissingIssuer.into()),
        };
        let issuer = self.trace.record(
            "issuer.assertion",
            |i: &String| format!("{i:?} is the configured idp"),
            r,
        )?;

        // Subject and NameID.
        let subject = a
            .first_child(ns::ASSERTION, "Subject")
            .ok_or_else(|| Error::malformed("assertion has no Subject"))?;
        let r = match subject.first_child(ns::ASSERTION, "EncryptedID") {
            Some(encrypted) => self.read_encrypted_name_id(encrypted),
            None => self.read_name_id(subject),
        };
        let name_id = self.trace.record(
            "name_id",
            |n: &NameId| format!("{:?} (format {:?})", n.value, n.format),
            r,
        )?;

        // Bearer subject confirmation (profiles 4.1.4.2).
        let r = self.check_bearer(subject);
        let (scd_not_on_or_after, in_response_to) = self.trace.record(
            "subject_confirmation",
            |(t, irt): &(OffsetDateTime, Option<String>)| {
                format!(
                    "bearer; recipient is our acs url; in-response-to {irt:?}; not on or after {} (now {}, skew {skew} s)",
                    xsd::format_datetime(SystemTime::from(*t)),
                    now_text()
                )
            },
            r,
        )?;

        // Conditions.
        let r = self.check_conditions(a);
        let (conditions_noa, one_time_use) = self.trace.record(
            "conditions",
            |(noa, otu): &(Option<OffsetDateTime>, bool)| {
                format!(
                    "audience includes {:?}; window ok (now {}, skew {skew} s, not on or after {}){}",
                    self.sp.entity_id,
                    now_text(),
                    noa.map_or("unbounded".to_string(), |t| xsd::format_datetime(SystemTime::from(t))),
                    if *otu { "; OneTimeUse" } else { "" }
                )
            },
            r,
        )?;

        // AuthnStatement.
        let r = self.read_authn_statement(a);
        let (authn_instant, session_index, session_noa, class_ref) = self.trace.record(
            "authn_statement",
            |(t, si, _, c): &AuthnParts| {
                format!(
                    "authenticated at {} (context {c:?}), session index {si:?}",
                    xsd::format_datetime(SystemTime::from(*t))
                )
            },
            r,
        )?;

        let r = self.read_attributes(a);
        let attributes = self.trace.record(
            "attributes",
            |v: &Vec<Attribute>| format!("{} attribute(s)", v.len()),
            r,
        )?;

        let expiry = conditions_noa.map_or(scd_not_on_or_after, |c| c.min(scd_not_on_or_after));
        // OffsetDateTime + Duration panics past year 9999: an IdP's far-future NotOnOrAfter
        // must be a typed refusal.
        let valid_until = expiry.checked_add(self.skew_time()).ok_or_else(|| {
            out_of_range("assertion validity", &xsd::format_datetime(expiry.into()))
        })?;
        Ok(Login {
            version: LOGIN_FORMAT_VERSION,
            issuer,
            name_id,
            response_id: None,
            assertion_id,
            in_response_to,
            authn_instant,
            session_index,
            session_not_on_or_after: session_noa,
            authn_context_class_ref: class_ref,
            attributes,
            one_time_use,
            valid_until,
            signed: SignedParts::Assertion,
            signing_certificate_sha256: String::new(),
        })
    }

    pub(super) fn read_name_id<'v, V: View<'v>>(&self, subject: V) -> Result<NameId, Error> {
        let n = subject
            .first_child(ns::ASSERTION, "NameID")
            .ok_or_else(|| Error::malformed("subject has no NameID"))?;
        self.read_name_id_element(n)
    }

    /// An `EncryptedID` (SAML core 2.2.4) holding a NameID; its ciphertext is part of the
    /// verified assertion.
    // Without the feature there is no key to read from `self`: always refused.
    #[cfg_attr(not(feature = "encrypted-assertions"), allow(clippy::unused_self))]
    fn read_encrypted_name_id<'v, V: View<'v>>(&self, encrypted: V) -> Result<NameId, Error> {
        #[cfg(feature = "encrypted-assertions")]
        if let crate::config::EncryptedAssertions::Decrypt(keys) = &self.sp.encrypted_assertions {
            let doc = crate::xmlenc::decrypt_element(
                encrypted,
                keys.keys(),
                &self.decryption_limits(),
                (ns::ASSERTION, "NameID"),
            )?;
            let n = doc
                .root()
                .children()
                .next()
                .ok_or(crate::DecryptionError::Failed)?;
            return self.read_name_id_element(n);
        }
        let _ = encrypted;
        Err(Error::EncryptedNotSupported("EncryptedID"))
    }

    pub(super) fn read_name_id_element<'v, V: View<'v>>(&self, n: V) -> Result<NameId, Error> {
        // All text nodes, comments skipped by the tree (CVE-2017-11428); no child elements
        // allowed in a NameID (SAML core 2.2.3: simple content).
        let text = simple_text(n, "nameid")?;
        let value = identity_without_layout(&text)
            .ok_or(Error::WhiteSpaceAround { what: "nameid" })?
            .to_owned();
        if value.is_empty() {
            return Err(Error::malformed("nameid is empty"));
        }
        let sp_name_qualifier = n.attribute("SPNameQualifier").map(str::to_owned);
        // SAML core 8.3.7: SPNameQualifier names the SP or an affiliation it belongs to;
        // affiliations are only known from configuration, so any other value is refused.
        if let Some(q) = &sp_name_qualifier
            && *q != self.sp.entity_id
            && !self.sp.affiliations.contains(q)
        {
            return Err(MismatchError::SpNameQualifier { found: q.clone() }.into());
        }
        Ok(NameId {
            value,
            format: n.attribute("Format").map(str::to_owned),
            name_qualifier: n.attribute("NameQualifier").map(str::to_owned),
            sp_name_qualifier,
            sp_provided_id: n.attribute("SPProvidedID").map(str::to_owned),
        })
    }

    /// The first bearer confirmation that passes wins; otherwise the first one's error.
    pub(super) fn check_bearer<'v, V: View<'v>>(
        &self,
        subject: V,
    ) -> Result<(OffsetDateTime, Option<String>), Error> {
        let mut first_err = None;
        for sc in subject.children_named(ns::ASSERTION, "SubjectConfirmation") {
            if sc.attribute("Method") != Some(ns::CM_BEARER) {
                continue;
            }
            match self.check_one_bearer(sc) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or_else(|| MismatchError::NoBearerConfirmation.into()))
    }

    pub(super) fn check_one_bearer<'v, V: View<'v>>(
        &self,
        sc: V,
    ) -> Result<(OffsetDateTime, Option<String>), Error> {
        let Some(data) = sc.first_child(ns::ASSERTION, "SubjectConfirmationData") else {
            return Err(MismatchError::MissingSubjectConfirmationData.into());
        };
        match data.attribute("Recipient") {
            Some(r) if self.acs_matches(r) => {}
            r => {
                return Err(MismatchError::Recipient {
                    found: r.unwrap_or("").to_owned(),
                }
                .into());
            }
        }
        let noa = data.attribute("NotOnOrAfter").ok_or_else(|| {
            Error::malformed("bearer subject confirmation data has no NotOnOrAfter")
        })?;
        let noa = self.check_not_on_or_after("subject confirmation", noa)?;
        if let Some(nb) = data.attribute("NotBefore") {
            self.check_not_before("subject confirmation", nb)?;
        }
        // Present: must match. Absent: allowed only if a signed Response carries a matching
        // InResponseTo (checked in `run`); some IdPs put it only on the Response.
        let irt = data.attribute("InResponseTo");
        self.check_in_response_to(irt)?;
        Ok((noa, irt.map(str::to_owned)))
    }

    pub(super) fn read_authn_statement<'v, V: View<'v>>(&self, a: V) -> Result<AuthnParts, Error> {
        let s = a
            .first_child(ns::ASSERTION, "AuthnStatement")
            .ok_or_else(|| {
                Error::malformed("assertion has no AuthnStatement (profiles 4.1.4.2)")
            })?;
        let raw = s
            .attribute("AuthnInstant")
            .ok_or_else(|| Error::malformed("AuthnStatement has no AuthnInstant"))?;
        let instant = xsd::parse_datetime(raw)?;
        self.check_not_before("authn instant", raw)?;
        if let Some(max) = self.sp.max_authn_age {
            // build() caps the age, but the AuthnInstant may be near year 9999: checked.
            let oldest_ok = SystemTime::from(instant)
                .checked_add(max)
                .and_then(|t| t.checked_add(self.skew()))
                .ok_or_else(|| out_of_range("authn instant", raw))?;
            if self.now > oldest_ok {
                return Err(TimeError::AuthnTooOld { at: raw.to_owned() }.into());
            }
        }
        let session_noa = match s.attribute("SessionNotOnOrAfter") {
            Some(raw) => Some(self.check_not_on_or_after("session", raw)?),
            None => None,
        };
        let class_ref = s
            .first_child(ns::ASSERTION, "AuthnContext")
            .and_then(|c| c.first_child(ns::ASSERTION, "AuthnContextClassRef"))
            .map(|c| collapsed_text(c, "authncontextclassref"))
            .transpose()?;
        Ok((
            instant,
            s.attribute("SessionIndex").map(str::to_owned),
            session_noa,
            class_ref,
        ))
    }
}

pub(super) type AuthnParts = (
    OffsetDateTime,
    Option<String>,
    Option<OffsetDateTime>,
    Option<String>,
);

impl Validation<'_, '_> {
    pub(super) fn read_attributes<'v, V: View<'v>>(&self, a: V) -> Result<Vec<Attribute>, Error> {
        let mut out = Vec::new();
        for st in a.children_named(ns::ASSERTION, "AttributeStatement") {
            for at in st.child_elements() {
                let attribute = if at.is(ns::ASSERTION, "EncryptedAttribute") {
                    self.read_encrypted_attribute(at)?
                } else if at.is(ns::ASSERTION, "Attribute") {
                    read_attribute(at)?
                } else {
                    continue;
                };
                // Two attributes with one Name are ambiguous (which one does the app read?).
                if out.iter().any(|x: &Attribute| x.name == attribute.name) {
                    return Err(Error::malformed(format!(
                        "attribute {:?} appears twice",
                        attribute.name
                    )));
                }
                out.push(attribute);
            }
        }
        Ok(out)
    }

    /// An `EncryptedAttribute` (SAML core 2.7.3.2) holding one Attribute.
    // Without the feature there is no key to read from `self`: always refused.
    #[cfg_attr(not(feature = "encrypted-assertions"), allow(clippy::unused_self))]
    fn read_encrypted_attribute<'v, V: View<'v>>(&self, encrypted: V) -> Result<Attribute, Error> {
        #[cfg(feature = "encrypted-assertions")]
        if let crate::config::EncryptedAssertions::Decrypt(keys) = &self.sp.encrypted_assertions {
            let doc = crate::xmlenc::decrypt_element(
                encrypted,
                keys.keys(),
                &self.decryption_limits(),
                (ns::ASSERTION, "Attribute"),
            )?;
            let at = doc
                .root()
                .children()
                .next()
                .ok_or(crate::DecryptionError::Failed)?;
            return read_attribute(at);
        }
        let _ = encrypted;
        Err(Error::EncryptedNotSupported("EncryptedAttribute"))
    }

    /// Decrypted content is parsed with the response's own limits. (Defence in depth:
    /// cargo-mutants finds `Limits::default()` here equivalent today, since a plaintext is
    /// shorter than its base64 ciphertext, one text run the response's limits already bound.)
    #[cfg(feature = "encrypted-assertions")]
    pub(super) fn decryption_limits(&self) -> rampart_xmldsig::Limits {
        rampart_xmldsig::Limits::default().with_max_bytes(self.sp.max_response_bytes)
    }
}

fn read_attribute<'v, V: View<'v>>(at: V) -> Result<Attribute, Error> {
    let name = at
        .attribute("Name")
        .ok_or_else(|| Error::malformed("attribute without Name"))?
        .to_owned();
    let values = at
        .children_named(ns::ASSERTION, "AttributeValue")
        .map(|v| {
            if v.attribute_ns(ns::XSI, "nil")
                .is_some_and(|n| n == "true" || n == "1")
            {
                Ok(String::new())
            } else {
                deep_text(v)
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Attribute {
        name,
        name_format: at.attribute("NameFormat").map(str::to_owned),
        friendly_name: at.attribute("FriendlyName").map(str::to_owned),
        values,
    })
}
