//! Master keys in an HSM (SoftHSM2 through PKCS#11) and in a KMS (moto's AWS KMS) against a local
//! key, on one keyring file rewrapped between them.
//!
//! - `master_keys_seal/*`, `master_keys_open/*`: sealing and opening a 64-byte token with a
//!   keyring loaded under each provider. The master key is used once per load, never per
//!   message, so each provider's entry should equal the local one (target ratio <= 1.02);
//!   the interleaved ratios (`master_keys/paired/...`) are the figures to read.
//! - `master_keys_load/*`: one keyring load under each provider: one unwrap call to the
//!   token or to KMS (over HTTP to 127.0.0.1), next to a local load.
//!
//! SoftHSM2 reads its configuration once per process, so this bench runs itself again with a
//! token directory of its own (`SoftHsm::reexec`); without SoftHSM2 or moto_server it skips
//! loudly (and fails under CI=true).
//!
//! Run: `cargo bench -p rampart --features pkcs11,aws-kms --bench master_keys -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::Path;
use std::time::SystemTime;

use criterion::Criterion;
use rampart::envelope::{AwsKmsMasterKey, Context, Keyring, LocalMasterKey, Pkcs11MasterKey};
use rampart_testkit::{MotoServer, SoftHsm};

#[path = "common/paired.rs"]
mod paired;

const TOKEN: &[u8] = b"ya29.a0AfH6SMBx-64-bytes-of-oauth-access-token-for-the-benchmark";

fn main() {
    let Some(hsm) = SoftHsm::reexec() else {
        return;
    };
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");

    hsm.init_token("bench", "1234");
    let pin = hsm.pin_file("pin", "1234");
    let hsm_key = Pkcs11MasterKey::generate(&SoftHsm::uri("bench", "kek", &pin)).expect("HSM key");
    let body = moto.kms("eu-west-1", "CreateKey", "{}");
    let arn =
        serde_json::from_str::<serde_json::Value>(&body).expect("CreateKey")["KeyMetadata"]["Arn"]
            .as_str()
            .expect("an ARN")
            .to_string();
    let kms = rt
        .block_on(
            AwsKmsMasterKey::builder(&arn)
                .with_endpoint_url(moto.url())
                .with_static_credentials(MotoServer::ACCESS_KEY_ID, MotoServer::SECRET_ACCESS_KEY)
                .build(),
        )
        .expect("KMS key");

    // One keyring, saved three times: under the local key, the HSM key and the KMS key.
    let dir = tempfile::tempdir().expect("temp dir");
    let local = LocalMasterKey::generate().expect("local key");
    let paths = [
        dir.path().join("local.json"),
        dir.path().join("hsm.json"),
        dir.path().join("kms.json"),
    ];
    let ring = Keyring::create("tokens", "eu", &local, SystemTime::now()).expect("keyring");
    ring.save(&paths[0]).expect("save");
    // Each copy is loaded from its own path and saved back there (saves compare generations).
    std::fs::copy(&paths[0], &paths[1]).expect("copy");
    let mut ring = Keyring::load(&paths[1], &local).expect("load");
    ring.rewrap(&local, &hsm_key).expect("rewrap to HSM");
    ring.save(&paths[1]).expect("save");
    std::fs::copy(&paths[1], &paths[2]).expect("copy");
    let mut ring = Keyring::load(&paths[2], &hsm_key).expect("load");
    rt.block_on(ring.rewrap_async(&hsm_key, &kms))
        .expect("rewrap to KMS");
    ring.save(&paths[2]).expect("save");

    let load_local = || Keyring::load(&paths[0], &local).expect("local load");
    let load_hsm = || Keyring::load(&paths[1], &hsm_key).expect("HSM load");
    let load_kms = || {
        rt.block_on(Keyring::load_async(&paths[2], &kms))
            .expect("KMS load")
    };
    let rings = [
        ("local", load_local()),
        ("pkcs11", load_hsm()),
        ("aws_kms", load_kms()),
    ];
    let ctx = Context::new().with("tenant", "42").with("column", "oauth");
    let sealed = rings[0].1.seal(TOKEN, &ctx).expect("seal");

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("master_keys_seal");
    for (name, ring) in &rings {
        g.bench_function(*name, |b| b.iter(|| ring.seal(black_box(TOKEN), &ctx)));
    }
    g.finish();
    let mut g = c.benchmark_group("master_keys_open");
    for (name, ring) in &rings {
        g.bench_function(*name, |b| b.iter(|| ring.open(black_box(&sealed), &ctx)));
    }
    g.finish();
    let mut g = c.benchmark_group("master_keys_load");
    g.bench_function("local", |b| b.iter(load_local));
    g.bench_function("pkcs11", |b| b.iter(load_hsm));
    g.bench_function("aws_kms", |b| b.iter(load_kms));
    g.finish();

    paired_message_path(&rings, &sealed, &ctx);
    c.final_summary();
    report_files(&paths);
}

/// Provider / local, for seal and open, from interleaved rounds of 20 000 calls a side.
fn paired_message_path(rings: &[(&str, Keyring); 3], sealed: &[u8], ctx: &Context) {
    let calls = 20_000;
    let seal = |ring: &Keyring| {
        for _ in 0..calls {
            black_box(ring.seal(black_box(TOKEN), ctx).expect("seal"));
        }
    };
    let open = |ring: &Keyring| {
        for _ in 0..calls {
            black_box(ring.open(black_box(sealed), ctx).expect("open"));
        }
    };
    let local = &rings[0].1;
    let (hsm, kms) = (&rings[1].1, &rings[2].1);
    paired::paired_ratios(
        "master_keys",
        "provider-loaded keyring time / local-loaded keyring time",
        31,
        &mut [
            ("seal_pkcs11", &mut |s| {
                seal(if s == 0 { hsm } else { local });
            }),
            ("seal_aws_kms", &mut |s| {
                seal(if s == 0 { kms } else { local });
            }),
            ("open_pkcs11", &mut |s| {
                open(if s == 0 { hsm } else { local });
            }),
            ("open_aws_kms", &mut |s| {
                open(if s == 0 { kms } else { local });
            }),
        ],
    );
}

/// The three files name their master keys (a sanity line in the bench output).
fn report_files(paths: &[std::path::PathBuf; 3]) {
    for p in paths {
        let text = std::fs::read_to_string(p).expect("keyring file");
        let v: serde_json::Value = serde_json::from_str(&text).expect("keyring JSON");
        println!(
            "{}: master key {}",
            Path::new(p)
                .file_name()
                .unwrap_or_default()
                .to_string_lossy(),
            v["master_key"]["id"].as_str().unwrap_or("?")
        );
    }
}
