//! Reading `xenc:EncryptedData` and its `xenc:EncryptedKey`s: algorithms, cipher values and
//! where the key is (XML Encryption 1.1, 3 and 5). No cryptography here; what this reads is
//! unauthenticated, so it only ever chooses among refusals or hands bytes to [`super::cipher`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_xmldsig::is_xml_white_space;

use crate::error::{DecryptionError, Error};
use crate::ns;
use crate::view::View;

/// XML Encryption 1.0 namespace (`xenc:`).
pub(crate) const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
/// XML Encryption 1.1 namespace (`xenc11:`), for `MGF`.
pub(crate) const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";

pub(crate) const AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
pub(crate) const AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
pub(crate) const AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
pub(crate) const AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
pub(crate) const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
pub(crate) const RSA_OAEP: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const MGF1_SHA1: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha1";
const MGF1_SHA256: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha256";
const TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";
const TYPE_ENCRYPTED_KEY: &str = "http://www.w3.org/2001/04/xmlenc#EncryptedKey";

/// Data and key-transport algorithms accepted, as SP metadata lists them
/// (`md:EncryptionMethod`).
pub(crate) const ACCEPTED: [&str; 6] = [
    AES128_GCM,
    AES256_GCM,
    AES128_CBC,
    AES256_CBC,
    RSA_OAEP,
    RSA_OAEP_MGF1P,
];

/// At most this many EncryptedKeys are tried (one per recipient; real responses carry one).
const MAX_ENCRYPTED_KEYS: usize = 4;
/// An RSA-8192 ciphertext, the largest key AWS-LC decrypts with.
const MAX_WRAPPED_KEY_BYTES: usize = 1024;
/// An OAEP label longer than this is not a label anyone uses.
const MAX_OAEP_LABEL_BYTES: usize = 256;

/// Content encryption (XML Encryption 1.1, 5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataAlgorithm {
    Aes128Cbc,
    Aes256Cbc,
    Aes128Gcm,
    Aes256Gcm,
}

impl DataAlgorithm {
    pub(crate) fn key_len(self) -> usize {
        match self {
            DataAlgorithm::Aes128Cbc | DataAlgorithm::Aes128Gcm => 16,
            DataAlgorithm::Aes256Cbc | DataAlgorithm::Aes256Gcm => 32,
        }
    }
}

/// RSA-OAEP key transport (XML Encryption 1.1, 5.5.2): the digest and MGF1 hash, always the
/// same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyTransport {
    OaepSha1,
    OaepSha256,
}

/// One `xenc:EncryptedKey`.
#[derive(Debug)]
pub(crate) struct EncryptedKey {
    pub(crate) transport: KeyTransport,
    pub(crate) label: Option<Vec<u8>>,
    pub(crate) cipher: Vec<u8>,
}

/// One `xenc:EncryptedData` with the EncryptedKeys that may hold its key.
#[derive(Debug)]
pub(crate) struct EncryptedData {
    pub(crate) algorithm: DataAlgorithm,
    pub(crate) cipher: Vec<u8>,
    pub(crate) keys: Vec<EncryptedKey>,
}

/// Reads the EncryptedData of a SAML `EncryptedElementType` (`EncryptedAssertion`,
/// `EncryptedID`, `EncryptedAttribute`), and the EncryptedKeys its KeyInfo holds or points
/// to (`ds:RetrievalMethod` by Id, `ds:KeyName` by `CarriedKeyName`), or else every
/// EncryptedKey beside it (SAML core 6.2 allows them there).
pub(crate) fn read<'v, V: View<'v>>(container: V) -> Result<EncryptedData, Error> {
    let mut data = container.children_named(XENC, "EncryptedData");
    let ed = data
        .next()
        .ok_or(DecryptionError::Malformed("no EncryptedData"))?;
    if data.next().is_some() {
        return Err(DecryptionError::Malformed("more than one EncryptedData").into());
    }
    if ed.attribute("Type").is_some_and(|t| t != TYPE_ELEMENT) {
        return Err(DecryptionError::Malformed("EncryptedData Type is not Element").into());
    }
    let algorithm = data_algorithm(method_uri(ed)?)?;
    let cipher = cipher_value(ed)?;

    let siblings: Vec<V> = container.children_named(XENC, "EncryptedKey").collect();
    let mut chosen: Vec<V> = Vec::new();
    let mut referenced = false;
    if let Some(ki) = ed.first_child(ns::DSIG, "KeyInfo") {
        for c in ki.child_elements() {
            if c.is(XENC, "EncryptedKey") {
                chosen.push(c);
            } else if c.is(ns::DSIG, "RetrievalMethod") {
                if c.attribute("Type").is_some_and(|t| t != TYPE_ENCRYPTED_KEY) {
                    continue;
                }
                referenced = true;
                let id = c
                    .attribute("URI")
                    .and_then(|u| u.strip_prefix('#'))
                    .ok_or(DecryptionError::Malformed("RetrievalMethod URI is not #id"))?;
                chosen.extend(siblings.iter().filter(|k| k.attribute("Id") == Some(id)));
            } else if c.is(ns::DSIG, "KeyName") {
                referenced = true;
                let name = c.text();
                chosen.extend(siblings.iter().filter(|k| {
                    k.first_child(XENC, "CarriedKeyName")
                        .is_some_and(|n| n.text() == name)
                }));
            }
        }
    }
    if chosen.is_empty() && !referenced {
        chosen = siblings;
    }
    if chosen.is_empty() {
        return Err(DecryptionError::Malformed("no EncryptedKey for the EncryptedData").into());
    }
    if chosen.len() > MAX_ENCRYPTED_KEYS {
        return Err(DecryptionError::Malformed("more than 4 EncryptedKeys").into());
    }
    let keys = chosen
        .into_iter()
        .map(encrypted_key)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EncryptedData {
        algorithm,
        cipher,
        keys,
    })
}

fn encrypted_key<'v, V: View<'v>>(k: V) -> Result<EncryptedKey, Error> {
    let method = k
        .first_child(XENC, "EncryptionMethod")
        .ok_or(DecryptionError::Malformed(
            "EncryptedKey has no EncryptionMethod",
        ))?;
    let uri = method.attribute("Algorithm").unwrap_or("");
    let digest = method
        .first_child(ns::DSIG, "DigestMethod")
        .map(|d| d.attribute("Algorithm").unwrap_or(""));
    let mgf = method
        .first_child(XENC11, "MGF")
        .map(|d| d.attribute("Algorithm").unwrap_or(""));
    let transport = match (uri, digest, mgf) {
        // mgf1p: MGF1 with SHA-1 always (XML Encryption 1.0, 5.4.2). rsa-oaep: the MGF
        // defaults to MGF1-SHA1 and the digest to SHA-1 (1.1, 5.5.2); only matching pairs
        // are accepted, the ones AWS-LC offers.
        (RSA_OAEP_MGF1P, None | Some(SHA1), None)
        | (RSA_OAEP, None | Some(SHA1), None | Some(MGF1_SHA1)) => KeyTransport::OaepSha1,
        (RSA_OAEP, Some(SHA256), Some(MGF1_SHA256)) => KeyTransport::OaepSha256,
        (RSA_OAEP | RSA_OAEP_MGF1P, d, m) => {
            return Err(DecryptionError::Algorithm(format!(
                "{uri} with digest {} and mgf {}",
                d.unwrap_or("sha1 (default)"),
                m.unwrap_or("mgf1sha1 (default)")
            ))
            .into());
        }
        (other, _, _) => return Err(DecryptionError::Algorithm(bounded(other)).into()),
    };
    let label = match method.first_child(XENC, "OAEPparams") {
        Some(p) => {
            let l = base64(&p.text(), MAX_OAEP_LABEL_BYTES)?;
            (!l.is_empty()).then_some(l)
        }
        None => None,
    };
    let cipher = cipher_value(k)?;
    if cipher.len() > MAX_WRAPPED_KEY_BYTES {
        return Err(DecryptionError::Malformed("EncryptedKey cipher value too long").into());
    }
    Ok(EncryptedKey {
        transport,
        label,
        cipher,
    })
}

fn method_uri<'v, V: View<'v>>(ed: V) -> Result<&'v str, Error> {
    Ok(ed
        .first_child(XENC, "EncryptionMethod")
        .ok_or(DecryptionError::Malformed(
            "EncryptedData has no EncryptionMethod",
        ))?
        .attribute("Algorithm")
        .unwrap_or(""))
}

fn data_algorithm(uri: &str) -> Result<DataAlgorithm, Error> {
    Ok(match uri {
        AES128_CBC => DataAlgorithm::Aes128Cbc,
        AES256_CBC => DataAlgorithm::Aes256Cbc,
        AES128_GCM => DataAlgorithm::Aes128Gcm,
        AES256_GCM => DataAlgorithm::Aes256Gcm,
        // tripledes-cbc (64-bit blocks, Sweet32), aes192 (nobody uses it), anything unknown.
        other => return Err(DecryptionError::Algorithm(bounded(other)).into()),
    })
}

/// The decoded `CipherData/CipherValue`; a `CipherReference` (content fetched from a URI) is
/// refused.
fn cipher_value<'v, V: View<'v>>(el: V) -> Result<Vec<u8>, Error> {
    let data = el
        .first_child(XENC, "CipherData")
        .ok_or(DecryptionError::Malformed("no CipherData"))?;
    if data.first_child(XENC, "CipherReference").is_some() {
        return Err(DecryptionError::Malformed("CipherReference is not supported").into());
    }
    let value = data
        .first_child(XENC, "CipherValue")
        .ok_or(DecryptionError::Malformed("no CipherValue"))?;
    base64(&value.text(), usize::MAX)
}

/// base64 with XML white space (line breaks some encryptors insert) removed.
fn base64(text: &str, max: usize) -> Result<Vec<u8>, Error> {
    let compact: String = text.chars().filter(|c| !is_xml_white_space(*c)).collect();
    if compact.len() / 4 * 3 > max {
        return Err(DecryptionError::Malformed("base64 value too long").into());
    }
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| DecryptionError::Malformed("cipher value is not base64").into())
}

/// An algorithm URI from the document, cut to 100 characters for the error message.
fn bounded(uri: &str) -> String {
    uri.chars().take(100).collect()
}

#[cfg(test)]
mod tests {
    use rampart_xmldsig::Document;

    use super::*;

    const KEY: &str = "<xenc:EncryptedKey Id=\"k\"><xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/><xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>";

    fn read_doc(inner: &str) -> Result<EncryptedData, Error> {
        let xml = format!(
            "<saml:EncryptedAssertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" xmlns:xenc=\"{XENC}\" xmlns:ds=\"{}\" xmlns:xenc11=\"{XENC11}\">{inner}</saml:EncryptedAssertion>",
            ns::DSIG
        );
        let doc = Document::parse(xml.as_bytes()).unwrap();
        read(doc.root())
    }

    fn data(key_info: &str) -> String {
        format!(
            "<xenc:EncryptedData Type=\"http://www.w3.org/2001/04/xmlenc#Element\"><xenc:EncryptionMethod Algorithm=\"{AES128_GCM}\"/>{key_info}<xenc:CipherData><xenc:CipherValue>AAAA\nBBBB</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>"
        )
    }

    fn kind(r: Result<EncryptedData, Error>) -> &'static str {
        r.map(|_| "ok").unwrap_or_else(|e| e.kind())
    }

    #[test]
    fn key_inside_key_info_beside_by_retrieval_method_or_key_name_or_unreferenced() {
        let inside = read_doc(&data(&format!("<ds:KeyInfo>{KEY}</ds:KeyInfo>"))).unwrap();
        assert_eq!(inside.keys.len(), 1);
        assert_eq!(inside.cipher.len(), 6);
        let by_id = format!(
            "{}{KEY}",
            data(
                "<ds:KeyInfo><ds:RetrievalMethod Type=\"http://www.w3.org/2001/04/xmlenc#EncryptedKey\" URI=\"#k\"/></ds:KeyInfo>"
            )
        );
        assert_eq!(read_doc(&by_id).unwrap().keys.len(), 1);
        let by_name = format!(
            "{}{}",
            data("<ds:KeyInfo><ds:KeyName>n</ds:KeyName></ds:KeyInfo>"),
            KEY.replace(
                "</xenc:CipherData>",
                "</xenc:CipherData><xenc:CarriedKeyName>n</xenc:CarriedKeyName>"
            )
        );
        assert_eq!(read_doc(&by_name).unwrap().keys.len(), 1);
        assert_eq!(
            read_doc(&format!("{}{KEY}{KEY}", data("")))
                .unwrap()
                .keys
                .len(),
            2
        );
    }

    #[test]
    fn dangling_references_and_missing_parts_are_malformed() {
        let dangling = format!(
            "{}{KEY}",
            data("<ds:KeyInfo><ds:RetrievalMethod URI=\"#other\"/></ds:KeyInfo>")
        );
        assert_eq!(kind(read_doc(&dangling)), "encrypted_data_malformed");
        assert_eq!(kind(read_doc(&data(""))), "encrypted_data_malformed");
        assert_eq!(kind(read_doc("")), "encrypted_data_malformed");
        let reference = data("").replace(
            "<xenc:CipherValue>AAAA\nBBBB</xenc:CipherValue>",
            "<xenc:CipherReference URI=\"https://x\"/>",
        );
        assert_eq!(
            kind(read_doc(&format!("{reference}{KEY}"))),
            "encrypted_data_malformed"
        );
        let five = format!("{}{}", data(""), KEY.repeat(5));
        assert_eq!(kind(read_doc(&five)), "encrypted_data_malformed");
        let not_b64 = data("").replace("AAAA\nBBBB", "not base64!");
        assert_eq!(
            kind(read_doc(&format!("{not_b64}{KEY}"))),
            "encrypted_data_malformed"
        );
    }

    #[test]
    fn oaep_digest_and_mgf_must_match() {
        let with = |method: &str| {
            read_doc(&format!(
                "{}{}",
                data(""),
                KEY.replace(
                    "<xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/>",
                    method
                )
            ))
        };
        let oaep = |digest: &str, mgf: &str| {
            with(&format!(
                "<xenc:EncryptionMethod Algorithm=\"{RSA_OAEP}\">{digest}{mgf}</xenc:EncryptionMethod>"
            ))
        };
        let d = |uri: &str| format!("<ds:DigestMethod Algorithm=\"{uri}\"/>");
        let m = |uri: &str| format!("<xenc11:MGF Algorithm=\"{uri}\"/>");
        assert_eq!(
            oaep("", "").unwrap().keys[0].transport,
            KeyTransport::OaepSha1
        );
        assert_eq!(
            oaep(&d(SHA256), &m(MGF1_SHA256)).unwrap().keys[0].transport,
            KeyTransport::OaepSha256
        );
        // SHA-256 with the default MGF1-SHA1 is a pair AWS-LC does not offer: named, refused.
        assert_eq!(kind(oaep(&d(SHA256), "")), "encryption_algorithm_refused");
        assert_eq!(
            kind(oaep(&d(SHA1), &m(MGF1_SHA256))),
            "encryption_algorithm_refused"
        );
        let mgf1p_sha256 = format!(
            "<xenc:EncryptionMethod Algorithm=\"{RSA_OAEP_MGF1P}\">{}</xenc:EncryptionMethod>",
            d(SHA256)
        );
        assert_eq!(kind(with(&mgf1p_sha256)), "encryption_algorithm_refused");
        let rsa15 =
            "<xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-1_5\"/>";
        assert_eq!(kind(with(rsa15)), "encryption_algorithm_refused");
    }

    #[test]
    fn content_algorithms_outside_aes_cbc_and_gcm_are_refused() {
        for uri in [
            "http://www.w3.org/2001/04/xmlenc#tripledes-cbc",
            "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
            "http://www.w3.org/2009/xmlenc11#aes192-gcm",
            "",
        ] {
            let d = data("").replace(AES128_GCM, uri);
            assert_eq!(
                kind(read_doc(&format!("{d}{KEY}"))),
                "encryption_algorithm_refused",
                "{uri}"
            );
        }
        let content = data("").replace("#Element", "#Content");
        assert_eq!(
            kind(read_doc(&format!("{content}{KEY}"))),
            "encrypted_data_malformed"
        );
    }
}
