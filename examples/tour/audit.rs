//! Tour stop: rampart-audit.

use std::error::Error;

use rampart_audit::{
    AuditLog, AuthActivity, ChainKey, Event, FileSink, KeySet, Outcome, User, Verdict, Verifier,
};

pub(crate) fn run() -> Result<(), Box<dyn Error>> {
    println!("\n== rampart-audit: a tamper-evident trail of OCSF events in JSON lines");
    let dir = tempfile::tempdir()?;
    // The chain key is the application's secret (here random; kept with its other keys).
    let key_bytes = zeroize::Zeroizing::new(rand::random::<[u8; 32]>());
    let key = || ChainKey::new("2026-12", &key_bytes[..]);
    let log = AuditLog::builder(key()?, FileSink::open(dir.path(), "audit")?).start()?;
    for (who, outcome) in [("alice", Outcome::Failure), ("alice", Outcome::Success)] {
        log.append(
            Event::authentication(AuthActivity::Logon, outcome)
                .with_user(User::named(who))
                .with_src_ip("203.0.113.5".parse()?),
        )?;
    }
    let files = log.shutdown()?;
    let text = std::fs::read_to_string(&files[0])?;
    let first_event = text.lines().nth(1).unwrap_or_default();
    println!("   each line is an event chained to the one before by HMAC-SHA256:");
    println!("   {}...", &first_event[..first_event.len().min(110)]);

    let verifier = Verifier::new().with_keys(KeySet::new().with_key(key()?)?);
    if let Verdict::Intact(s) = verifier.verify_files(&files)? {
        println!(
            "   verify: intact, {} records in {} file(s)",
            s.records, s.files
        );
    }
    std::fs::write(&files[0], text.replacen("alice", "mallory", 1))?;
    match verifier.verify_files(&files)? {
        Verdict::Broken(b) => println!(
            "   one name edited in the file -> broken at line {}: {}",
            b.line, b.reason
        ),
        Verdict::Intact(_) => return Err("an edited trail verified".into()),
    }
    Ok(())
}
