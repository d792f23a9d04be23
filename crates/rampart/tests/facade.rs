//! The facade with its default features: the crates work together through `rampart::*` paths
//! as a service wires them (failed logins and API-key mismatches counted per subject,
//! values sealed per tenant).
#![cfg(all(
    feature = "password",
    feature = "apikey",
    feature = "attempts",
    feature = "envelope"
))]

use std::time::SystemTime;

use rampart::apikey::{ApiKeys, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset};
use rampart::attempts::{MemoryStore, Subject, Tracker};
use rampart::envelope::{Context, Keyring, LocalMasterKey};
use rampart::password::{Hasher, Password, Verdict};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[test]
fn wrong_passwords_are_counted_and_the_twentieth_notifies_once() {
    let hasher = Hasher::new();
    let stored = hasher
        .hash(&Password::new("correct horse battery staple"))
        .unwrap();
    let tracker = Tracker::new(MemoryStore::default());
    let who = Subject::account("ann");
    let now = SystemTime::now();
    let mut notified = 0;
    for _ in 0..3 {
        let verdict = hasher.verify(&Password::new("wrong"), &stored).unwrap();
        assert!(matches!(verdict, Verdict::Invalid));
        let outcome = block_on(tracker.record_failure(&who, now)).unwrap();
        notified += usize::from(outcome.notification.is_some());
    }
    assert_eq!(notified, 0, "three failures are below the threshold");
    for _ in 3..25 {
        let outcome = block_on(tracker.record_failure(&who, now)).unwrap();
        notified += usize::from(outcome.notification.is_some());
    }
    assert_eq!(notified, 1, "the 20th failure notifies, once per streak");
    assert!(matches!(
        hasher
            .verify(&Password::new("correct horse battery staple"), &stored)
            .unwrap(),
        Verdict::Valid
    ));
}

#[test]
fn a_failed_api_key_check_names_the_public_id_to_count_against() {
    let keys = ApiKeys::new(
        KeyPrefix::new("rk", "test").unwrap(),
        Keyset::new(1, HashingKey::generate().unwrap()),
    );
    let store = InMemoryStore::new();
    let now = SystemTime::now();
    let issued = keys.issue(KeyOptions::new(), now).unwrap();
    store.insert(issued.record).unwrap();
    // A well-formed key whose record this store does not hold (revoked and deleted, say).
    let stranger = keys.issue(KeyOptions::new(), now).unwrap();
    let err = keys
        .check(&store, stranger.secret_key.expose_secret(), &[], now)
        .unwrap_err();
    let failed = err
        .public_id()
        .expect("a well-formed key names its public id");
    assert_eq!(
        failed.to_string(),
        stranger.public_key.public_id().to_string()
    );
    let subject = Subject::api_key(failed.to_string());
    let tracker = Tracker::new(MemoryStore::default());
    assert_eq!(
        block_on(tracker.record_failure(&subject, now))
            .unwrap()
            .count,
        1
    );
    assert!(!format!("{err}").contains(stranger.secret_key.expose_secret()));
    let ok = keys
        .check(&store, issued.secret_key.expose_secret(), &[], now)
        .unwrap();
    assert_eq!(ok.public_id(), issued.public_key.public_id());
}

#[test]
fn a_value_sealed_for_one_tenant_does_not_open_for_another() {
    let master = LocalMasterKey::generate().unwrap();
    let ring = Keyring::create("tokens", "eu-central", &master, SystemTime::now()).unwrap();
    let tenant = |t: &str| {
        Context::new()
            .with("tenant", t)
            .with("column", "oauth_token")
    };
    let sealed = ring.seal(b"ya29.token", &tenant("42")).unwrap();
    assert_eq!(
        &ring.open(&sealed, &tenant("42")).unwrap()[..],
        b"ya29.token"
    );
    assert!(ring.open(&sealed, &tenant("43")).is_err());
}
