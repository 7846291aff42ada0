//! A hand-written HTTP/1.1 server on 127.0.0.1 for the fetch tests: every
//! answer, including the broken ones (dropped connections, stalls, loops), is
//! under the test's control. It runs on its own thread and runtime so the
//! code under test can start its own.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "listener.rs"]
mod listener;

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with a Content-Length.
    Ok {
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// 200 with chunked encoding (no length known up front).
    Chunked { body: Vec<u8> },
    /// Any status with extra headers and a short body.
    Status {
        code: u16,
        headers: Vec<(&'static str, String)>,
    },
    /// Announces the full length, sends half the body, closes.
    DropMidBody { body: Vec<u8> },
    /// Announces the length, sends a few bytes, then stalls.
    HangMidBody { body: Vec<u8> },
    /// Never answers at all.
    HangBeforeHeaders,
    /// Waits, then answers like `Ok`.
    Slow { delay: Duration, body: Vec<u8> },
}

type Handler = dyn Fn(&str, usize) -> Reply + Send + Sync;

/// Per path: requests seen (and when), and bodies sent to the end.
#[derive(Default)]
pub struct Log {
    pub requests: HashMap<String, Vec<Instant>>,
    pub completed: HashMap<String, usize>,
}

pub struct TestServer {
    pub port: u16,
    pub ip: std::net::IpAddr,
    pub log: Arc<Mutex<Log>>,
}

impl TestServer {
    /// Starts a server; `handler(path, n)` answers the `n`-th (0-based)
    /// request for `path` (the raw request target, as the client sent it).
    pub fn start(handler: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> TestServer {
        TestServer::start_on(std::net::IpAddr::from([127, 0, 0, 1]), handler)
    }

    /// `start` on another loopback address, e.g. 127.0.0.2.
    pub fn start_on(
        ip: std::net::IpAddr,
        handler: impl Fn(&str, usize) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::new(Mutex::new(Log::default()));
        let server_log = log.clone();
        let port = listener::spawn_on(ip, move |stream| {
            let (handler, log) = (handler.clone(), server_log.clone());
            async move {
                let _ = serve(stream, handler, log).await;
            }
        });
        TestServer { port, ip, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}:{}{path}", self.ip, self.port)
    }

    pub fn requests(&self, path: &str) -> Vec<Instant> {
        let log = self.log.lock().unwrap();
        log.requests.get(path).cloned().unwrap_or_default()
    }

    pub fn completed(&self, path: &str) -> usize {
        *self.log.lock().unwrap().completed.get(path).unwrap_or(&0)
    }
}

async fn serve(
    mut stream: TcpStream,
    handler: Arc<Handler>,
    log: Arc<Mutex<Log>>,
) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let n = {
        let mut log = log.lock().unwrap();
        let seen = log.requests.entry(path.clone()).or_default();
        seen.push(Instant::now());
        seen.len() - 1
    };
    let reply = handler(&path, n);
    let head = |code: u16, extra: &str| {
        format!(
            "HTTP/1.1 {code} {}\r\nConnection: close\r\n{extra}\r\n",
            reason(code)
        )
    };
    match reply {
        Reply::Ok { content_type, body } => {
            let h = head(
                200,
                &format!(
                    "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                    body.len()
                ),
            );
            stream.write_all(h.as_bytes()).await?;
            stream.write_all(&body).await?;
            stream.flush().await?;
            *log.lock().unwrap().completed.entry(path).or_default() += 1;
        }
        Reply::Slow { delay, body } => {
            tokio::time::sleep(delay).await;
            let h = head(
                200,
                &format!(
                    "Content-Type: image/png\r\nContent-Length: {}\r\n",
                    body.len()
                ),
            );
            stream.write_all(h.as_bytes()).await?;
            stream.write_all(&body).await?;
            stream.flush().await?;
            *log.lock().unwrap().completed.entry(path).or_default() += 1;
        }
        Reply::Chunked { body } => {
            let h = head(
                200,
                "Content-Type: image/png\r\nTransfer-Encoding: chunked\r\n",
            );
            stream.write_all(h.as_bytes()).await?;
            for chunk in body.chunks(8192) {
                stream
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .await?;
                stream.write_all(chunk).await?;
                stream.write_all(b"\r\n").await?;
            }
            stream.write_all(b"0\r\n\r\n").await?;
        }
        Reply::Status { code, headers } => {
            let body = format!("<html><body>{code}</body></html>");
            let mut extra = format!(
                "Content-Type: text/html\r\nContent-Length: {}\r\n",
                body.len()
            );
            for (name, value) in headers {
                extra.push_str(&format!("{name}: {value}\r\n"));
            }
            stream.write_all(head(code, &extra).as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
        }
        Reply::DropMidBody { body } => {
            let h = head(
                200,
                &format!(
                    "Content-Type: image/jpeg\r\nContent-Length: {}\r\n",
                    body.len()
                ),
            );
            stream.write_all(h.as_bytes()).await?;
            stream.write_all(&body[..body.len() / 2]).await?;
            stream.flush().await?;
            // Dropping the stream closes the connection mid-body.
        }
        Reply::HangMidBody { body } => {
            let h = head(
                200,
                &format!(
                    "Content-Type: image/jpeg\r\nContent-Length: {}\r\n",
                    body.len()
                ),
            );
            stream.write_all(h.as_bytes()).await?;
            stream.write_all(&body[..16.min(body.len())]).await?;
            stream.flush().await?;
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
        Reply::HangBeforeHeaders => {
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
    }
    let _ = stream.shutdown().await;
    Ok(())
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        302 => "Found",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
