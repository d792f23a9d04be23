//! Runs this crate's stop of the workspace tour on its own, without building the other
//! crates: `cargo run -p rampart-xmldsig --example tour_stop`.

#[allow(unreachable_pub)] // `run` is pub for the workspace tour
#[path = "../../../examples/tour/xmldsig.rs"]
mod stop;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    stop::run()
}
