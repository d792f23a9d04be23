//! Reading logout messages (SAML core 2.0, 3.7.1 LogoutRequest and 3.7.2 LogoutResponse)
//! through a [`View`]: the verified view for the POST binding, or the tree of bytes whose
//! query signature verified for the Redirect binding. Writing them, with every value escaped.

use std::time::SystemTime;

use crate::error::{Error, MismatchError, TimeError};
use crate::escape;
use crate::login::NameId;
use crate::ns;
use crate::view::{View, collapsed_text, identity_without_layout, simple_text};
use crate::xsd;

use super::error::LogoutError;

/// Values common to both messages.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) id: String,
    pub(crate) issue_instant: SystemTime,
    pub(crate) issue_instant_text: String,
    pub(crate) destination: Option<String>,
    pub(crate) issuer: Option<String>,
}

/// Most SessionIndex elements read from one request (real ones carry one).
const MAX_SESSION_INDEXES: usize = 64;

pub(crate) fn read_header<'d, V: View<'d>>(root: V, local: &str) -> Result<Header, Error> {
    if !root.is(ns::PROTOCOL, local) {
        return Err(Error::malformed(format!(
            "root element is <{}>, not samlp:{local}",
            root.local_name()
        )));
    }
    match root.attribute("Version") {
        Some("2.0") => {}
        _ => return Err(Error::malformed(format!("{local} version is not 2.0"))),
    }
    let id = root
        .attribute("ID")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::malformed(format!("{local} has no ID")))?
        .to_owned();
    let issue_instant_text = root
        .attribute("IssueInstant")
        .ok_or_else(|| Error::malformed(format!("{local} has no IssueInstant")))?
        .to_owned();
    let issue_instant = xsd::parse_system_time(&issue_instant_text)?;
    let issuer = root
        .first_child(ns::ASSERTION, "Issuer")
        .map(|i| collapsed_text(i, "issuer"))
        .transpose()?;
    Ok(Header {
        id,
        issue_instant,
        issue_instant_text,
        destination: root.attribute("Destination").map(str::to_owned),
        issuer,
    })
}

/// A LogoutRequest's own values.
#[derive(Debug)]
pub(crate) struct RequestBody {
    pub(crate) name_id: NameId,
    pub(crate) session_indexes: Vec<String>,
    pub(crate) not_on_or_after: Option<(SystemTime, String)>,
}

pub(crate) fn read_request<'d, V: View<'d>>(root: V) -> Result<RequestBody, Error> {
    if root.first_child(ns::ASSERTION, "EncryptedID").is_some() {
        return Err(Error::EncryptedNotSupported("EncryptedID"));
    }
    let mut ids = root.children_named(ns::ASSERTION, "NameID");
    let n = ids
        .next()
        .ok_or_else(|| Error::malformed("logout request has no NameID"))?;
    if ids.next().is_some() || root.first_child(ns::ASSERTION, "BaseID").is_some() {
        return Err(Error::malformed(
            "logout request has more than one identifier",
        ));
    }
    let text = simple_text(n, "nameid")?;
    let value = identity_without_layout(&text)
        .ok_or(Error::WhiteSpaceAround { what: "nameid" })?
        .to_owned();
    let name_id = NameId {
        value,
        format: n.attribute("Format").map(str::to_owned),
        name_qualifier: n.attribute("NameQualifier").map(str::to_owned),
        sp_name_qualifier: n.attribute("SPNameQualifier").map(str::to_owned),
        sp_provided_id: n.attribute("SPProvidedID").map(str::to_owned),
    };
    let mut session_indexes = Vec::new();
    for s in root.children_named(ns::PROTOCOL, "SessionIndex") {
        if session_indexes.len() >= MAX_SESSION_INDEXES {
            return Err(Error::malformed("too many SessionIndex elements"));
        }
        session_indexes.push(simple_text(s, "session index")?.into_owned());
    }
    let not_on_or_after = root
        .attribute("NotOnOrAfter")
        .map(|t| xsd::parse_system_time(t).map(|s| (s, t.to_owned())))
        .transpose()?;
    Ok(RequestBody {
        name_id,
        session_indexes,
        not_on_or_after,
    })
}

/// A LogoutResponse's own values.
#[derive(Debug)]
pub(crate) struct ResponseBody {
    pub(crate) in_response_to: Option<String>,
    pub(crate) codes: Vec<String>,
    pub(crate) message: Option<String>,
}

pub(crate) fn read_response<'d, V: View<'d>>(root: V) -> Result<ResponseBody, Error> {
    let status = root
        .first_child(ns::PROTOCOL, "Status")
        .ok_or_else(|| Error::malformed("logout response has no Status"))?;
    let mut codes = Vec::new();
    let mut code = status.first_child(ns::PROTOCOL, "StatusCode");
    while let Some(c) = code {
        if codes.len() >= 8 {
            break;
        }
        codes.push(c.attribute("Value").unwrap_or("").to_owned());
        code = c.first_child(ns::PROTOCOL, "StatusCode");
    }
    if codes.is_empty() {
        return Err(Error::malformed("status has no StatusCode"));
    }
    let message = status
        .first_child(ns::PROTOCOL, "StatusMessage")
        .map(|m| m.text().into_owned());
    Ok(ResponseBody {
        in_response_to: root.attribute("InResponseTo").map(str::to_owned),
        codes,
        message,
    })
}

/// The checks both messages pass: Issuer is the IdP (required, SAML profiles 4.4.4.1),
/// Destination is one of our SLO URLs (required: every message we accept is signed, SAML
/// bindings 3.4.5.2 and 3.5.5.2), and the message is neither from the future nor older than
/// `max_age` (IssueInstant, with the skew).
pub(crate) fn check_header(
    h: &Header,
    idp_entity_id: &str,
    slo_urls: &[String],
    skew: std::time::Duration,
    max_age: std::time::Duration,
    now: SystemTime,
) -> Result<SystemTime, LogoutError> {
    match &h.issuer {
        Some(i) if i == idp_entity_id => {}
        Some(i) => return Err(MismatchError::Issuer { found: i.clone() }.into()),
        None => return Err(MismatchError::MissingIssuer.into()),
    }
    match &h.destination {
        Some(d) if slo_urls.iter().any(|u| u == d) => {}
        Some(d) => return Err(MismatchError::Destination { found: d.clone() }.into()),
        None => return Err(MismatchError::MissingDestination.into()),
    }
    let out_of_range = || TimeError::OutOfRange {
        what: "issue instant",
        at: h.issue_instant_text.clone(),
    };
    if h.issue_instant > now.checked_add(skew).ok_or_else(out_of_range)? {
        return Err(TimeError::NotYetValid {
            what: "logout message",
            at: h.issue_instant_text.clone(),
        }
        .into());
    }
    let expires = h
        .issue_instant
        .checked_add(max_age)
        .and_then(|t| t.checked_add(skew))
        .ok_or_else(out_of_range)?;
    if now >= expires {
        return Err(TimeError::Expired {
            what: "logout message",
            at: h.issue_instant_text.clone(),
        }
        .into());
    }
    Ok(expires)
}

/// Whether a NameID from a logout request names the session's subject: the same value and
/// Format (absent is `unspecified`, SAML core 8.3.1), and the same qualifiers where both
/// carry one (IdPs often leave SPNameQualifier out of logout requests).
pub(crate) fn same_subject(found: &NameId, session: &NameId) -> bool {
    let unspecified = crate::config::name_id_format::UNSPECIFIED;
    let fmt = |n: &NameId| n.format.clone().unwrap_or_else(|| unspecified.to_owned());
    let both_or_either = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    found.value == session.value
        && fmt(found) == fmt(session)
        && both_or_either(&found.name_qualifier, &session.name_qualifier)
        && both_or_either(&found.sp_name_qualifier, &session.sp_name_qualifier)
}

/// `<saml:NameID ...>value</saml:NameID>`.
pub(crate) fn write_name_id(x: &mut String, n: &NameId) {
    x.push_str("<saml:NameID");
    for (name, v) in [
        ("Format", &n.format),
        ("NameQualifier", &n.name_qualifier),
        ("SPNameQualifier", &n.sp_name_qualifier),
        ("SPProvidedID", &n.sp_provided_id),
    ] {
        if let Some(v) = v {
            x.push_str(&format!(" {name}=\"{}\"", escape::attr(v)));
        }
    }
    x.push('>');
    x.push_str(&escape::text(&n.value));
    x.push_str("</saml:NameID>");
}

/// The opening of a protocol message with the attributes every one carries.
pub(crate) fn open(x: &mut String, local: &str, id: &str, now: SystemTime, destination: &str) {
    x.push_str(&format!(
        "<samlp:{local} xmlns:samlp=\"{}\" xmlns:saml=\"{}\" ID=\"{}\" Version=\"2.0\" \
         IssueInstant=\"{}\" Destination=\"{}\"",
        ns::PROTOCOL,
        ns::ASSERTION,
        escape::attr(id),
        xsd::format_datetime(now),
        escape::attr(destination),
    ));
}
