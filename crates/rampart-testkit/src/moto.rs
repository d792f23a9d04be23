//! A `moto_server` of the test's own on 127.0.0.1: a local implementation of AWS KMS (and
//! the rest of AWS) for the KMS master key tests. Killed on drop.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tool;

/// A running `moto_server`.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    port: u16,
}

impl MotoServer {
    /// Credentials moto accepts (any are; these make it obvious in logs).
    pub const ACCESS_KEY_ID: &'static str = "testing";
    /// See [`MotoServer::ACCESS_KEY_ID`].
    pub const SECRET_ACCESS_KEY: &'static str = "testing";

    /// Starts one on a free port and waits until it accepts connections, or returns `None`
    /// after a loud skip when `moto_server` is not installed (`pip install 'moto[server]'`;
    /// a panic under `CI=true`).
    ///
    /// ```no_run
    /// if let Some(moto) = rampart_testkit::MotoServer::start() {
    ///     assert!(moto.url().starts_with("http://127.0.0.1:"));
    /// }
    /// ```
    ///
    /// # Panics
    /// When the server does not come up within 30 s.
    #[must_use]
    pub fn start() -> Option<Self> {
        if !tool::available("moto_server") {
            return None;
        }
        // Ask the kernel for a free port, then hand it to moto (a small race, retried).
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut child = Command::new("moto_server")
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server");
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Some(Self { child, port });
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // lost the port race: try another
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start");
    }

    /// `http://127.0.0.1:PORT`: the endpoint URL for the AWS SDK.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The variables a command (the CLI) needs to use this server through the SDK's
    /// standard chain.
    #[must_use]
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url()),
            ("AWS_ACCESS_KEY_ID", Self::ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY", Self::SECRET_ACCESS_KEY.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// Calls KMS through moto's JSON protocol with `curl`-free std networking: `action` is
    /// `TrentService.<Action>` and `body` its JSON. Returns the response body. For setting
    /// up keys (create, disable, schedule deletion) without an SDK in the test.
    ///
    /// # Panics
    /// When the request cannot be sent.
    #[must_use]
    pub fn kms(&self, region: &str, action: &str, body: &str) -> String {
        use std::io::{Read as _, Write as _};
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto_server");
        // moto routes by the SigV4 credential scope; the signature itself is not checked.
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/20240101/{region}/kms/aws4_request, SignedHeaders=host, Signature=0",
            Self::ACCESS_KEY_ID
        );
        let request = format!(
            "POST / HTTP/1.1\r\nHost: kms.{region}.amazonaws.com\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: TrentService.{action}\r\nAuthorization: {auth}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .expect("send to moto_server");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read from moto_server");
        response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
