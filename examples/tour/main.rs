//! A readable walk through every Rampart crate: `cargo run --example tour`.
//!
//! Each stop lives in `examples/tour/<crate>.rs`, owns its own setup and prints what it does.
//! rampart-attempts' stores are async: the tour runs on tokio's current-thread runtime.

use std::error::Error;

mod apikey;
mod attempts;
mod audit;
mod envelope;
mod mfa;
mod password;
mod saml;
mod xmldsig;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    println!("Rampart tour: one stop per crate.\n");
    password::run()?;
    envelope::run()?;
    apikey::run()?;
    mfa::run()?;
    attempts::run().await?;
    xmldsig::run()?;
    saml::run()?;
    audit::run()?;
    println!("\nEnd of the tour.");
    Ok(())
}
