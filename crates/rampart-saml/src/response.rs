//! Response validation for the HTTP-POST binding (SAML core 2.0 3.2.2 and 2.3-2.7; SAML
//! profiles 4.1.4 Web Browser SSO; SAML bindings 3.5.5.2).
//!
//! The order of work is: decode and parse (DOCTYPE, entities and limits refused by the tree),
//! structure (root, status, exactly one assertion, no stray assertion anywhere), signatures
//! (configured keys only, each covering the element that contains it), then every value of the
//! login read from the verified view.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_xmldsig::{Document, Element, Limits};
use time::OffsetDateTime;

use crate::config::ServiceProvider;
use crate::dsig::{self, Checked};
use crate::error::{Error, MismatchError, SignatureError, TimeError};
use crate::login::{Attribute, LOGIN_FORMAT_VERSION, Login, NameId, SignedParts};
use crate::ns;
use crate::replay::{MemoryReplayCache, ReplayCache};
use crate::trace::Trace;
use crate::view::{View, collapsed_text, deep_text, identity_without_layout, simple_text};
use crate::xsd;

/// What the response is expected to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected<'a> {
    /// The AuthnRequest with this ID (kept in the user's session since the redirect).
    Request(&'a str),
    /// Nothing: an IdP-initiated response. Refused unless the SP was built with
    /// `accept_idp_initiated_unsolicited_responses()`.
    Unsolicited,
}

/// A response that passed every check except replay. Turn it into a [`Login`] by recording
/// its assertion ID in a replay cache ([`ValidatedResponse::check_replay`]).
#[derive(Debug, Clone)]
#[must_use = "the assertion is not yet protected against replay: call check_replay"]
pub struct ValidatedResponse {
    login: Login,
    now: SystemTime,
}

impl ValidatedResponse {
    /// Records the assertion ID in `cache` until the assertion expires, and returns the login
    /// if the ID was new.
    ///
    /// # Errors
    /// [`Error::Replay`] when the ID was seen before; [`Error::ReplayCache`] when the cache
    /// fails (the login is then refused: fail closed).
    pub async fn check_replay(self, cache: &impl ReplayCache) -> Result<Login, Error> {
        let fresh = cache
            .insert_if_new(
                &self.login.issuer,
                &self.login.assertion_id,
                self.login.valid_until_system_time(),
                self.now,
            )
            .await?;
        self.finish(fresh)
    }

    /// [`ValidatedResponse::check_replay`] for the in-memory cache, without async.
    ///
    /// # Errors
    /// As [`ValidatedResponse::check_replay`].
    pub fn check_replay_in_memory(self, cache: &MemoryReplayCache) -> Result<Login, Error> {
        let fresh = cache.insert_if_new_sync(
            &self.login.issuer,
            &self.login.assertion_id,
            self.login.valid_until_system_time(),
            self.now,
        )?;
        self.finish(fresh)
    }

    /// The login WITHOUT replay protection: for diagnostics (the CLI's `saml verify`) and for
    /// callers who record the assertion ID themselves. A web login must not use this.
    pub fn into_login_without_replay_check(self) -> Login {
        self.login
    }

    /// The login, for inspection BEFORE the replay check: nothing read here may be acted on
    /// (a session started from it) until [`ValidatedResponse::check_replay`] succeeds. Named
    /// loudly because `ValidatedResponse` is `Clone`: a quiet accessor made skipping the
    /// replay check look like ordinary code.
    #[must_use]
    pub fn login_unchecked_for_replay(&self) -> &Login {
        &self.login
    }

    fn finish(self, fresh: bool) -> Result<Login, Error> {
        if fresh {
            Ok(self.login)
        } else {
            Err(Error::Replay {
                assertion_id: self.login.assertion_id,
            })
        }
    }
}

impl ServiceProvider {
    /// Validates a `SAMLResponse` from the HTTP-POST binding: `input` is the form value
    /// (base64) or the raw XML (detected). `now` is the current time.
    ///
    /// ```no_run
    /// # fn f(sp: &rampart_saml::ServiceProvider, form_value: &str, request_id: &str)
    /// #   -> Result<(), rampart_saml::Error> {
    /// use rampart_saml::{Expected, MemoryReplayCache};
    /// let cache = MemoryReplayCache::new();
    /// let now = std::time::SystemTime::now();
    /// let login = sp
    ///     .validate_response(form_value.as_bytes(), Expected::Request(request_id), now)?
    ///     .check_replay_in_memory(&cache)?;
    /// println!("{} logged in", login.name_id.value);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A specific [`Error`] for the first check that fails; see [`Error::kind`].
    pub fn validate_response(
        &self,
        input: &[u8],
        expected: Expected<'_>,
        now: SystemTime,
    ) -> Result<ValidatedResponse, Error> {
        let mut trace = Trace::disabled();
        self.validate_response_explained(input, expected, now, &mut trace)
    }

    /// [`ServiceProvider::validate_response`], recording every check in `trace`.
    ///
    /// # Errors
    /// As [`ServiceProvider::validate_response`].
    pub fn validate_response_explained(
        &self,
        input: &[u8],
        expected: Expected<'_>,
        now: SystemTime,
        trace: &mut Trace,
    ) -> Result<ValidatedResponse, Error> {
        let xml = trace.record(
            "input",
            |x: &Vec<u8>| format!("{} bytes of xml", x.len()),
            self.decode_response(input),
        )?;
        let limits = Limits::default().with_max_bytes(self.max_response_bytes);
        let doc = trace.record(
            "xml",
            |_| "parsed (no doctype, no entities, within limits)".into(),
            Document::parse_with_limits(&xml, &limits).map_err(Error::Xml),
        )?;
        let login = Validation {
            sp: self,
            doc: &doc,
            expected,
            now,
            trace,
        }
        .run()?;
        Ok(ValidatedResponse { login, now })
    }

    /// The XML that [`validate_response`](Self::validate_response) reads from `input`: raw
    /// XML as it is, or the base64 `SAMLResponse` form value of the HTTP-POST binding (white
    /// space, which some IdPs insert, removed), within
    /// [`max_response_bytes`](crate::ServiceProviderBuilder::max_response_bytes).
    ///
    /// For tools that show a person what arrived. Nothing in it is verified: read identity
    /// data only from a validated [`Login`](crate::Login).
    ///
    /// ```
    /// # let cert = rampart_saml::Certificate::from_pem(&std::fs::read("tests/keys/idp.cert.pem")?)?;
    /// # let idp = rampart_saml::IdentityProvider::new("https://idp.example.com/metadata", [cert])?;
    /// # let sp = rampart_saml::ServiceProvider::builder("https://sp.example.com/metadata", "https://sp.example.com/saml/acs")
    /// #     .identity_provider(idp)
    /// #     .build()?;
    /// assert_eq!(sp.decode_response(b"  PHIvPg==\n")?, b"<r/>");
    /// assert_eq!(sp.decode_response(b"<r/>")?, b"<r/>");
    /// assert!(sp.decode_response(b"not base64!").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Input`] when the input is empty, too large, neither XML nor base64, or
    /// base64 of something that is not XML.
    pub fn decode_response(&self, input: &[u8]) -> Result<Vec<u8>, Error> {
        let start = input
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .ok_or_else(|| Error::Input("empty input".into()))?;
        let body = &input[start..];
        // UTF-16 goes to the parser too, which names it (only UTF-8 is read) instead of
        // calling it "neither xml nor base64".
        if body.starts_with(b"<") || body.starts_with("\u{feff}".as_bytes()) || looks_utf16(body) {
            if body.len() > self.max_response_bytes {
                return Err(Error::Input(format!(
                    "response larger than {} bytes",
                    self.max_response_bytes
                )));
            }
            return Ok(body.to_vec());
        }
        // base64 is 4/3 of the decoded size, plus line breaks some IdPs insert.
        // Saturating: build() caps max_response_bytes, this keeps the bound panic-free anyway.
        let limit = self
            .max_response_bytes
            .saturating_add(self.max_response_bytes / 8);
        if body.len() / 4 * 3 > limit {
            return Err(Error::Input(format!(
                "response larger than {} bytes",
                self.max_response_bytes
            )));
        }
        // Most IdPs send one line; only copy when there is white space to strip.
        let stripped;
        // Branch-free so it vectorizes: an early-exit scan of the 11 KiB form value cost more
        // than decoding it.
        let has_space = body
            .iter()
            .fold(false, |acc, b| acc | b.is_ascii_whitespace());
        let compact: &[u8] = if has_space {
            let mut v = body.to_vec();
            v.retain(|b| !b.is_ascii_whitespace());
            stripped = v;
            &stripped
        } else {
            body
        };
        let xml = STANDARD
            .decode(compact)
            .map_err(|_| Error::Input("samlresponse is neither xml nor base64".into()))?;
        if xml.len() > self.max_response_bytes {
            return Err(Error::Input(format!(
                "response larger than {} bytes",
                self.max_response_bytes
            )));
        }
        if !xml
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'<' || b == 0xEF)
            && !looks_utf16(&xml)
        {
            return Err(Error::Input("base64 value does not decode to xml".into()));
        }
        Ok(xml)
    }
}

struct Validation<'a, 'd> {
    sp: &'a ServiceProvider,
    doc: &'d Document,
    expected: Expected<'a>,
    now: SystemTime,
    trace: &'a mut Trace,
}

/// Response-level values, read from the signed view when the Response is signed.
struct Header {
    id: Option<String>,
    destination: Option<String>,
    in_response_to: Option<String>,
    issuer: Option<String>,
}

impl<'d> Validation<'_, 'd> {
    fn run(mut self) -> Result<Login, Error> {
        let root = self.doc.root();
        let r = if root.is(ns::PROTOCOL, "Response") {
            Ok(())
        } else {
            Err(Error::malformed(format!(
                "root element is <{}>, not samlp:Response (http-post binding)",
                root.qualified_name()
            )))
        };
        self.trace.record("root", |()| "samlp:Response".into(), r)?;
        let r = match root.attribute("Version") {
            Some("2.0") => Ok(()),
            v => Err(Error::malformed(format!(
                "response version {v:?} is not 2.0"
            ))),
        };
        self.trace.record("version", |()| "2.0".into(), r)?;
        let r = self.check_unsolicited_allowed();
        let expected = self.expected;
        self.trace.record(
            "solicitation",
            |()| match expected {
                Expected::Request(id) => format!("answer to request {id:?} expected"),
                Expected::Unsolicited => {
                    "unsolicited (idp-initiated) response, accepted by configuration".into()
                }
            },
            r,
        )?;
        let r = check_status(root);
        self.trace.record("status", |()| "Success".into(), r)?;
        let r = check_unique_ids(root);
        self.trace.record(
            "ids",
            |n: &usize| format!("{n} ID attributes, all distinct"),
            r,
        )?;

        // Exactly one assertion, as a direct child of the Response (profiles 4.1.4.2 allows
        // more, but an SP that reads one of several is how XSW attacks win; nobody sends more).
        let assertion = self.single_assertion(root)?;

        // Signatures.
        let response_sig = self.single_signature(root, "response")?;
        let assertion_sig = self.single_signature(assertion, "assertion")?;
        if response_sig.is_none() && assertion_sig.is_none() {
            self.trace.fail(
                "signature",
                "neither the response nor the assertion carries a ds:Signature",
            );
            return Err(SignatureError::Missing.into());
        }
        if self.sp.require_signed_assertions && assertion_sig.is_none() {
            self.trace.fail(
                "signature.assertion",
                "the configuration requires a signed assertion",
            );
            return Err(SignatureError::AssertionNotSigned.into());
        }
        let response_checked = match response_sig {
            Some(sig) => Some(self.verify("signature.response", sig, root)?),
            None => None,
        };
        let assertion_checked = match assertion_sig {
            Some(sig) => Some(self.verify("signature.assertion", sig, assertion)?),
            None => None,
        };

        // From here on, values come only from verified views.
        let (header, signed_assertion, certificate, signed) =
            match (&response_checked, &assertion_checked) {
                (Some(r), Some(a)) => (
                    read_header(r.signed)?,
                    a.signed,
                    a.certificate,
                    SignedParts::ResponseAndAssertion,
                ),
                (Some(r), None) => {
                    let a = r
                        .signed
                        .child_elements()
                        .find(|c| c.is_element(assertion))
                        .ok_or_else(|| {
                            Error::malformed("assertion is not inside the signed response")
                        })?;
                    (
                        read_header(r.signed)?,
                        a,
                        r.certificate,
                        SignedParts::Response,
                    )
                }
                (None, Some(a)) => (
                    read_header(root)?,
                    a.signed,
                    a.certificate,
                    SignedParts::Assertion,
                ),
                (None, None) => unreachable_signatures()?,
            };
        self.check_header(&header, response_checked.is_some())?;
        let mut login = self.read_assertion(signed_assertion)?;
        // The login must be bound to our request by a signed InResponseTo: the bearer
        // confirmation's, or the signed Response's (profiles 4.1.4.2 and 4.1.4.3).
        if let Expected::Request(id) = self.expected {
            let response_bound =
                response_checked.is_some() && header.in_response_to.as_deref() == Some(id);
            if login.in_response_to.is_none() && !response_bound {
                self.trace.fail(
                    "in_response_to",
                    "no signed InResponseTo names the outstanding request",
                );
                return Err(MismatchError::InResponseTo {
                    found: String::new(),
                }
                .into());
            }
            login.in_response_to = Some(id.to_owned());
        }
        login.response_id = if response_checked.is_some() {
            header.id
        } else {
            None
        };
        login.signed = signed;
        login.signing_certificate_sha256 = self.sp.idp.certificates[certificate]
            .fingerprint_sha256()
            .to_string();
        Ok(login)
    }

    fn check_unsolicited_allowed(&self) -> Result<(), Error> {
        match self.expected {
            Expected::Unsolicited if !self.sp.accept_idp_initiated => {
                Err(MismatchError::Unsolicited.into())
            }
            _ => Ok(()),
        }
    }

    fn single_assertion(&mut self, root: Element<'d>) -> Result<Element<'d>, Error> {
        if root
            .children_named(ns::ASSERTION, "EncryptedAssertion")
            .next()
            .is_some()
        {
            self.trace
                .fail("assertion", "response carries an EncryptedAssertion");
            return Err(Error::EncryptedNotSupported("EncryptedAssertion"));
        }
        let direct: Vec<Element<'d>> = root.children_named(ns::ASSERTION, "Assertion").collect();
        if direct.len() != 1 {
            let total = root
                .descendants()
                .filter(|e| e.is(ns::ASSERTION, "Assertion"))
                .count();
            self.trace.fail(
                "assertion",
                format!("{} direct child assertions (expected 1)", direct.len()),
            );
            return Err(Error::AssertionCount {
                found: total.max(direct.len()),
            });
        }
        let chosen = direct[0];
        // Any other Assertion anywhere (Extensions, unknown wrappers, ds:Object) is a wrapping
        // attempt. Assertions nested inside the chosen one (saml:Advice) are never read.
        let stray = root
            .descendants()
            .filter(|e| e.is(ns::ASSERTION, "Assertion") && *e != chosen && !is_inside(*e, chosen))
            .count();
        if stray > 0 {
            self.trace.fail(
                "assertion",
                format!("{stray} assertion(s) elsewhere in the document"),
            );
            return Err(Error::AssertionCount { found: stray + 1 });
        }
        self.trace.pass("assertion", || {
            format!(
                "exactly one assertion (ID {:?})",
                chosen.attribute("ID").unwrap_or("")
            )
        });
        Ok(chosen)
    }

    fn single_signature(
        &mut self,
        el: Element<'d>,
        what: &'static str,
    ) -> Result<Option<Element<'d>>, Error> {
        let mut sigs = el.children_named(ns::DSIG, "Signature");
        let first = sigs.next();
        if sigs.next().is_some() {
            self.trace.fail(
                "signature",
                format!("more than one ds:Signature on the {what}"),
            );
            return Err(SignatureError::Multiple(what).into());
        }
        Ok(first)
    }

    fn verify(
        &mut self,
        check: &'static str,
        sig: Element<'d>,
        parent: Element<'d>,
    ) -> Result<Checked<'d>, Error> {
        let r = dsig::verify(self.doc, sig, self.sp).and_then(|c| {
            if c.signed.is_element(parent) {
                Ok(c)
            } else {
                Err(SignatureError::NotEnveloped.into())
            }
        });
        let certs = &self.sp.idp.certificates;
        self.trace.record(
            check,
            |c: &Checked<'_>| {
                format!(
                    "valid; covers <{}> ID {:?} at byte {}; verified with configured certificate {} (sha-256 {})",
                    parent.qualified_name(),
                    parent.attribute("ID").unwrap_or(""),
                    parent.position(),
                    certs[c.certificate].subject(),
                    certs[c.certificate].fingerprint_sha256()
                )
            },
            r,
        )
    }

    fn acs_matches(&self, url: &str) -> bool {
        self.sp.acs_urls.iter().any(|a| a == url)
    }

    fn check_header(&mut self, h: &Header, response_signed: bool) -> Result<(), Error> {
        // Details are formatted in the closures, only when the trace records.
        let r: Result<Option<&str>, Error> = match (&h.destination, response_signed) {
            (Some(d), _) if self.acs_matches(d) => Ok(Some(d)),
            (Some(d), _) => Err(MismatchError::Destination { found: d.clone() }.into()),
            (None, true) => Err(MismatchError::MissingDestination.into()),
            (None, false) => Ok(None),
        };
        self.trace.record(
            "destination",
            |d: &Option<&str>| match d {
                Some(d) => format!("{d:?} is our acs url"),
                None => "absent (allowed: the response is not signed)".into(),
            },
            r,
        )?;
        let r: Result<Option<&str>, Error> = match &h.issuer {
            Some(i) if *i == self.sp.idp.entity_id => Ok(Some(i)),
            Some(i) => Err(MismatchError::Issuer { found: i.clone() }.into()),
            None => Ok(None),
        };
        self.trace.record(
            "issuer.response",
            |i: &Option<&str>| match i {
                Some(i) => format!("response issuer {i:?} is the configured idp"),
                None => "response has no issuer (optional, SAML core 3.2.2)".into(),
            },
            r,
        )?;
        let r = self.check_in_response_to(h.in_response_to.as_deref(), true);
        let expected = self.expected;
        self.trace.record(
            "in_response_to.response",
            |f: &Option<&str>| match (f, expected) {
                (Some(f), _) => format!("{f:?} matches the outstanding request"),
                (None, Expected::Unsolicited) => "absent (unsolicited)".into(),
                (None, Expected::Request(_)) => "absent".into(),
            },
            r,
        )?;
        Ok(())
    }

    /// `optional`: at the Response level InResponseTo may be absent even for a solicited
    /// response; the bearer SubjectConfirmationData must carry it (profiles 4.1.4.2).
    ///
    /// Returns the matched value, or `None` when it is allowed to be absent.
    fn check_in_response_to<'f>(
        &self,
        found: Option<&'f str>,
        optional: bool,
    ) -> Result<Option<&'f str>, Error> {
        match (self.expected, found) {
            (Expected::Request(id), Some(f)) if f == id => Ok(Some(f)),
            (Expected::Request(_), None) if optional => Ok(None),
            (Expected::Unsolicited, None) => Ok(None),
            (_, f) => Err(MismatchError::InResponseTo {
                found: f.unwrap_or("").to_owned(),
            }
            .into()),
        }
    }

    fn skew(&self) -> Duration {
        self.sp.clock_skew
    }

    /// The skew as `time`'s duration (build() caps it at 10 minutes, so this cannot fail).
    fn skew_time(&self) -> time::Duration {
        time::Duration::try_from(self.sp.clock_skew).unwrap_or(time::Duration::MAX)
    }

    /// `now < not_on_or_after + skew`.
    fn check_not_on_or_after(
        &self,
        what: &'static str,
        raw: &str,
    ) -> Result<OffsetDateTime, Error> {
        let t = xsd::parse_datetime(raw)?;
        let until = t
            .checked_add(self.skew_time())
            .ok_or_else(|| out_of_range(what, raw))?;
        if self.now >= SystemTime::from(until) {
            return Err(TimeError::Expired {
                what,
                at: raw.to_owned(),
            }
            .into());
        }
        Ok(t)
    }

    /// `now + skew >= not_before`.
    fn check_not_before(&self, what: &'static str, raw: &str) -> Result<(), Error> {
        let t = xsd::parse_datetime(raw)?;
        // `now` comes from the caller: a far-future value must not panic either.
        let now = self
            .now
            .checked_add(self.skew())
            .ok_or_else(|| out_of_range("now", raw))?;
        if now < SystemTime::from(t) {
            return Err(TimeError::NotYetValid {
                what,
                at: raw.to_owned(),
            }
            .into());
        }
        Ok(())
    }

    fn read_assertion<V: View<'d>>(&mut self, a: V) -> Result<Login, Error> {
        let now = self.now;
        let now_text = || xsd::format_datetime(now);
        let skew = self.skew().as_secs();
        let r = match a.attribute("Version") {
            Some("2.0") => Ok(()),
            v => Err(Error::malformed(format!(
                "assertion version {v:?} is not 2.0"
            ))),
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
        if subject.first_child(ns::ASSERTION, "EncryptedID").is_some() {
            self.trace.fail("name_id", "subject carries an EncryptedID");
            return Err(Error::EncryptedNotSupported("EncryptedID"));
        }
        let r = self.read_name_id(subject);
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

        let r = read_attributes(a);
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

    fn read_name_id<V: View<'d>>(&self, subject: V) -> Result<NameId, Error> {
        let n = subject
            .first_child(ns::ASSERTION, "NameID")
            .ok_or_else(|| Error::malformed("subject has no NameID"))?;
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
    fn check_bearer<V: View<'d>>(
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

    fn check_one_bearer<V: View<'d>>(
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
        self.check_in_response_to(irt, true)?;
        Ok((noa, irt.map(str::to_owned)))
    }

    fn check_conditions<V: View<'d>>(&self, a: V) -> Result<(Option<OffsetDateTime>, bool), Error> {
        let mut all = a.children_named(ns::ASSERTION, "Conditions");
        let Some(c) = all.next() else {
            if self.sp.allow_missing_audience {
                return Ok((None, false));
            }
            return Err(MismatchError::MissingAudience.into());
        };
        // The schema allows one Conditions (SAML core 2.3.3); reading only the first of
        // several would skip the others' restrictions.
        if all.next().is_some() {
            return Err(Error::malformed("assertion has more than one Conditions"));
        }
        let one_time_use = check_condition_kinds(c)?;
        if let Some(nb) = c.attribute("NotBefore") {
            self.check_not_before("conditions", nb)?;
        }
        let noa = match c.attribute("NotOnOrAfter") {
            Some(raw) => Some(self.check_not_on_or_after("conditions", raw)?),
            None => None,
        };
        let mut restrictions = c
            .children_named(ns::ASSERTION, "AudienceRestriction")
            .peekable();
        if restrictions.peek().is_none() && !self.sp.allow_missing_audience {
            return Err(MismatchError::MissingAudience.into());
        }
        // Every AudienceRestriction must be satisfied (SAML core 2.5.1.4).
        for r in restrictions {
            // xs:anyURI: XML white space collapses, nothing else does (an entity id followed
            // by U+00A0 is another audience).
            let found = r
                .children_named(ns::ASSERTION, "Audience")
                .map(|x| collapsed_text(x, "audience"))
                .collect::<Result<Vec<_>, _>>()?;
            if !found.contains(&self.sp.entity_id) {
                return Err(MismatchError::Audience { found }.into());
            }
        }
        Ok((noa, one_time_use))
    }

    fn read_authn_statement<V: View<'d>>(&self, a: V) -> Result<AuthnParts, Error> {
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

type AuthnParts = (
    OffsetDateTime,
    Option<String>,
    Option<OffsetDateTime>,
    Option<String>,
);

fn read_attributes<'d, V: View<'d>>(a: V) -> Result<Vec<Attribute>, Error> {
    let mut out = Vec::new();
    for st in a.children_named(ns::ASSERTION, "AttributeStatement") {
        for at in st.child_elements() {
            if at.is(ns::ASSERTION, "EncryptedAttribute") {
                return Err(Error::EncryptedNotSupported("EncryptedAttribute"));
            }
            if !at.is(ns::ASSERTION, "Attribute") {
                continue;
            }
            let name = at
                .attribute("Name")
                .ok_or_else(|| Error::malformed("attribute without Name"))?
                .to_owned();
            // Two attributes with one Name are ambiguous (which one does the app read?).
            if out.iter().any(|x: &Attribute| x.name == name) {
                return Err(Error::malformed(format!(
                    "attribute {name:?} appears twice"
                )));
            }
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
            out.push(Attribute {
                name,
                name_format: at.attribute("NameFormat").map(str::to_owned),
                friendly_name: at.attribute("FriendlyName").map(str::to_owned),
                values,
            });
        }
    }
    Ok(out)
}

/// A UTF-16 byte-order mark, or `<` in UTF-16 without one (XML 1.0 appendix F).
fn looks_utf16(b: &[u8]) -> bool {
    matches!(
        b,
        [0xFE, 0xFF, ..] | [0xFF, 0xFE, ..] | [0, b'<', ..] | [b'<', 0, ..]
    )
}

fn read_header<'d, V: View<'d>>(r: V) -> Result<Header, Error> {
    Ok(Header {
        id: r.attribute("ID").map(str::to_owned),
        destination: r.attribute("Destination").map(str::to_owned),
        in_response_to: r.attribute("InResponseTo").map(str::to_owned),
        issuer: r
            .first_child(ns::ASSERTION, "Issuer")
            .map(|i| collapsed_text(i, "issuer"))
            .transpose()?,
    })
}

/// SAML core 2.5.1: a condition the SP does not understand makes the assertion
/// Indeterminate, which must not be treated as Valid. Known here: AudienceRestriction
/// (checked by the caller), OneTimeUse (the replay cache enforces it for every assertion)
/// and ProxyRestriction (limits what a relying party re-issues; this SP issues nothing),
/// each of the last two at most once (the schema's cardinality). Returns whether OneTimeUse
/// is present.
fn check_condition_kinds<'d, V: View<'d>>(c: V) -> Result<bool, Error> {
    let (mut one_time_use, mut proxy_restriction) = (0, 0);
    for child in c.child_elements() {
        if child.is(ns::ASSERTION, "AudienceRestriction") {
            continue;
        }
        let seen = if child.is(ns::ASSERTION, "OneTimeUse") {
            &mut one_time_use
        } else if child.is(ns::ASSERTION, "ProxyRestriction") {
            &mut proxy_restriction
        } else {
            return Err(Error::UnknownCondition {
                name: condition_name(child),
            });
        };
        *seen += 1;
        if *seen > 1 {
            return Err(Error::malformed(
                "conditions repeat OneTimeUse or ProxyRestriction",
            ));
        }
    }
    Ok(one_time_use == 1)
}

/// How an unknown condition is named in the error: its `xsi:type` for a generic
/// `saml:Condition`, otherwise its local name.
fn condition_name<'d, V: View<'d>>(c: V) -> String {
    let name = match c.attribute_ns(ns::XSI, "type") {
        Some(t) if c.is(ns::ASSERTION, "Condition") => t,
        _ => c.local_name(),
    };
    name.chars().take(64).collect()
}

fn out_of_range(what: &'static str, at: &str) -> Error {
    TimeError::OutOfRange {
        what,
        at: at.to_owned(),
    }
    .into()
}

fn unreachable_signatures<T>() -> Result<T, Error> {
    Err(SignatureError::Missing.into())
}

fn is_inside(e: Element<'_>, ancestor: Element<'_>) -> bool {
    let mut cur = e.parent();
    while let Some(p) = cur {
        if p == ancestor {
            return true;
        }
        cur = p.parent();
    }
    false
}

/// Status must be Success (SAML core 3.2.2.2); otherwise report every nested code and the
/// message. Read from the unsigned envelope: this only ever produces a rejection.
fn check_status(root: Element<'_>) -> Result<(), Error> {
    let status = root
        .children_named(ns::PROTOCOL, "Status")
        .next()
        .ok_or_else(|| Error::malformed("response has no Status"))?;
    let mut codes = Vec::new();
    let mut code = status.children_named(ns::PROTOCOL, "StatusCode").next();
    while let Some(c) = code {
        if codes.len() >= 8 {
            break;
        }
        codes.push(c.attribute("Value").unwrap_or("").to_owned());
        code = c.children_named(ns::PROTOCOL, "StatusCode").next();
    }
    if codes.is_empty() {
        return Err(Error::malformed("status has no StatusCode"));
    }
    if codes[0] == ns::STATUS_SUCCESS {
        return Ok(());
    }
    let message = status
        .children_named(ns::PROTOCOL, "StatusMessage")
        .next()
        .map(|m| m.text().into_owned());
    Err(Error::Status { codes, message })
}

/// IDs must be unique document-wide (XML-DSig reference resolution is ambiguous otherwise:
/// the crewjam CVE-2022-41912 shape). Checks the `ID` attribute SAML uses.
fn check_unique_ids(root: Element<'_>) -> Result<usize, Error> {
    let mut seen = HashSet::new();
    for e in std::iter::once(root).chain(root.descendants()) {
        if let Some(id) = e.attribute("ID")
            && !seen.insert(id)
        {
            return Err(SignatureError::DuplicateId(id.to_owned()).into());
        }
    }
    Ok(seen.len())
}
