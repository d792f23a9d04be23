//! Tour stop: rampart-password. Sign up, log in, a wrong password, a parameter upgrade on
//! login, an unknown user, and the policy.

use std::error::Error;
use std::time::Instant;

use rampart::password::{Hasher, Params, Password, Pepper, Policy, PolicyContext, Verdict};

pub(crate) fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-password: argon2id hashing that upgrades itself");

    // A server secret (pepper), version 1; in production it comes from your secret store.
    let pepper = || Pepper::new(1, b"tour-pepper-not-for-production!!".to_vec());
    // Last year's parameters (weaker than OWASP's) and today's (OWASP: m=19 MiB, t=2, p=1).
    let last_year = Hasher::builder()
        .with_params(Params::new(12 * 1024, 1, 1)?)
        .with_pepper(pepper()?)
        .build()?;
    let hasher = Hasher::builder().with_pepper(pepper()?).build()?;
    println!(
        "   hasher: argon2id m={} KiB t={} p={}, {} worker(s), pepper v1",
        hasher.params().m_kib(),
        hasher.params().t(),
        hasher.params().p(),
        hasher.workers()
    );

    // Sign up: the policy checks the new password (NIST SP 800-63B), then we hash it.
    let policy = Policy::builder().with_service_name("rampart").build()?;
    let ctx = PolicyContext::new()
        .with_user_name("alice")
        .with_email("alice@example.com");
    for candidate in ["alice2024!", "short", "correct horse battery staple"] {
        match policy.check(&Password::new(candidate), &ctx) {
            Ok(()) => println!("   sign-up: '{candidate}' accepted by the policy"),
            Err(why) => println!("   sign-up: '{candidate}' rejected: {why}"),
        }
    }
    let stored = hasher.hash(&Password::new("correct horse battery staple"))?;
    println!("   stored hash: {stored}");

    // Log in.
    let started = Instant::now();
    let verdict = hasher.verify(&Password::new("correct horse battery staple"), &stored)?;
    println!(
        "   log in with the right password: {} ({} ms)",
        outcome(&verdict),
        started.elapsed().as_millis()
    );
    let verdict = hasher.verify(&Password::new("correct horse battery stapler"), &stored)?;
    println!("   log in with a wrong password:   {}", outcome(&verdict));

    // A user whose hash was made last year logs in: valid, and a new hash comes back.
    let old = last_year.hash(&Password::new("tr0ub4dor&3 but longer"))?;
    println!("   bob's hash from last year: {old}");
    match hasher.verify(&Password::new("tr0ub4dor&3 but longer"), &old)? {
        Verdict::ValidNeedsUpgrade { new_hash, reason } => {
            println!("   bob logs in: valid, needs upgrade ({reason}); store {new_hash}");
        }
        other => println!("   bob logs in: {}", outcome(&other)),
    }

    // Unknown user: same work as a real check, so timing does not reveal who has an account.
    let started = Instant::now();
    let verdict = hasher.verify_or_dummy(&Password::new("guess"), None)?;
    println!(
        "   unknown user 'mallory': {} after the same work ({} ms)",
        if verdict.is_valid() {
            "accepted?!"
        } else {
            "refused (as a wrong password)"
        },
        started.elapsed().as_millis()
    );

    // A planted hash asking for 4 TiB of memory is refused before any hashing.
    let planted = "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI";
    if let Err(e) = hasher.verify(&Password::new("x"), planted) {
        println!("   planted hash: refused: {e}");
    }
    println!();
    Ok(())
}

/// What a login verdict means, in words.
fn outcome(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Valid => "accepted",
        Verdict::ValidNeedsUpgrade { .. } => "accepted, hash to upgrade",
        Verdict::Invalid => "refused: wrong password",
    }
}
