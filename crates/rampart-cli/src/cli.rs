//! The command line, declared with clap's derive API.
//!
//! This file is the "Command-line contract of `rampart`" of `docs/design.md` in code: every
//! subcommand, option and positional argument listed there, and nothing that carries a secret.
//! Secrets (passwords, API secrets, master keys) have no argument on purpose: arguments are
//! visible to every user of the machine through the process table and land in shell history.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Shown after `rampart --help`.
const TOP_AFTER_HELP: &str = "\
Reports: one JSON object per run, on stdout. encrypt, decrypt and reencrypt write their data
to stdout when no -o OUT is given, and then put the JSON object on stderr instead (usage errors
included), so data and report never mix; with -o OUT the report is on stdout. A failure
reported on stdout also prints its message on stderr (\"rampart: ...\"); notes (saml verify
--explain, warnings) go to stderr. saml metadata --raw prints the XML itself instead of JSON.
Exit status: 0 success, 1 negative verdict (mismatch, invalid, rejected), 2 usage or input
error.

Secrets are never taken from arguments: passwords and API secrets come from stdin, master keys
from --master-key-file or RAMPART_MASTER_KEY (32 bytes in base64), or an HSM or KMS named by
--master-key URI (pkcs11:..., aws-kms:...).

Example:
  head -c 32 /dev/urandom | base64 > master.key && chmod 600 master.key
  rampart keyring init --keyring tokens.json --master-key-file master.key";

/// The `rampart` tool for operators: keyrings, encrypted files, password hashes, API keys and
/// SAML debugging.
#[derive(Debug, Parser)]
#[command(name = "rampart", version, after_help = TOP_AFTER_HELP)]
#[command(
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Top-level subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create, rotate, list, retire and rewrap keyrings.
    #[command(subcommand, after_help = KEYRING_AFTER_HELP)]
    Keyring(KeyringCommand),
    /// Encrypt a file or value under the keyring's primary version.
    #[command(after_help = ENCRYPT_AFTER_HELP)]
    Encrypt(CryptArgs),
    /// Decrypt an encrypted file or sealed value (detected from its header).
    #[command(after_help = DECRYPT_AFTER_HELP)]
    Decrypt(CryptArgs),
    /// Move an encrypted file or sealed value to the keyring's primary version.
    #[command(after_help = REENCRYPT_AFTER_HELP)]
    Reencrypt(CryptArgs),
    /// Hash and verify passwords (the password is read from stdin).
    #[command(subcommand, after_help = PASSWORD_AFTER_HELP)]
    Password(PasswordCommand),
    /// Issue and check API keys (secrets are read from stdin).
    #[command(subcommand, after_help = APIKEY_AFTER_HELP)]
    Apikey(ApikeyCommand),
    /// Debug SAML logins and logouts: verify responses and logout messages, make SP metadata,
    /// AuthnRequests and LogoutRequests.
    #[command(subcommand, after_help = SAML_AFTER_HELP)]
    Saml(SamlCommand),
    /// Verify tamper-evident audit trails (rampart-audit).
    #[command(subcommand, after_help = AUDIT_AFTER_HELP)]
    Audit(AuditCommand),
}

// ---------------------------------------------------------------------------------------------
// keyring

const KEYRING_AFTER_HELP: &str = "\
Every change (init, rotate, retire, rewrap, prepare, purge) holds an exclusive lock on the
sidecar file .NAME.lock beside the keyring from load to save, and saves only if the keyring is
still the generation it loaded: two changes at once run one after the other, and a change that
finds the keyring changed under it writes nothing and exits 1. Reading commands never lock.

Example:
  rampart keyring init --keyring tokens.json --region eu-central --master-key-file master.key
  rampart keyring rotate --keyring tokens.json --master-key-file master.key
  rampart keyring init --keyring uploads.json --retention 1h --master-key-file master.key";

/// Where the master key comes from.
#[derive(Debug, Args)]
pub(crate) struct MasterKeyArgs {
    /// File holding the master key: 32 bytes in base64, readable by its owner only.
    /// Without it (and without --master-key), the key is read from RAMPART_MASTER_KEY.
    #[arg(long, value_name = "FILE", conflicts_with = "master_key")]
    pub(crate) master_key_file: Option<PathBuf>,
    /// The master key by URI: `local:FILE`; an HSM key object
    /// `pkcs11:token=T;object=O?module-path=LIB&pin-source=file:PINFILE` (RFC 7512; the PIN
    /// comes from pin-source or RAMPART_PKCS11_PIN, never from the command line); or an AWS
    /// KMS key `aws-kms:KEY-ARN` (credentials, region and endpoint from the AWS SDK's chain).
    #[arg(long, value_name = "URI")]
    pub(crate) master_key: Option<String>,
}

/// The keyring file every keyring, encrypt and decrypt command works on.
#[derive(Debug, Args)]
pub(crate) struct KeyringFileArgs {
    /// The keyring file (JSON, written atomically).
    #[arg(long, value_name = "FILE")]
    pub(crate) keyring: PathBuf,
    #[command(flatten)]
    pub(crate) master_key: MasterKeyArgs,
}

/// `rampart keyring ...`
#[derive(Debug, Subcommand)]
pub(crate) enum KeyringCommand {
    /// Create a new keyring with one primary version, or a retention keyring with
    /// --retention (never overwrites anything: a file, a directory or a symlink at FILE).
    #[command(after_help = "\
With --retention, the keyring holds one key per time bucket (an hour, or a day for retention
periods of 2 days and more; --bucket chooses) and `keyring purge` destroys the buckets older
than the retention period: what was encrypted in them becomes unreadable everywhere, backups
of the data included. Keep a retention keyring itself OUT of backups. Init prepares the
current bucket and --ahead more; afterwards run, more often than a bucket lasts (cron):
  rampart keyring prepare --keyring uploads.json --ahead 2 && rampart keyring purge --keyring uploads.json

Example:
  head -c 32 /dev/urandom | base64 > master.key && chmod 600 master.key
  rampart keyring init --keyring tokens.json --region eu-central --master-key-file master.key
  rampart keyring init --keyring uploads.json --retention 1h --master-key-file master.key
  rampart keyring init --keyring results.json --retention 14d --master-key-file master.key
  rampart keyring init --keyring /etc/app/k.json --name tokens --master-key-file master.key

The keyring's name (bound into every ciphertext, like the region) is --name, or else the file
name without its extension (tokens.json: tokens).")]
    Init {
        #[command(flatten)]
        file: KeyringFileArgs,
        /// Region label bound into every ciphertext of this keyring.
        #[arg(long, value_name = "R")]
        region: Option<String>,
        /// Make a retention keyring keeping data this long: a number and s, m, h or d
        /// (1h, 90m, 14d).
        #[arg(long, value_name = "DURATION")]
        retention: Option<String>,
        /// Bucket size of a retention keyring [default: hour below 2 days of retention,
        /// day from 2 days].
        #[arg(long, value_name = "hour|day", requires = "retention")]
        bucket: Option<String>,
        /// Buckets to prepare beyond the current one [retention keyrings; default: 1].
        #[arg(long, value_name = "N", requires = "retention")]
        ahead: Option<u32>,
        /// Name label bound into every ciphertext of this keyring [default: the file name
        /// without its extension].
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Create the current time bucket of a retention keyring and the next N (cron, with purge).
    #[command(after_help = "\
Replicas seal only in buckets the keyring file holds; prepare more buckets ahead than replicas
take to reload the file.

Example:
  rampart keyring prepare --keyring uploads.json --ahead 2 --master-key-file master.key")]
    Prepare {
        #[command(flatten)]
        file: KeyringFileArgs,
        /// Buckets to prepare beyond the current one.
        #[arg(long, value_name = "N", default_value_t = 1)]
        ahead: u32,
        /// Prepare as of this instant (RFC 3339) instead of the clock.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
    },
    /// Destroy the buckets of a retention keyring whose retention has passed (cron).
    #[command(after_help = "\
What was encrypted in a purged bucket is unreadable from then on, in every copy of the data.
Copies and backups of the keyring FILE made before the purge still hold the bucket keys: keep
retention keyrings out of backups.

Example:
  rampart keyring purge --keyring uploads.json --master-key-file master.key")]
    Purge {
        #[command(flatten)]
        file: KeyringFileArgs,
        /// Purge as of this instant (RFC 3339) instead of the clock: a time in the future
        /// destroys data early, on purpose.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
    },
    /// Add a new version and make it the primary (older versions still decrypt). Retention
    /// keyrings are refused (their versions are time buckets: `keyring prepare`).
    #[command(after_help = "\
Example:
  RAMPART_MASTER_KEY=\"$(cat master.key)\" rampart keyring rotate --keyring tokens.json")]
    Rotate {
        #[command(flatten)]
        file: KeyringFileArgs,
    },
    /// List the keyring's versions and their states (the master key is optional: without
    /// one, the file's integrity is not checked and the output says so).
    #[command(after_help = "\
Without any master key (no --master-key, --master-key-file or RAMPART_MASTER_KEY), list reads
the file as it is and says \"integrity\":\"not checked ...\"; with one, it verifies the file's
integrity MAC and says \"integrity\":\"checked\".

Example:
  rampart keyring list --keyring tokens.json
  rampart keyring list --keyring tokens.json --master-key-file master.key
  {\"keyring\":\"tokens\",\"region\":\"eu-central\",\"versions\":[{\"version\":1,\"state\":\"primary\",...}]}")]
    List {
        #[command(flatten)]
        file: KeyringFileArgs,
    },
    /// Destroy the key material of every version below VERSION. Irreversible: data sealed
    /// under those versions becomes unreadable (crypto-shredding).
    #[command(after_help = "\
Run `rampart reencrypt --verify` over the data first (it reports what will not open), then
--dry-run to see what would be destroyed. At a terminal, retire asks for confirmation unless
--yes is given; from a script (stdin not a terminal) it does not ask.

Retiring removes the keys from THIS file only. Copies and backups of the keyring file made
before still open the retired data, with the same master key, until the master key is rotated
with `rampart keyring rewrap` and the old master key is destroyed: that is what makes the
shredding final. Retention keyrings are refused: use `keyring purge`.

Example (after re-encrypting everything to version 3):
  rampart keyring retire --keyring tokens.json --below 3 --dry-run --master-key-file master.key
  rampart keyring retire --keyring tokens.json --below 3 --yes --master-key-file master.key
  rampart keyring rewrap --keyring tokens.json --master-key-file master.key \\
      --new-master-key-file new-master.key && shred -u master.key")]
    Retire {
        #[command(flatten)]
        file: KeyringFileArgs,
        /// Versions strictly below this one are retired.
        #[arg(long, value_name = "VERSION")]
        below: u32,
        /// List what would be destroyed; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask for confirmation at a terminal.
        #[arg(long)]
        yes: bool,
    },
    /// Re-wrap the keyring under a new master key; encrypted data is not touched.
    #[command(after_help = "\
Example:
  head -c 32 /dev/urandom | base64 > new-master.key && chmod 600 new-master.key
  rampart keyring rewrap --keyring tokens.json --master-key-file master.key \\
      --new-master-key-file new-master.key
  rampart keyring rewrap --keyring tokens.json --master-key-file master.key \\
      --to 'pkcs11:token=prod;object=kek?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin'
  rampart keyring rewrap --keyring tokens.json --master-key 'pkcs11:token=prod;object=kek?...' \
      --to aws-kms:arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")]
    Rewrap {
        #[command(flatten)]
        file: KeyringFileArgs,
        /// File holding the new master key (32 bytes in base64).
        #[arg(
            long,
            value_name = "F",
            required_unless_present = "to",
            conflicts_with = "to"
        )]
        new_master_key_file: Option<PathBuf>,
        /// The new master key by URI (`local:FILE`, `pkcs11:...` or `aws-kms:...`, as
        /// --master-key).
        #[arg(long, value_name = "URI")]
        to: Option<String>,
    },
}

// ---------------------------------------------------------------------------------------------
// encrypt / decrypt / reencrypt

const ENCRYPT_AFTER_HELP: &str = "\
IN and OUT default to stdin and stdout (\"-\" names them too). With a retention keyring the
data goes into the current time bucket (which `keyring prepare` must have made) and becomes
unreadable once `keyring purge` destroys it. Files are streamed in 64 KiB
authenticated segments in constant memory; --value makes a sealed value (base64url text) for a
database column instead. The same --context pairs must be given to decrypt.

Example:
  rampart encrypt --keyring uploads.json --context tenant=acme --context kind=export \\
      report.csv -o report.csv.rpf
  printf '%s' \"$TOKEN\" | rampart encrypt --keyring tokens.json --value --context column=token";

const DECRYPT_AFTER_HELP: &str = "\
Detects an encrypted file or a sealed value (binary or base64url text) from its header.
With -o, OUT only appears once the whole input has authenticated (until then the plaintext is
in a file with no name, which a crash leaves nowhere); on stdout, a file's
plaintext is written segment by segment, each authenticated before it is released.

Example:
  rampart decrypt --keyring uploads.json --context tenant=acme --context kind=export \\
      report.csv.rpf -o report.csv";

const REENCRYPT_AFTER_HELP: &str = "\
Files are re-keyed by re-wrapping their data key under the primary version (the body is
copied unchanged); sealed values are opened and sealed again, keeping their form. The input
is always opened, also when it is already at the primary version: a wrong --context, a
tampered header or a retired version is an error (exit 1), never \"changed\":false.
With --verify, a file's whole body is authenticated while it is copied (constant memory), so
a truncated or corrupted body is caught too; the JSON says \"verified\":\"full\" (values are
always fully verified) or \"header\". Run it with --verify over everything before
`keyring retire`: what fails here will not open after the retire either.

Example:
  rampart keyring rotate --keyring uploads.json --master-key-file master.key
  rampart reencrypt --keyring uploads.json --context tenant=acme report.csv.rpf -o report.v2.rpf";

/// Arguments shared by encrypt, decrypt and reencrypt.
#[derive(Debug, Args)]
pub(crate) struct CryptArgs {
    #[command(flatten)]
    pub(crate) file: KeyringFileArgs,
    /// Context bound to the ciphertext as associated data, as key=value (repeatable).
    #[arg(long = "context", value_name = "K=V")]
    pub(crate) context: Vec<String>,
    /// Seal a value (text form) instead of a streamed file [encrypt only].
    #[arg(long)]
    pub(crate) value: bool,
    /// Input file; stdin when absent or "-".
    #[arg(value_name = "IN")]
    pub(crate) input: Option<PathBuf>,
    /// Output file, replaced atomically (it keeps the mode of the file it replaces); stdout
    /// when absent or "-".
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub(crate) output: Option<PathBuf>,
    /// Authenticate a file's whole body while copying it, not only its header
    /// [reencrypt only].
    #[arg(long)]
    pub(crate) verify: bool,
}

// ---------------------------------------------------------------------------------------------
// password

const PASSWORD_AFTER_HELP: &str = "\
Example:
  printf '%s' \"$PASSWORD\" | rampart password hash
  printf '%s' \"$PASSWORD\" | rampart password verify --hash-file stored.hash";

/// `rampart password ...`
#[derive(Debug, Subcommand)]
pub(crate) enum PasswordCommand {
    /// Hash the password read from stdin with argon2id; prints `{"hash":"<PHC string>"}`.
    /// The password policy is applied first (--no-policy skips it).
    #[command(after_help = "\
The password is stdin up to EOF, less one trailing newline. It must pass the password policy
(NIST SP 800-63B: at least 8 characters, not one character repeated or a run like 12345678,
--user-name and --email not in it) or nothing is hashed (exit 1, \"password_policy\").

The hash carries no pepper unless one is given with --pepper-file: a service that peppers its
hashes then needs the same pepper and version (the hash records the version). Without one, the
JSON says \"peppered\":false and stderr says so.

Example:
  printf '%s' \"$PASSWORD\" | rampart password hash
  {\"hash\":\"$argon2id$v=19$m=19456,t=2,p=1$...\",\"peppered\":false,\"policy_checked\":true}
  printf '%s' \"$PASSWORD\" | rampart password hash --user-name alice \\
      --email alice@example.com --pepper-file pepper.key --pepper-version 2
  printf '%s' \"$TEST_PASSWORD\" | rampart password hash --no-policy")]
    Hash {
        /// Hash without applying the password policy (test accounts, imports).
        #[arg(long)]
        no_policy: bool,
        /// The account's user name: the policy refuses a password that contains it.
        #[arg(long, value_name = "NAME", conflicts_with = "no_policy")]
        user_name: Option<String>,
        /// The account's email address: the policy refuses a password that contains its
        /// local part.
        #[arg(long, value_name = "ADDRESS", conflicts_with = "no_policy")]
        email: Option<String>,
        #[command(flatten)]
        pepper: PepperArgs,
    },
    /// Verify the password read from stdin against a stored hash (argon2id, or a legacy
    /// bcrypt, scrypt, PBKDF2 or Django hash). Exit 0 when valid, 1 when not.
    #[command(after_help = "\
The password is stdin up to EOF, less one trailing newline. The stored hash comes from
--hash-file, or else from RAMPART_PASSWORD_HASH. A HASH argument still works but is visible to
every user of the machine in `ps` and lands in shell history (a warning on stderr says so);
quote it: it contains '$'.

Example:
  printf '%s' \"$PASSWORD\" | rampart password verify --hash-file stored.hash
  printf '%s' \"$PASSWORD\" | RAMPART_PASSWORD_HASH=\"$STORED\" rampart password verify
  {\"valid\":true,\"needs_rehash\":true}
  printf '%s' \"$PASSWORD\" | rampart password verify --hash-file stored.hash \\
      --pepper-file pepper.key --pepper-version 2")]
    Verify {
        /// The stored hash (PHC string, bcrypt or Django form); prefer --hash-file.
        #[arg(value_name = "HASH", allow_hyphen_values = true)]
        hash: Option<String>,
        /// File holding the stored hash (surrounding whitespace ignored).
        #[arg(long, value_name = "FILE", conflicts_with = "hash")]
        hash_file: Option<PathBuf>,
        #[command(flatten)]
        pepper: PepperArgs,
    },
}

/// The service's pepper, for hashes that carry one.
#[derive(Debug, Args)]
pub(crate) struct PepperArgs {
    /// File holding the pepper (1 to 64 bytes, in base64), readable by its owner only.
    /// Without it, hashes carry no pepper.
    #[arg(long, value_name = "FILE")]
    pub(crate) pepper_file: Option<PathBuf>,
    /// The pepper's version, recorded in the hash [default: 1].
    #[arg(long, value_name = "N", requires = "pepper_file")]
    pub(crate) pepper_version: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// apikey

const APIKEY_AFTER_HELP: &str = "\
Records hold HMAC-SHA256 of the secret under the service's hashing key (32+ bytes in base64),
read from --hashing-key-file or RAMPART_APIKEY_HASHING_KEY: use the key your service uses.

Example:
  head -c 32 /dev/urandom | base64 > hashing.key && chmod 600 hashing.key
  rampart apikey new --prefix rk_live --hashing-key-file hashing.key > issued.json
  jq .record issued.json > record.json
  jq -r .secret_key issued.json | rampart apikey check --record record.json \\
      --hashing-key-file hashing.key";

/// Where the API-key hashing key comes from.
#[derive(Debug, Args)]
pub(crate) struct HashingKeyArgs {
    /// File holding the service's hashing key (32+ bytes in base64), readable by its owner
    /// only. Without it, the key is read from RAMPART_APIKEY_HASHING_KEY.
    #[arg(long, value_name = "FILE")]
    pub(crate) hashing_key_file: Option<PathBuf>,
}

/// `rampart apikey ...`
#[derive(Debug, Subcommand)]
pub(crate) enum ApikeyCommand {
    /// Issue a key pair; prints {"public_key":..,"secret_key":..,"record":{..}}. The secret
    /// is shown this once: only the record is stored.
    #[command(after_help = "\
Example:
  rampart apikey new --prefix rk_live --scope orders:read --hashing-key-file hashing.key \\
      > issued.json && chmod 600 issued.json
  rampart apikey new --expires-in 90d --hashing-key-file hashing.key > issued.json

The record carries \"hashing_key_check\", a keyed check value of the hashing key (not the key,
and nothing a secret can be derived from): `apikey check`, `revoke` and `rotate` use it to
say \"wrong hashing key\" instead of \"invalid secret\". A service that loads the record with
rampart's ApiKeyRecord drops that field first (jq 'del(.hashing_key_check)').")]
    New {
        /// Prefix of the secret key, service_environment, so secret scanners recognise it
        /// [default: rk_live].
        #[arg(long, value_name = "P")]
        prefix: Option<String>,
        /// A scope the key grants (repeatable).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Hashing key version recorded in the record (for hashing key rotation).
        #[arg(long, value_name = "N", default_value_t = 1)]
        hashing_key_version: u32,
        /// The key expires this long after issue: a number and s, m, h or d (90d, 12h)
        /// [default: never].
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
        #[command(flatten)]
        hashing_key: HashingKeyArgs,
    },
    /// Revoke the key of a stored record: the record FILE is rewritten (atomically) with its
    /// revocation time, and every check of the key fails from then on.
    #[command(
        after_help = r#"Needs no hashing key. A record already revoked is left as it is
(exit 1, "already_revoked").

Example:
  rampart apikey revoke --record record.json
  {"revoked":true,"public_id":"...","revoked_at":"2026-12-07T10:00:00Z"}"#
    )]
    Revoke {
        /// File holding the stored record (JSON), rewritten in place.
        #[arg(long, value_name = "FILE")]
        record: PathBuf,
    },
    /// Give the key of a stored record a new secret; the previous secret stays valid for
    /// --overlap, so clients can switch without an outage. Prints the new secret once and
    /// rewrites the record FILE (atomically).
    #[command(
        after_help = r#"The hashing key must be the record's (its check value is
compared first, and a wrong key changes nothing). The public key stays the same. During the
overlap, `apikey check` with the old secret says "used_previous_secret":true. A revoked key
cannot be rotated.

Example:
  rampart apikey rotate --record record.json --overlap 7d --hashing-key-file hashing.key       > rotated.json && chmod 600 rotated.json
  {"public_key":"...","secret_key":"...","previous_valid_until":"...","record":{...}}"#
    )]
    Rotate {
        /// File holding the stored record (JSON), rewritten in place.
        #[arg(long, value_name = "FILE")]
        record: PathBuf,
        /// How long the previous secret stays valid: a number and s, m, h or d (7d, 12h);
        /// 0 ends it at once.
        #[arg(long, value_name = "DURATION", default_value = "1d")]
        overlap: String,
        #[command(flatten)]
        hashing_key: HashingKeyArgs,
    },
    /// Check the secret key read from stdin against a stored record. Exit 0 when it is
    /// valid, 1 when not.
    #[command(after_help = "\
FILE holds the \"record\" object printed by `rampart apikey new`. The secret is stdin, less
one trailing newline. The hashing key must be the one the record was made with.

Example:
  jq .record issued.json > record.json
  jq -r .secret_key issued.json | rampart apikey check --record record.json \\
      --hashing-key-file hashing.key
  {\"valid\":true,\"public_id\":\"...\",\"scopes\":[]}")]
    Check {
        /// File holding the stored record (JSON).
        #[arg(long, value_name = "FILE")]
        record: PathBuf,
        /// A scope the key must have (repeatable).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        #[command(flatten)]
        hashing_key: HashingKeyArgs,
    },
}

// ---------------------------------------------------------------------------------------------
// saml

const SAML_AFTER_HELP: &str = "\
Example:
  rampart saml verify --idp-cert idp.pem --sp-entity-id https://sp.example.com \\
      --acs-url https://sp.example.com/acs --explain response.txt";

/// `rampart saml ...`
#[derive(Debug, Subcommand)]
pub(crate) enum SamlCommand {
    /// Validate a SAML Response (raw XML or the base64 SAMLResponse form value). Exit 0 when
    /// accepted, 1 when rejected.
    #[command(after_help = "\
RESPONSE_FILE holds raw XML or the base64 SAMLResponse form value (detected); \"-\" is stdin.
The IdP's entity id comes from --idp-metadata or --idp-entity-id; with neither, the issuer
is not compared (the output says so) and trust rests on the certificate alone. Without
--request-id the response is checked as IdP-initiated. Replay is not checked (one-shot).
--explain adds every check made (issuer, audience, times with the skew, what the signature
covers, which certificate matched) under \"checks\", and prints them readably on stderr with
the now and skew used. When no trusted key verifies the signature it lists the trusted
certificates and those in the response's KeyInfo (for information, never trusted) with their
SHA-256 fingerprints; when a time check fails, the response's NotBefore/NotOnOrAfter values.

Example:
  rampart saml verify --idp-cert idp.pem --idp-entity-id https://idp.example.com \\
      --sp-entity-id https://sp.example.com --acs-url https://sp.example.com/acs \\
      --request-id _a1b2c3 --now 2026-11-23T10:00:00Z --explain response.b64

--allow-sha1 and --allow-small-rsa are for debugging only: they show whether the rest of a
response that uses SHA-1 or an RSA key under 2048 bits is right, and the result says
\"debugging_only_allowed\" with a warning on stderr. A certificate that is not the IdP's
is reported as such, whatever its key size. Example:
  rampart saml verify --idp-cert old-idp.pem --idp-entity-id https://idp.example.com \\
      --sp-entity-id https://sp.example.com --acs-url https://sp.example.com/acs \\
      --allow-sha1 --allow-small-rsa --explain response.b64")]
    Verify {
        /// Trusted IdP signing certificate (PEM); repeat for key rollover.
        #[arg(long, value_name = "PEM", required_unless_present = "idp_metadata")]
        idp_cert: Vec<PathBuf>,
        /// IdP metadata (XML): entity id and signing certificates.
        #[arg(long, value_name = "XML")]
        idp_metadata: Option<PathBuf>,
        /// The IdP's entity id (the expected Issuer), when no metadata is given.
        #[arg(long, value_name = "ID", conflicts_with = "idp_metadata")]
        idp_entity_id: Option<String>,
        /// Our SP entity id (the expected audience).
        #[arg(long, value_name = "ID")]
        sp_entity_id: String,
        /// Our assertion consumer service URL (the expected Destination and Recipient).
        #[arg(long, value_name = "URL")]
        acs_url: String,
        /// Id of the AuthnRequest this response answers (InResponseTo); without it, the
        /// response is checked as an IdP-initiated one.
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
        /// Check times as of this instant (RFC 3339) instead of the clock.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        /// Print every check made, to see why a login fails.
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        legacy: LegacyArgs,
        /// The SP's decryption key and its certificate (one PEM file: PRIVATE KEY and
        /// CERTIFICATE blocks), readable by its owner only, for EncryptedAssertion; repeat
        /// for a rollover. Only in builds with the feature `encrypted-assertions`.
        #[cfg(feature = "encrypted-assertions")]
        #[arg(long, value_name = "PEM")]
        decryption_key: Vec<PathBuf>,
        /// File holding the response; stdin when "-".
        #[arg(value_name = "RESPONSE_FILE")]
        response: PathBuf,
    },
    /// Print our SP metadata (XML) inside {"metadata":".."}.
    #[command(after_help = "\
Needs no IdP and no private key. --cert publishes that signing certificate; add --sign-key
(checked against the certificate) to also declare AuthnRequestsSigned=\"true\", the promise
that `saml authn-request --sign-key` keeps.

Example:
  rampart saml metadata --sp-entity-id https://sp.example.com \\
      --acs-url https://sp.example.com/acs --cert sp.pem --sign-key sp-key.pem \\
      | jq -r .metadata > sp-metadata.xml
  rampart saml metadata --sp-entity-id https://sp.example.com \\
      --acs-url https://sp.example.com/acs --cert sp.pem -o sp-metadata.xml
  rampart saml metadata --sp-entity-id https://sp.example.com \\
      --acs-url https://sp.example.com/acs --raw > sp-metadata.xml

With -o FILE the XML itself goes to FILE (replaced atomically) and stdout says
{\"written\":FILE}; with --raw the XML itself is printed on stdout, with no JSON around it.")]
    Metadata {
        /// Our SP entity id.
        #[arg(long, value_name = "ID")]
        sp_entity_id: String,
        /// Our assertion consumer service URL.
        #[arg(long, value_name = "URL")]
        acs_url: String,
        /// Our signing certificate (PEM), published so the IdP can check signed requests.
        #[arg(long, value_name = "PEM")]
        cert: Option<PathBuf>,
        /// The certificate's private key (PEM, PKCS#8), readable by its owner only.
        #[arg(long, value_name = "PEM", requires = "cert")]
        sign_key: Option<PathBuf>,
        /// A certificate IdPs may encrypt assertions for (PEM), published with
        /// use="encryption"; repeat for a rollover. Only in builds with the feature
        /// `encrypted-assertions`.
        #[cfg(feature = "encrypted-assertions")]
        #[arg(long, value_name = "PEM")]
        encryption_cert: Vec<PathBuf>,
        /// Our SingleLogoutService URL, published for the HTTP-Redirect and HTTP-POST
        /// bindings.
        #[arg(long, value_name = "URL")]
        slo_url: Option<String>,
        /// Write the metadata XML itself to FILE (replaced atomically); stdout then says
        /// {"written":FILE}.
        #[arg(
            short = 'o',
            long = "output",
            value_name = "FILE",
            conflicts_with = "raw"
        )]
        output: Option<PathBuf>,
        /// Print the metadata XML itself on stdout instead of the JSON object.
        #[arg(long)]
        raw: bool,
    },
    /// Build an AuthnRequest for the IdP's HTTP-Redirect endpoint; prints its id and URL.
    #[command(after_help = "\
Keep the printed id: it is the --request-id that `saml verify` checks InResponseTo against.
--sign-key holds the PKCS#8 private key and, unless --cert is given, its certificate.

Example:
  rampart saml authn-request --idp-metadata idp-metadata.xml \\
      --sp-entity-id https://sp.example.com --acs-url https://sp.example.com/acs \\
      --sign-key sp-key.pem --cert sp.pem")]
    AuthnRequest {
        /// IdP metadata (XML): where to send the request.
        #[arg(long, value_name = "XML")]
        idp_metadata: PathBuf,
        /// Our SP entity id.
        #[arg(long, value_name = "ID")]
        sp_entity_id: String,
        /// Our assertion consumer service URL.
        #[arg(long, value_name = "URL")]
        acs_url: String,
        /// Private key (PEM, PKCS#8) to sign the request with, readable by its owner only.
        #[arg(long, value_name = "PEM")]
        sign_key: Option<PathBuf>,
        /// The signing key's certificate (PEM), when the key file does not hold it.
        #[arg(long, value_name = "PEM", requires = "sign_key")]
        cert: Option<PathBuf>,
        /// RelayState to send along (at most 80 bytes).
        #[arg(long, value_name = "TEXT")]
        relay_state: Option<String>,
    },
    /// Build a signed LogoutRequest for the IdP's HTTP-Redirect SingleLogoutService; prints
    /// its id and URL.
    #[command(after_help = "\
Logout requests are always signed: --sign-key holds the PKCS#8 private key and, unless --cert
is given, its certificate. Keep the printed id: it is the --request-id that
`saml verify-logout` checks the LogoutResponse's InResponseTo against.

Example:
  rampart saml logout-request --idp-metadata idp-metadata.xml \\
      --destination https://idp.example.com/slo --sp-entity-id https://sp.example.com \\
      --name-id alice@example.com --session-index _s1 --sign-key sp-key.pem --cert sp.pem")]
    LogoutRequest {
        /// Trusted IdP signing certificate (PEM); or give --idp-metadata.
        #[arg(long, value_name = "PEM", required_unless_present = "idp_metadata")]
        idp_cert: Vec<PathBuf>,
        /// IdP metadata (XML).
        #[arg(long, value_name = "XML")]
        idp_metadata: Option<PathBuf>,
        /// The IdP's SingleLogoutService URL (HTTP-Redirect); by default the one that
        /// --idp-metadata names.
        #[arg(long, value_name = "URL", required_unless_present = "idp_metadata")]
        destination: Option<String>,
        /// Our SP entity id (the request's Issuer).
        #[arg(long, value_name = "ID")]
        sp_entity_id: String,
        /// The NameID to log out, as the login reported it.
        #[arg(long, value_name = "VALUE")]
        name_id: String,
        /// The NameID's Format.
        #[arg(long, value_name = "URI")]
        name_id_format: Option<String>,
        /// The NameID's NameQualifier.
        #[arg(long, value_name = "TEXT")]
        name_qualifier: Option<String>,
        /// The NameID's SPNameQualifier.
        #[arg(long, value_name = "TEXT")]
        sp_name_qualifier: Option<String>,
        /// SessionIndex of the session to end; repeat for several.
        #[arg(long, value_name = "ID")]
        session_index: Vec<String>,
        /// Private key (PEM, PKCS#8) to sign with, readable by its owner only.
        #[arg(long, value_name = "PEM")]
        sign_key: PathBuf,
        /// The signing key's certificate (PEM), when the key file does not hold it.
        #[arg(long, value_name = "PEM")]
        cert: Option<PathBuf>,
        /// RelayState to send along (at most 80 bytes).
        #[arg(long, value_name = "TEXT")]
        relay_state: Option<String>,
        /// Issue the request as of this instant (RFC 3339) instead of the clock.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
    },
    /// Validate a LogoutRequest or LogoutResponse from the IdP (HTTP-Redirect query string or
    /// HTTP-POST body). Exit 0 when accepted, 1 when rejected.
    #[command(after_help = "\
INPUT holds, for --binding redirect, the raw query string exactly as received (with or
without the leading \"?\"; its signature is over those bytes), and for --binding post the
form body (SAMLRequest=..&RelayState=..), the base64 form value or the XML; \"-\" is stdin.
With --request-id the input must be the LogoutResponse to that LogoutRequest; without it, an
IdP-initiated LogoutRequest for --name-id (and --session-index). Replay is not checked
(one-shot).

Example:
  rampart saml verify-logout --idp-metadata idp-metadata.xml \\
      --sp-entity-id https://sp.example.com --slo-url https://sp.example.com/slo \\
      --name-id alice@example.com --session-index _s1 query.txt
  rampart saml verify-logout --idp-cert old-idp.pem --idp-entity-id https://idp.example.com \\
      --sp-entity-id https://sp.example.com --slo-url https://sp.example.com/slo \\
      --request-id _lr1 --allow-sha1 --allow-small-rsa response-query.txt   # debugging only")]
    VerifyLogout {
        /// Trusted IdP signing certificate (PEM); repeat for key rollover.
        #[arg(long, value_name = "PEM", required_unless_present = "idp_metadata")]
        idp_cert: Vec<PathBuf>,
        /// IdP metadata (XML): entity id and signing certificates.
        #[arg(long, value_name = "XML")]
        idp_metadata: Option<PathBuf>,
        /// The IdP's entity id (the expected Issuer), when no metadata is given.
        #[arg(
            long,
            value_name = "ID",
            conflicts_with = "idp_metadata",
            required_unless_present = "idp_metadata"
        )]
        idp_entity_id: Option<String>,
        /// Our SP entity id.
        #[arg(long, value_name = "ID")]
        sp_entity_id: String,
        /// Our SingleLogoutService URL (the expected Destination).
        #[arg(long, value_name = "URL")]
        slo_url: String,
        /// How the message arrived.
        #[arg(long, value_enum, default_value = "redirect")]
        binding: LogoutBinding,
        /// Id of our LogoutRequest this LogoutResponse answers.
        #[arg(long, value_name = "ID", conflicts_with_all = ["name_id", "session_index"])]
        request_id: Option<String>,
        /// The session's NameID (for a LogoutRequest).
        #[arg(long, value_name = "VALUE", required_unless_present = "request_id")]
        name_id: Option<String>,
        /// The session's NameID Format.
        #[arg(long, value_name = "URI")]
        name_id_format: Option<String>,
        /// The session's SessionIndex.
        #[arg(long, value_name = "ID")]
        session_index: Option<String>,
        /// Check times as of this instant (RFC 3339) instead of the clock.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        #[command(flatten)]
        legacy: LegacyArgs,
        /// File holding the query string or POST body; stdin when "-".
        #[arg(value_name = "INPUT")]
        input: PathBuf,
    },
}

/// The legacy algorithms `saml verify` and `saml verify-logout` can be told to accept, to
/// debug an IdP that still uses them. Named loudly; the result lists them.
#[derive(Debug, Args, Clone, Copy)]
pub(crate) struct LegacyArgs {
    /// DEBUGGING ONLY: accept SHA-1 signatures and digests (broken for collisions), to see
    /// whether the rest of the message is right. The result says so.
    #[arg(long)]
    pub(crate) allow_sha1: bool,
    /// DEBUGGING ONLY: accept RSA keys of 1024 to 2047 bits, to see whether the rest of the
    /// message is right. The result says so.
    #[arg(long)]
    pub(crate) allow_small_rsa: bool,
}

/// How a logout message arrived (SAML bindings 3.4, 3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogoutBinding {
    /// HTTP-Redirect: a signed query string.
    Redirect,
    /// HTTP-POST: a form with an enveloped XML signature.
    Post,
}

// ---------------------------------------------------------------------------------------------
// audit

const AUDIT_AFTER_HELP: &str = "\
Example:
  rampart audit verify --key-file audit.keys /var/log/app/audit-*.jsonl";

/// `rampart audit ...`
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Verify an audit trail: every record's HMAC chain (--key-file) and/or the signed
    /// checkpoints (--checkpoint-key). Exit 0 when intact, 1 with the first broken record's
    /// position when not, 2 for usage or input errors.
    #[command(after_help = "\
FILE... are the trail's files in order (the file sink's names sort in that order, so a shell
glob gives it). The key file holds one chain key a line, `KEY_ID BASE64`, readable by its
owner only; the checkpoint key file holds the Ed25519 public key in base64 (not secret).
With only the public key, the lines after the last checkpoint are reported as
\"unverified_tail\".

Example:
  rampart audit verify --key-file audit.keys /var/log/app/audit-*.jsonl
  rampart audit verify --checkpoint-key audit.pub --require-closed archive/audit-*.jsonl")]
    Verify {
        /// The trail's files, in trail order.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// File of chain keys, `KEY_ID BASE64` per line (owner-only permissions).
        #[arg(long, value_name = "K")]
        key_file: Option<PathBuf>,
        /// File holding the checkpoint public key (Ed25519, base64).
        #[arg(long, value_name = "PUB")]
        checkpoint_key: Option<PathBuf>,
        /// Require a clean-shutdown mark at the end (an archived trail), so records cut off
        /// the end are detected.
        #[arg(long)]
        require_closed: bool,
    },
}
