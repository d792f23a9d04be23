//! `rampart saml verify|metadata|authn-request`: a debugging tool for SAML logins.
//!
//! `verify` runs rampart-saml's full response validation (the same code a service runs) and,
//! with `--explain`, prints its trace: every check, what it compared, and which one failed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rampart::saml::{
    Certificate, Error, Expected, IdentityProvider, IdpMetadata, Login, ServiceProvider,
    ServiceProviderBuilder, SigningKey, SpMetadata, Trace, binding,
};
use serde_json::{Value, json};

use crate::cli::SamlCommand;
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
            response,
        } => {
            let now = parse_now(now.as_deref())?;
            let (entity_id, certs) =
                trusted_idp(&idp_cert, idp_metadata.as_deref(), idp_entity_id, now)?;
            let sp = Sp {
                entity_id: sp_entity_id,
                acs_url,
                certs,
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
        } => metadata(
            &sp_entity_id,
            &acs_url,
            cert.as_deref(),
            sign_key.as_deref(),
        ),
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
    }
}

/// Our side of the configuration, and the IdP certificates we trust.
struct Sp {
    entity_id: String,
    acs_url: String,
    certs: Vec<Certificate>,
}

impl Sp {
    fn builder(
        &self,
        idp_entity_id: &str,
    ) -> Result<ServiceProviderBuilder<IdentityProvider>, Failure> {
        let idp =
            IdentityProvider::new(idp_entity_id, self.certs.clone()).map_err(|e| config(&e))?;
        Ok(ServiceProvider::builder(&self.entity_id, &self.acs_url).identity_provider(idp))
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
        certs.push(certificate(path)?);
    }
    let mut entity_id = entity_id;
    if let Some(path) = metadata {
        let md = idp_metadata(path)?;
        // Refuses expired metadata (validUntil), as a service would.
        let idp = md.to_identity_provider(now).map_err(|e| config(&e))?;
        entity_id = Some(idp.entity_id().to_owned());
        certs.extend(idp.certificates().iter().cloned());
    }
    Ok((entity_id, certs))
}

fn certificate(path: &Path) -> Result<Certificate, Failure> {
    let pem = input::document(path)?;
    Certificate::from_pem(&pem)
        .map_err(|e| Failure::input("invalid_certificate", format!("{}: {e}", path.display())))
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
    let run = |entity: &str| -> Result<(Result<Login, Error>, Trace), Failure> {
        let mut builder = sp.builder(entity)?;
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
        Ok((result, trace))
    };
    let (result, trace, issuer_checked) = match idp_entity_id {
        Some(entity) => {
            let (r, t) = run(entity)?;
            (r, t, true)
        }
        None => match run(UNKNOWN_IDP)? {
            (Err(Error::Mismatch(rampart::saml::MismatchError::Issuer { found })), _) => {
                let (r, t) = run(&found)?;
                (r, t, false)
            }
            (r, t) => (r, t, false),
        },
    };
    let mut notes = Vec::new();
    let mut checks = Value::Null;
    if explain {
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
        checks = serde_json::to_value(&trace.steps).unwrap_or(Value::Null);
    }
    match result {
        Ok(login) => {
            let mut body = login_json(&login);
            body["issuer_checked"] = Value::Bool(issuer_checked);
            if explain {
                body["checks"] = checks;
            }
            let mut report = Report::success(body);
            report.notes = notes;
            Ok(report)
        }
        Err(err) => {
            let mut failure = match err {
                Error::Config(_) | Error::Input(_) => Failure::input(err.kind(), err.to_string()),
                _ => Failure::rejected(err.kind(), err.to_string()),
            };
            if explain {
                failure = failure.with("checks", checks);
                failure.notes = notes;
            }
            Err(failure)
        }
    }
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

/// `saml metadata`: needs no IdP and no private key. `--cert` alone publishes the
/// certificate; `--sign-key` (checked against it) also promises signed AuthnRequests
/// (`AuthnRequestsSigned="true"`), as `saml authn-request --sign-key` makes them.
fn metadata(
    entity_id: &str,
    acs_url: &str,
    cert: Option<&Path>,
    sign_key: Option<&Path>,
) -> Result<Report, Failure> {
    let mut md = SpMetadata::new(entity_id, acs_url);
    if let Some(cert_path) = cert {
        let certificate = certificate(cert_path)?;
        if let Some(key_path) = sign_key {
            let key = signing_key(key_path, Some(cert_path))?;
            md = md
                .signing_certificate(key.certificate().clone())
                .authn_requests_signed(true);
        } else {
            md = md.signing_certificate(certificate);
        }
    }
    let xml = md.to_xml().map_err(|e| config(&e))?;
    Ok(Report::success(json!({ "metadata": xml })))
}

/// A signing key from a private PEM file; its certificate from `cert` or the same file.
fn signing_key(key_path: &Path, cert: Option<&Path>) -> Result<SigningKey, Failure> {
    let key_pem = input::private_document(key_path)?;
    let cert_pem = match cert {
        Some(path) => zeroize::Zeroizing::new(input::document(path)?),
        None => key_pem.clone(),
    };
    // rampart-saml's messages name the problem (not PKCS#8, too short, mismatch), never key
    // bytes.
    SigningKey::from_pem(&key_pem, &cert_pem)
        .map_err(|e| Failure::input("invalid_key", format!("{}: {e}", key_path.display())))
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
        builder = builder.signing_key(signing_key(key_path, cert)?);
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
