//! SAML metadata: parsing the IdP's, generating ours.

mod idp;
mod sp;

pub use idp::{Endpoint, IdpMetadata, MAX_METADATA_BYTES};
pub use sp::SpMetadata;
