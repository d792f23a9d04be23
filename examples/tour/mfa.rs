//! Tour stop: rampart-mfa.

use std::error::Error;
use std::time::{Duration, SystemTime};

use rampart_mfa::{PendingFactor, RecoveryCodes, RecoveryPepper, TotpParams};

pub(crate) fn run() -> Result<(), Box<dyn Error>> {
    println!("\n== rampart-mfa: TOTP second factors whose codes work once, recovery codes");
    let now = SystemTime::now();
    let pending = PendingFactor::generate("ACME Co", "ann@example.com", TotpParams::default())?;
    let uri = pending.otpauth_uri();
    let qr_lines = uri.qr_terminal()?.lines().count();
    // The URI carries the secret: shown to the user once (as a QR code), never logged.
    let shown = mask_secret(uri.expose_secret());
    println!("   enrolment URI for the authenticator app ({qr_lines}-line QR code in a terminal):");
    println!("   {shown}");

    // The app would show this code; the tour computes it from the secret.
    let code = pending.params().code_at(pending.secret(), now)?;
    let mut factor = pending.confirm(code.expose_secret(), now)?;
    println!("   first code confirms the factor: active");

    let later = now + Duration::from_secs(30);
    let code = factor.state().params().code_at(factor.secret(), later)?;
    let accepted = factor.verify(code.expose_secret(), later)?;
    // A service persists factor.state() (the last used step) before accepting the login.
    println!(
        "   login 30 s later with the next code -> accepted (time step {})",
        accepted.step()
    );
    let again = factor.verify(code.expose_secret(), later).unwrap_err();
    println!("   the same code a second time        -> {again}");

    let pepper = RecoveryPepper::generate(1)?;
    let issued = RecoveryCodes::generate(&pepper)?;
    let first = issued.codes[0].expose_secret().to_owned();
    let left = issued.stored.consume(&first, &pepper)?;
    println!(
        "   10 recovery codes shown once, stored as keyed hashes; one used -> {} left",
        left.remaining()
    );
    println!(
        "   the used one again                  -> {}",
        left.consume(&first, &pepper).unwrap_err()
    );
    Ok(())
}

/// The URI with its `secret=` value replaced, for printing.
fn mask_secret(uri: &str) -> String {
    uri.split('&')
        .map(|part| match part.split_once("secret=") {
            Some((head, _)) => format!("{head}secret=<160 random bits>"),
            None => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}
