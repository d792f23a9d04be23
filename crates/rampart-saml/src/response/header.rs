//! The Response's own values (ID, Destination, InResponseTo, Issuer): read from the signed
//! view when the Response is signed, then checked against this SP and the outstanding request.

use super::{Expected, Validation};
use crate::error::{Error, MismatchError};
use crate::ns;
use crate::view::{View, collapsed_text};

impl<'d> Validation<'_, 'd> {
    pub(super) fn check_unsolicited_allowed(&self) -> Result<(), Error> {
        match self.expected {
            Expected::Unsolicited if !self.sp.accept_idp_initiated => {
                Err(MismatchError::Unsolicited.into())
            }
            _ => Ok(()),
        }
    }

    pub(super) fn acs_matches(&self, url: &str) -> bool {
        self.sp.acs_urls.iter().any(|a| a == url)
    }

    pub(super) fn check_header(&mut self, h: &Header, response_signed: bool) -> Result<(), Error> {
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
        let r = self.check_in_response_to(h.in_response_to.as_deref());
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

    /// A present InResponseTo must name the outstanding request; an absent one passes here
    /// even for a solicited response, at either level: `run` then requires a matching one on
    /// a signed Response or on the bearer SubjectConfirmationData (profiles 4.1.4.2; some
    /// IdPs put it on one of the two only).
    ///
    /// Returns the matched value, or `None` when absent.
    pub(super) fn check_in_response_to<'f>(
        &self,
        found: Option<&'f str>,
    ) -> Result<Option<&'f str>, Error> {
        match (self.expected, found) {
            (Expected::Request(id), Some(f)) if f == id => Ok(Some(f)),
            (_, None) => Ok(None),
            (_, Some(f)) => Err(MismatchError::InResponseTo {
                found: f.to_owned(),
            }
            .into()),
        }
    }
}

/// Response-level values, read from the signed view when the Response is signed.
pub(super) struct Header {
    pub(super) id: Option<String>,
    pub(super) destination: Option<String>,
    pub(super) in_response_to: Option<String>,
    pub(super) issuer: Option<String>,
}

pub(super) fn read_header<'d, V: View<'d>>(r: V) -> Result<Header, Error> {
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
