//! The explain facility: every check a validation made, in order, with what it compared.
//! `rampart saml verify --explain` prints it; operators use it to see why an IdP's response
//! is refused without reading XML by hand.

use std::fmt;

use serde::Serialize;

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Step {
    /// Stable name of the check (`"issuer.assertion"`, `"conditions"`, `"signature.response"`,
    /// ...).
    pub check: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was compared, in words (values from the document, our configuration, times).
    pub detail: String,
}

/// Every check made by one validation, in order. When the validation failed, the last step is
/// the failing one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The checks.
    pub steps: Vec<Step>,
    /// False for the silent trace `validate_response` uses: no text is formatted at all.
    #[serde(skip)]
    enabled: bool,
}

impl Default for Trace {
    /// An empty trace that records.
    fn default() -> Self {
        Trace {
            steps: Vec::new(),
            enabled: true,
        }
    }
}

impl Trace {
    /// A trace that records nothing (the fast path of `validate_response`).
    pub(crate) fn disabled() -> Self {
        Trace {
            steps: Vec::new(),
            enabled: false,
        }
    }

    /// `detail` is only called when the trace records: formatting it for the silent trace
    /// was wasted work on every validation.
    pub(crate) fn pass(&mut self, check: &'static str, detail: impl FnOnce() -> String) {
        if self.enabled {
            self.steps.push(Step {
                check,
                passed: true,
                detail: detail(),
            });
        }
    }

    pub(crate) fn fail(&mut self, check: &'static str, detail: impl Into<String>) {
        if self.enabled {
            self.steps.push(Step {
                check,
                passed: false,
                detail: detail.into(),
            });
        }
    }

    /// Records the outcome of `r` under `check` and passes `r` through. `ok_detail` is only
    /// called when the trace records.
    pub(crate) fn record<T, E: fmt::Display>(
        &mut self,
        check: &'static str,
        ok_detail: impl FnOnce(&T) -> String,
        r: Result<T, E>,
    ) -> Result<T, E> {
        if self.enabled {
            match &r {
                Ok(v) => self.pass(check, || ok_detail(v)),
                Err(e) => self.fail(check, e.to_string()),
            }
        }
        r
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.steps {
            writeln!(
                f,
                "[{}] {}: {}",
                if s.passed { " ok " } else { "FAIL" },
                s.check,
                s.detail
            )?;
        }
        Ok(())
    }
}
