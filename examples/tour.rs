//! A readable walk through every Rampart crate: `cargo run --example tour`.
//!
//! Each part lives in `examples/tour/<crate>.rs` and prints what it does.

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    println!("Rampart tour: one stop per crate.\n");
    Ok(())
}
