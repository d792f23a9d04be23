//! Moving a keyring from a local master key into an HSM without re-encrypting any data.
//!
//! The HSM here is SoftHSM2 (Debian's `softhsm2`), with a token of this run's own in a
//! temporary directory; in production the URI names your HSM's module, token and key.
//! Outside CI, a machine without SoftHSM2 skips loudly; under CI=true it fails (`.ci/run`
//! installs it).
//!
//! Run: `cargo run -p rampart --features pkcs11 --example keyring_to_hsm`

use std::time::SystemTime;

use rampart::envelope::{Context, FileKeyringStore, Keyring, LocalMasterKey, Pkcs11MasterKey};
use rampart_testkit::SoftHsm;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // SoftHSM reads SOFTHSM2_CONF once per process: this runs the example again with it set.
    let Some(hsm) = SoftHsm::reexec() else {
        return Ok(());
    };
    hsm.init_token("prod", "1234");
    let pin = hsm.pin_file("pin", "1234");
    let uri = SoftHsm::uri("prod", "kek", &pin);

    // Yesterday: a keyring under a local key, with data sealed under it.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("tokens.keyring.json");
    let local = LocalMasterKey::generate()?;
    let ring = Keyring::create("oauth-tokens", "eu-central", &local, SystemTime::now())?;
    let ctx = Context::new().with("tenant", "42");
    let column = ring.seal_text(b"ya29.a0Af...", &ctx)?;
    ring.save(&path)?;

    // Today: a non-extractable AES-256 key generated inside the token, and the move. Only
    // the keyring key is rewrapped (one HSM call), under the file's lock, replaced atomically.
    let hsm_key = Pkcs11MasterKey::generate(&uri)?;
    let store = FileKeyringStore::new(&path);
    Keyring::update(&store, &local, |r| r.rewrap(&local, &hsm_key))?;
    println!(
        "keyring now wrapped by {}",
        Keyring::load(&path, &hsm_key)?.master_key_id()
    );

    // The data was not touched: yesterday's column opens; the local key no longer loads it.
    let ring = Keyring::load(&path, &hsm_key)?;
    assert_eq!(&ring.open_text(&column, &ctx)?[..], b"ya29.a0Af...");
    assert!(Keyring::load(&path, &local).is_err());
    println!("values sealed before the move still open; the local key can be destroyed");
    Ok(())
}
