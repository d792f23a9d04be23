#!/usr/bin/env bash
# Regenerates the xmlsec1-signed fixtures of this directory (and, with --new-keys, the test
# keys). The keys are TEST KEYS, committed on purpose: never use them for anything else.
#
#   tests/vectors/regen.sh             re-sign every fixture with the committed keys
#   tests/vectors/regen.sh --new-keys  also generate new keys and certificates (openssl)
#
# Needs xmlsec1 (Debian package xmlsec1) and openssl. Fixtures: xmlsec1-*.xml.
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "--new-keys" ] || [ ! -f rsa2048.key ]; then
  cert() { # name, subject
    openssl req -new -x509 -key "$1.key" -out "$1.crt" -days 36500 -subj "$2" -sha256 2>/dev/null
  }
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.key 2>/dev/null
  cert rsa2048 "/CN=idp.example.com"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048-other.key 2>/dev/null
  cert rsa2048-other "/CN=attacker.example.com"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.key 2>/dev/null
  cert rsa1024 "/CN=legacy-idp.example.com"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec-p256.key 2>/dev/null
  cert ec-p256 "/CN=ec256.example.com"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec-p384.key 2>/dev/null
  cert ec-p384 "/CN=ec384.example.com"
fi

DS=http://www.w3.org/2000/09/xmldsig#
MORE=http://www.w3.org/2001/04/xmldsig-more#
EXC=http://www.w3.org/2001/10/xml-exc-c14n#
INC=http://www.w3.org/TR/2001/REC-xml-c14n-20010315
SAML=urn:oasis:names:tc:SAML:2.0:assertion

# template OUT KEY SIGNED_INFO_C14N SIGALG REF_C14N DIGEST PREFIXLIST
template() {
  local out=$1 key=$2 si_c14n=$3 sigalg=$4 ref_c14n=$5 digest=$6 prefixes=$7
  local incl=""
  if [ -n "$prefixes" ]; then
    incl="<ec:InclusiveNamespaces xmlns:ec=\"$EXC\" PrefixList=\"$prefixes\"/>"
  fi
  cat > "tmpl-$out" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<saml:Assertion xmlns:saml="$SAML" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_assertion1" IssueInstant="2026-01-01T00:00:00Z" Version="2.0">
  <saml:Issuer>https://idp.example.com</saml:Issuer>
  <ds:Signature xmlns:ds="$DS">
    <ds:SignedInfo>
      <ds:CanonicalizationMethod Algorithm="$si_c14n"/>
      <ds:SignatureMethod Algorithm="$sigalg"/>
      <ds:Reference URI="#_assertion1">
        <ds:Transforms>
          <ds:Transform Algorithm="${DS}enveloped-signature"/>
          <ds:Transform Algorithm="$ref_c14n">$incl</ds:Transform>
        </ds:Transforms>
        <ds:DigestMethod Algorithm="$digest"/>
        <ds:DigestValue></ds:DigestValue>
      </ds:Reference>
    </ds:SignedInfo>
    <ds:SignatureValue></ds:SignatureValue>
    <ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
  </ds:Signature>
  <!-- a comment, excluded from same-document references -->
  <saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">alice@example.com</saml:NameID></saml:Subject>
  <saml:AttributeStatement>
    <saml:Attribute Name="role"><saml:AttributeValue xsi:type="xs:string">admin &amp; ops &lt;all&gt;</saml:AttributeValue></saml:Attribute>
  </saml:AttributeStatement>
</saml:Assertion>
XML
  xmlsec1 --sign --privkey-pem "$key.key,$key.crt" --id-attr:ID "$SAML:Assertion" \
    --output "xmlsec1-$out" "tmpl-$out"
  rm "tmpl-$out"
}

template rsa-sha256.xml rsa2048 "$EXC" "${MORE}rsa-sha256" "$EXC" "http://www.w3.org/2001/04/xmlenc#sha256" "xs"
template rsa-sha1.xml rsa2048 "$EXC" "${DS}rsa-sha1" "$EXC" "${DS}sha1" ""
template rsa-sha512-c14n.xml rsa2048 "$INC" "${MORE}rsa-sha512" "$INC" "http://www.w3.org/2001/04/xmlenc#sha512" ""
template rsa-sha384-comments.xml rsa2048 "${EXC}WithComments" "${MORE}rsa-sha384" "${EXC}WithComments" "${MORE}sha384" "#default xs"
template ecdsa-p256.xml ec-p256 "$EXC" "${MORE}ecdsa-sha256" "$EXC" "http://www.w3.org/2001/04/xmlenc#sha256" ""
template ecdsa-p384.xml ec-p384 "$EXC" "${MORE}ecdsa-sha384" "$EXC" "${MORE}sha384" ""
template rsa1024.xml rsa1024 "$EXC" "${MORE}rsa-sha256" "$EXC" "http://www.w3.org/2001/04/xmlenc#sha256" ""

# A SAML response whose assertion (in the default namespace) is signed, the response not.
cat > tmpl-response.xml <<XML
<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns="$SAML" ID="_response1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" Destination="https://sp.example.com/acs">
  <Issuer>https://idp.example.com</Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <Assertion ID="_assertion2" IssueInstant="2026-01-01T00:00:00Z" Version="2.0">
    <Issuer>https://idp.example.com</Issuer>
    <ds:Signature xmlns:ds="$DS">
      <ds:SignedInfo>
        <ds:CanonicalizationMethod Algorithm="$EXC"/>
        <ds:SignatureMethod Algorithm="${MORE}rsa-sha256"/>
        <ds:Reference URI="#_assertion2">
          <ds:Transforms>
            <ds:Transform Algorithm="${DS}enveloped-signature"/>
            <ds:Transform Algorithm="$EXC"><ec:InclusiveNamespaces xmlns:ec="$EXC" PrefixList="#default samlp"/></ds:Transform>
          </ds:Transforms>
          <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
          <ds:DigestValue></ds:DigestValue>
        </ds:Reference>
      </ds:SignedInfo>
      <ds:SignatureValue></ds:SignatureValue>
    </ds:Signature>
    <Subject><NameID>bob@example.com</NameID></Subject>
  </Assertion>
</samlp:Response>
XML
xmlsec1 --sign --privkey-pem rsa2048.key --id-attr:ID "$SAML:Assertion" \
  --output xmlsec1-response.xml tmpl-response.xml
rm tmpl-response.xml
echo "regenerated: $(ls xmlsec1-*.xml | tr '\n' ' ')"
