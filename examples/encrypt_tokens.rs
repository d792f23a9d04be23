//! OAuth tokens encrypted at rest in a table, through a key rotation.
//!
//! `cargo run -p rampart --no-default-features --features envelope --example encrypt_tokens`
//!
//! 1. Create a keyring (the master key would come from a file: `LocalMasterKey::from_file`).
//! 2. Store tokens sealed with a context naming tenant, table and column.
//! 3. Rotate: new rows use version 2, old rows still open.
//! 4. Re-encrypt in the background: only rows `needs_reencrypt` says are old.
//! 5. Retire version 1: its key is destroyed; a stale backup copy of a row no longer opens.

use std::error::Error;
use std::time::{Duration, SystemTime};

use rampart::envelope::{Context, Keyring, LocalMasterKey, SealedValue};

/// One row of an `oauth_tokens` table; the token column holds the text form.
struct Row {
    id: u64,
    tenant: &'static str,
    token_column: String,
}

fn context(tenant: &str) -> Context {
    Context::new()
        .with("tenant", tenant)
        .with("table", "oauth_tokens")
        .with("column", "access_token")
}

fn main() -> Result<(), Box<dyn Error>> {
    let day = |n: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + n * 86_400);
    let master = LocalMasterKey::generate()?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("oauth-tokens.keyring.json");

    let mut ring = Keyring::create("oauth-tokens", "eu-central", &master, day(0))?;
    ring.save(&path)?;
    println!(
        "keyring {} created, primary v{}",
        ring.id(),
        ring.primary_version().unwrap_or(0)
    );

    // Insert rows under version 1.
    let mut table: Vec<Row> = Vec::new();
    for (id, tenant, token) in [
        (1, "acme", "ya29.acme-token"),
        (2, "globex", "ya29.globex-token"),
        (3, "acme", "ya29.acme-second"),
    ] {
        let token_column = ring.seal_text(token.as_bytes(), &context(tenant))?;
        table.push(Row {
            id,
            tenant,
            token_column,
        });
    }
    println!(
        "stored {} rows; a 15-byte token takes {} characters",
        table.len(),
        table[0].token_column.len()
    );
    let backup_of_row_1 = table[0].token_column.clone();

    // A row copied to another tenant does not open: the context is bound.
    let err = ring
        .open_text(&table[0].token_column, &context("globex"))
        .unwrap_err();
    println!("row 1 read as tenant globex: {err}");

    // Quarterly rotation: version 2 becomes primary; saved atomically.
    let v2 = ring.rotate(&master, day(90))?;
    ring.save(&path)?;
    table.push(Row {
        id: 4,
        tenant: "initech",
        token_column: ring.seal_text(b"ya29.initech-token", &context("initech"))?,
    });
    for row in &table {
        let token = ring.open_text(&row.token_column, &context(row.tenant))?;
        println!(
            "row {} (v{}): {}",
            row.id,
            ring.version_of(&SealedValue::from_text(&row.token_column)?.into_bytes())?,
            String::from_utf8_lossy(&token)
        );
    }

    // Background re-encryption: a replica loads the keyring and upgrades old rows.
    let worker = Keyring::load(&path, &master)?;
    let mut upgraded = 0;
    for row in &mut table {
        let bytes = SealedValue::from_text(&row.token_column)?.into_bytes();
        if worker.needs_reencrypt(&bytes)? {
            let fresh = worker.reencrypt(&bytes, &context(row.tenant))?;
            row.token_column = SealedValue::from_bytes(fresh).to_text();
            upgraded += 1;
        }
    }
    println!("re-encrypted {upgraded} rows to v{v2}");

    // Every row is on v2: retire v1 (destroys its key) and save.
    let retired = ring.retire_below(v2, day(120))?;
    ring.save(&path)?;
    let retired: Vec<String> = retired.iter().map(|v| format!("v{v}")).collect();
    println!("retired versions {}", retired.join(", "));
    let ring = Keyring::load(&path, &master)?;
    for row in &table {
        ring.open_text(&row.token_column, &context(row.tenant))?;
    }
    println!("all {} rows still open after retirement", table.len());
    match ring.open_text(&backup_of_row_1, &context("acme")) {
        Err(e) => println!("old backup of row 1: {e}"),
        Ok(_) => return Err("a retired version must not open".into()),
    }
    Ok(())
}
