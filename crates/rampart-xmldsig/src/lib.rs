//! rampart-xmldsig: see the crate's issue; this file is replaced as the crate is built.
#![forbid(unsafe_code)]
