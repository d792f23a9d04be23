//! A local account with a second factor, and an audit trail of everything that happened to it.
//!
//! Ann signs up with a password, enrols a TOTP authenticator (the QR code is printed to the
//! terminal), and logs in with password + code. Her TOTP secret is stored sealed by
//! rampart-envelope, bound to her row; each code works once; recovery codes are stored as keyed
//! hashes. Every outcome is forwarded to a rampart-audit trail (no Rampart crate depends on
//! rampart-audit: the application turns verdicts into events, as here), which is then verified,
//! edited, and verified again.
//!
//! Run: `cargo run --example mfa_login`

use std::error::Error;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use rampart::audit::{
    AccountActivity, AuditLog, AuthActivity, ChainKey, Event, FileSink, KeySet, Outcome, User,
    Verdict, Verifier,
};
use rampart::envelope::{Context, Keyring, LocalMasterKey};
use rampart::mfa::{
    ActiveFactor, FactorState, PendingFactor, RecoveryCodes, RecoveryPepper, TotpParams, TotpSecret,
};
use rampart::password::{Hasher, Password};
use zeroize::Zeroizing;

/// Ann's row in the users table: nothing in it is readable without the service's keys.
struct UserRow {
    password_hash: String,
    /// The TOTP secret sealed by the keyring, bound to this user and column.
    totp_sealed: Option<String>,
    /// Parameters and the last used step (plain JSON, nothing secret).
    totp_state: Option<String>,
    recovery: Option<String>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let ip: IpAddr = "198.51.100.7".parse()?;
    let now = SystemTime::now();

    // The service's keys: a keyring for secrets at rest, the audit chain key, the pepper of
    // the recovery codes. In production each comes from the secret store.
    let keyring = Keyring::create("users", "eu", &LocalMasterKey::generate()?, now)?;
    let chain_key = Zeroizing::new(rand::random::<[u8; 32]>());
    let chain = || ChainKey::new("2026-12", &chain_key[..]);
    let pepper = RecoveryPepper::generate(1)?;
    let hasher = Hasher::builder().build()?;
    let audit = AuditLog::builder(chain()?, FileSink::open(dir.path(), "audit")?).start()?;
    let ann = || User::named("ann@example.com");
    let totp_ctx = Context::new()
        .with("user", "ann")
        .with("column", "totp_secret");

    println!("1. Ann signs up");
    let mut row = UserRow {
        password_hash: hasher.hash(&Password::new("correct horse battery staple"))?,
        totp_sealed: None,
        totp_state: None,
        recovery: None,
    };
    audit.append(
        Event::account_change(AccountActivity::Create, Outcome::Success).with_user(ann()),
    )?;

    println!("2. She enrols an authenticator app: scan this QR code");
    let pending = PendingFactor::generate("ACME Co", "ann@example.com", TotpParams::default())?;
    println!("{}", *pending.otpauth_uri().qr_terminal()?);
    // Her app shows a code; here we compute the one it would show.
    let code = pending.params().code_at(pending.secret(), now)?;
    let factor = pending.confirm(code.expose_secret(), now)?;
    row.totp_sealed = Some(keyring.seal_text(factor.secret().expose_secret(), &totp_ctx)?);
    row.totp_state = Some(serde_json::to_string(factor.state())?);
    let issued = RecoveryCodes::generate(&pepper)?;
    row.recovery = Some(serde_json::to_string(&issued.stored)?);
    println!(
        "   confirmed with her first code; secret stored sealed ({} bytes), {} recovery codes shown once",
        row.totp_sealed.as_ref().map_or(0, String::len),
        issued.codes.len()
    );
    audit.append(
        Event::account_change(AccountActivity::MfaFactorEnable, Outcome::Success)
            .with_user(ann())
            .with_src_ip(ip),
    )?;

    println!("3. She logs in 30 seconds later: password, then the code her app shows");
    let later = now + Duration::from_secs(30);
    let password_ok = hasher
        .verify(
            &Password::new("correct horse battery staple"),
            &row.password_hash,
        )?
        .is_valid();
    let mut factor = load_factor(&row, &keyring, &totp_ctx)?;
    let code = factor.state().params().code_at(factor.secret(), later)?;
    let second = factor.verify(code.expose_secret(), later);
    // Persist the new last used step (compare-and-swap in a real table).
    row.totp_state = Some(serde_json::to_string(factor.state())?);
    println!(
        "   password: {}; code: {}",
        if password_ok { "valid" } else { "wrong" },
        if second.is_ok() {
            "accepted"
        } else {
            "refused"
        }
    );
    audit_login(&audit, password_ok, second.map(|_| ()), ip)?;
    assert!(password_ok);

    println!("4. Someone replays the code they saw over her shoulder");
    let mut factor = load_factor(&row, &keyring, &totp_ctx)?;
    let replay = factor.verify(code.expose_secret(), later + Duration::from_secs(5));
    match &replay {
        Ok(_) => return Err("a used code was accepted twice".into()),
        Err(e) => println!("   refused: {e}"),
    }
    audit_login(&audit, true, replay.map(|_| ()), ip)?;

    println!("5. She lost her phone: one recovery code, used once");
    let stored: RecoveryCodes = serde_json::from_str(row.recovery.as_deref().unwrap_or("{}"))?;
    let typed = issued.codes[0].expose_secret();
    let after = stored.consume(typed, &pepper)?;
    println!("   accepted; {} codes left", after.remaining());
    row.recovery = Some(serde_json::to_string(&after)?);
    audit.append(
        Event::authentication(AuthActivity::Logon, Outcome::Success)
            .with_user(ann())
            .with_src_ip(ip)
            .with_message("recovery code"),
    )?;
    let again = after.consume(typed, &pepper).map(|_| ());
    println!(
        "   the same recovery code again: {}",
        again
            .as_ref()
            .map_or_else(ToString::to_string, |()| "accepted".into())
    );
    assert!(again.is_err());

    println!("6. The audit trail");
    let files = audit.shutdown()?;
    let verifier = Verifier::new().with_keys(KeySet::new().with_key(chain()?)?);
    match verifier.verify_files(&files)? {
        Verdict::Intact(s) => println!("   verified: intact, {} events", s.records),
        Verdict::Broken(b) => return Err(format!("fresh trail broken: {}", b.reason).into()),
    }
    let text = std::fs::read_to_string(&files[0])?;
    // An intruder turns the replayed login's failure into a success.
    let edited = text.replacen(r#""status":"Failure""#, r#""status":"Success""#, 1);
    std::fs::write(&files[0], edited)?;
    match verifier.verify_files(&files)? {
        Verdict::Broken(b) => println!(
            "   after one status was edited: broken at line {} of {}: {}",
            b.line,
            b.file.file_name().unwrap_or_default().to_string_lossy(),
            b.reason
        ),
        Verdict::Intact(_) => return Err("an edited trail verified".into()),
    }
    println!("   (operators run the same check: rampart audit verify FILE... --key-file K)");
    Ok(())
}

/// Unseals the TOTP secret and restores the factor with its last used step.
fn load_factor(
    row: &UserRow,
    keyring: &Keyring,
    ctx: &Context,
) -> Result<ActiveFactor, Box<dyn Error>> {
    let sealed = row.totp_sealed.as_deref().ok_or("no factor enrolled")?;
    let secret = TotpSecret::from_bytes(&keyring.open_text(sealed, ctx)?)?;
    let state: FactorState = serde_json::from_str(row.totp_state.as_deref().unwrap_or("{}"))?;
    Ok(ActiveFactor::restore(secret, state))
}

/// Forwards a login's two verdicts to the trail, with the error's stable kind.
fn audit_login(
    audit: &AuditLog,
    password_ok: bool,
    code: Result<(), rampart::mfa::Error>,
    ip: IpAddr,
) -> Result<(), rampart::audit::Error> {
    let event = match (password_ok, code) {
        (true, Ok(())) => Event::authentication(AuthActivity::Logon, Outcome::Success),
        (false, _) => Event::authentication(AuthActivity::Logon, Outcome::Failure)
            .with_status_detail("wrong password"),
        (true, Err(e)) => Event::authentication(AuthActivity::Logon, Outcome::Failure)
            .with_status_detail(e.kind()),
    };
    audit.append(
        event
            .with_user(User::named("ann@example.com"))
            .with_src_ip(ip)
            .with_message("password + TOTP"),
    )
}
