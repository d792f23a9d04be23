//! Requests over real HTTP in tests: a request that cannot be sent (the server under test
//! died, refused the connection) fails the test where it was sent.

use std::future::Future;

/// Sends a `reqwest` request and unwraps the transport: what every HTTP test wants, said once.
///
/// ```no_run
/// use rampart_testkit::http::Sent;
/// # async fn f(client: reqwest::Client) {
/// let status = client.get("http://127.0.0.1:8080/healthz").status_code().await;
/// assert_eq!(status, reqwest::StatusCode::OK);
/// # }
/// ```
pub trait Sent {
    /// The response (any status).
    ///
    /// # Panics
    /// When the request could not be sent or no response came.
    fn sent(self) -> impl Future<Output = reqwest::Response> + Send;

    /// Only the response's status.
    ///
    /// # Panics
    /// As [`sent`](Self::sent).
    fn status_code(self) -> impl Future<Output = reqwest::StatusCode> + Send
    where
        Self: Sized + Send,
    {
        async move { self.sent().await.status() }
    }
}

impl Sent for reqwest::RequestBuilder {
    async fn sent(self) -> reqwest::Response {
        match self.send().await {
            Ok(response) => response,
            Err(e) => panic!("request not sent: {e}"),
        }
    }
}
