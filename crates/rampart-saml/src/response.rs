//! Response validation for the HTTP-POST binding (SAML core 2.0 3.2.2 and 2.3-2.7; SAML
//! profiles 4.1.4 Web Browser SSO; SAML bindings 3.5.5.2).
//!
//! The order of work is: decode and parse (DOCTYPE, entities and limits refused by the tree),
//! structure (root, status, exactly one assertion, no stray assertion anywhere), signatures
//! (configured keys only, each covering the element that contains it), then every value of the
//! login read from the verified view.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_xmldsig::{Document, Limits};

use crate::config::ServiceProvider;
use crate::error::{Error, MismatchError, SignatureError};
use crate::login::{Login, SignedParts};
use crate::ns;
use crate::replay::{MemoryReplayCache, ReplayCache};
use crate::trace::Trace;
use crate::view::View;

// `Validation` runs the checks in order; each module below holds one job of it.
mod assertion;
mod conditions;
#[cfg(feature = "encrypted-assertions")]
mod encrypted;
mod header;
mod structure;

use header::read_header;
use structure::{Found, check_status, check_unique_ids, unreachable_signatures};

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
    /// [`with_max_response_bytes`](crate::ServiceProviderBuilder::with_max_response_bytes).
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
        decode_response_within(input, self.max_response_bytes)
    }
}

/// [`ServiceProvider::decode_response`] with the size limit given: for callers that hold no
/// service provider yet (the tenant registry's issuer peek on a shared ACS).
pub(crate) fn decode_response_within(
    input: &[u8],
    max_response_bytes: usize,
) -> Result<Vec<u8>, Error> {
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or_else(|| Error::Input("empty input".into()))?;
    let body = &input[start..];
    // UTF-16 goes to the parser too, which names it (only UTF-8 is read) instead of
    // calling it "neither xml nor base64".
    if body.starts_with(b"<") || body.starts_with("\u{feff}".as_bytes()) || looks_utf16(body) {
        if body.len() > max_response_bytes {
            return Err(Error::Input(format!(
                "response larger than {} bytes",
                max_response_bytes
            )));
        }
        return Ok(body.to_vec());
    }
    // base64 is 4/3 of the decoded size, plus line breaks some IdPs insert.
    // Saturating: build() caps max_response_bytes, this keeps the bound panic-free anyway.
    let limit = max_response_bytes.saturating_add(max_response_bytes / 8);
    if body.len() / 4 * 3 > limit {
        return Err(Error::Input(format!(
            "response larger than {} bytes",
            max_response_bytes
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
    if xml.len() > max_response_bytes {
        return Err(Error::Input(format!(
            "response larger than {} bytes",
            max_response_bytes
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

struct Validation<'a, 'd> {
    sp: &'a ServiceProvider,
    doc: &'d Document,
    expected: Expected<'a>,
    now: SystemTime,
    trace: &'a mut Trace,
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
            Some(v) => Err(Error::malformed(format!(
                "response version {v:?} is not 2.0"
            ))),
            None => Err(Error::malformed(
                "response has no Version attribute (2.0 expected)",
            )),
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
        #[cfg(feature = "encrypted-assertions")]
        let assertion = match self.single_assertion(root)? {
            Found::Plain(a) => a,
            Found::Encrypted(ea) => return self.run_encrypted(root, ea),
        };
        // Without the feature an EncryptedAssertion was refused as not supported.
        #[cfg(not(feature = "encrypted-assertions"))]
        let Found::Plain(assertion) = self.single_assertion(root)?;

        // Signatures.
        let response_sig = self.single_signature(root, "response")?;
        let assertion_sig = self.single_signature(assertion, "assertion")?;
        self.require_signatures(response_sig.is_some(), assertion_sig.is_some())?;
        let response_checked = match response_sig {
            Some(sig) => Some(self.verify("signature.response", sig, root)?),
            None => None,
        };
        let assertion_checked = match assertion_sig {
            Some(sig) => Some(self.verify("signature.assertion", sig, assertion)?),
            None => None,
        };

        // From here on, values come only from verified views.
        match (&response_checked, &assertion_checked) {
            (Some(r), Some(a)) => self.finish(
                read_header(r.signed)?,
                true,
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
                self.finish(
                    read_header(r.signed)?,
                    true,
                    a,
                    r.certificate,
                    SignedParts::Response,
                )
            }
            (None, Some(a)) => self.finish(
                read_header(root)?,
                false,
                a.signed,
                a.certificate,
                SignedParts::Assertion,
            ),
            (None, None) => unreachable_signatures(),
        }
    }

    /// At least one signature, and on the assertion when the configuration requires it.
    pub(super) fn require_signatures(
        &mut self,
        response: bool,
        assertion: bool,
    ) -> Result<(), Error> {
        if !response && !assertion {
            self.trace.fail(
                "signature",
                "neither the response nor the assertion carries a ds:Signature",
            );
            return Err(SignatureError::Missing.into());
        }
        if self.sp.require_signed_assertions && !assertion {
            self.trace.fail(
                "signature.assertion",
                "the configuration requires a signed assertion",
            );
            return Err(SignatureError::AssertionNotSigned.into());
        }
        Ok(())
    }

    /// The checks after the signatures, the same for a plain and a decrypted assertion:
    /// `header` from the signed Response when `response_signed`, else from the unsigned
    /// envelope; `assertion` from a verified view (or, for a decrypted assertion
    /// under a signed Response only, from the plaintext of the signed ciphertext).
    pub(super) fn finish<'v, V: View<'v>>(
        &mut self,
        header: header::Header,
        response_signed: bool,
        assertion: V,
        certificate: usize,
        signed: SignedParts,
    ) -> Result<Login, Error> {
        self.check_header(&header, response_signed)?;
        let mut login = self.read_assertion(assertion)?;
        // The login must be bound to our request by a signed InResponseTo: the bearer
        // confirmation's, or the signed Response's (profiles 4.1.4.2 and 4.1.4.3).
        if let Expected::Request(id) = self.expected {
            let response_bound = response_signed && header.in_response_to.as_deref() == Some(id);
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
        login.response_id = if response_signed { header.id } else { None };
        login.signed = signed;
        login.signing_certificate_sha256 = self.sp.idp.certificates[certificate]
            .fingerprint_sha256()
            .to_string();
        Ok(login)
    }
}

/// A UTF-16 byte-order mark, or `<` in UTF-16 without one (XML 1.0 appendix F).
fn looks_utf16(b: &[u8]) -> bool {
    matches!(
        b,
        [0xFE, 0xFF, ..] | [0xFF, 0xFE, ..] | [0, b'<', ..] | [b'<', 0, ..]
    )
}
