//! Tour stop: rampart-envelope. A keyring wrapped by a master key, sealed values bound to
//! their context, rotation, re-encryption, retirement, and the errors an operator sees.

use std::error::Error;
use std::time::{Duration, SystemTime};

use rampart::envelope::{Context, Keyring, LocalMasterKey, MasterKey, OVERHEAD};

pub(crate) fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-envelope: keyrings, rotation and sealed values");
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);

    // The master key: 32 bytes in base64, from a 0600 file or RAMPART_MASTER_KEY. It wraps
    // one keyring key; the keyring key wraps the versions. Loading = one master-key call.
    let master = LocalMasterKey::generate()?;
    println!("   master key {}", master.id());
    let mut ring = Keyring::create("oauth-tokens", "eu-central", &master, now)?;
    println!(
        "   keyring {} ({}, region {}), primary v{}",
        ring.id(),
        ring.name(),
        ring.region(),
        ring.primary_version().unwrap_or(0)
    );

    // Seal with a context: it is authenticated, not stored; the same context opens it.
    let ctx = Context::new()
        .with("tenant", "42")
        .with("table", "accounts")
        .with("column", "oauth_token");
    let sealed = ring.seal(b"ya29.a0AfH6SMB", &ctx)?;
    println!(
        "   sealed 14 bytes into {} ({} bytes of overhead: a 72-byte header naming format, suite, keyring, region, version, salt, nonce, commitment; a 16-byte tag)",
        sealed.len(),
        OVERHEAD
    );
    println!(
        "   open with the same context: '{}'",
        String::from_utf8_lossy(&ring.open(&sealed, &ctx)?)
    );
    let other_tenant = Context::new()
        .with("tenant", "43")
        .with("table", "accounts")
        .with("column", "oauth_token");
    println!(
        "   copied to tenant 43:        {}",
        ring.open(&sealed, &other_tenant).unwrap_err()
    );
    let mut flipped = sealed.clone();
    flipped[50] ^= 1;
    println!(
        "   one bit flipped:            {}",
        ring.open(&flipped, &ctx).unwrap_err()
    );
    let stranger = Keyring::create("oauth-tokens", "eu-central", &master, now)?;
    println!(
        "   opened by another keyring:  {}",
        stranger.open(&sealed, &ctx).unwrap_err()
    );

    // Rotation: v2 seals from now on, v1 values still open; re-encrypt, then retire v1.
    let v2 = ring.rotate(&master, now + Duration::from_secs(90 * 86_400))?;
    println!(
        "   rotated to v{v2}; old value needs re-encryption: {}",
        ring.needs_reencrypt(&sealed)?
    );
    let upgraded = ring.reencrypt(&sealed, &ctx)?;
    println!(
        "   re-encrypted to v{}; it needs more: {}",
        ring.version_of(&upgraded)?,
        ring.needs_reencrypt(&upgraded)?
    );
    let retired = ring.retire_below(v2, now + Duration::from_secs(120 * 86_400))?;
    let retired: Vec<String> = retired.iter().map(|v| format!("v{v}")).collect();
    println!("   retired {}: the old copy now says", retired.join(", "));
    println!("     {}", ring.open(&sealed, &ctx).unwrap_err());

    // The keyring file: versioned JSON with an integrity MAC; rewrap to a new master key
    // touches no data.
    let new_master = LocalMasterKey::generate()?;
    ring.rewrap(&master, &new_master)?;
    let json = ring.to_json()?;
    println!(
        "   keyring file: {} bytes of JSON; loads with the new master key: {}",
        json.len(),
        Keyring::from_json(&json, &new_master).is_ok()
    );
    println!(
        "   with the old one: {}",
        Keyring::from_json(&json, &master).unwrap_err()
    );
    println!(
        "   text form for a database column: {}…",
        &ring.seal_text(b"token", &ctx)?[..24]
    );
    Ok(())
}
