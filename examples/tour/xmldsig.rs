//! Tour stop: rampart-xmldsig (placeholder until the crate lands).

use std::error::Error;

pub fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-xmldsig: not built yet");
    Ok(())
}
