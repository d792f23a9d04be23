//! Tour stop: rampart-saml (placeholder until the crate lands).

use std::error::Error;

pub fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-saml: not built yet");
    Ok(())
}
