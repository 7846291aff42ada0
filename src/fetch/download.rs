//! Getting the bytes of one URL: HTTP(S) with timeouts, bounded redirects,
//! retries with backoff (honouring `Retry-After`) and a size cap checked both
//! on `Content-Length` and while streaming; `file://` read from disk under the
//! same cap.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_LENGTH, RETRY_AFTER};
use reqwest::{StatusCode, redirect};
use tokio::sync::Semaphore;
use url::Url;

use super::Failure;
use super::address::{AddressPolicy, Refused};

/// Redirects followed before giving up (`too_many_redirects`).
pub const MAX_REDIRECTS: usize = 5;
/// Longest pause between retries when the server gives no `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How hard to try and how much to accept.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Whole request, headers and body, per attempt.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Longest silence while reading: a server that stalls mid-body fails here.
    pub read_timeout: Duration,
    pub max_bytes: u64,
    /// Retries after the first attempt, on connection errors, 408, 429 and 5xx.
    pub retries: u32,
    /// First backoff; doubled each retry, with ±50 % jitter.
    pub retry_base: Duration,
    /// A `Retry-After` longer than this fails the image as `rate_limited`.
    pub max_retry_after: Duration,
    /// Hosts exempt from the link-local / cloud-metadata refusal (`--allow-host`).
    pub allow_hosts: Vec<String>,
}

/// A downloaded body and how it was obtained.
pub struct Body {
    pub bytes: Vec<u8>,
    pub http_status: Option<u16>,
}

/// The shared HTTP client, a limit on transfers in flight and one more per
/// host, so one slow site cannot take every connection.
pub struct Downloader {
    client: reqwest::Client,
    settings: HttpSettings,
    global: Semaphore,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    policy: Arc<AddressPolicy>,
}

#[derive(Debug)]
struct RedirectLoop;
impl std::fmt::Display for RedirectLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("redirect loop")
    }
}
impl std::error::Error for RedirectLoop {}

/// A redirect to a refused address (see `address`), named with its target.
#[derive(Debug)]
struct RedirectRefused {
    to: Url,
    why: Refused,
}
impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the redirect to {} was refused: {}", self.to, self.why)
    }
}
impl std::error::Error for RedirectRefused {}

impl Downloader {
    pub fn new(
        settings: HttpSettings,
        concurrency: usize,
        per_host: usize,
    ) -> anyhow::Result<Downloader> {
        let policy = Arc::new(AddressPolicy::new(&settings.allow_hosts));
        let redirect_policy = policy.clone();
        let redirects = redirect::Policy::custom(move |attempt| {
            if let Err(why) = redirect_policy.check_url(attempt.url()) {
                let to = attempt.url().clone();
                attempt.error(RedirectRefused { to, why })
            } else if attempt.previous().contains(attempt.url()) {
                attempt.error(RedirectLoop)
            } else if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!("tagscape/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .timeout(settings.timeout)
            .redirect(redirects)
            .dns_resolver(AddressPolicy::resolver(&policy))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot set up the HTTP client: {e}"))?;
        Ok(Downloader {
            client,
            settings,
            global: Semaphore::new(concurrency.max(1)),
            per_host: per_host.max(1),
            hosts: Mutex::new(HashMap::new()),
            policy,
        })
    }

    /// Fetches `url`, retrying transient failures. Returns the body or the
    /// failure, and in both cases the number of attempts made.
    pub async fn get(&self, url: &Url) -> (Result<Body, Failure>, u32) {
        match url.scheme() {
            "file" => {
                let Ok(_permit) = self.global.acquire().await else {
                    return (Err(Failure::new("connection", "limiter closed")), 0);
                };
                (read_file(url, self.settings.max_bytes).await, 1)
            }
            "http" | "https" => self.get_http(url).await,
            other => (
                Err(Failure::new(
                    "bad_url",
                    format!("the scheme {other}: is not supported (only http, https, file)"),
                )),
                0,
            ),
        }
    }

    async fn get_http(&self, url: &Url) -> (Result<Body, Failure>, u32) {
        if let Err(refused) = self.policy.check_url(url) {
            return (Err(Failure::new("refused_address", refused.to_string())), 0);
        }
        let host = self.host_semaphore(url);
        let mut attempts = 0;
        loop {
            let result = {
                // Host first, then a global slot: a task waiting for a busy
                // host holds no slot another host could use.
                let (Ok(_host), Ok(_slot)) = (host.acquire().await, self.global.acquire().await)
                else {
                    return (Err(Failure::new("connection", "limiter closed")), attempts);
                };
                attempts += 1;
                self.attempt(url).await
            };
            let failure = match result {
                Ok(body) => return (Ok(body), attempts),
                Err(failure) => failure,
            };
            let Some(wait) = failure.retry_after.or(if failure.transient {
                Some(backoff(self.settings.retry_base, attempts))
            } else {
                None
            }) else {
                return (Err(failure.failure), attempts);
            };
            if attempts > self.settings.retries {
                return (Err(failure.failure), attempts);
            }
            if wait > self.settings.max_retry_after {
                let mut failure = failure.failure;
                failure.reason = "rate_limited";
                failure.detail = format!(
                    "{}; the server asked to wait {} s, more than the {} s allowed: run fetch again later",
                    failure.detail,
                    wait.as_secs(),
                    self.settings.max_retry_after.as_secs()
                );
                return (Err(failure), attempts);
            }
            tracing::debug!(%url, reason = failure.failure.reason, ?wait, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    fn host_semaphore(&self, url: &Url) -> Arc<Semaphore> {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }

    /// One request, start to end of body.
    async fn attempt(&self, url: &Url) -> Result<Body, AttemptFailure> {
        let max = self.settings.max_bytes;
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(request_failure)?;
        let status = response.status();
        let code = status.as_u16();
        if !status.is_success() {
            return Err(status_failure(status, response.headers()));
        }
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(len) = declared.filter(|&len| len > max) {
            return Err(AttemptFailure::fatal(
                Failure::new(
                    "too_large",
                    format!("the server announces {len} bytes, more than --max-bytes {max}"),
                )
                .with_status(code),
            ));
        }
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(max) as usize);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() as u64 + chunk.len() as u64 > max {
                        return Err(AttemptFailure::fatal(
                            Failure::new(
                                "too_large",
                                format!("the body exceeds --max-bytes {max}"),
                            )
                            .with_status(code),
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let mut failure = request_failure(e);
                    failure.failure.detail =
                        format!("after {} bytes: {}", bytes.len(), failure.failure.detail);
                    failure.failure.http_status = Some(code);
                    return Err(failure);
                }
            }
        }
        Ok(Body {
            bytes,
            http_status: Some(code),
        })
    }
}

/// A failed attempt and whether (and when) to try again.
struct AttemptFailure {
    failure: Failure,
    transient: bool,
    retry_after: Option<Duration>,
}

impl AttemptFailure {
    fn fatal(failure: Failure) -> Self {
        AttemptFailure {
            failure,
            transient: false,
            retry_after: None,
        }
    }
}

fn request_failure(error: reqwest::Error) -> AttemptFailure {
    let detail = error_chain(&error);
    if error.is_timeout() {
        // Not retried within a run (it would multiply the wait); a later
        // `fetch` retries timeouts by default.
        return AttemptFailure::fatal(Failure::new("timeout", detail));
    }
    // The policy's refusals, from the redirect policy or the resolver.
    let mut source = std::error::Error::source(&error);
    let (mut looped, mut redirect_refused, mut refused) = (false, None, None);
    while let Some(e) = source {
        looped |= e.is::<RedirectLoop>();
        if let Some(r) = e.downcast_ref::<RedirectRefused>() {
            redirect_refused = Some(r.to_string());
        }
        if let Some(r) = e.downcast_ref::<Refused>() {
            refused = Some(r.to_string());
        }
        source = e.source();
    }
    if let Some(detail) = redirect_refused {
        return AttemptFailure::fatal(Failure::new("redirect_refused", detail));
    }
    if let Some(detail) = refused {
        return AttemptFailure::fatal(Failure::new("refused_address", detail));
    }
    if error.is_redirect() {
        let reason = if looped {
            "redirect_loop"
        } else {
            "too_many_redirects"
        };
        return AttemptFailure::fatal(Failure::new(reason, detail));
    }
    if error.is_builder() {
        return AttemptFailure::fatal(Failure::new("bad_url", detail));
    }
    AttemptFailure {
        failure: Failure::new("connection", detail),
        transient: true,
        retry_after: None,
    }
}

fn status_failure(status: StatusCode, headers: &reqwest::header::HeaderMap) -> AttemptFailure {
    let code = status.as_u16();
    let (reason, transient) = match code {
        404 => ("http_404", false),
        403 => ("http_403", false),
        410 => ("http_410", false),
        408 => ("timeout", true),
        429 => ("rate_limited", true),
        500..=599 => ("http_5xx", true),
        _ => ("http_status", false),
    };
    let retry_after = if transient {
        headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()))
    } else {
        None
    };
    AttemptFailure {
        failure: Failure::new(reason, format!("the server answered {status}")).with_status(code),
        transient,
        retry_after,
    }
}

/// `Retry-After` is either delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `base · 2^(attempt-1)`, jittered to 50–150 % so many images failing at once
/// do not come back at once.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exponential = base.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let jitter = 0.5 + (random % 1000) as f64 / 1000.0;
    exponential.mul_f64(jitter).min(MAX_BACKOFF)
}

fn error_chain(error: &reqwest::Error) -> String {
    // reqwest's own message names the URL; its sources say what went wrong.
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

async fn read_file(url: &Url, max_bytes: u64) -> Result<Body, Failure> {
    let Ok(path) = url.to_file_path() else {
        return Err(Failure::new(
            "bad_url",
            "the file:// URL does not name a local path",
        ));
    };
    let metadata = match tokio::fs::metadata(&path).await {
        Ok(m) if m.is_file() => m,
        Ok(_) => {
            return Err(Failure::new(
                "file_missing",
                format!("{} is not a file", path.display()),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::new(
                "file_missing",
                format!("{} does not exist", path.display()),
            ));
        }
        Err(e) => {
            return Err(Failure::new(
                "file_unreadable",
                format!("{}: {e}", path.display()),
            ));
        }
    };
    if metadata.len() > max_bytes {
        return Err(Failure::new(
            "too_large",
            format!(
                "{} has {} bytes, more than --max-bytes {max_bytes}",
                path.display(),
                metadata.len()
            ),
        ));
    }
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| Failure::new("file_unreadable", format!("{}: {e}", path.display())))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Failure::new(
            "too_large",
            format!("{} grew past --max-bytes {max_bytes}", path.display()),
        ));
    }
    Ok(Body {
        bytes,
        http_status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles_within_jitter() {
        let base = Duration::from_millis(500);
        for attempt in 1..=3 {
            let nominal = 500.0 * f64::from(1u32 << (attempt - 1));
            let got = backoff(base, attempt).as_secs_f64() * 1000.0;
            assert!(
                got >= nominal * 0.5 && got <= nominal * 1.5,
                "{attempt}: {got}"
            );
        }
        assert!(backoff(base, 30) <= MAX_BACKOFF);
    }
}
