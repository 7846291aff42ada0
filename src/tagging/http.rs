//! What the cloud backends share on the wire: one HTTP client, one way of
//! sending a JSON request and turning transport trouble into retries.

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use reqwest::StatusCode;

use super::tagger::CallError;

/// A client for one backend. The run's own timeout bounds each request
/// (see `tagger::RunOptions::timeout`); this one only bounds connecting.
pub fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("tagscape/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(20))
        .build()
        .context("cannot set up the HTTP client")
}

/// A vendor's answer, read to the end.
pub struct Answer {
    pub status: StatusCode,
    /// `Retry-After`, in either of its forms.
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text for messages, shortened.
    pub fn body_excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        match text.char_indices().nth(300) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_string(),
        }
    }
}

/// Sends the request and reads the whole answer. Connection failures and
/// broken bodies are worth retrying; the caller judges the status.
pub async fn send(request: reqwest::RequestBuilder) -> Result<Answer, CallError> {
    let response = request.send().await.map_err(transport_error)?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| crate::fetch::download::parse_retry_after(v, SystemTime::now()));
    let body = response.bytes().await.map_err(transport_error)?.to_vec();
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// A transport error as a retry, described without the URL (Google's key
/// may travel in the query string).
fn transport_error(error: reqwest::Error) -> CallError {
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    CallError::Retry {
        code: if error.is_timeout() {
            "timeout".into()
        } else {
            "connection".into()
        },
        message,
        after: None,
    }
}

/// Statuses that mean "later", whatever the vendor: throttling, timeouts,
/// overloaded or restarting servers.
pub fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 425 | 429 | 500 | 502 | 503 | 504)
}
