#![no_main]
//! Parses arbitrary text as a stored password hash (argon2 PHC, bcrypt, scrypt, PBKDF2,
//! Django) and verifies a password against it. Must never panic; caps are set tiny so any
//! accepted hash is cheap to verify. The hasher holds a pepper (version 1), so `keyid`
//! hashes reach argon2 with the secret input, and other versions the unknown-pepper path.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rampart_password::{Caps, Hasher, Params, Password, Pepper, inspect};

fn hasher() -> &'static Hasher {
    static H: OnceLock<Hasher> = OnceLock::new();
    H.get_or_init(|| {
        let params = Params::new(8, 1, 1).expect("valid params");
        let mut caps = Caps::times(&params, 8);
        caps.max_bcrypt_cost = 4;
        caps.max_scrypt_memory_bytes = 1 << 20;
        caps.max_scrypt_work = 1 << 12;
        caps.max_pbkdf2_iterations = 1000;
        Hasher::builder()
            .with_params(params)
            .with_caps(caps)
            .with_pepper(Pepper::new(1, [0x5a; 32]).expect("valid pepper"))
            .build()
            .expect("valid hasher")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = inspect(text);
    let _ = hasher().needs_upgrade(text);
    let _ = hasher().verify(&Password::new("password"), text);
});
