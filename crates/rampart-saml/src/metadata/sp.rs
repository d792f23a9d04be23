//! SP metadata generation (SAML metadata 2.0, 2.4.4 SPSSODescriptor).

use crate::config::ServiceProvider;
use crate::escape;

impl ServiceProvider {
    /// This SP's metadata: EntityDescriptor with an SPSSODescriptor listing the ACS URLs
    /// (HTTP-POST), the NameID format, `AuthnRequestsSigned` (true when a signing key is
    /// configured, whose certificate is published as a signing KeyDescriptor) and
    /// `WantAssertionsSigned` (true when [`require_signed_assertions`] is set).
    ///
    /// [`require_signed_assertions`]: crate::ServiceProviderBuilder::require_signed_assertions
    #[must_use]
    pub fn metadata_xml(&self) -> String {
        let mut x = String::with_capacity(2048);
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.push_str(&format!(
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"{}\">\n",
            escape::attr(&self.entity_id)
        ));
        x.push_str(&format!(
            "  <md:SPSSODescriptor AuthnRequestsSigned=\"{}\" WantAssertionsSigned=\"{}\" \
             protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n",
            self.signing_key.is_some(),
            self.require_signed_assertions
        ));
        if let Some(key) = &self.signing_key {
            x.push_str(
                "    <md:KeyDescriptor use=\"signing\">\n      \
                 <ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\n        <ds:X509Data>\n          <ds:X509Certificate>",
            );
            x.push_str(&key.certificate().base64());
            x.push_str(
                "</ds:X509Certificate>\n        </ds:X509Data>\n      </ds:KeyInfo>\n    </md:KeyDescriptor>\n",
            );
        }
        if let Some(format) = &self.name_id_format {
            x.push_str(&format!(
                "    <md:NameIDFormat>{}</md:NameIDFormat>\n",
                escape::text(format)
            ));
        }
        for (i, url) in self.acs_urls.iter().enumerate() {
            x.push_str(&format!(
                "    <md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" \
                 Location=\"{}\" index=\"{i}\"{}/>\n",
                escape::attr(url),
                if i == 0 { " isDefault=\"true\"" } else { "" }
            ));
        }
        x.push_str("  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n");
        x
    }
}
