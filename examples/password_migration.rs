//! Migrating a users table from bcrypt and Django PBKDF2 hashes to argon2id, one user at a
//! time as they log in: `cargo run --example password_migration`.
//!
//! Nobody's password is known to the server, so hashes cannot be converted in bulk. Instead,
//! each successful login returns `ValidNeedsUpgrade` with an argon2id hash of the password
//! just typed, and the application stores it. Users who never come back keep their old hash
//! (count them with `needs_upgrade`, and force a reset after a deadline).

use std::collections::BTreeMap;
use std::error::Error;

use rampart::password::{Hasher, Password, UpgradeReason, Verdict};

/// The "users table": user name -> stored hash.
type Users = BTreeMap<&'static str, String>;

fn main() -> Result<(), Box<dyn Error>> {
    let hasher = Hasher::new(); // argon2id, OWASP parameters
    let mut users: Users = BTreeMap::new();
    // Hashes as an older PHP (bcrypt $2y$), Node ($2a$/$2b$) and Django service stored them.
    // These are the ones in crates/rampart-password/tests/vectors/hashes.json.
    users.insert(
        "ana (bcrypt $2a$)",
        "$2a$04$UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU96".into(),
    );
    users.insert(
        "ben (Django)",
        "pbkdf2_sha256$20000$seasalt$oBSd886ysm3AqYun62DOdin8YcfbU1z9cksZSuLP9r0=".into(),
    );
    users.insert(
        "cy (Django, 600k)",
        "pbkdf2_sha256$600000$Jq2NiQTEwPe9$EQ5Edowx7fOClo1KaXvq7RhbRBJKU8tm8VsdAAzOo8I=".into(),
    );
    users.insert(
        "fay (bcrypt $2y$)",
        "$2y$05$Ww3QLk3/7sA7UQfvxzV6LuS7keSfzQIUbnRrUg3kBqwefr.oqQCJi".into(),
    );
    users.insert(
        "gus (bcrypt $2b$)",
        "$2b$04$dYXKBqQ2CWJMtvloX7Ggk.zvrtD3s1Szxxl9VH7WdQoqVxAoy9mYm".into(),
    );
    users.insert(
        "dee (argon2id)",
        hasher.hash(&Password::new("already modern"))?,
    );

    report("before", &hasher, &users);

    let logins = [
        ("ana (bcrypt $2a$)", "password"),
        ("ben (Django)", "wrong guess"),
        ("ben (Django)", "lètmein"),
        ("cy (Django, 600k)", "correct horse"),
        ("dee (argon2id)", "already modern"),
        ("fay (bcrypt $2y$)", "Y2K-prefix"),
        ("eve (no account)", "hunter2"),
    ];
    println!();
    for (user, typed) in logins {
        let stored = users.get(user).cloned();
        let verdict = hasher.verify_or_dummy(&Password::new(typed), stored.as_deref())?;
        match verdict {
            Verdict::Valid => println!("{user:>18}: login ok, hash is current"),
            Verdict::ValidNeedsUpgrade { new_hash, reason } => {
                println!(
                    "{user:>18}: login ok; {reason}; storing {}...",
                    &new_hash[..40]
                );
                if let Some(slot) = users.get_mut(user) {
                    *slot = new_hash;
                }
            }
            Verdict::Invalid => println!("{user:>18}: login refused"),
        }
    }
    println!();
    report("after", &hasher, &users);
    let left = users
        .values()
        .filter(|h| matches!(hasher.needs_upgrade(h), Ok(Some(_))))
        .count();
    println!("{left} user(s) still on an old hash: they migrate at their next login.");
    Ok(())
}

fn report(when: &str, hasher: &Hasher, users: &Users) {
    println!("users table {when} the logins:");
    for (user, hash) in users {
        let state = match hasher.needs_upgrade(hash) {
            Ok(None) => "current".to_owned(),
            Ok(Some(UpgradeReason::Algorithm(a))) => format!("legacy {}", a.as_str()),
            Ok(Some(reason)) => format!("outdated ({reason})"),
            Err(e) => format!("unreadable: {e}"),
        };
        let shown = if hash.len() > 48 { &hash[..48] } else { hash };
        println!("  {user:<18} {state:<28} {shown}...");
    }
}
