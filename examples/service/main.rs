//! `cargo run --example service -- [--listen ADDR] [--data-dir DIR] [--postgres URL]
//! [--redis URL] [--smtp HOST:PORT] [--public-url URL] [--smoke]`
//!
//! Starts Rampart's reference service (see the `rampart-service` crate docs), prints its URL
//! and routes, and serves until interrupted. `--smoke` starts it on a free port with a
//! temporary data directory, asks itself `GET /healthz` and `GET /login`, and exits 0.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use rampart_service::{Config, ConfigError, ROUTES, SmtpConfig, StartError};

struct Flags {
    listen: String,
    data_dir: Option<PathBuf>,
    postgres: Option<String>,
    redis: Option<String>,
    smtp: Option<String>,
    public_url: Option<String>,
    smoke: bool,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Flags, ConfigError> {
    let mut flags = Flags {
        listen: "127.0.0.1:8080".into(),
        data_dir: None,
        postgres: None,
        redis: None,
        smtp: None,
        public_url: None,
        smoke: false,
    };
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        if flag == "--smoke" {
            flags.smoke = true;
            continue;
        }
        let value = args
            .next()
            .ok_or_else(|| ConfigError::Usage(format!("{flag} needs a value")))?;
        match flag.as_str() {
            "--listen" => flags.listen = value,
            "--data-dir" => flags.data_dir = Some(value.into()),
            "--postgres" => flags.postgres = Some(value),
            "--redis" => flags.redis = Some(value),
            "--smtp" => flags.smtp = Some(value),
            "--public-url" => flags.public_url = Some(value),
            other => return Err(ConfigError::Usage(format!("unknown flag {other}"))),
        }
    }
    Ok(flags)
}

fn config(flags: &Flags, data_dir: PathBuf) -> Result<Config, ConfigError> {
    let mut config = Config::new(data_dir);
    if let Some(url) = &flags.postgres {
        config = config.with_postgres(url);
    }
    if let Some(url) = &flags.redis {
        config = config.with_redis(url);
    }
    if let Some(smtp) = &flags.smtp {
        config = config.with_smtp(SmtpConfig::parse(smtp)?);
    }
    if let Some(url) = &flags.public_url {
        config = config.with_public_url(url);
    }
    Ok(config)
}

/// One HTTP/1.1 request to ourselves on a plain socket (no client library in the binary).
fn get_status(addr: std::net::SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(status)
}

async fn run(flags: Flags) -> Result<(), Box<dyn std::error::Error>> {
    if flags.smoke {
        let dir = tempfile_dir()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let running = rampart_service::start(listener, config(&flags, dir.clone())?).await?;
        for path in ["/healthz", "/login"] {
            let status = tokio::task::spawn_blocking(move || get_status(addr, path)).await??;
            if status != 200 {
                return Err(format!("smoke: GET {path} answered {status}").into());
            }
            println!("smoke: GET {path} -> {status}");
        }
        running.stop().await?;
        std::fs::remove_dir_all(&dir)?;
        println!("smoke: ok");
        return Ok(());
    }
    let data_dir = flags
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/rampart-service-data"));
    let listener = tokio::net::TcpListener::bind(&flags.listen).await?;
    let running = rampart_service::start(listener, config(&flags, data_dir.clone())?).await?;
    println!(
        "rampart-service at {}/login (data in {})",
        running.url(),
        data_dir.display()
    );
    for (route, what) in ROUTES {
        println!("  {route:<58} {what}");
    }
    let url = running.url().to_owned();
    tokio::select! {
        r = running.wait() => r?,
        _ = tokio::signal::ctrl_c() => println!("stopping {url}"),
    }
    Ok(())
}

/// A fresh directory under the system temp dir for `--smoke`.
fn tempfile_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("rampart-service-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn main() -> ExitCode {
    let flags = match parse(std::env::args().skip(1)) {
        Ok(flags) => flags,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(flags)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let kind = e
                .downcast_ref::<StartError>()
                .map_or("error", StartError::kind);
            eprintln!("rampart-service: {kind}: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}
