//! Tour stop: rampart-envelope (placeholder until the crate lands).

use std::error::Error;

pub fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-envelope: not built yet");
    Ok(())
}
