//! RFC 7512 `pkcs11:` URIs, the subset a master key needs: which module, which token, which
//! key object, and where the PIN comes from.
//!
//! Path attributes (`;`-separated): `token`, `serial`, `object`, `id`, `type`. Query
//! attributes (`&`-separated): `module-path` (required), `pin-source`. Values are
//! percent-decoded (RFC 7512 §2.3). Anything else is refused rather than ignored: a URI
//! that names a key more precisely than we match could otherwise select another key.
//! `pin-value` is refused: the PIN never travels in an argument (`ps`, shell history).

use std::fmt::Write as _;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;

use crate::error::Pkcs11Error;

/// Longest URI we parse; real ones are well under 1 KiB.
const MAX_URI_LEN: usize = 4096;

/// The environment variable read for the PIN when the URI has no `pin-source`.
pub const PKCS11_PIN_ENV: &str = "RAMPART_PKCS11_PIN";

/// Where the token PIN comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinSource {
    /// A file holding the PIN (a trailing newline is ignored): `pin-source=file:/run/secrets/pin`
    /// (RFC 7512 §2.3) or a bare absolute path.
    File(PathBuf),
    /// An environment variable: `pin-source=env:NAME` (our extension), or
    /// [`PKCS11_PIN_ENV`] when the URI names no source.
    Env(String),
}

/// A parsed `pkcs11:` URI naming an AES key object.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pkcs11Uri {
    /// `token`: the token label.
    pub token: Option<String>,
    /// `serial`: the token serial number.
    pub serial: Option<String>,
    /// `object`: the key object's `CKA_LABEL`.
    pub object: Option<String>,
    /// `id`: the key object's `CKA_ID` bytes.
    pub id: Option<Vec<u8>>,
    /// `module-path`: the PKCS#11 library.
    pub module_path: PathBuf,
    /// Where the PIN comes from.
    pub pin_source: PinSource,
}

fn invalid(reason: impl Into<String>) -> Pkcs11Error {
    Pkcs11Error::InvalidUri {
        reason: reason.into(),
    }
}

fn decode(name: &str, value: &str) -> Result<Vec<u8>, Pkcs11Error> {
    // RFC 7512 §2.3: `%` must start a valid escape.
    let bytes = value.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'%' {
            let ok = bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !ok {
                return Err(invalid(format!("{name}: bad percent-encoding")));
            }
        }
    }
    Ok(percent_decode_str(value).collect())
}

fn decode_text(name: &str, value: &str) -> Result<String, Pkcs11Error> {
    let text = String::from_utf8(decode(name, value)?)
        .map_err(|_| invalid(format!("{name}: not UTF-8")))?;
    if text.chars().any(char::is_control) {
        return Err(invalid(format!("{name}: contains control characters")));
    }
    Ok(text)
}

fn set<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), Pkcs11Error> {
    if slot.replace(value).is_some() {
        return Err(invalid(format!("attribute {name} appears twice")));
    }
    Ok(())
}

impl Pkcs11Uri {
    /// Parses `pkcs11:token=prod;object=kek?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin`.
    ///
    /// Errors are [`Pkcs11Error::InvalidUri`] saying what is wrong; no input panics.
    ///
    /// ```
    /// use rampart_envelope::{PinSource, Pkcs11Uri};
    /// let uri = Pkcs11Uri::parse(
    ///     "pkcs11:token=prod;object=master%20kek?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin",
    /// )?;
    /// assert_eq!(uri.object.as_deref(), Some("master kek"));
    /// assert_eq!(uri.pin_source, PinSource::File("/run/secrets/pin".into()));
    /// assert!(Pkcs11Uri::parse("pkcs11:token=prod;object=k?module-path=/m.so&pin-value=1234").is_err());
    /// # Ok::<(), rampart_envelope::Pkcs11Error>(())
    /// ```
    pub fn parse(uri: &str) -> Result<Self, Pkcs11Error> {
        if uri.len() > MAX_URI_LEN {
            return Err(invalid("longer than 4096 bytes"));
        }
        let rest = uri
            .strip_prefix("pkcs11:")
            .ok_or_else(|| invalid("does not start with \"pkcs11:\""))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (mut token, mut serial, mut object, mut id) = (None, None, None, None);
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| invalid(format!("path attribute {attr:?} has no '='")))?;
            match name {
                "token" => set(&mut token, name, decode_text(name, value)?)?,
                "serial" => set(&mut serial, name, decode_text(name, value)?)?,
                "object" => set(&mut object, name, decode_text(name, value)?)?,
                "id" => set(&mut id, name, decode(name, value)?)?,
                "type" => {
                    if decode_text(name, value)? != "secret-key" {
                        return Err(invalid("type must be secret-key for a master key"));
                    }
                }
                other => {
                    return Err(invalid(format!("unsupported path attribute {other:?}")));
                }
            }
        }
        let (mut module_path, mut pin_source) = (None, None);
        for attr in query.split('&').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| invalid(format!("query attribute {attr:?} has no '='")))?;
            match name {
                "module-path" => set(
                    &mut module_path,
                    name,
                    PathBuf::from(decode_text(name, value)?),
                )?,
                "pin-source" => set(&mut pin_source, name, parse_pin_source(value)?)?,
                "pin-value" => {
                    return Err(invalid(
                        "pin-value is refused: give the PIN through pin-source (a file or env:NAME)",
                    ));
                }
                other => {
                    return Err(invalid(format!("unsupported query attribute {other:?}")));
                }
            }
        }
        if token.is_none() && serial.is_none() {
            return Err(invalid("name the token (token=LABEL or serial=...)"));
        }
        if object.is_none() && id.is_none() {
            return Err(invalid("name the key object (object=LABEL or id=...)"));
        }
        if id.as_ref().is_some_and(Vec::is_empty) {
            return Err(invalid("id must not be empty"));
        }
        let module_path = module_path
            .ok_or_else(|| invalid("module-path is required (the PKCS#11 library to load)"))?;
        if module_path.as_os_str().is_empty() {
            return Err(invalid("module-path must not be empty"));
        }
        Ok(Self {
            token,
            serial,
            object,
            id,
            module_path,
            pin_source: pin_source.unwrap_or_else(|| PinSource::Env(PKCS11_PIN_ENV.into())),
        })
    }

    /// The identity part, canonical: path attributes only (the module and the PIN source
    /// say where and how, not which key), percent-encoded. This is the master key's id.
    pub(crate) fn identity(&self) -> String {
        let mut out = String::from("pkcs11:");
        let mut sep = "";
        let mut push = |name: &str, value: &[u8]| {
            out.push_str(sep);
            out.push_str(name);
            out.push('=');
            for &b in value {
                // RFC 7512 §2.3 pchar minus our separators: unreserved kept, the rest encoded.
                if b.is_ascii_alphanumeric() || b"-._~:[]@!$'()*+,&".contains(&b) {
                    out.push(char::from(b));
                } else {
                    let _ = write!(out, "%{b:02X}");
                }
            }
            sep = ";";
        };
        if let Some(t) = &self.token {
            push("token", t.as_bytes());
        }
        if let Some(s) = &self.serial {
            push("serial", s.as_bytes());
        }
        if let Some(o) = &self.object {
            push("object", o.as_bytes());
        }
        if let Some(i) = &self.id {
            push("id", i);
        }
        out
    }

    /// What the token is called in messages.
    pub(crate) fn token_name(&self) -> String {
        self.token
            .clone()
            .or_else(|| self.serial.as_ref().map(|s| format!("serial {s}")))
            .unwrap_or_default()
    }

    /// What the key object is called in messages.
    pub(crate) fn object_name(&self) -> String {
        match (&self.object, &self.id) {
            (Some(o), _) => format!("{o:?}"),
            (None, Some(id)) => {
                let mut s = String::from("id=");
                for b in id {
                    let _ = write!(s, "{b:02x}");
                }
                s
            }
            (None, None) => String::new(),
        }
    }
}

fn parse_pin_source(value: &str) -> Result<PinSource, Pkcs11Error> {
    let text = decode_text("pin-source", value)?;
    if let Some(name) = text.strip_prefix("env:") {
        if name.is_empty() || name.contains('=') {
            return Err(invalid("pin-source env: needs a variable name"));
        }
        return Ok(PinSource::Env(name.to_string()));
    }
    let path = text.strip_prefix("file:").unwrap_or(&text);
    // `file:///x` and `file:/x` both name /x.
    let path = path.strip_prefix("//").unwrap_or(path);
    if !path.starts_with('/') {
        return Err(invalid(
            "pin-source must be file:/ABSOLUTE/PATH or env:NAME",
        ));
    }
    Ok(PinSource::File(PathBuf::from(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = "module-path=/usr/lib/softhsm/libsofthsm2.so";

    #[test]
    fn parses_the_documented_example() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=prod;object=kek?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("prod"));
        assert_eq!(u.object.as_deref(), Some("kek"));
        assert_eq!(
            u.module_path,
            PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")
        );
        assert_eq!(u.pin_source, PinSource::File("/run/secrets/pin".into()));
        assert_eq!(u.identity(), "pkcs11:token=prod;object=kek");
    }

    #[test]
    fn percent_decodes_and_reencodes_canonically() {
        let u = Pkcs11Uri::parse(&format!(
            "pkcs11:token=a%20b;id=%01%ff?{M}&pin-source=env:P"
        ))
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("a b"));
        assert_eq!(u.id.as_deref(), Some(&[1u8, 0xff][..]));
        assert_eq!(u.pin_source, PinSource::Env("P".into()));
        assert_eq!(u.identity(), "pkcs11:token=a%20b;id=%01%FF");
        assert_eq!(u.object_name(), "id=01ff");
    }

    #[test]
    fn default_pin_source_is_the_environment() {
        let u = Pkcs11Uri::parse(&format!("pkcs11:token=t;object=o?{M}")).unwrap();
        assert_eq!(u.pin_source, PinSource::Env(PKCS11_PIN_ENV.into()));
    }

    #[test]
    fn pin_value_in_the_uri_is_refused() {
        let e =
            Pkcs11Uri::parse(&format!("pkcs11:token=t;object=o?{M}&pin-value=1234")).unwrap_err();
        assert!(e.to_string().contains("pin-value is refused"), "{e}");
        assert!(!e.to_string().contains("1234"));
    }

    #[test]
    fn malformed_uris_are_typed_errors() {
        for bad in [
            "",
            "pkcs12:token=t;object=o",
            "pkcs11:token=t;object=o",                         // no module
            &format!("pkcs11:object=o?{M}"),                   // no token
            &format!("pkcs11:token=t?{M}"),                    // no object
            &format!("pkcs11:token=t;token=u;object=o?{M}"),   // duplicate
            &format!("pkcs11:token=t;object=o%2?{M}"),         // bad escape
            &format!("pkcs11:token=t;object=o%zz?{M}"),        // bad escape
            &format!("pkcs11:token=t;object=%ff?{M}"),         // not UTF-8
            &format!("pkcs11:token=t;object=a%0Ab?{M}"),       // control character
            &format!("pkcs11:token=t;object=o;slot-id=1?{M}"), // unsupported
            &format!("pkcs11:token=t;object=o;type=private?{M}"),
            &format!("pkcs11:token=t;object=o?{M}&module-name=x"),
            &format!("pkcs11:token=t;object=o?{M}&pin-source=relative"),
            &format!("pkcs11:token=t;object=o?{M}&pin-source=env:"),
            &format!("pkcs11:token=t;object;x?{M}"),
            &format!("pkcs11:token=t;id=?{M}"),
            "pkcs11:token=t;object=o?module-path=",
        ] {
            let e = Pkcs11Uri::parse(bad).unwrap_err();
            assert_eq!(e.kind(), "pkcs11_uri", "{bad}: {e}");
        }
        assert!(Pkcs11Uri::parse(&"x".repeat(MAX_URI_LEN + 1)).is_err());
    }
}
