//! Time windows (every comparison with the configured skew) and the assertion's Conditions
//! (audience, OneTimeUse, ProxyRestriction, nothing unknown: SAML core 2.5.1).

use std::time::{Duration, SystemTime};

use rampart_xmldsig::collapse_white_space;
use time::OffsetDateTime;

use super::Validation;
use crate::error::{Error, MismatchError, TimeError};
use crate::ns;
use crate::view::{View, collapsed_text, simple_text};
use crate::xsd;

impl<'d> Validation<'_, 'd> {
    pub(super) fn skew(&self) -> Duration {
        self.sp.clock_skew
    }

    /// The skew as `time`'s duration (build() caps it at 10 minutes, so this cannot fail).
    pub(super) fn skew_time(&self) -> time::Duration {
        time::Duration::try_from(self.sp.clock_skew).unwrap_or(time::Duration::MAX)
    }

    /// `now < not_on_or_after + skew`.
    pub(super) fn check_not_on_or_after(
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
    pub(super) fn check_not_before(&self, what: &'static str, raw: &str) -> Result<(), Error> {
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

    pub(super) fn check_conditions<'v, V: View<'v>>(
        &self,
        a: V,
    ) -> Result<(Option<OffsetDateTime>, bool), Error> {
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
            // Compared borrowed (no allocation per login); the list is built only to report a
            // mismatch.
            let mut ours = false;
            for x in r.children_named(ns::ASSERTION, "Audience") {
                ours |= collapse_white_space(&simple_text(x, "audience")?) == *self.sp.entity_id;
            }
            if !ours {
                let found = r
                    .children_named(ns::ASSERTION, "Audience")
                    .map(|x| collapsed_text(x, "audience"))
                    .collect::<Result<Vec<_>, _>>()?;
                return Err(MismatchError::Audience { found }.into());
            }
        }
        Ok((noa, one_time_use))
    }
}

/// SAML core 2.5.1: a condition the SP does not understand makes the assertion
/// Indeterminate, which must not be treated as Valid. Known here: AudienceRestriction
/// (checked by the caller), OneTimeUse (the replay cache enforces it for every assertion)
/// and ProxyRestriction (limits what a relying party re-issues; this SP issues nothing),
/// each of the last two at most once (the schema's cardinality). Returns whether OneTimeUse
/// is present.
pub(super) fn check_condition_kinds<'d, V: View<'d>>(c: V) -> Result<bool, Error> {
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
pub(super) fn condition_name<'d, V: View<'d>>(c: V) -> String {
    let name = match c.attribute_ns(ns::XSI, "type") {
        Some(t) if c.is(ns::ASSERTION, "Condition") => t,
        _ => c.local_name(),
    };
    name.chars().take(64).collect()
}

pub(super) fn out_of_range(what: &'static str, at: &str) -> Error {
    TimeError::OutOfRange {
        what,
        at: at.to_owned(),
    }
    .into()
}
