//! An identity is the exact string the IdP signed. A NameID, Issuer, Audience or SessionIndex
//! that differs from another only by a Unicode space at either end (U+00A0, U+3000...) is a
//! different value: never trimmed into the colleague's. XML's own white space (space, tab, CR,
//! LF) collapses where the schema says so (xs:anyURI: Issuer, Audience); a NameID (xs:string)
//! loses only pretty-printing layout (a line break), and any other white space around it is
//! refused, so pretty-printed responses still validate.
//!
//! The matrix tests sign with `xmlsec1` (the third-party signer); the property test over every
//! Unicode `White_Space` character signs with our own signer, which the xmlsec1 fixtures
//! already prove interoperable.

mod common;

use common::*;
use proptest::prelude::*;
use rampart_saml::{Error, Login, MismatchError};

/// The Unicode `White_Space` characters that are legal in XML 1.0 text but are not XML white
/// space: what `str::trim` strips and what an attacker's IdP account can carry.
const UNICODE_SPACES: &[char] = &[
    '\u{0085}', '\u{00A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}',
    '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{2028}', '\u{2029}',
    '\u{202F}', '\u{205F}', '\u{3000}',
];

const XML_SPACES: &[char] = &[' ', '\t', '\r', '\n'];
const NAME_ID: &str = "alice@example.com";
const SESSION_INDEX: &str = "_s1a2b3c4d5e6f7a8b9c0";

#[derive(Clone, Copy, Debug)]
enum End {
    Leading,
    Trailing,
}

fn padded(value: &str, c: char, end: End) -> String {
    match end {
        End::Leading => format!("{c}{value}"),
        End::Trailing => format!("{value}{c}"),
    }
}

/// The template with `value` padded by `c` in one field.
#[derive(Clone, Copy, Debug)]
enum Field {
    NameId,
    Issuer,
    Audience,
    SessionIndex,
}

fn template_with(field: Field, c: char, end: End) -> String {
    let t = fixture("response.template.xml");
    match field {
        Field::NameId => replace_once(
            &t,
            &format!(">{NAME_ID}</saml:NameID>"),
            &format!(">{}</saml:NameID>", padded(NAME_ID, c, end)),
        ),
        // Both Issuers (the response's, unsigned here, is checked too).
        Field::Issuer => t.replace(
            &format!("<saml:Issuer>{IDP_ENTITY}</saml:Issuer>"),
            &format!("<saml:Issuer>{}</saml:Issuer>", padded(IDP_ENTITY, c, end)),
        ),
        Field::Audience => replace_once(
            &t,
            &format!("<saml:Audience>{SP_ENTITY}</saml:Audience>"),
            &format!(
                "<saml:Audience>{}</saml:Audience>",
                padded(SP_ENTITY, c, end)
            ),
        ),
        Field::SessionIndex => replace_once(
            &t,
            &format!("SessionIndex=\"{SESSION_INDEX}\""),
            &format!("SessionIndex=\"{}\"", padded(SESSION_INDEX, c, end)),
        ),
    }
}

fn validate(xml: &str) -> Result<Login, Error> {
    sp().validate_response(xml.as_bytes(), expected(), now())
        .map(rampart_saml::ValidatedResponse::into_login_without_replay_check)
}

/// What a response padded with `c` must produce, or why not: `Ok(())` when it is right.
fn check(field: Field, c: char, end: End, result: &Result<Login, Error>) -> Result<(), String> {
    let xml_space = XML_SPACES.contains(&c);
    let show = |r: &Result<Login, Error>| match r {
        Ok(l) => format!(
            "accepted: name_id {:?}, issuer {:?}, session {:?}",
            l.name_id.value, l.issuer, l.session_index
        ),
        Err(e) => format!("refused: {e}"),
    };
    let ok = match (field, result) {
        // An xs:string identity with white space at either end is refused, except
        // pretty-printing layout (a line break: the value on its own line) ...
        (Field::NameId, Ok(l)) => matches!(c, '\n' | '\r') && l.name_id.value == NAME_ID,
        // ... never a space, a tab or any Unicode space.
        (Field::NameId, Err(Error::WhiteSpaceAround { what: "nameid" })) => {
            !matches!(c, '\n' | '\r')
        }
        // xs:anyURI: XML white space collapses to the configured value ...
        (Field::Issuer | Field::Audience, Ok(l)) => xml_space && l.issuer == IDP_ENTITY,
        // ... and anything else is another issuer or audience, reported as found.
        (Field::Issuer, Err(Error::Mismatch(MismatchError::Issuer { found }))) => {
            !xml_space && *found == padded(IDP_ENTITY, c, end)
        }
        (Field::Audience, Err(Error::Mismatch(MismatchError::Audience { found }))) => {
            !xml_space && *found == [padded(SP_ENTITY, c, end)]
        }
        // An attribute value is reported exactly, after XML's attribute-value normalization
        // (a literal tab, CR or LF is a space: XML 1.0, 3.3.3).
        (Field::SessionIndex, Ok(l)) => {
            let normalized = if xml_space { ' ' } else { c };
            l.session_index.as_deref() == Some(padded(SESSION_INDEX, normalized, end).as_str())
                && l.name_id.value == NAME_ID
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field:?} {end:?} U+{:04X}: {}",
            u32::from(c),
            show(result)
        ))
    }
}

/// Every listed character at both ends of `field`, signed by xmlsec1.
fn xmlsec1_matrix(field: Field) {
    if !rampart_testkit::tool::available("xmlsec1") {
        return;
    }
    let mut failures = Vec::new();
    for &c in UNICODE_SPACES.iter().chain(XML_SPACES) {
        for end in [End::Leading, End::Trailing] {
            let signed = xmlsec1_sign_assertion(&template_with(field, c, end));
            if let Err(f) = check(field, c, end, &validate(&signed)) {
                failures.push(f);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn name_id_with_a_unicode_or_xml_space_at_either_end_is_refused_not_trimmed() {
    xmlsec1_matrix(Field::NameId);
}

#[test]
fn issuer_with_a_unicode_space_is_another_issuer_and_xml_space_collapses() {
    xmlsec1_matrix(Field::Issuer);
}

#[test]
fn audience_with_a_unicode_space_is_not_ours_and_xml_space_collapses() {
    xmlsec1_matrix(Field::Audience);
}

#[test]
fn session_index_is_reported_exactly_as_signed() {
    xmlsec1_matrix(Field::SessionIndex);
}

#[test]
fn pretty_printed_response_signed_by_xmlsec1_is_accepted() {
    if !rampart_testkit::tool::available("xmlsec1") {
        return;
    }
    // Indentation between elements and around anyURI values, as a pretty-printing IdP
    // writes it before signing.
    let t = fixture("response.template.xml")
        .replace(
            &format!("<saml:Issuer>{IDP_ENTITY}</saml:Issuer>"),
            &format!("\n  <saml:Issuer>\n    {IDP_ENTITY}\n  </saml:Issuer>\n  "),
        )
        .replace(
            &format!("<saml:Audience>{SP_ENTITY}</saml:Audience>"),
            &format!("\n\t\t<saml:Audience>\r\n\t\t\t{SP_ENTITY} \t\r\n\t\t</saml:Audience>\n\t"),
        )
        .replace(
            "<saml:AuthnContextClassRef>urn:",
            "<saml:AuthnContextClassRef>\n      urn:",
        )
        .replace("<saml:Subject>", "\n  <saml:Subject>\n    ")
        .replace("</saml:Subject>", "\n  </saml:Subject>\n  ");
    let login = validate(&xmlsec1_sign_assertion(&t)).expect("pretty-printed response accepted");
    assert_eq!(login.issuer, IDP_ENTITY);
    assert_eq!(login.name_id.value, NAME_ID);
    assert_eq!(
        login.authn_context_class_ref.as_deref(),
        Some("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
    );
}

/// Every Unicode `White_Space` character, at either end of each field, with our signer:
/// XML white space behaves as XML says, characters XML forbids are refused by the parser,
/// every other one leaves the value distinct from the unpadded one.
#[test]
fn every_unicode_white_space_character_keeps_values_distinct() {
    let all: Vec<char> = (0..=0x10FFFF_u32)
        .filter_map(char::from_u32)
        .filter(|c| c.is_whitespace())
        .collect();
    assert_eq!(all.len(), 25, "Unicode White_Space has 25 characters");
    let mut failures = Vec::new();
    for &c in &all {
        for field in [
            Field::NameId,
            Field::Issuer,
            Field::Audience,
            Field::SessionIndex,
        ] {
            for end in [End::Leading, End::Trailing] {
                let xml = template_with(field, c, end).replace("@RESPONSE_SIG@", "");
                // U+000B and U+000C are not XML characters (XML 1.0, 2.2): unsigned documents
                // carrying them are refused by the parser before any signature work.
                if matches!(c, '\u{0B}' | '\u{0C}') {
                    let r = validate(&xml.replace("@ASSERTION_SIG@", ""));
                    if !matches!(&r, Err(e) if e.kind() == "xml_refused") {
                        failures.push(format!(
                            "{field:?} {end:?} U+{:04X}: not refused by the parser",
                            u32::from(c)
                        ));
                    }
                    continue;
                }
                let signed = sign_assertion(&xml.replace("@ASSERTION_SIG@", ""));
                if let Err(f) = check(field, c, end, &validate(&signed)) {
                    failures.push(f);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `xml`, signed by the test IdP, is refused as malformed SAML with a message holding `why`.
fn assert_malformed(xml: &str, why: &str) {
    let err = validate(&sign_assertion(xml)).unwrap_err();
    assert!(
        matches!(&err, Error::Malformed(m) if m.contains(why)),
        "{err}"
    );
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the IdP signs as a NameID, the login reports exactly it (less a layout line
    /// break), or refuses it when other white space surrounds it. Never a neighbour's value.
    #[test]
    fn a_name_id_is_reported_exactly_as_signed_or_refused(
        core in "[a-zA-Z0-9._%+@\u{e9}\u{3b1}\u{200b}-]{1,24}",
        pad in proptest::sample::select(vec!['\0', '\n', ' ', '\t', '\u{a0}', '\u{3000}', '\u{2028}', '\u{85}']),
        leading in any::<bool>(),
    ) {
        let value = match (pad, leading) {
            ('\0', _) => core.clone(),
            (p, true) => format!("{p}{core}"),
            (p, false) => format!("{core}{p}"),
        };
        let xml = replace_once(
            &unsigned_template(),
            &format!(">{NAME_ID}</saml:NameID>"),
            &format!(">{}</saml:NameID>", escape(&value)),
        );
        match validate(&sign_assertion(&xml)) {
            Ok(login) if pad == '\n' => prop_assert_eq!(login.name_id.value, core),
            Ok(login) => {
                prop_assert_eq!(pad, '\0');
                prop_assert_eq!(login.name_id.value, value);
            }
            Err(e) => prop_assert!(
                !matches!(pad, '\0' | '\n') && matches!(e, Error::WhiteSpaceAround { .. }),
                "{value:?}: {e}"
            ),
        }
    }
}

#[test]
fn issuer_with_element_children_is_refused_not_read_as_its_text() {
    let xml = unsigned_template().replacen(
        &format!("<saml:Issuer>{IDP_ENTITY}</saml:Issuer>"),
        &format!("<saml:Issuer>{IDP_ENTITY}<saml:Foo>.evil.example</saml:Foo></saml:Issuer>"),
        2,
    );
    assert_malformed(&xml, "issuer has child elements");
}

#[test]
fn audience_with_element_children_is_refused_not_read_as_its_text() {
    let xml = replace_once(
        &unsigned_template(),
        &format!("<saml:Audience>{SP_ENTITY}</saml:Audience>"),
        &format!("<saml:Audience>{SP_ENTITY}<x:y xmlns:x=\"urn:x\">z</x:y></saml:Audience>"),
    );
    assert_malformed(&xml, "audience has child elements");
}

#[test]
fn name_id_with_element_children_is_refused() {
    let xml = replace_once(
        &unsigned_template(),
        &format!(">{NAME_ID}</saml:NameID>"),
        &format!(">{NAME_ID}<saml:X/></saml:NameID>"),
    );
    assert_malformed(&xml, "nameid has child elements");
}

#[test]
fn attribute_value_nested_deeper_than_the_limit_is_refused_not_dropped() {
    let nest = |depth: usize| {
        let open: String = (0..depth)
            .map(|i| format!("<x:e{i} xmlns:x=\"urn:x\">"))
            .collect();
        let close: String = (0..depth).rev().map(|i| format!("</x:e{i}>")).collect();
        format!("<saml:AttributeValue>a{open}deep{close}</saml:AttributeValue>")
    };
    let with = |depth| {
        replace_once(
            &unsigned_template(),
            "<saml:AttributeValue xsi:type=\"xs:string\">Alice Liddell</saml:AttributeValue>",
            &nest(depth),
        )
    };
    // At the limit (8 levels) the whole text is read ...
    let login = validate(&sign_assertion(&with(8))).unwrap();
    assert_eq!(
        login.attribute("displayName"),
        Some(&["adeep".to_string()][..])
    );
    // ... one deeper is an error, where the old reader silently returned "a".
    assert_malformed(&with(9), "nested deeper than 8");
}

fn with_conditions(extra: &str) -> String {
    replace_once(&unsigned_template(), "<saml:OneTimeUse/>", extra)
}

#[test]
fn unknown_condition_type_makes_the_assertion_invalid() {
    let xml =
        with_conditions("<saml:Condition xmlns:v=\"urn:vendor\" xsi:type=\"v:DeviceTrusted\"/>");
    let err = validate(&sign_assertion(&xml)).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownCondition { name } if name == "v:DeviceTrusted"),
        "{err}"
    );
    assert_eq!(err.kind(), "unknown_condition");
}

#[test]
fn unknown_condition_element_makes_the_assertion_invalid() {
    let xml = with_conditions("<v:MustBeOnVpn xmlns:v=\"urn:vendor\"/>");
    let err = validate(&sign_assertion(&xml)).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownCondition { name } if name == "MustBeOnVpn"),
        "{err}"
    );
}

#[test]
fn unknown_condition_element_is_named_by_its_element_even_with_an_xsi_type() {
    // Only a generic saml:Condition is named by its xsi:type.
    let xml = with_conditions("<v:MustBeOnVpn xmlns:v=\"urn:vendor\" xsi:type=\"v:Other\"/>");
    let err = validate(&sign_assertion(&xml)).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownCondition { name } if name == "MustBeOnVpn"),
        "{err}"
    );
}

#[test]
fn proxy_restriction_is_understood() {
    let xml = with_conditions("<saml:OneTimeUse/><saml:ProxyRestriction Count=\"0\"/>");
    let login = validate(&sign_assertion(&xml)).unwrap();
    assert!(login.one_time_use);
}

#[test]
fn repeated_one_time_use_is_refused() {
    let xml = with_conditions("<saml:OneTimeUse/><saml:OneTimeUse/>");
    assert_malformed(&xml, "repeat");
}

#[test]
fn second_conditions_element_is_refused_not_ignored() {
    // The second Conditions would restrict the assertion to another audience; reading only
    // the first would accept it.
    let xml = replace_once(
        &unsigned_template(),
        "</saml:Conditions>",
        "</saml:Conditions><saml:Conditions><saml:AudienceRestriction><saml:Audience>https://other.example.com/</saml:Audience></saml:AudienceRestriction></saml:Conditions>",
    );
    assert_malformed(&xml, "more than one Conditions");
}

#[test]
fn time_values_take_xml_white_space_but_not_unicode_spaces() {
    let t = "NotOnOrAfter=\"2030-01-01T00:05:00Z\" Recipient";
    let ok = replace_once(
        &unsigned_template(),
        t,
        "NotOnOrAfter=\" 2030-01-01T00:05:00Z \" Recipient",
    );
    validate(&sign_assertion(&ok)).expect("XML white space around an xs:dateTime collapses");
    let bad = replace_once(
        &unsigned_template(),
        t,
        "NotOnOrAfter=\"2030-01-01T00:05:00Z\u{a0}\" Recipient",
    );
    let err = validate(&sign_assertion(&bad)).unwrap_err();
    assert_eq!(err.kind(), "invalid_time", "{err}");
}

#[test]
fn name_id_normalization_is_explicit_and_opt_in() {
    let composed = "am\u{e9}lie@example.com";
    let decomposed = "ame\u{301}lie@example.com";
    let xml = replace_once(
        &unsigned_template(),
        &format!(">{NAME_ID}</saml:NameID>"),
        ">Ame\u{301}lie@Example.com</saml:NameID>",
    );
    let login = validate(&sign_assertion(&xml)).unwrap();
    // As signed: decomposed, mixed case.
    assert_eq!(login.name_id.value, "Ame\u{301}lie@Example.com");
    assert_ne!(login.name_id.value.to_lowercase(), composed);
    assert_eq!(login.name_id.value.to_lowercase(), decomposed);
    // Only when asked.
    assert_eq!(login.name_id.nfc(), "Am\u{e9}lie@Example.com");
    assert_eq!(login.name_id.email_case_folded().as_deref(), Some(composed));
}

#[test]
fn pretty_printed_name_id_is_read_without_its_layout_but_a_unicode_space_inside_it_refuses() {
    let with = |text: &str| {
        replace_once(
            &unsigned_template(),
            &format!(">{NAME_ID}</saml:NameID>"),
            &format!(">{text}</saml:NameID>"),
        )
    };
    let login = validate(&sign_assertion(&with(&format!("\n      {NAME_ID}\n    ")))).unwrap();
    assert_eq!(login.name_id.value, NAME_ID);
    for text in [
        format!("\n      {NAME_ID}\u{a0}\n    "),
        format!("\n   \u{3000}{NAME_ID}\n"),
        format!("\n      {NAME_ID} "),
        format!("\t{NAME_ID}\n"),
    ] {
        let err = validate(&sign_assertion(&with(&text))).unwrap_err();
        assert!(
            matches!(err, Error::WhiteSpaceAround { what: "nameid" }),
            "{text:?}: {err}"
        );
    }
}
