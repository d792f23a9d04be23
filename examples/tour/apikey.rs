//! Tour stop: rampart-apikey.

use std::error::Error;
use std::time::{Duration, SystemTime};

use rampart_apikey::{
    ApiKeys, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset, find_keys, redact,
};

pub(crate) fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-apikey: API key pairs, checksummed secrets, constant-time checks");
    let keys = ApiKeys::new(
        KeyPrefix::new("rk", "live")?,
        Keyset::new(1, HashingKey::generate()?),
    );
    let store = InMemoryStore::new();
    let now = SystemTime::now();

    let issued = keys.issue(KeyOptions::new().with_scopes(["orders:read"]), now)?;
    println!("   issued public key {} (may be logged)", issued.public_key);
    println!("   and a secret key shown once; the store keeps only its HMAC-SHA256:");
    println!("   {}", serde_json::to_string(&issued.record)?);
    store.insert(issued.record)?;
    let secret = issued.secret_key;

    let who = keys.check(&store, secret.expose_secret(), &["orders:read"], now)?;
    println!(
        "   check with scope orders:read -> ok, public id {}",
        who.public_id()
    );
    let s = secret.expose_secret();
    let typo = format!(
        "{}{}",
        &s[..s.len() - 1],
        if s.ends_with('x') { 'y' } else { 'x' }
    );
    println!(
        "   one character mistyped       -> {}",
        keys.check(&store, &typo, &[], now).unwrap_err()
    );
    println!(
        "   scope orders:write           -> {}",
        keys.check(&store, s, &["orders:write"], now).unwrap_err()
    );

    let mut record = store.get(&secret.public_id()).ok_or("record missing")?;
    let rotated = keys.rotate(&mut record, Duration::from_secs(3600), now)?;
    store.save(record);
    let old = keys.check(&store, s, &[], now)?;
    println!(
        "   rotated: old secret still accepted for an hour (used_previous_secret = {})",
        old.used_previous_secret()
    );
    println!(
        "   two hours later the old one  -> {}",
        keys.check(&store, s, &[], now + Duration::from_secs(7200))
            .unwrap_err()
    );

    let log = format!("POST /orders auth={} 201", rotated.expose_secret());
    println!(
        "   scanner finds {} key(s) in a log line; redacted:",
        find_keys(&log).len()
    );
    println!("   {}", redact(&log));
    Ok(())
}
