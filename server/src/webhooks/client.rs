//! The HTTP client deliveries go out through: hyper's own (the server's HTTP stack already),
//! over TCP or TLS (rustls, with the Mozilla roots built in: the same on every machine,
//! whatever certificates it has installed), HTTP/1.1, with a deadline on every request.

use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// What a delivery is sent with.
#[derive(Clone)]
pub struct Sender {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    deadline: Duration,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").field("deadline", &self.deadline).finish()
    }
}

/// How much of a refusal's body is kept for the operator to read.
const ERROR_BODY_BYTES: usize = 200;
/// The most of an answer's body read.
const ANSWER_BYTES: usize = 16 * 1024;

impl Sender {
    pub fn new(deadline: Duration) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(deadline));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        // Connections are kept between deliveries to one receiver, a few at most.
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(2).build(connector);
        Self { client, deadline }
    }

    /// POSTs `body` to `url` with `headers`; `Ok` for a 2xx answer, otherwise why not.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: Bytes,
    ) -> Result<(), String> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, concat!("chat-webhooks/", env!("CARGO_PKG_VERSION")));
        for (name, value) in headers {
            let value = HeaderValue::from_str(value).map_err(|err| format!("header {name}: {err}"))?;
            request = request.header(*name, value);
        }
        let request = request.body(Full::new(body)).map_err(|err| format!("bad request: {err}"))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|err| describe(&err))?;
            let status = response.status();
            // A receiver's answer is read only so far: whatever it sends, a delivery holds at
            // most this much of it (a longer one is not kept, and its connection not reused).
            let body = http_body_util::Limited::new(response.into_body(), ANSWER_BYTES).collect().await;
            match status.is_success() {
                true => Ok(()),
                false => Err(refusal(status, body.map(|b| b.to_bytes()).ok())),
            }
        };
        match tokio::time::timeout(self.deadline, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(format!("no answer within {:?}", self.deadline)),
        }
    }
}

/// An error and its causes, on one line (hyper's own says little: "client error (Connect)").
fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn refusal(status: StatusCode, body: Option<Bytes>) -> String {
    let body = body.map(|b| String::from_utf8_lossy(&b[..b.len().min(ERROR_BODY_BYTES)]).into_owned());
    match body.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => format!("answered {status}: {text}"),
        _ => format!("answered {status}"),
    }
}
