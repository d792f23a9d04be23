//! The tour stop (examples/tour/saml.rs) runs: it validates a freshly signed response and
//! shows the refusals, so a broken tour is caught by this crate's tests.

#[allow(unreachable_pub)]
#[path = "../../../examples/tour/saml.rs"]
mod tour;

#[test]
fn saml_tour_stop_runs() {
    tour::run().unwrap();
}
