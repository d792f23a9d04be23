//! Tour stop: rampart-password (placeholder until the crate lands).

use std::error::Error;

pub fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-password: not built yet");
    Ok(())
}
