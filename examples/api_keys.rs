//! API keys for a service, end to end: issue a pair, authenticate requests, rotate with
//! overlap, revoke, and keep secrets out of the logs.
//!
//! `cargo run -p rampart --no-default-features --features apikey --example api_keys`

use std::error::Error;
use std::time::{Duration, SystemTime};

use rampart_apikey::{
    ApiKeys, Error as KeyError, HashingKey, InMemoryStore, KeyOptions, KeyPrefix, Keyset, redact,
};

const HOUR: Duration = Duration::from_secs(3600);

/// What a request handler does with the `Authorization: Bearer ...` header.
fn authenticate(
    keys: &ApiKeys,
    store: &InMemoryStore,
    header: &str,
    needs: &[&str],
    now: SystemTime,
) -> String {
    let Some(token) = header.strip_prefix("Bearer ") else {
        return "401 (no bearer token)".to_owned();
    };
    match keys.check(store, token.trim_ascii(), needs, now) {
        Ok(who) => {
            let note = if who.used_previous_secret() {
                " (old secret: remind owner)"
            } else {
                ""
            };
            format!("200 for {}{note}", who.public_id())
        }
        // The client only ever sees 401/403; the log line and the attempt counter get the
        // typed reason and the public id (never the secret).
        Err(e @ KeyError::MissingScope { .. }) => format!("403 [log: {e}]"),
        Err(e) if e.is_credential_failure() => {
            format!("401 [log: {e}; count failure for {:?}]", e.public_id())
        }
        Err(e) => format!("503 [log: {e}]"),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    // The hashing key lives outside the database (environment, secrets manager, or sealed
    // with rampart-envelope); here a fresh one.
    let keys = ApiKeys::new(
        KeyPrefix::new("rk", "live")?,
        Keyset::new(1, HashingKey::generate()?),
    );
    let store = InMemoryStore::new(); // a real service plugs its database in (KeyStore)
    let mut now = SystemTime::now();

    // 1. Issue a pair. The secret is shown once; only the record is stored.
    let issued = keys.issue(
        KeyOptions::new()
            .scopes(["orders:read"])
            .with_valid_for(90 * 24 * HOUR),
        now,
    )?;
    println!("public key : {}", issued.public_key);
    println!(
        "secret key : {} (shown once)",
        issued.secret_key.expose_secret()
    );
    println!("stored     : {}", serde_json::to_string(&issued.record)?);
    store.insert(issued.record)?;
    let secret = issued.secret_key;

    // 2. Authenticate requests.
    let bearer = format!("Bearer {}", secret.expose_secret());
    println!(
        "\nGET  /orders          -> {}",
        authenticate(&keys, &store, &bearer, &["orders:read"], now)
    );
    println!(
        "POST /orders          -> {}",
        authenticate(&keys, &store, &bearer, &["orders:write"], now)
    );
    // A customer mistypes one character: rejected by the checksum, before any lookup.
    let mut typo = bearer.clone().into_bytes();
    let at = typo.len() - 10;
    typo[at] = if typo[at] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo)?;
    println!(
        "GET  /orders (typo)   -> {}",
        authenticate(&keys, &store, &typo, &["orders:read"], now)
    );
    let unknown = keys.issue(KeyOptions::new(), now)?.secret_key;
    let unknown = format!("Bearer {}", unknown.expose_secret());
    println!(
        "GET  /orders (stray)  -> {}",
        authenticate(&keys, &store, &unknown, &["orders:read"], now)
    );

    // 3. Rotate with overlap: the old secret keeps working for 24 hours.
    let id = secret.public_id();
    let mut record = store.get(&id).ok_or("record vanished")?;
    let new_secret = keys.rotate(&mut record, 24 * HOUR, now)?;
    store.save(record);
    let new_bearer = format!("Bearer {}", new_secret.expose_secret());
    now += HOUR;
    println!("\nrotated; one hour later:");
    println!(
        "  old secret -> {}",
        authenticate(&keys, &store, &bearer, &["orders:read"], now)
    );
    println!(
        "  new secret -> {}",
        authenticate(&keys, &store, &new_bearer, &["orders:read"], now)
    );
    now += 24 * HOUR;
    println!("a day later:");
    println!(
        "  old secret -> {}",
        authenticate(&keys, &store, &bearer, &["orders:read"], now)
    );
    println!(
        "  new secret -> {}",
        authenticate(&keys, &store, &new_bearer, &["orders:read"], now)
    );

    // 4. Revoke.
    let mut record = store.get(&id).ok_or("record vanished")?;
    record.revoke(now);
    store.save(record);
    println!("\nrevoked:");
    println!(
        "  new secret -> {}",
        authenticate(&keys, &store, &new_bearer, &["orders:read"], now)
    );

    // 5. A log line that leaked the key, redacted before it is written.
    let line = format!(
        "POST /v1/orders auth={} status=201",
        new_secret.expose_secret()
    );
    println!("\nlog line   : {}", redact(&line));
    Ok(())
}
