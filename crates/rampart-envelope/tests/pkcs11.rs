//! `Pkcs11MasterKey` against a real PKCS#11 implementation: SoftHSM2 tokens made by each
//! test in a directory of its own (each test body runs in a child process whose
//! `SOFTHSM2_CONF` points there; see `rampart_testkit::softhsm`).

use std::sync::Arc;
use std::time::SystemTime;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use rampart_envelope::{
    Context, Error, KeyMaterial, Keyring, LocalMasterKey, MasterKey, MasterKeyError, Pkcs11Error,
    Pkcs11MasterKey,
};
use rampart_testkit::SoftHsm;
use rampart_testkit::softhsm::MODULE;

const PIN: &str = "1234";

fn pkcs11_kind(e: &Error) -> &'static str {
    match e {
        Error::MasterKey(MasterKeyError::Pkcs11(p)) => p.kind(),
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

/// Makes a key object the library would never make: extractable (or not sensitive).
fn make_exportable_key(token: &str, label: &str, extractable: bool, sensitive: bool) {
    let ctx = Pkcs11::new(MODULE).unwrap();
    let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
    let slot = ctx
        .get_slots_with_initialized_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label().trim_ascii_end() == token)
        .unwrap();
    let session = ctx.open_rw_session(slot).unwrap();
    let _ = session.login(UserType::User, Some(&AuthPin::from(PIN)));
    session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(sensitive),
                Attribute::Extractable(extractable),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::ValueLen(32.into()),
                Attribute::Label(label.as_bytes().to_vec()),
            ],
        )
        .unwrap();
}

#[test]
fn hsm_key_wraps_a_keyring_that_loads_and_opens() {
    let Some(hsm) = SoftHsm::for_test("hsm_key_wraps_a_keyring_that_loads_and_opens") else {
        return;
    };
    hsm.init_token("prod", PIN);
    let pin = hsm.pin_file("pin", PIN);
    let uri = SoftHsm::uri("prod", "kek", &pin);
    let key = Pkcs11MasterKey::generate(&uri).unwrap();
    assert_eq!(key.id().as_str(), "pkcs11:token=prod;object=kek");
    assert!(!format!("{key:?}").contains(PIN));

    let now = SystemTime::now();
    let mut ring = Keyring::create("tokens", "eu-central", &key, now).unwrap();
    let ctx = Context::new().with("tenant", "7");
    let sealed = ring.seal(b"in the hsm", &ctx).unwrap();
    ring.rotate(&key, now).unwrap();
    let json = ring.to_json().unwrap();
    assert!(json.contains("pkcs11:token=prod;object=kek"));

    // A second handle on the same key object (a restarted service) loads it.
    let reopened = Pkcs11MasterKey::open(&uri).unwrap();
    let loaded = Keyring::from_json(&json, &reopened).unwrap();
    assert_eq!(&loaded.open(&sealed, &ctx).unwrap()[..], b"in the hsm");

    // Generating over an existing object is refused.
    assert!(matches!(
        Pkcs11MasterKey::generate(&uri),
        Err(Error::InvalidOperation(_))
    ));
}

#[test]
fn hsm_wrap_binds_the_aad_and_the_key_object() {
    let Some(hsm) = SoftHsm::for_test("hsm_wrap_binds_the_aad_and_the_key_object") else {
        return;
    };
    hsm.init_token("prod", PIN);
    let pin = hsm.pin_file("pin", PIN);
    let a = Pkcs11MasterKey::generate(&SoftHsm::uri("prod", "a", &pin)).unwrap();
    let b = Pkcs11MasterKey::generate(&SoftHsm::uri("prod", "b", &pin)).unwrap();
    let w = a.wrap(&KeyMaterial::from_bytes([9; 32]), b"aad").unwrap();
    assert_eq!(w.as_bytes().len(), 61);
    assert_eq!(a.unwrap(&w, b"aad").unwrap().expose_secret(), &[9; 32]);
    assert!(matches!(
        a.unwrap(&w, b"other"),
        Err(Error::MasterKey(MasterKeyError::Unwrap))
    ));
    assert!(matches!(
        b.unwrap(&w, b"aad"),
        Err(Error::MasterKey(MasterKeyError::Unwrap))
    ));
    let mut bent = w.as_bytes().to_vec();
    bent[20] ^= 1;
    assert!(matches!(
        a.unwrap(&rampart_envelope::WrappedKey::from_bytes(bent), b"aad"),
        Err(Error::MasterKey(MasterKeyError::Unwrap))
    ));
    assert!(matches!(
        a.unwrap(
            &rampart_envelope::WrappedKey::from_bytes(vec![1; 7]),
            b"aad"
        ),
        Err(Error::MasterKey(MasterKeyError::Unwrap))
    ));
    // Two wraps of one key differ (random IV).
    let w2 = a.wrap(&KeyMaterial::from_bytes([9; 32]), b"aad").unwrap();
    assert_ne!(w, w2);
}

#[test]
fn keyring_under_the_hsm_refuses_a_local_key_naming_the_hsm() {
    let Some(hsm) = SoftHsm::for_test("keyring_under_the_hsm_refuses_a_local_key_naming_the_hsm")
    else {
        return;
    };
    hsm.init_token("prod", PIN);
    let pin = hsm.pin_file("pin", PIN);
    let key = Pkcs11MasterKey::generate(&SoftHsm::uri("prod", "kek", &pin)).unwrap();
    let json = Keyring::create("t", "eu", &key, SystemTime::now())
        .unwrap()
        .to_json()
        .unwrap();
    let e = Keyring::from_json(&json, &LocalMasterKey::generate().unwrap()).unwrap_err();
    assert!(
        e.to_string().contains("pkcs11:token=prod;object=kek"),
        "{e}"
    );
}

#[test]
fn wrong_pin_missing_token_missing_key_and_missing_module_are_named() {
    let Some(hsm) =
        SoftHsm::for_test("wrong_pin_missing_token_missing_key_and_missing_module_are_named")
    else {
        return;
    };
    hsm.init_token("prod", PIN);
    let good = hsm.pin_file("pin", PIN);
    let bad = hsm.pin_file("bad-pin", "9999");
    Pkcs11MasterKey::generate(&SoftHsm::uri("prod", "kek", &good)).unwrap();

    let e = Pkcs11MasterKey::open(&SoftHsm::uri("prod", "kek", &bad)).unwrap_err();
    assert_eq!(pkcs11_kind(&e), "pkcs11_wrong_pin", "{e}");
    assert!(!e.to_string().contains("9999"));

    let e = Pkcs11MasterKey::open(&SoftHsm::uri("nope", "kek", &good)).unwrap_err();
    assert_eq!(pkcs11_kind(&e), "pkcs11_token_missing", "{e}");

    let e = Pkcs11MasterKey::open(&SoftHsm::uri("prod", "absent", &good)).unwrap_err();
    assert_eq!(pkcs11_kind(&e), "pkcs11_key_missing", "{e}");
    assert!(e.to_string().contains("absent"));

    let e = Pkcs11MasterKey::open(&format!(
        "pkcs11:token=prod;object=kek?module-path=/nonexistent/libpkcs11.so&pin-source=file:{}",
        good.display()
    ))
    .unwrap_err();
    assert_eq!(pkcs11_kind(&e), "pkcs11_module", "{e}");
    assert!(e.to_string().contains("/nonexistent/libpkcs11.so"));

    let e = Pkcs11MasterKey::open(&SoftHsm::uri(
        "prod",
        "kek",
        &good.with_file_name("no-such-pin"),
    ))
    .unwrap_err();
    assert_eq!(pkcs11_kind(&e), "pkcs11_pin_source", "{e}");
}

#[test]
fn extractable_or_non_sensitive_key_object_is_refused() {
    let Some(hsm) = SoftHsm::for_test("extractable_or_non_sensitive_key_object_is_refused") else {
        return;
    };
    hsm.init_token("prod", PIN);
    let pin = hsm.pin_file("pin", PIN);
    make_exportable_key("prod", "exportable", true, true);
    make_exportable_key("prod", "plain", false, false);
    let e = Pkcs11MasterKey::open(&SoftHsm::uri("prod", "exportable", &pin)).unwrap_err();
    assert!(matches!(
        e,
        Error::MasterKey(MasterKeyError::Pkcs11(Pkcs11Error::KeyExportable {
            reason: "extractable",
            ..
        }))
    ));
    assert_eq!(e.kind(), "pkcs11_key_extractable");
    let e = Pkcs11MasterKey::open(&SoftHsm::uri("prod", "plain", &pin)).unwrap_err();
    assert!(matches!(
        e,
        Error::MasterKey(MasterKeyError::Pkcs11(Pkcs11Error::KeyExportable {
            reason: "not sensitive",
            ..
        }))
    ));
}

#[test]
fn many_threads_share_one_hsm_key() {
    let Some(hsm) = SoftHsm::for_test("many_threads_share_one_hsm_key") else {
        return;
    };
    hsm.init_token("prod", PIN);
    let pin = hsm.pin_file("pin", PIN);
    let key = Arc::new(Pkcs11MasterKey::generate(&SoftHsm::uri("prod", "kek", &pin)).unwrap());
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            let key = Arc::clone(&key);
            std::thread::spawn(move || {
                for i in 0..25u8 {
                    let k = KeyMaterial::from_bytes([t ^ i; 32]);
                    let aad = [t, i];
                    let w = key.wrap(&k, &aad).unwrap();
                    assert_eq!(key.unwrap(&w, &aad).unwrap().expose_secret(), &[t ^ i; 32]);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Golden: a keyring moved from a local key into the HSM and back, saved and reloaded at
/// each step (atomic replace), opens what was sealed before the moves; no version key
/// changes (the versions' wrapped keys are byte-identical).
#[test]
fn rewrap_local_to_hsm_and_back_keeps_every_value_readable() {
    let Some(hsm) = SoftHsm::for_test("rewrap_local_to_hsm_and_back_keeps_every_value_readable")
    else {
        return;
    };
    hsm.init_token("prod", PIN);
    let pin = hsm.pin_file("pin", PIN);
    let hsm_key = Pkcs11MasterKey::generate(&SoftHsm::uri("prod", "kek", &pin)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.keyring.json");
    let local = LocalMasterKey::generate().unwrap();
    let now = SystemTime::now();
    let mut ring = Keyring::create("tokens", "eu", &local, now).unwrap();
    ring.rotate(&local, now).unwrap();
    let ctx = Context::new().with("row", "1");
    let sealed = ring.seal(b"before the move", &ctx).unwrap();
    ring.save(&path).unwrap();
    let versions = |p: &std::path::Path| {
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(p).unwrap()).unwrap()
            ["versions"]
            .clone()
    };
    let before = versions(&path);

    let store = rampart_envelope::FileKeyringStore::new(&path);
    Keyring::update(&store, &local, |r| r.rewrap(&local, &hsm_key)).unwrap();
    let e = Keyring::load(&path, &local).unwrap_err();
    assert!(
        e.to_string().contains("pkcs11:token=prod;object=kek"),
        "{e}"
    );
    let ring = Keyring::load(&path, &hsm_key).unwrap();
    assert_eq!(&ring.open(&sealed, &ctx).unwrap()[..], b"before the move");
    assert_eq!(versions(&path), before);

    let back = LocalMasterKey::generate().unwrap();
    Keyring::update(&store, &hsm_key, |r| r.rewrap(&hsm_key, &back)).unwrap();
    let ring = Keyring::load(&path, &back).unwrap();
    assert_eq!(&ring.open(&sealed, &ctx).unwrap()[..], b"before the move");
}
