//! Placeholder: replaced when the crate it shows lands.
fn main() {
    println!("this example is not built yet");
}
