//! Placeholder: replaced when the crate it measures lands.
fn main() {}
