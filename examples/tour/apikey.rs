//! Tour stop: rampart-apikey (placeholder until the crate lands).

use std::error::Error;

pub fn run() -> Result<(), Box<dyn Error>> {
    println!("== rampart-apikey: not built yet");
    Ok(())
}
