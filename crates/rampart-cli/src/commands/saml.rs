//! `rampart saml verify|metadata|authn-request|logout-request|verify-logout`: a debugging tool
//! for SAML logins and logouts.
//!
//! `verify` runs rampart-saml's full response validation (the same code a service runs) and,
//! with `--explain`, prints its trace: every check, what it compared, and which one failed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rampart::saml::{
    AlgorithmError, Certificate, DEFAULT_MAX_AUTHN_AGE, Error, Expected, IdentityProvider,
    IdpMetadata, Login, LogoutError, LogoutSession, NameId, ServiceProvider,
    ServiceProviderBuilder, SignatureError, SigningKey, SpMetadata, TimeError, Trace, binding,
};
use rampart::xmldsig::{DSIG_NS, Document, Element};
use serde_json::{Value, json};

use crate::cli::{LegacyArgs, LogoutBinding, SamlCommand};
use crate::input;
use crate::output::{Failure, Report};

/// Entity id used for a first pass when the IdP's is not known (see [`verify`]).
const UNKNOWN_IDP: &str = "urn:rampart:cli:idp-entity-id-not-given";

/// Runs a saml subcommand.
pub(crate) fn run(cmd: SamlCommand) -> Result<Report, Failure> {
    match cmd {
        SamlCommand::Verify {
            idp_cert,
            idp_metadata,
            idp_entity_id,
            sp_entity_id,
            acs_url,
            request_id,
            now,
            explain,
            legacy,
            #[cfg(feature = "encrypted-assertions")]
            decryption_key,
            response,
        } => {
            let now = parse_now(now.as_deref())?;
            let (entity_id, certs) =
                trusted_idp(&idp_cert, idp_metadata.as_deref(), idp_entity_id, now)?;
            let sp = Sp {
                entity_id: sp_entity_id,
                acs_url,
                certs,
                legacy,
                #[cfg(feature = "encrypted-assertions")]
                decryption_keys: decryption_key,
            };
            let input = input::document(&response)?;
            verify(
                &sp,
                entity_id.as_deref(),
                request_id.as_deref(),
                now,
                explain,
                &input,
            )
        }
        SamlCommand::Metadata {
            sp_entity_id,
            acs_url,
            cert,
            sign_key,
            #[cfg(feature = "encrypted-assertions")]
            encryption_cert,
            slo_url,
            output,
            raw,
        } => {
            #[cfg(not(feature = "encrypted-assertions"))]
            let encryption_cert: Vec<PathBuf> = Vec::new();
            let xml = metadata(
                &sp_entity_id,
                &acs_url,
                cert.as_deref(),
                sign_key.as_deref(),
                &encryption_cert,
                slo_url.as_deref(),
            )?;
            match output {
                Some(path) => {
                    crate::output::replace_file(&path, xml.as_bytes())?;
                    Ok(Report::success(
                        json!({ "written": path.display().to_string() }),
                    ))
                }
                None if raw => Ok(Report::raw(xml)),
                None => Ok(Report::success(json!({ "metadata": xml }))),
            }
        }
        SamlCommand::AuthnRequest {
            idp_metadata,
            sp_entity_id,
            acs_url,
            sign_key,
            cert,
            relay_state,
        } => authn_request(
            &idp_metadata,
            &sp_entity_id,
            &acs_url,
            sign_key.as_deref(),
            cert.as_deref(),
            relay_state.as_deref(),
        ),
        SamlCommand::LogoutRequest {
            idp_cert,
            idp_metadata,
            destination,
            sp_entity_id,
            name_id,
            name_id_format,
            name_qualifier,
            sp_name_qualifier,
            session_index,
            sign_key,
            cert,
            relay_state,
            now,
        } => {
            let now = parse_now(now.as_deref())?;
            let destination = match (destination, idp_metadata.as_deref()) {
                (Some(url), _) => url,
                (None, Some(path)) => slo_redirect_url(path)?,
                (None, None) => {
                    return Err(Failure::input(
                        "usage",
                        "give --destination URL or --idp-metadata XML",
                    ));
                }
            };
            let (entity_id, certs) = trusted_idp(&idp_cert, idp_metadata.as_deref(), None, now)?;
            let mut n = NameId::new(name_id);
            n.format = name_id_format;
            n.name_qualifier = name_qualifier;
            n.sp_name_qualifier = sp_name_qualifier;
            logout_request(LogoutRequestArgs {
                idp_entity_id: entity_id.as_deref().unwrap_or(UNKNOWN_IDP),
                certs,
                destination: &destination,
                sp_entity_id: &sp_entity_id,
                name_id: n,
                session_indexes: &session_index,
                signing_key: signing_key(&sign_key, cert.as_deref())?,
                relay_state: relay_state.as_deref(),
                now,
            })
        }
        SamlCommand::VerifyLogout {
            idp_cert,
            idp_metadata,
            idp_entity_id,
            sp_entity_id,
            slo_url,
            binding,
            request_id,
            name_id,
            name_id_format,
            session_index,
            now,
            legacy,
            input,
        } => {
            let now = parse_now(now.as_deref())?;
            let (entity_id, certs) =
                trusted_idp(&idp_cert, idp_metadata.as_deref(), idp_entity_id, now)?;
            let entity_id = entity_id
                .ok_or_else(|| Failure::input("usage", "give --idp-entity-id or --idp-metadata"))?;
            let idp = IdentityProvider::new(entity_id, certs).map_err(|e| config(&e))?;
            // The ACS URL is not used by logout; the builder needs one.
            let builder = ServiceProvider::builder(&sp_entity_id, &slo_url).identity_provider(idp);
            let sp = apply_legacy(builder, legacy)
                .build()
                .map_err(|e| config(&e))?;
            let expected = match (request_id, name_id) {
                (Some(id), _) => Expecting::Response(id),
                (None, Some(value)) => {
                    let mut n = NameId::new(value);
                    n.format = name_id_format;
                    let mut s = LogoutSession::new(n);
                    if let Some(i) = session_index {
                        s = s.with_session_index(i);
                    }
                    Expecting::Request(s)
                }
                (None, None) => {
                    return Err(Failure::input(
                        "usage",
                        "give --request-id (a LogoutResponse) or --name-id (a LogoutRequest)",
                    ));
                }
            };
            let text = input::document(&input)?;
            let outcome = verify_logout(&sp, &slo_url, binding, &expected, &text, now);
            Ok(with_legacy(outcome, legacy)?)
        }
    }
}

/// What `saml verify-logout` expects the input to be.
enum Expecting {
    /// The LogoutResponse to our LogoutRequest with this id.
    Response(String),
    /// An IdP-initiated LogoutRequest for this session.
    Request(LogoutSession),
}

/// `saml verify-logout`: the library's validation, one-shot (no replay cache).
fn verify_logout(
    sp: &ServiceProvider,
    slo_url: &str,
    binding: LogoutBinding,
    expected: &Expecting,
    input: &[u8],
    now: SystemTime,
) -> Result<Report, Failure> {
    let slo = sp.single_logout(slo_url);
    let text = std::str::from_utf8(input)
        .map_err(|_| Failure::input("malformed_input", "the input is not utf-8"))?;
    // A POST body (`SAMLRequest=..&RelayState=..`), or the bare form value / XML.
    let (form_value, relay_state) = match binding {
        LogoutBinding::Post => post_body(text.trim_ascii()),
        LogoutBinding::Redirect => (String::new(), None),
    };
    let query = text.trim_ascii();
    let result = match (expected, binding) {
        (Expecting::Response(id), LogoutBinding::Redirect) => slo
            .validate_logout_response_redirect(query, id, now)
            .map(|o| outcome_json(&o)),
        (Expecting::Response(id), LogoutBinding::Post) => slo
            .validate_logout_response_post(form_value.as_bytes(), id, now)
            .map(|o| outcome_json(&o)),
        (Expecting::Request(session), LogoutBinding::Redirect) => slo
            .validate_logout_request_redirect(query, session, now)
            .map(|v| request_json(&v.into_request_without_replay_check())),
        (Expecting::Request(session), LogoutBinding::Post) => slo
            .validate_logout_request_post(
                form_value.as_bytes(),
                relay_state.as_deref(),
                session,
                now,
            )
            .map(|v| request_json(&v.into_request_without_replay_check())),
    };
    match result {
        Ok(mut body) => {
            body["valid"] = Value::Bool(true);
            body["replay_checked"] = Value::Bool(false);
            Ok(Report::success(body))
        }
        Err(LogoutError::Saml(e)) => Err(verdict_failure(&e)),
        Err(LogoutError::QuerySignature(reason)) if legacy_refusal(&reason).is_some() => {
            Err(Failure::rejected(
                "algorithm_refused",
                format!(
                    "query signature refused: {}",
                    legacy_refusal(&reason).unwrap_or_default()
                ),
            ))
        }
        Err(e) => Err(Failure::rejected(e.kind(), e.to_string())),
    }
}

/// The debugging-only opt-ins, applied to a service provider.
fn apply_legacy(
    mut builder: ServiceProviderBuilder<IdentityProvider>,
    legacy: LegacyArgs,
) -> ServiceProviderBuilder<IdentityProvider> {
    if legacy.allow_sha1 {
        builder = builder.allow_sha1_signatures();
    }
    if legacy.allow_small_rsa {
        builder = builder.allow_small_rsa_keys();
    }
    builder
}

/// The flags of `legacy` that were given, as typed.
fn legacy_flags(legacy: LegacyArgs) -> Vec<&'static str> {
    let mut flags = Vec::new();
    if legacy.allow_sha1 {
        flags.push("--allow-sha1");
    }
    if legacy.allow_small_rsa {
        flags.push("--allow-small-rsa");
    }
    flags
}

/// Puts the debugging-only opt-ins in the result, whatever the verdict: a line on stderr
/// and `"debugging_only_allowed":[..]` in the JSON, so an accepted message is never mistaken
/// for one a service would accept.
fn with_legacy(outcome: Result<Report, Failure>, legacy: LegacyArgs) -> Result<Report, Failure> {
    let flags = legacy_flags(legacy);
    if flags.is_empty() {
        return outcome;
    }
    let warning = format!(
        "warning: {} given: DEBUGGING ONLY; a service with default settings refuses what \
         this run accepted",
        flags.join(" and ")
    );
    let listed = Value::Array(flags.iter().map(|f| json!(f)).collect());
    match outcome {
        Ok(mut report) => {
            report.body["debugging_only_allowed"] = listed;
            report.notes.insert(0, warning);
            Ok(report)
        }
        Err(mut failure) => {
            failure
                .extra
                .insert("debugging_only_allowed".to_owned(), listed);
            failure.notes.insert(0, warning);
            Err(failure)
        }
    }
}

/// For a signature refused because of SHA-1 or a small RSA key, what to say instead of the
/// library's text (which names the library's opt-in, not this tool's flag).
fn legacy_refusal(reason: &rampart::xmldsig::SignatureError) -> Option<&'static str> {
    use rampart::xmldsig::SignatureError as S;
    match reason {
        S::Sha1NotAllowed => Some(
            "the signature uses SHA-1, which is refused (broken for collisions); rerun with \
             --allow-sha1 to check the rest (debugging only: ask the IdP for SHA-256)",
        ),
        S::KeyTooSmall => Some(
            "the trusted certificate's RSA key is smaller than 2048 bits, which is refused; \
             rerun with --allow-small-rsa to check the rest (debugging only: ask the IdP for \
             a 2048-bit key)",
        ),
        _ => None,
    }
}

/// rampart-xmldsig's reason inside a response validation error, if there is one.
fn xmldsig_reason(err: &Error) -> Option<&rampart::xmldsig::SignatureError> {
    match err {
        Error::Signature(
            SignatureError::Algorithm(AlgorithmError::Refused(reason))
            | SignatureError::Invalid(rampart::xmldsig::Error::Signature { reason, .. }),
        ) => Some(reason),
        _ => None,
    }
}

/// The SAMLRequest/SAMLResponse value and RelayState of a form body, URL-decoded; a body
/// that is not a form (the bare value or the XML) is returned as it is.
fn post_body(body: &str) -> (String, Option<String>) {
    if !(body.starts_with("SAMLRequest=")
        || body.starts_with("SAMLResponse=")
        || body.contains("&SAMLRequest=")
        || body.contains("&SAMLResponse="))
    {
        return (body.to_owned(), None);
    }
    let mut value = String::new();
    let mut relay_state = None;
    for part in body.split('&') {
        let (name, v) = part.split_once('=').unwrap_or((part, ""));
        // base64 holds no space: a `+` left unencoded by the sender is base64's `+`.
        let decode = |v: &str| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        };
        match name {
            "SAMLRequest" | "SAMLResponse" => value = decode(v),
            "RelayState" => relay_state = Some(decode(&v.replace('+', " "))),
            _ => {}
        }
    }
    (value, relay_state)
}

fn request_json(r: &rampart::saml::IdpLogoutRequest) -> Value {
    json!({
        "kind": "logout_request",
        "id": r.id(),
        "issuer": r.issuer(),
        "name_id": r.name_id().value,
        "name_id_format": r.name_id().format,
        "session_indexes": r.session_indexes(),
        "relay_state": r.relay_state(),
    })
}

fn outcome_json(o: &rampart::saml::LogoutOutcome) -> Value {
    json!({
        "kind": "logout_response",
        "id": o.id,
        "in_response_to": o.in_response_to,
        "partial": o.partial,
    })
}

/// What `saml logout-request` needs.
struct LogoutRequestArgs<'a> {
    idp_entity_id: &'a str,
    certs: Vec<Certificate>,
    destination: &'a str,
    sp_entity_id: &'a str,
    name_id: NameId,
    session_indexes: &'a [String],
    signing_key: SigningKey,
    relay_state: Option<&'a str>,
    now: SystemTime,
}

/// `saml logout-request`: a signed HTTP-Redirect LogoutRequest.
fn logout_request(a: LogoutRequestArgs<'_>) -> Result<Report, Failure> {
    let idp = IdentityProvider::new(a.idp_entity_id, a.certs).map_err(|e| config(&e))?;
    // The ACS URL is not used by logout; the builder needs one.
    let sp = ServiceProvider::builder(a.sp_entity_id, a.destination)
        .identity_provider(idp)
        .with_signing_key(a.signing_key)
        .build()
        .map_err(|e| config(&e))?;
    let slo = sp.single_logout(a.destination);
    let mut builder = slo.logout_request(a.destination, a.name_id);
    for s in a.session_indexes {
        builder = builder.with_session_index(s);
    }
    let logout_failure = |e: LogoutError| match e {
        LogoutError::Saml(e) => config(&e),
        e => Failure::input(e.kind(), e.to_string()),
    };
    let request = builder.build(a.now).map_err(logout_failure)?;
    let url = request
        .redirect_url(&sp, a.relay_state)
        .map_err(logout_failure)?;
    Ok(Report::success(json!({
        "id": request.id(),
        "destination": a.destination,
        "redirect_url": url,
        "signed": true,
        "xml": request.xml(),
    })))
}

/// Our side of the configuration, and the IdP certificates we trust.
struct Sp {
    entity_id: String,
    acs_url: String,
    certs: Vec<Certificate>,
    /// `--allow-sha1`, `--allow-small-rsa`.
    legacy: LegacyArgs,
    /// `--decryption-key` files (key and certificate in one PEM file).
    #[cfg(feature = "encrypted-assertions")]
    decryption_keys: Vec<PathBuf>,
}

impl Sp {
    /// A builder with the given opt-ins (`legacy`, not always `self.legacy`: see
    /// [`verify`]).
    fn builder(
        &self,
        idp_entity_id: &str,
        legacy: LegacyArgs,
    ) -> Result<ServiceProviderBuilder<IdentityProvider>, Failure> {
        let idp =
            IdentityProvider::new(idp_entity_id, self.certs.clone()).map_err(|e| config(&e))?;
        #[allow(unused_mut)]
        let mut builder = apply_legacy(
            ServiceProvider::builder(&self.entity_id, &self.acs_url).identity_provider(idp),
            legacy,
        );
        #[cfg(feature = "encrypted-assertions")]
        for path in &self.decryption_keys {
            builder = builder.with_decryption_key(decryption_key(path)?);
        }
        Ok(builder)
    }
}

/// The IdP entity id (if known) and the certificates to trust: every `--idp-cert`, plus the
/// signing certificates of `--idp-metadata`.
fn trusted_idp(
    cert_files: &[PathBuf],
    metadata: Option<&Path>,
    entity_id: Option<String>,
    now: SystemTime,
) -> Result<(Option<String>, Vec<Certificate>), Failure> {
    let mut certs = Vec::new();
    for path in cert_files {
        // Every certificate of a bundle is trusted: an IdP mid-rollover hands out two.
        certs.extend(certificates(path)?);
    }
    let mut entity_id = entity_id;
    if let Some(path) = metadata {
        let md = idp_metadata(path)?;
        // Refuses expired metadata (validUntil), as a service would.
        let idp = md.to_identity_provider(now).map_err(|e| {
            // validUntil is the one check that depends on the time: metadata that converts
            // at the epoch but not now has expired.
            if md.to_identity_provider(SystemTime::UNIX_EPOCH).is_ok() {
                Failure::input(
                    e.kind(),
                    format!(
                        "{}: {e}; fetch current metadata from the IdP, or to debug with this \
                         copy give --now with a time before its validUntil, or trust the \
                         certificate directly with --idp-cert PEM and --idp-entity-id ID",
                        path.display()
                    ),
                )
            } else {
                config(&e)
            }
        })?;
        entity_id = Some(idp.entity_id().to_owned());
        certs.extend(idp.certificates().iter().cloned());
    }
    Ok((entity_id, certs))
}

/// One certificate to publish; a bundle is refused rather than cut to its first entry.
fn certificate(path: &Path) -> Result<Certificate, Failure> {
    let pem = input::document(path)?;
    Certificate::from_pem(&pem).map_err(|e| {
        let message = match e {
            rampart::xmldsig::Error::Key(rampart::xmldsig::KeyError::SeveralCertificates(n)) => {
                format!(
                    "{}: holds {n} certificates where one is expected; give a file with only \
                     the one to publish",
                    path.display()
                )
            }
            e => format!("{}: {e}", path.display()),
        };
        Failure::input("invalid_certificate", message)
    })
}

fn certificates(path: &Path) -> Result<Vec<Certificate>, Failure> {
    let pem = input::document(path)?;
    Certificate::all_from_pem(&pem)
        .map_err(|e| Failure::input("invalid_certificate", format!("{}: {e}", path.display())))
}

/// The HTTP-Redirect SingleLogoutService URL that the IdP's metadata names.
fn slo_redirect_url(path: &Path) -> Result<String, Failure> {
    idp_metadata(path)?
        .slo_url(binding::HTTP_REDIRECT)
        .map(str::to_owned)
        .ok_or_else(|| {
            Failure::input(
                "usage",
                format!(
                    "{}: the IdP metadata names no HTTP-Redirect SingleLogoutService; give \
                     --destination URL",
                    path.display()
                ),
            )
        })
}

fn idp_metadata(path: &Path) -> Result<IdpMetadata, Failure> {
    let xml = input::document(path)?;
    IdpMetadata::parse(&xml)
        .map_err(|e| Failure::input("invalid_metadata", format!("{}: {e}", path.display())))
}

fn parse_now(text: Option<&str>) -> Result<SystemTime, Failure> {
    let Some(text) = text else {
        return Ok(SystemTime::now());
    };
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(SystemTime::from)
        .map_err(|_| {
            Failure::input(
                "usage",
                format!("--now {text:?}: expected RFC 3339, e.g. 2026-11-23T10:00:00Z"),
            )
        })
}

/// `saml verify`.
///
/// When the IdP entity id is not given, a first pass with a placeholder learns the Issuer the
/// response names (from the issuer check's error) and a second pass uses it: every other
/// check runs as usual and trust rests on the configured certificates; the output says that
/// the issuer was not compared (`"issuer_checked":false`).
fn verify(
    sp: &Sp,
    idp_entity_id: Option<&str>,
    request_id: Option<&str>,
    now: SystemTime,
    explain: bool,
    input: &[u8],
) -> Result<Report, Failure> {
    let outcome = verify_inner(sp, idp_entity_id, request_id, now, explain, input);
    with_legacy(outcome, sp.legacy)
}

/// One validation by rampart-saml, with its trace.
type Run = (Result<Login, Error>, Trace, ServiceProvider);

fn verify_inner(
    sp: &Sp,
    idp_entity_id: Option<&str>,
    request_id: Option<&str>,
    now: SystemTime,
    explain: bool,
    input: &[u8],
) -> Result<Report, Failure> {
    let run_with = |entity: &str, legacy: LegacyArgs| -> Result<Run, Failure> {
        let mut builder = sp.builder(entity, legacy)?;
        let expected = match request_id {
            Some(id) => Expected::Request(id),
            None => {
                builder = builder.accept_idp_initiated_unsolicited_responses();
                Expected::Unsolicited
            }
        };
        let provider = builder.build().map_err(|e| config(&e))?;
        let mut trace = Trace::default();
        let result = provider
            .validate_response_explained(input, expected, now, &mut trace)
            .map(rampart::saml::ValidatedResponse::into_login_without_replay_check);
        Ok((result, trace, provider))
    };
    // A certificate that is not the signer's is reported as that, before any key-size rule:
    // rampart-xmldsig names a small trusted key first, which sends a person who trusted the
    // wrong (old, small) certificate after the key size. When the signature still does not
    // verify with small keys allowed, that second verdict is the true one.
    let run = |entity: &str| -> Result<Run, Failure> {
        let first = run_with(entity, sp.legacy)?;
        let too_small = matches!(
            first.0.as_ref().err().and_then(xmldsig_reason),
            Some(rampart::xmldsig::SignatureError::KeyTooSmall)
        );
        if !too_small {
            return Ok(first);
        }
        let relaxed = LegacyArgs {
            allow_small_rsa: true,
            ..sp.legacy
        };
        let second = run_with(entity, relaxed)?;
        match &second.0 {
            Err(Error::Signature(SignatureError::UntrustedKey | SignatureError::Invalid(_))) => {
                Ok(second)
            }
            _ => Ok(first),
        }
    };
    let (result, mut trace, provider, issuer_checked) = match idp_entity_id {
        Some(entity) => {
            let (r, t, p) = run(entity)?;
            (r, t, p, true)
        }
        None => match run(UNKNOWN_IDP)? {
            (Err(Error::Mismatch(rampart::saml::MismatchError::Issuer { found })), _, _) => {
                let (r, t, p) = run(&found)?;
                (r, t, p, false)
            }
            (r, t, p) => (r, t, p, false),
        },
    };
    let skew = provider.clock_skew();
    // The failing step of the trace says what the message says, in this tool's words.
    if let Err(err) = &result {
        let message = response_failure(err, request_id).message;
        if message != err.to_string()
            && let Some(step) = trace.steps.iter_mut().rev().find(|s| !s.passed)
        {
            step.detail = message;
        }
    }
    if !explain {
        // The JSON says `issuer_checked: false`; a person reading only the verdict is told too.
        let warning = (!issuer_checked).then(|| {
            "warning: the Issuer was not checked (no --idp-entity-id or --idp-metadata); \
             any IdP holding one of the --idp-cert keys is accepted"
                .to_owned()
        });
        return match result {
            Ok(login) => {
                let mut body = login_json(&login);
                body["issuer_checked"] = Value::Bool(issuer_checked);
                let mut report = Report::success(body);
                report.notes.extend(warning);
                Ok(report)
            }
            Err(err) => {
                let mut failure = response_failure(&err, request_id);
                failure.notes.extend(warning);
                Err(failure)
            }
        };
    }
    let mut notes = vec![format!(
        "[note] now={}, skew={}s",
        rfc3339(now.into()),
        skew.as_secs()
    )];
    if !issuer_checked {
        notes.push(
            "[note] issuer: not compared (no --idp-entity-id or --idp-metadata); \
             trust rests on the --idp-cert certificates"
                .to_owned(),
        );
    }
    if request_id.is_none() {
        notes.push("[note] no --request-id: checked as an IdP-initiated response".to_owned());
    }
    notes.push("[note] replay: not checked (one-shot verification)".to_owned());
    notes.extend(trace.to_string().lines().map(str::to_owned));
    let checks = serde_json::to_value(&trace.steps).unwrap_or(Value::Null);
    let clock = json!({ "now": rfc3339(now.into()), "skew_seconds": skew.as_secs() });
    match result {
        Ok(login) => {
            let mut body = login_json(&login);
            body["issuer_checked"] = Value::Bool(issuer_checked);
            body["checks"] = checks;
            body["clock"] = clock;
            let mut report = Report::success(body);
            report.notes = notes;
            Ok(report)
        }
        Err(err) => {
            let mut failure = response_failure(&err, request_id)
                .with("checks", checks)
                .with("clock", clock);
            // The document is parsed again here, for information only: nothing read from it
            // below decides anything.
            let doc = provider
                .decode_response(input)
                .ok()
                .and_then(|xml| Document::parse(&xml).ok());
            match &err {
                // A signature no trusted key verifies: rampart-saml calls it an untrusted key
                // when KeyInfo names another certificate, and an invalid signature otherwise
                // (which includes altered content); either way the certificates are what a
                // person checks first after an IdP rotated its key.
                Error::Signature(
                    sig_err @ (SignatureError::UntrustedKey | SignatureError::Invalid(_)),
                ) => {
                    let found = doc.as_ref().map(document_certificates);
                    let untrusted = matches!(sig_err, SignatureError::UntrustedKey);
                    notes.extend(certificate_notes(untrusted, &sp.certs, found.as_deref()));
                    failure = failure
                        .with(
                            "trusted_certificates",
                            sp.certs.iter().map(certificate_json).collect(),
                        )
                        .with(
                            "document_certificates",
                            found
                                .unwrap_or_default()
                                .iter()
                                .map(|f| f.to_json(&sp.certs))
                                .collect(),
                        );
                }
                Error::Time(time_err) => {
                    let windows = doc.as_ref().map(time_windows).unwrap_or_default();
                    notes.extend(time_notes(time_err, now, skew, &windows));
                    failure = failure.with(
                        "times",
                        windows
                            .iter()
                            .map(|w| {
                                json!({
                                    "element": w.element,
                                    "attribute": w.attribute,
                                    "value": w.value,
                                })
                            })
                            .collect(),
                    );
                }
                _ => {}
            }
            failure.notes = notes;
            Err(failure)
        }
    }
}

/// [`verdict_failure`] for `saml verify`, which knows whether `--request-id` was given.
fn response_failure(err: &Error, request_id: Option<&str>) -> Failure {
    match (err, request_id) {
        // Without --request-id the response was checked as IdP-initiated; one that names a
        // request is not "mismatched", it answers a request this run was not told about.
        (Error::Mismatch(rampart::saml::MismatchError::InResponseTo { found }), None)
            if !found.is_empty() =>
        {
            Failure::rejected(
                err.kind(),
                format!(
                    "the response answers request {found:?}, but no --request-id was given; \
                     give --request-id with the id `saml authn-request` printed for that request"
                ),
            )
        }
        _ => verdict_failure(err),
    }
}

/// A rejection (exit 1), or an input or configuration error (exit 2).
fn verdict_failure(err: &Error) -> Failure {
    let message = match (err, xmldsig_reason(err).and_then(legacy_refusal)) {
        (_, Some(text)) => text.to_owned(),
        (Error::Signature(SignatureError::UntrustedKey), None) => format!(
            "{err}: the response was signed with another key than the trusted certificates' \
             (--explain lists both, with their fingerprints)"
        ),
        (_, None) => err.to_string(),
    };
    match err {
        Error::Config(_) | Error::Key { .. } | Error::Input(_) => {
            Failure::input(err.kind(), message)
        }
        _ => Failure::rejected(err.kind(), message),
    }
}

// ---------------------------------------------------------------------------------------------
// --explain: what a person needs to see when a login fails. Everything here reads the
// response again, after rampart-saml has decided; it only describes.

const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

fn certificate_json(c: &Certificate) -> Value {
    json!({ "subject": c.subject(), "sha256": c.fingerprint_sha256().to_string() })
}

/// A certificate found in a `ds:KeyInfo` of the response.
struct FoundCertificate {
    /// Parsed, or why not.
    certificate: Result<Certificate, String>,
    /// Which signatures carry it.
    locations: Vec<String>,
}

impl FoundCertificate {
    fn describe(&self, trusted: &[Certificate]) -> String {
        match &self.certificate {
            Ok(c) => {
                let same = if trusted.contains(c) {
                    " (the same as a trusted certificate, yet its key did not verify the \
                     signature: the signed content or the signature value was altered)"
                } else {
                    ""
                };
                format!(
                    "{}, sha-256 {}, in {}{same}",
                    c.subject(),
                    c.fingerprint_sha256(),
                    self.locations.join(" and ")
                )
            }
            Err(why) => format!(
                "unreadable certificate ({why}), in {}",
                self.locations.join(" and ")
            ),
        }
    }

    fn to_json(&self, trusted: &[Certificate]) -> Value {
        match &self.certificate {
            Ok(c) => json!({
                "subject": c.subject(),
                "sha256": c.fingerprint_sha256().to_string(),
                "locations": self.locations,
                "trusted": false,
                "same_as_trusted": trusted.contains(c),
            }),
            Err(why) => json!({ "error": why, "locations": self.locations, "trusted": false }),
        }
    }
}

/// Every `ds:X509Certificate` of the document, once each, with the signature it belongs to.
fn document_certificates(doc: &Document) -> Vec<FoundCertificate> {
    let mut found: Vec<FoundCertificate> = Vec::new();
    for e in doc.root().descendants() {
        if !e.is(DSIG_NS, "X509Certificate") {
            continue;
        }
        let certificate = Certificate::from_base64(&e.text()).map_err(|err| err.to_string());
        let location = signature_location(e);
        if let Ok(c) = &certificate
            && let Some(seen) = found
                .iter_mut()
                .find(|f| f.certificate.as_ref().is_ok_and(|o| o == c))
        {
            seen.locations.push(location);
            continue;
        }
        found.push(FoundCertificate {
            certificate,
            locations: vec![location],
        });
    }
    found
}

/// "the ds:Signature of <saml:Assertion> ID "_a1"", for the signature that contains `e`.
fn signature_location(e: Element<'_>) -> String {
    let mut cur = e.parent();
    while let Some(p) = cur {
        if p.is(DSIG_NS, "Signature") {
            return match p.parent() {
                Some(signed) => format!(
                    "the ds:Signature of <{}> ID {:?}",
                    signed.qualified_name(),
                    signed.attribute("ID").unwrap_or("")
                ),
                None => "a ds:Signature at the document root".to_owned(),
            };
        }
        cur = p.parent();
    }
    format!("<{}> outside any ds:Signature", e.qualified_name())
}

fn certificate_notes(
    untrusted: bool,
    trusted: &[Certificate],
    found: Option<&[FoundCertificate]>,
) -> Vec<String> {
    let mut notes =
        vec![if untrusted {
        "[cert] the signature does not verify with the key of any trusted certificate"
    } else {
        "[cert] the signature does not verify; if it is not altered content, compare the keys"
    }
    .to_owned()];
    for c in trusted {
        notes.push(format!(
            "[cert] trusted: {}, sha-256 {}",
            c.subject(),
            c.fingerprint_sha256()
        ));
    }
    match found {
        None => notes.push("[cert] the document could not be read for its KeyInfo".to_owned()),
        Some([]) => notes.push("[cert] the document's KeyInfo holds no certificate".to_owned()),
        Some(found) => {
            for f in found {
                notes.push(format!(
                    "[cert] in the document, for information only, not trusted: {}",
                    f.describe(trusted)
                ));
            }
            notes.push(
                "[cert] if the IdP rotated its signing certificate, check the new one against \
                 its metadata and add it with --idp-cert (keep the old one until the switch)"
                    .to_owned(),
            );
        }
    }
    notes
}

/// One time attribute of the response.
struct TimeValue {
    element: String,
    attribute: &'static str,
    value: String,
}

/// The time attributes that bound the login, as written in the document: the Conditions and
/// bearer SubjectConfirmationData windows and the AuthnStatement's instant and session end, of
/// each assertion that is a direct child of the Response.
fn time_windows(doc: &Document) -> Vec<TimeValue> {
    let mut out = Vec::new();
    let mut push = |e: Element<'_>, attribute: &'static str| {
        if let Some(v) = e.attribute(attribute) {
            out.push(TimeValue {
                element: e.qualified_name(),
                attribute,
                value: v.to_owned(),
            });
        }
    };
    for a in doc
        .root()
        .children()
        .filter(|e| e.is(ASSERTION_NS, "Assertion"))
    {
        for c in a.children_named(ASSERTION_NS, "Conditions") {
            push(c, "NotBefore");
            push(c, "NotOnOrAfter");
        }
        for s in a.children_named(ASSERTION_NS, "Subject") {
            for sc in s.children_named(ASSERTION_NS, "SubjectConfirmation") {
                for d in sc.children_named(ASSERTION_NS, "SubjectConfirmationData") {
                    push(d, "NotBefore");
                    push(d, "NotOnOrAfter");
                }
            }
        }
        for st in a.children_named(ASSERTION_NS, "AuthnStatement") {
            push(st, "AuthnInstant");
            push(st, "SessionNotOnOrAfter");
        }
    }
    out
}

fn time_notes(
    err: &TimeError,
    now: SystemTime,
    skew: Duration,
    windows: &[TimeValue],
) -> Vec<String> {
    let now_text = rfc3339(now.into());
    let skew_s = skew.as_secs();
    let mut notes = vec![format!(
        "[time] now {now_text} (--now or the clock), allowed clock skew {skew_s} s"
    )];
    let offset = |at: &str| {
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| (time::OffsetDateTime::from(now) - t).whole_seconds())
    };
    match err {
        TimeError::Expired { what, at } => notes.push(match offset(at) {
            Some(d) => format!(
                "[time] {what} NotOnOrAfter {at}: now is {d} s after it, more than the {skew_s} s skew allows"
            ),
            None => format!("[time] {what} NotOnOrAfter {at} has passed"),
        }),
        TimeError::NotYetValid { what, at } => notes.push(match offset(at) {
            Some(d) => format!(
                "[time] {what} NotBefore {at}: now is {} s before it, more than the {skew_s} s skew allows",
                -d
            ),
            None => format!("[time] {what} NotBefore {at} is still ahead"),
        }),
        TimeError::AuthnTooOld { at } => notes.push(format!(
            "[time] AuthnInstant {at} is older than the maximum authentication age of {} s",
            DEFAULT_MAX_AUTHN_AGE.as_secs()
        )),
        _ => {}
    }
    if windows.is_empty() {
        notes.push("[time] no time attributes could be read from the document".to_owned());
    }
    for w in windows {
        notes.push(format!(
            "[time] <{}> {}={}",
            w.element, w.attribute, w.value
        ));
    }
    notes
}

/// The contract's acceptance object, plus what a person debugging a login wants to see.
fn login_json(login: &Login) -> Value {
    let mut attributes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for attr in &login.attributes {
        attributes
            .entry(attr.name.as_str())
            .or_default()
            .extend(attr.values.iter().map(String::as_str));
    }
    json!({
        "valid": true,
        "issuer": login.issuer,
        "name_id": login.name_id.value,
        "name_id_format": login.name_id.format,
        "session_index": login.session_index,
        "attributes": attributes,
        "assertion_id": login.assertion_id,
        "in_response_to": login.in_response_to,
        "authn_instant": rfc3339(login.authn_instant),
        "valid_until": rfc3339(login.valid_until),
        "signed": login.signed,
        "signing_certificate_sha256": login.signing_certificate_sha256,
    })
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `saml metadata` (its XML): needs no IdP and no private key. `--cert` alone publishes the
/// certificate; `--sign-key` (checked against it) also promises signed AuthnRequests
/// (`AuthnRequestsSigned="true"`), as `saml authn-request --sign-key` makes them.
fn metadata(
    entity_id: &str,
    acs_url: &str,
    cert: Option<&Path>,
    sign_key: Option<&Path>,
    encryption_certs: &[PathBuf],
    slo_url: Option<&str>,
) -> Result<String, Failure> {
    let mut md = SpMetadata::new(entity_id, acs_url);
    #[cfg(feature = "encrypted-assertions")]
    for path in encryption_certs {
        md = md.with_encryption_certificate(certificate(path)?);
    }
    #[cfg(not(feature = "encrypted-assertions"))]
    let _ = encryption_certs;
    if let Some(url) = slo_url {
        md = md
            .with_single_logout_service(binding::HTTP_REDIRECT, url)
            .with_single_logout_service(binding::HTTP_POST, url);
    }
    if let Some(cert_path) = cert {
        let certificate = certificate(cert_path)?;
        if let Some(key_path) = sign_key {
            // Checked against the certificate: publishing another key's certificate would
            // make every signed request fail at the IdP.
            signing_key_with(key_path, certificate.clone())?;
            md = md
                .with_signing_certificate(certificate)
                .with_authn_requests_signed(true);
        } else {
            md = md.with_signing_certificate(certificate);
        }
    }
    md.to_xml().map_err(|e| config(&e))
}

/// A decryption key and its certificate, both from one private PEM file.
#[cfg(feature = "encrypted-assertions")]
fn decryption_key(path: &Path) -> Result<rampart::saml::DecryptionKey, Failure> {
    let pem = input::private_document(path)?;
    // The certificate's block only: the parser refuses a text that mixes in the key.
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let block = find(&pem, BEGIN)
        .and_then(|start| find(&pem[start..], END).map(|end| &pem[start..start + end + END.len()]))
        .ok_or_else(|| {
            Failure::input(
                "invalid_key",
                format!("{}: no CERTIFICATE block beside the key", path.display()),
            )
        })?;
    let certificate = Certificate::from_pem(block).map_err(|e| invalid_key(path, &e))?;
    rampart::saml::DecryptionKey::from_pkcs8_pem(&pem, certificate)
        .map_err(|e| Failure::input("invalid_key", format!("{}: {e}", path.display())))
}

/// A signing key from a private PEM file; its certificate from `cert` or the same file.
fn signing_key(key_path: &Path, cert: Option<&Path>) -> Result<SigningKey, Failure> {
    let key_pem = input::private_document(key_path)?;
    let cert_pem = match cert {
        Some(path) => zeroize::Zeroizing::new(input::document(path)?),
        None => key_pem.clone(),
    };
    let key = SigningKey::from_pkcs8_pem(&key_pem).map_err(|e| invalid_key(key_path, &e))?;
    let certificate = Certificate::from_pem(&cert_pem).map_err(|e| invalid_key(key_path, &e))?;
    key.with_certificate(certificate)
        .map_err(|e| invalid_key(key_path, &e))
}

/// A signing key from a private PEM file, checked against `certificate`.
fn signing_key_with(key_path: &Path, certificate: Certificate) -> Result<SigningKey, Failure> {
    let key_pem = input::private_document(key_path)?;
    SigningKey::from_pkcs8_pem(&key_pem)
        .and_then(|k| k.with_certificate(certificate))
        .map_err(|e| invalid_key(key_path, &e))
}

/// rampart-xmldsig's messages name the problem (not PKCS#8, too short, mismatch), never key
/// bytes.
fn invalid_key(key_path: &Path, e: &rampart::xmldsig::Error) -> Failure {
    Failure::input("invalid_key", format!("{}: {e}", key_path.display()))
}

/// `saml authn-request`.
fn authn_request(
    metadata: &Path,
    entity_id: &str,
    acs_url: &str,
    sign_key: Option<&Path>,
    cert: Option<&Path>,
    relay_state: Option<&str>,
) -> Result<Report, Failure> {
    let md = idp_metadata(metadata)?;
    let idp = md
        .to_identity_provider(SystemTime::now())
        .map_err(|e| config(&e))?;
    let destination = md.sso_url(binding::HTTP_REDIRECT).ok_or_else(|| {
        Failure::input(
            "invalid_metadata",
            format!(
                "{}: the IdP has no HTTP-Redirect SingleSignOnService",
                metadata.display()
            ),
        )
    })?;
    let mut builder = ServiceProvider::builder(entity_id, acs_url).identity_provider(idp);
    if let Some(key_path) = sign_key {
        builder = builder.with_signing_key(signing_key(key_path, cert)?);
    }
    let sp = builder.build().map_err(|e| config(&e))?;
    let request = sp
        .authn_request(destination)
        .build(SystemTime::now())
        .map_err(|e| config(&e))?;
    let url = request
        .redirect_url(&sp, relay_state)
        .map_err(|e| config(&e))?;
    Ok(Report::success(json!({
        "id": request.id(),
        "destination": destination,
        "redirect_url": url,
        "signed": sign_key.is_some(),
        "xml": request.xml(),
    })))
}

/// A configuration problem (bad URL, certificate, key, metadata): exit 2.
fn config(err: &Error) -> Failure {
    Failure::input(err.kind(), err.to_string())
}
