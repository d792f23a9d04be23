//! A readable walk through every Rampart crate: `cargo run --example tour`.
//!
//! Each stop lives in `examples/tour/<crate>.rs`, owns its own setup and prints what it does.

use std::error::Error;

#[path = "tour/apikey.rs"]
mod apikey;
#[path = "tour/attempts.rs"]
mod attempts;
#[path = "tour/envelope.rs"]
mod envelope;
#[path = "tour/password.rs"]
mod password;
#[path = "tour/saml.rs"]
mod saml;
#[path = "tour/xmldsig.rs"]
mod xmldsig;

fn main() -> Result<(), Box<dyn Error>> {
    println!("Rampart tour: one stop per crate.\n");
    password::run()?;
    envelope::run()?;
    apikey::run()?;
    attempts::run()?;
    xmldsig::run()?;
    saml::run()?;
    println!("\nEnd of the tour.");
    Ok(())
}
