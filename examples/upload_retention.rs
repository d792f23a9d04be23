//! An upload folder whose files are encrypted on write and become unreadable after their
//! retention period (crypto-shredding).
//!
//! Uploads (CSV, Excel exports) are kept for 1 hour. Each file is encrypted as it is
//! written, in constant memory, under the key of the current hour bucket of a retention
//! keyring. Within the hour they read back; after `purge` at a (simulated) later time the
//! bucket key is destroyed and every copy of those files is unreadable, wherever it went.
//!
//! Operating model: one writer (here the first `ring`, in production a cron job) prepares
//! bucket keys ahead of time, purges and saves the keyring file; replicas load the file and
//! only seal and open. A replica never invents a bucket key of its own: with a stale file it
//! gets `BucketNotPrepared` and reloads.
//!
//! `cargo run -p rampart --no-default-features --features envelope --example upload_retention`

use std::error::Error;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use rampart::envelope::retention::{BucketSize, RetentionKeyring, RetentionPolicy};
use rampart::envelope::stream::{DecryptingReader, EncryptingWriter};
use rampart::envelope::{Context, LocalMasterKey};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn at(text: &str) -> Result<SystemTime, Box<dyn Error>> {
    Ok(OffsetDateTime::parse(text, &Rfc3339)?.into())
}

fn show(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "?".into())
}

/// The context binds each file to its name: a file renamed over another does not open.
fn context(name: &str) -> Context {
    Context::new().with("folder", "uploads").with("file", name)
}

fn upload(
    ring: &mut RetentionKeyring,
    dir: &Path,
    name: &str,
    body: &[u8],
    now: SystemTime,
) -> Result<(), Box<dyn Error>> {
    let out = BufWriter::new(File::create(dir.join(format!("{name}.rpf")))?);
    let mut w = EncryptingWriter::new(ring.sealing_keyring(now)?, &context(name), out)?;
    w.write_all(body)?;
    w.finish()?.into_inner()?.sync_all()?;
    Ok(())
}

fn read_back(ring: &RetentionKeyring, dir: &Path, name: &str) -> Result<Vec<u8>, Box<dyn Error>> {
    let file = BufReader::new(File::open(dir.join(format!("{name}.rpf")))?);
    let mut plain = Vec::new();
    DecryptingReader::new(ring.keyring(), &context(name), file)?.read_to_end(&mut plain)?;
    Ok(plain)
}

fn main() -> Result<(), Box<dyn Error>> {
    let root = tempfile::tempdir()?;
    let uploads = root.path().join("uploads");
    fs::create_dir(&uploads)?;
    // Keep this file OUT of backups: a backed-up copy would keep purged uploads readable.
    let keyring_path = root.path().join("uploads.retention-keyring.json");

    let master = LocalMasterKey::generate()?; // production: LocalMasterKey::from_file(..)
    let policy = RetentionPolicy::new(BucketSize::Hour, Duration::from_secs(3600));
    let mut ring = RetentionKeyring::create("uploads", "eu-central", &master, policy)?;
    let t_upload = at("2026-11-23T10:15:00Z")?;
    // The writer creates this hour's key and the next one, and saves before anyone seals.
    let current = ring.prepare(t_upload, 1)?;
    ring.save(&keyring_path)?;
    println!(
        "1. retention keyring: hourly buckets, data kept 1 hour; writer prepared buckets {} and {}",
        current,
        current + 1
    );

    // An upload server (a replica) loads the file and encrypts on write.
    let mut replica = RetentionKeyring::load(&keyring_path, &master)?;
    let csv = b"invoice,amount\n2026-001,120.00\n2026-002,75.50\n".to_vec();
    let xlsx: Vec<u8> = (0..300_000u32).flat_map(u32::to_le_bytes).collect(); // 1.2 MB "export"
    upload(&mut replica, &uploads, "invoices.csv", &csv, t_upload)?;
    upload(&mut replica, &uploads, "export.xlsx", &xlsx, t_upload)?;
    println!(
        "2. {}: replica uploaded invoices.csv ({} B) and export.xlsx ({} B), encrypted on write",
        show(t_upload),
        csv.len(),
        xlsx.len()
    );
    for entry in fs::read_dir(&uploads)? {
        let entry = entry?;
        println!(
            "     {} on disk: {} B",
            entry.file_name().to_string_lossy(),
            entry.metadata()?.len()
        );
    }

    let t_read = at("2026-11-23T10:55:00Z")?;
    assert_eq!(read_back(&replica, &uploads, "invoices.csv")?, csv);
    assert_eq!(read_back(&ring, &uploads, "export.xlsx")?, xlsx);
    let purged = ring.purge(t_read)?;
    println!(
        "3. {}: both files read back intact; purge destroyed {} bucket(s)",
        show(t_read),
        purged.len()
    );
    for b in ring.buckets() {
        println!(
            "     bucket {} covers {} .. {}, purgeable from {}",
            b.bucket,
            show(b.start),
            show(b.end),
            show(b.expires)
        );
    }

    let t_later = at("2026-11-23T12:20:00Z")?;
    // A replica still holding the 10:00 file cannot seal at 12:20: it refuses rather than
    // inventing a key nobody else has.
    match replica.seal(b"late", &context("late.csv"), t_later) {
        Err(e @ rampart::envelope::Error::BucketNotPrepared { .. }) => {
            println!("4. {}: stale replica refuses to seal: {e}", show(t_later));
        }
        other => return Err(format!("expected BucketNotPrepared, got {other:?}").into()),
    }
    ring.prepare(t_later, 1)?;
    let purged = ring.purge(t_later)?;
    ring.save(&keyring_path)?; // the shredding is complete once no older copy of this file exists
    for p in &purged {
        println!(
            "5. {}: writer prepared ahead, purged bucket {} ({} .. {}): its key is destroyed",
            show(t_later),
            p.bucket,
            show(p.start),
            show(p.end)
        );
    }

    let reloaded = RetentionKeyring::load(&keyring_path, &master)?;
    for name in ["invoices.csv", "export.xlsx"] {
        match read_back(&reloaded, &uploads, name) {
            Ok(_) => return Err(format!("{name} is still readable after purge").into()),
            Err(e) => println!("6. {name}.rpf is still on disk but unreadable: {e}"),
        }
    }
    Ok(())
}
