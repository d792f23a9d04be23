//! API keys for a service, end to end: issue a pair, authenticate requests, rotate with
//! overlap, revoke, and keep secrets out of the logs.
//!
//! `cargo run -p rampart --no-default-features --features apikey --example api_keys`
//!
//! The records live in memory; with `--sqlite PATH` they live in an SQLite file instead (no
//! server needed; the schema is created on first use):
//!
//! `cargo run -p rampart --no-default-features --features apikey,sqlite --example api_keys -- --sqlite /tmp/keys.db`

use std::error::Error;
use std::time::{Duration, SystemTime};

use rampart_apikey::{
    ApiKeyRecord, ApiKeys, Error as KeyError, HashingKey, InMemoryStore, KeyOptions, KeyPrefix,
    Keyset, PublicId, SecretKey, redact,
};

const HOUR: Duration = Duration::from_secs(3600);

/// Where the records live: the same calls either way.
enum Store {
    Memory(InMemoryStore),
    #[cfg(feature = "sqlite")]
    Sqlite(rampart_apikey::SqliteKeyStore),
}

impl Store {
    async fn open(args: &[String]) -> Result<Self, Box<dyn Error>> {
        match args {
            [] => Ok(Store::Memory(InMemoryStore::new())),
            [flag, path] if flag == "--sqlite" => Self::sqlite(path).await,
            _ => Err("usage: api_keys [--sqlite PATH]".into()),
        }
    }

    #[cfg(feature = "sqlite")]
    async fn sqlite(path: &str) -> Result<Self, Box<dyn Error>> {
        let options = rampart_apikey::SqlStoreOptions::new();
        Ok(Store::Sqlite(
            rampart_apikey::SqliteKeyStore::open(path, &options).await?,
        ))
    }

    #[cfg(not(feature = "sqlite"))]
    async fn sqlite(_path: &str) -> Result<Self, Box<dyn Error>> {
        Err("--sqlite needs the example built with `--features sqlite`".into())
    }

    fn describe(&self) -> &'static str {
        match self {
            Store::Memory(_) => "in memory",
            #[cfg(feature = "sqlite")]
            Store::Sqlite(_) => "in an SQLite file",
        }
    }

    async fn insert(&self, record: ApiKeyRecord) -> Result<(), Box<dyn Error>> {
        match self {
            Store::Memory(s) => s.insert(record)?,
            #[cfg(feature = "sqlite")]
            Store::Sqlite(s) => s.insert(&record).await?,
        }
        Ok(())
    }

    async fn check(
        &self,
        keys: &ApiKeys,
        token: &str,
        needs: &[&str],
        now: SystemTime,
    ) -> Result<rampart_apikey::VerifiedKey, KeyError> {
        match self {
            Store::Memory(s) => keys.check_async(s, token, needs, now).await,
            #[cfg(feature = "sqlite")]
            Store::Sqlite(s) => keys.check_async(s, token, needs, now).await,
        }
    }

    /// Rotation with overlap, saved (the SQL store compares and swaps, so a concurrent
    /// revocation is never undone).
    async fn rotate(
        &self,
        keys: &ApiKeys,
        id: &PublicId,
        grace: Duration,
        now: SystemTime,
    ) -> Result<SecretKey, Box<dyn Error>> {
        match self {
            Store::Memory(s) => {
                let mut record = s.get(id).ok_or("record vanished")?;
                let secret = keys.rotate(&mut record, grace, now)?;
                s.save(record);
                Ok(secret)
            }
            #[cfg(feature = "sqlite")]
            Store::Sqlite(s) => Ok(s.rotate(keys, id, grace, now).await?),
        }
    }

    async fn revoke(&self, id: &PublicId, now: SystemTime) -> Result<(), Box<dyn Error>> {
        match self {
            Store::Memory(s) => {
                let mut record = s.get(id).ok_or("record vanished")?;
                record.revoke(now);
                s.save(record);
            }
            #[cfg(feature = "sqlite")]
            Store::Sqlite(s) => s.revoke(id, now).await?,
        }
        Ok(())
    }
}

/// What a request handler does with the `Authorization: Bearer ...` header.
async fn authenticate(
    keys: &ApiKeys,
    store: &Store,
    header: &str,
    needs: &[&str],
    now: SystemTime,
) -> String {
    let Some(token) = header.strip_prefix("Bearer ") else {
        return "401 (no bearer token)".to_owned();
    };
    match store.check(keys, token.trim_ascii(), needs, now).await {
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
            let who = e
                .public_id()
                .map_or_else(|| "the client IP".to_owned(), |id| format!("key {id}"));
            format!("401 [log: {e}; count failure for {who}]")
        }
        Err(e) => format!("503 [log: {e}]"),
    }
}

/// Prints a request's outcome and checks it is the expected status: the example is a test.
fn show(what: &str, outcome: &str, status: &str) {
    println!("{what} -> {outcome}");
    assert!(
        outcome.starts_with(status),
        "{what}: expected {status}, got {outcome}"
    );
}

async fn run(args: &[String]) -> Result<(), Box<dyn Error>> {
    // The hashing key lives outside the database (environment, secrets manager, or sealed
    // with rampart-envelope); here a fresh one.
    let keys = ApiKeys::new(
        KeyPrefix::new("rk", "live")?,
        Keyset::new(1, HashingKey::generate()?),
    );
    let store = Store::open(args).await?;
    println!("records    : {}", store.describe());
    let mut now = SystemTime::now();

    // 1. Issue a pair. The secret is shown once; only the record is stored.
    let issued = keys.issue(
        KeyOptions::new()
            .with_scopes(["orders:read"])
            .with_valid_for(90 * 24 * HOUR),
        now,
    )?;
    println!("public key : {}", issued.public_key);
    println!(
        "secret key : {} (shown once)",
        issued.secret_key.expose_secret()
    );
    println!("stored     : {}", serde_json::to_string(&issued.record)?);
    store.insert(issued.record).await?;
    let secret = issued.secret_key;

    // 2. Authenticate requests.
    let bearer = format!("Bearer {}", secret.expose_secret());
    println!();
    let ok = authenticate(&keys, &store, &bearer, &["orders:read"], now).await;
    show("GET  /orders         ", &ok, "200");
    let denied = authenticate(&keys, &store, &bearer, &["orders:write"], now).await;
    show("POST /orders         ", &denied, "403");
    // A customer mistypes one character: rejected by the checksum, before any lookup.
    let mut typo = bearer.clone().into_bytes();
    let at = typo.len() - 10;
    typo[at] = if typo[at] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo)?;
    let typo = authenticate(&keys, &store, &typo, &["orders:read"], now).await;
    show("GET  /orders (typo)  ", &typo, "401");
    let unknown = keys.issue(KeyOptions::new(), now)?.secret_key;
    let unknown = format!("Bearer {}", unknown.expose_secret());
    let stray = authenticate(&keys, &store, &unknown, &["orders:read"], now).await;
    show("GET  /orders (stray) ", &stray, "401");

    // 3. Rotate with overlap: the old secret keeps working for 24 hours.
    let id = secret.public_id();
    let new_secret = store.rotate(&keys, &id, 24 * HOUR, now).await?;
    let new_bearer = format!("Bearer {}", new_secret.expose_secret());
    now += HOUR;
    println!("\nrotated; one hour later:");
    let old = authenticate(&keys, &store, &bearer, &["orders:read"], now).await;
    show("  old secret", &old, "200");
    assert!(old.contains("remind owner"));
    let new = authenticate(&keys, &store, &new_bearer, &["orders:read"], now).await;
    show("  new secret", &new, "200");
    now += 24 * HOUR;
    println!("a day later:");
    let old = authenticate(&keys, &store, &bearer, &["orders:read"], now).await;
    show("  old secret", &old, "401");
    let new = authenticate(&keys, &store, &new_bearer, &["orders:read"], now).await;
    show("  new secret", &new, "200");

    // 4. Revoke: the very next check refuses the key.
    store.revoke(&id, now).await?;
    println!("\nrevoked:");
    let revoked = authenticate(&keys, &store, &new_bearer, &["orders:read"], now).await;
    show("  new secret", &revoked, "401");
    assert!(revoked.contains("revoked"));

    // 5. A log line that leaked the key, redacted before it is written.
    let line = format!(
        "POST /v1/orders auth={} status=201",
        new_secret.expose_secret()
    );
    let redacted = redact(&line);
    println!("\nlog line   : {redacted}");
    assert!(!redacted.contains(new_secret.expose_secret()));
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The SQLite store is async (sqlx); a current-thread runtime is all an example needs.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(&args))
}
