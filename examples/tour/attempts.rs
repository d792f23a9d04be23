//! Tour stop: rampart-attempts (placeholder until the crate lands).

use std::error::Error;

pub fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-attempts: not built yet");
    Ok(())
}
