//! `tagscape tag` against local servers that play Clarifai, Google Cloud
//! Vision and an OpenAI-compatible server, strictly by their documented
//! protocols (FORMATS.md d, e, f), with faults injected: throttling,
//! mixed batches, per-image failures, malformed answers, hangs, a killed
//! run. The built binary is run as a child so keys travel as they would.

#[path = "support/vision_server.rs"]
mod vision_server;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use vision_server::{Reply, Request, VisionServer};

const BIN: &str = env!("CARGO_BIN_EXE_tagscape");
const CLARIFAI_PAT: &str = "pat-SECRET-7d1f0c9e2b";
const GOOGLE_KEY: &str = "AIzaSECRET-google-55aa";
const GOOGLE_TOKEN: &str = "ya29.SECRET-token-9911";
const OPENAI_KEY: &str = "sk-SECRET-openai-3344";
const CLARIFAI_PATH: &str = "/v2/users/clarifai/apps/main/models/general-image-recognition/outputs";

// ---------------------------------------------------------------- fixtures

/// A project with `n` fetched images: `https://img.test/{i}.jpg`, each a
/// distinct 8×8 JPEG stored as its original.
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
    /// The original's bytes, by image number.
    files: Vec<Vec<u8>>,
}

impl Fixture {
    fn new(n: usize) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("study");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let out = Command::new(BIN).arg("init").arg(&dir).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::create_dir_all(dir.join("originals")).unwrap();
        let conn = rusqlite::Connection::open(dir.join("tagscape.db")).unwrap();
        let mut files = Vec::new();
        for i in 0..n {
            let pixel = image::Rgb([(i * 37 % 256) as u8, (i * 91 % 256) as u8, (i * 13) as u8]);
            let img = image::RgbImage::from_pixel(8, 8, pixel);
            let mut bytes = std::io::Cursor::new(Vec::new());
            image::DynamicImage::ImageRgb8(img)
                .write_to(&mut bytes, image::ImageFormat::Jpeg)
                .unwrap();
            let bytes = bytes.into_inner();
            let file = format!("originals/{i}.jpg");
            std::fs::write(dir.join(&file), &bytes).unwrap();
            conn.execute(
                "INSERT INTO images(id, url, status, file, format, width, height, byte_size)
                 VALUES (?1, ?2, 'done', ?3, 'jpeg', 8, 8, ?4)",
                rusqlite::params![i as i64 + 1, url(i), file, bytes.len() as i64],
            )
            .unwrap();
            files.push(bytes);
        }
        Fixture {
            _tmp: tmp,
            dir,
            home,
            files,
        }
    }

    /// Runs `tagscape tag DIR ARGS` with only `env` as credentials.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("tag").arg(&self.dir).args(args);
        for var in [
            "CLARIFAI_PAT",
            "GOOGLE_API_KEY",
            "GOOGLE_ACCESS_TOKEN",
            "GOOGLE_CLOUD_PROJECT",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "OPENAI_API_KEY",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"));
        cmd.envs(env.iter().copied());
        cmd
    }

    fn tag(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env).output().unwrap()
    }

    fn db(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.dir.join("tagscape.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        conn
    }

    /// Label tags per image number: tag → confidence.
    fn tags(&self, kind: &str) -> BTreeMap<usize, BTreeMap<String, Option<f64>>> {
        let conn = self.db();
        let mut st = conn
            .prepare("SELECT image_id, tag, confidence FROM tags WHERE kind = ?1")
            .unwrap();
        let mut out: BTreeMap<usize, BTreeMap<String, Option<f64>>> = BTreeMap::new();
        for row in st
            .query_map([kind], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })
            .unwrap()
        {
            let (id, tag, conf) = row.unwrap();
            out.entry(id as usize - 1).or_default().insert(tag, conf);
        }
        out
    }

    /// (image number, code, transient) of every recorded failure.
    fn failures(&self) -> Vec<(usize, String, bool)> {
        let conn = self.db();
        let mut st = conn
            .prepare("SELECT image_id, code, transient FROM tag_failures ORDER BY image_id")
            .unwrap();
        st.query_map([], |r| {
            Ok((r.get::<_, i64>(0)? as usize - 1, r.get(1)?, r.get(2)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    fn responses(&self) -> usize {
        self.db()
            .query_row("SELECT count(*) FROM tag_responses", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap() as usize
    }

    /// Every file of the project, the store and its WAL included, is free of `secret`.
    fn assert_secret_absent(&self, secret: &str) {
        let needle = secret.as_bytes();
        let mut checked = 0;
        for entry in walkdir::WalkDir::new(&self.dir) {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                let bytes = std::fs::read(entry.path()).unwrap();
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "the key is in {}",
                    entry.path().display()
                );
                checked += 1;
            }
        }
        assert!(checked >= 2, "nothing checked in {}", self.dir.display());
    }
}

fn url(i: usize) -> String {
    format!("https://img.test/{i}.jpg")
}

/// The image number in `https://img.test/{i}.jpg`.
fn number_of(url: &str) -> Option<usize> {
    url.strip_prefix("https://img.test/")?
        .strip_suffix(".jpg")?
        .parse()
        .ok()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn assert_ok(out: &Output) {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
}

/// Finished, but some images failed: exit status 3.
fn assert_some_failed(out: &Output) {
    let (stdout, stderr) = text(out);
    assert_eq!(
        out.status.code(),
        Some(3),
        "stdout: {stdout}\nstderr: {stderr}"
    );
}

/// What a mock vendor saw.
#[derive(Default)]
struct Seen {
    requests: usize,
    /// Protocol violations: the test fails on any.
    violations: Vec<String>,
    /// Images per request.
    batch_sizes: Vec<usize>,
    /// Per image: times it was answered with a result (tags or a failure
    /// the vendor would bill or refuse for good).
    answered: HashMap<usize, usize>,
    /// Per image: times it arrived in a request.
    received: HashMap<usize, usize>,
    /// Set by the kill test: every request from this one on hangs.
    hang_from: Option<usize>,
    /// Images that already got their one "try again" answer.
    busy_given: BTreeSet<usize>,
    /// Per image: when each request carrying it arrived.
    arrivals: HashMap<usize, Vec<Instant>>,
}

type Shared = Arc<Mutex<Seen>>;

fn violation(seen: &Shared, what: String) -> Reply {
    seen.lock().unwrap().violations.push(what.clone());
    Reply::json(400, json!({"status": {"code": 11100, "description": what}}))
}

// ---------------------------------------------------------------- Clarifai

/// The concepts the mock gives image `i`: computed here, independently of tagscape.
fn clarifai_concepts(i: usize) -> Vec<(String, f64)> {
    vec![
        (format!("concept{i}"), 0.99),
        ("Shared".to_string(), 0.5 + i as f64 / 100.0),
    ]
}

/// Faults by request number (the first attempts of different batches race,
/// so each fault is one every batch survives) and by image.
fn clarifai_server(seen: Shared) -> VisionServer {
    VisionServer::start(move |req: &Request| {
        let n = {
            let mut s = seen.lock().unwrap();
            s.requests += 1;
            s.requests - 1
        };
        // The protocol, strictly.
        if req.method != "POST" || req.path() != CLARIFAI_PATH {
            return violation(&seen, format!("{} {}", req.method, req.target));
        }
        if req.header("authorization") != Some(&format!("Key {CLARIFAI_PAT}")) {
            return Reply::json(
                401,
                json!({"status": {"code": 11008, "description": "API key not found"}}),
            );
        }
        if !req
            .header("content-type")
            .unwrap_or("")
            .starts_with("application/json")
        {
            return violation(&seen, "content-type".into());
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return violation(&seen, "body is not JSON".into());
        };
        let config = &body["model"]["output_info"]["output_config"];
        if config["max_concepts"].as_u64() != Some(20) || config["min_value"].as_f64() != Some(0.1)
        {
            return violation(&seen, format!("output_config {config}"));
        }
        let Some(inputs) = body["inputs"].as_array() else {
            return violation(&seen, "no inputs".into());
        };
        if inputs.is_empty() || inputs.len() > 128 {
            return violation(&seen, format!("{} inputs", inputs.len()));
        }
        let mut images = Vec::new();
        for input in inputs {
            let image = input["data"]["image"].as_object();
            match image.map(|m| (m.len(), m.get("url").and_then(Value::as_str))) {
                Some((1, Some(u))) => match number_of(u) {
                    Some(i) => images.push(i),
                    None => return violation(&seen, format!("url {u}")),
                },
                _ => return violation(&seen, format!("input {input}")),
            }
        }
        {
            let mut s = seen.lock().unwrap();
            s.batch_sizes.push(images.len());
            for &i in &images {
                *s.received.entry(i).or_default() += 1;
            }
            if s.hang_from.is_some_and(|from| n >= from) {
                return Reply::Hang;
            }
        }
        // Request-level faults.
        match n {
            // Throttled, as their sample shows it: a code name, a non-2xx status.
            0 => {
                return Reply::json(
                    429,
                    json!({"status": {"code": "CONN_THROTTLED", "description": "Making too many requests",
                           "details": "exceeded limit of 15 requests per second"}}),
                );
            }
            1 => {
                return Reply::json(
                    429,
                    json!({"status": {"code": 11005, "description": "Making too many requests"}}),
                )
                .with_header("Retry-After", "1");
            }
            2 => return Reply::raw(200, "{\"status\": {\"code\": 10000, \"outp"),
            3 => return Reply::Hang,
            4 => {
                return Reply::json(
                    503,
                    json!({"status": {"code": 21354, "description": "Model is busy, please retry"}}),
                );
            }
            _ => {}
        }
        // Per-image results.
        let mut s = seen.lock().unwrap();
        let mut mixed = false;
        let outputs: Vec<Value> = images
            .iter()
            .map(|&i| {
                let status = match i {
                    5 => Some((30002, "Input failed: could not download")),
                    9 => Some((30106, "Invalid URL")),
                    // Busy for this image the first time it comes.
                    6 if s.busy_given.insert(6) => Some((10030, "Try again")),
                    _ => None,
                };
                if let Some((code, description)) = status {
                    mixed = true;
                    if code != 10030 {
                        *s.answered.entry(i).or_default() += 1;
                    }
                    return json!({"id": format!("o{i}"), "status": {"code": code, "description": description},
                                  "input": {"data": {"image": {"url": url(i)}}}, "data": {}});
                }
                *s.answered.entry(i).or_default() += 1;
                let concepts: Vec<Value> = clarifai_concepts(i)
                    .into_iter()
                    .map(|(name, value)| json!({"id": format!("ai_{name}"), "name": name, "value": value, "app_id": "main"}))
                    .collect();
                json!({"id": format!("o{i}"), "status": {"code": 10000, "description": "Ok"},
                       "created_at": "2025-02-28T09:41:55.568082659Z",
                       "model": {"id": "general-image-recognition", "app_id": "main", "user_id": "clarifai",
                                 "model_version": {"id": "aa7f35c01e0642fda5cf400f543e7c40"}},
                       "input": {"id": format!("in{i}"), "data": {"image": {"url": url(i)}}},
                       "data": {"concepts": concepts}})
            })
            .collect();
        let status = if mixed {
            json!({"code": 10010, "description": "Mixed Success"})
        } else {
            json!({"code": 10000, "description": "Ok", "req_id": "r"})
        };
        Reply::json(200, json!({"status": status, "outputs": outputs}))
    })
}

const FAST: &[&str] = &["--retry-wait", "0.05", "--timeout", "2"];

#[test]
fn clarifai_survives_throttling_and_faults_and_tags_every_image_once() {
    let fx = Fixture::new(20);
    let seen = Shared::default();
    let server = clarifai_server(seen.clone());
    let base = server.base();
    let mut args = vec!["--with", "clarifai", "--endpoint", &base, "--batch", "4"];
    args.extend_from_slice(FAST);

    // Dry run: no key needed, nothing sent.
    let out = fx.tag(&[&args[..], &["--dry-run"]].concat(), &[]);
    assert_ok(&out);
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("would send 5 requests with 20 images (20 as URLs, 0 as bytes)"),
        "{stdout}"
    );
    assert!(stdout.contains("see vendor pricing"), "{stdout}");
    assert_eq!(seen.lock().unwrap().requests, 0);

    let out = fx.tag(&args, &[("CLARIFAI_PAT", CLARIFAI_PAT)]);
    assert_some_failed(&out);
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("18 tagged (36 tags)"), "{stdout}");
    assert!(stdout.contains("2 failed (30002: 1, 30106: 1)"), "{stdout}");
    assert!(!stdout.contains(CLARIFAI_PAT) && !stderr.contains(CLARIFAI_PAT));

    {
        let s = seen.lock().unwrap();
        assert!(s.violations.is_empty(), "{:?}", s.violations);
        assert!(s.batch_sizes.iter().all(|&b| b <= 4), "{:?}", s.batch_sizes);
        for i in 0..20 {
            assert_eq!(
                s.answered.get(&i),
                Some(&1),
                "image {i} answered {:?} times",
                s.answered.get(&i)
            );
        }
    }

    let tags = fx.tags("label");
    for i in (0..20).filter(|i| ![5, 9].contains(i)) {
        let expected: BTreeMap<String, Option<f64>> = clarifai_concepts(i)
            .into_iter()
            .map(|(n, v)| (n, Some(v)))
            .collect();
        assert_eq!(tags.get(&i), Some(&expected), "image {i}");
    }
    assert!(!tags.contains_key(&5) && !tags.contains_key(&9));
    assert_eq!(
        fx.failures(),
        vec![
            (5, "30002".to_string(), false),
            (9, "30106".to_string(), false)
        ]
    );
    let source: String = fx
        .db()
        .query_row("SELECT DISTINCT source FROM tags", [], |r| r.get(0))
        .unwrap();
    assert_eq!(source, "clarifai:clarifai/main/general-image-recognition");
    let version: String = fx
        .db()
        .query_row(
            "SELECT DISTINCT model_version FROM tag_responses",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, "aa7f35c01e0642fda5cf400f543e7c40");

    // Run again: everything is done or failed for good; nothing is sent.
    let before = seen.lock().unwrap().requests;
    let out = fx.tag(&args, &[("CLARIFAI_PAT", CLARIFAI_PAT)]);
    assert_ok(&out);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("0 tagged"), "{stdout}");
    assert!(
        stdout.contains("18 skipped (already tagged), 2 skipped (failed before"),
        "{stdout}"
    );
    assert_eq!(seen.lock().unwrap().requests, before);
    fx.assert_secret_absent(CLARIFAI_PAT);
}

#[test]
fn clarifai_refused_key_stops_the_run_and_is_never_shown() {
    let fx = Fixture::new(3);
    let seen = Shared::default();
    let server = clarifai_server(seen.clone());
    let wrong = "pat-SECRET-wrong-000";
    let out = fx.tag(
        &["--with", "clarifai", "--endpoint", &server.base()],
        &[("CLARIFAI_PAT", wrong)],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("11008") && stderr.contains("CLARIFAI_PAT"),
        "{stderr}"
    );
    assert!(!stderr.contains(wrong) && !stdout.contains(wrong));
    assert_eq!(
        seen.lock().unwrap().requests,
        1,
        "a refused key is not retried"
    );
    assert_eq!(fx.responses(), 0);
    fx.assert_secret_absent(wrong);

    // No key at all: a clear message naming where to put one; nothing sent.
    let out = fx.tag(&["--with", "clarifai", "--endpoint", &server.base()], &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("CLARIFAI_PAT") && stderr.contains("keys.toml"),
        "{stderr}"
    );
    assert_eq!(seen.lock().unwrap().requests, 1);
}

#[test]
fn clarifai_key_from_the_config_file() {
    let fx = Fixture::new(2);
    let seen = Shared::default();
    let server = clarifai_server(seen.clone());
    // Request 0–4 carry faults; start the count past them.
    seen.lock().unwrap().requests = 5;
    let config = fx.home.join(".config/tagscape");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("keys.toml"),
        format!("clarifai_pat = \"{CLARIFAI_PAT}\"\n"),
    )
    .unwrap();
    let out = fx.tag(&["--with", "clarifai", "--endpoint", &server.base()], &[]);
    assert_ok(&out);
    assert!(text(&out).0.contains("2 tagged"), "{}", text(&out).0);

    // --force sends them again and replaces their tags rather than adding.
    let out = fx.tag(
        &[
            "--with",
            "clarifai",
            "--endpoint",
            &server.base(),
            "--force",
        ],
        &[],
    );
    assert_ok(&out);
    assert!(
        text(&out).0.contains("2 tagged (4 tags)"),
        "{}",
        text(&out).0
    );
    assert_eq!(seen.lock().unwrap().answered.get(&0), Some(&2));
    let rows: i64 = fx
        .db()
        .query_row("SELECT count(*) FROM tags", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 4);
    assert_eq!(fx.responses(), 2);
    fx.assert_secret_absent(CLARIFAI_PAT);
}

#[test]
fn killed_run_resumes_without_sending_any_answered_image_again() {
    let fx = Fixture::new(24);
    let seen = Shared::default();
    let server = clarifai_server(seen.clone());
    {
        let mut s = seen.lock().unwrap();
        s.requests = 5; // past the scripted faults
        s.hang_from = Some(5 + 2); // two answered requests, then silence
    }
    let base = server.base();
    let args = [
        "--with",
        "clarifai",
        "--endpoint",
        &base,
        "--batch",
        "4",
        "--concurrency",
        "1",
        "--timeout",
        "60",
    ];
    let mut child = fx
        .command(&args, &[("CLARIFAI_PAT", CLARIFAI_PAT)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let hanging = seen.lock().unwrap().requests >= 8;
        // Requests 5 and 6 answered images 0–7 (5 failed for good, 6 was
        // busy and waits for another request); request 7 hangs.
        if hanging && fx.responses() == 6 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run never reached the hanging request"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(fx.responses(), 6);

    seen.lock().unwrap().hang_from = None;
    let out = fx.tag(&args, &[("CLARIFAI_PAT", CLARIFAI_PAT)]);
    assert_some_failed(&out);
    let (stdout, _) = text(&out);
    // Before the kill: 0–4 and 7 tagged, 5 failed for good. Now: 6, 8 and
    // 10–23 tagged, 9 fails.
    assert!(
        stdout.contains("16 tagged")
            && stdout.contains("6 skipped (already tagged), 1 skipped (failed before")
            && stdout.contains("1 failed (30106: 1)"),
        "{stdout}"
    );
    let s = seen.lock().unwrap();
    assert!(s.violations.is_empty(), "{:?}", s.violations);
    for i in 0..24 {
        assert_eq!(s.answered.get(&i), Some(&1), "image {i}");
    }
    drop(s);
    fx.assert_secret_absent(CLARIFAI_PAT);
}

// ---------------------------------------------------------------- Google

fn google_result(i: usize) -> Value {
    json!({
        "labelAnnotations": [
            {"mid": format!("/m/{i}"), "description": format!("label{i}"), "score": 0.9, "topicality": 0.8},
            {"mid": "/m/common", "description": "Common", "score": 0.6, "topicality": 0.55}],
        "webDetection": {"webEntities": [
            {"entityId": "/g/x", "score": 1.4, "description": format!("Entity {i}")},
            {"entityId": "/g/y", "score": 0.3}]},
        "textAnnotations": [
            {"locale": "en", "description": format!("HELLO {i}")},
            {"description": "HELLO"}, {"description": format!("{i}")}]
    })
}

/// The features the mock expects, in tagscape's order.
const GOOGLE_FEATURES: &[&str] = &["LABEL_DETECTION", "WEB_DETECTION", "TEXT_DETECTION"];

fn google_server(seen: Shared, files: Vec<Vec<u8>>) -> VisionServer {
    VisionServer::start(move |req: &Request| {
        let n = {
            let mut s = seen.lock().unwrap();
            s.requests += 1;
            s.requests - 1
        };
        if req.method != "POST" || req.path() != "/v1/images:annotate" {
            return violation(&seen, format!("{} {}", req.method, req.target));
        }
        let by_key = req.query("key").as_deref() == Some(GOOGLE_KEY);
        let by_token = req.header("authorization") == Some(&format!("Bearer {GOOGLE_TOKEN}"))
            && req.header("x-goog-user-project") == Some("my-project");
        if !by_key && !by_token {
            return Reply::json(
                403,
                json!({"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}}),
            );
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return violation(&seen, "body is not JSON".into());
        };
        let Some(requests) = body["requests"].as_array() else {
            return violation(&seen, "no requests".into());
        };
        if requests.is_empty() || requests.len() > 16 {
            return violation(&seen, format!("{} images in one request", requests.len()));
        }
        let mut images = Vec::new();
        for r in requests {
            let features: Vec<&str> = r["features"]
                .as_array()
                .map(|f| f.iter().filter_map(|x| x["type"].as_str()).collect())
                .unwrap_or_default();
            if features != GOOGLE_FEATURES || r["features"][0]["maxResults"].as_u64() != Some(20) {
                return violation(&seen, format!("features {}", r["features"]));
            }
            let image = &r["image"];
            let i = if let Some(uri) = image["source"]["imageUri"].as_str() {
                number_of(uri)
            } else if let Some(content) = image["content"].as_str() {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(content)
                    .ok();
                bytes.and_then(|b| files.iter().position(|f| *f == b))
            } else {
                None
            };
            match i {
                Some(i) => images.push(i),
                None => return violation(&seen, format!("image {image}")),
            }
        }
        let mut s = seen.lock().unwrap();
        s.batch_sizes.push(images.len());
        for &i in &images {
            *s.received.entry(i).or_default() += 1;
            s.arrivals.entry(i).or_default().push(Instant::now());
        }
        match n {
            0 => {
                return Reply::json(429, json!({"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}))
                    .with_header("Retry-After", "1");
            }
            1 => {
                return Reply::json(
                    503,
                    json!({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}}),
                );
            }
            2 => return Reply::raw(200, "<html>proxy error</html>"),
            _ => {}
        }
        let responses: Vec<Value> = images
            .iter()
            .map(|&i| match i {
                7 => {
                    *s.answered.entry(i).or_default() += 1;
                    json!({"error": {"code": 3, "message": "Bad image data."}})
                }
                8 if s.busy_given.insert(8) => {
                    json!({"error": {"code": 14, "message": "Try again."}})
                }
                _ => {
                    *s.answered.entry(i).or_default() += 1;
                    google_result(i)
                }
            })
            .collect();
        Reply::json(200, json!({"responses": responses}))
    })
}

#[test]
fn google_batches_of_16_per_image_errors_and_tag_kinds() {
    let fx = Fixture::new(40);
    let seen = Shared::default();
    let server = google_server(seen.clone(), fx.files.clone());
    let base = server.base();
    let mut args = vec![
        "--with",
        "google",
        "--endpoint",
        &base,
        "--features",
        "label,web,text",
    ];
    args.extend_from_slice(FAST);

    let out = fx.tag(&[&args[..], &["--dry-run"]].concat(), &[]);
    assert_ok(&out);
    let (stdout, _) = text(&out);
    // 3 requests (16 + 16 + 8); 40 images × ($1.50 label + $3.50 web + $1.50 text) / 1000.
    assert!(
        stdout.contains("would send 3 requests with 40 images"),
        "{stdout}"
    );
    assert!(stdout.contains("about $0.26 "), "{stdout}");

    let out = fx.tag(&args, &[("GOOGLE_API_KEY", GOOGLE_KEY)]);
    assert_some_failed(&out);
    let (stdout, stderr) = text(&out);
    assert!(
        stdout.contains("39 tagged") && stdout.contains("1 failed (3: 1)"),
        "{stdout}"
    );
    assert!(!stderr.contains(GOOGLE_KEY) && !stdout.contains(GOOGLE_KEY));
    {
        let s = seen.lock().unwrap();
        assert!(s.violations.is_empty(), "{:?}", s.violations);
        assert_eq!(s.batch_sizes.iter().max(), Some(&16), "{:?}", s.batch_sizes);
        for i in 0..40 {
            assert_eq!(s.answered.get(&i), Some(&1), "image {i}");
        }
        // The images of the request answered 429 with `Retry-After: 1`
        // came back no sooner than a second later (the other faults wait
        // only --retry-wait 0.05).
        let honoured = (0..40).filter(|i| {
            let a = &s.arrivals[i];
            a.len() >= 2 && a[1] - a[0] >= Duration::from_millis(950)
        });
        assert!(honoured.count() >= 8, "no batch waited for Retry-After");
    }
    let labels = fx.tags("label");
    assert_eq!(labels.len(), 39);
    assert_eq!(
        labels[&12],
        BTreeMap::from([
            ("label12".to_string(), Some(0.9)),
            ("Common".to_string(), Some(0.6))
        ])
    );
    assert_eq!(
        fx.tags("web_entity")[&12],
        BTreeMap::from([("Entity 12".to_string(), None)])
    );
    assert_eq!(
        fx.tags("text")[&12].keys().collect::<Vec<_>>(),
        vec!["12", "HELLO"]
    );
    let topicality: f64 = fx
        .db()
        .query_row(
            "SELECT topicality FROM tags WHERE image_id = 13 AND tag = 'Common'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(topicality, 0.55);
    assert_eq!(fx.failures(), vec![(7, "3".to_string(), false)]);
    fx.assert_secret_absent(GOOGLE_KEY);
}

#[test]
fn google_with_an_access_token_and_bytes() {
    let fx = Fixture::new(5);
    let seen = Shared::default();
    let server = google_server(seen.clone(), fx.files.clone());
    seen.lock().unwrap().requests = 3; // past the scripted faults
    // One original has gone missing: it fails here, nothing is sent for it.
    std::fs::remove_file(fx.dir.join("originals/4.jpg")).unwrap();
    let base = server.base();
    let out = fx.tag(
        &[
            "--with",
            "google",
            "--endpoint",
            &base,
            "--features",
            "text,web,label",
            "--send",
            "bytes",
        ],
        &[
            ("GOOGLE_ACCESS_TOKEN", GOOGLE_TOKEN),
            ("GOOGLE_CLOUD_PROJECT", "my-project"),
        ],
    );
    assert_some_failed(&out);
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("4 tagged") && stdout.contains("1 failed (unreadable_image: 1)"),
        "{stdout}"
    );
    let s = seen.lock().unwrap();
    assert!(s.violations.is_empty(), "{:?}", s.violations);
    assert_eq!(s.batch_sizes, vec![4]);
    drop(s);
    assert_eq!(
        fx.failures(),
        vec![(4, "unreadable_image".to_string(), true)]
    );
    fx.assert_secret_absent(GOOGLE_TOKEN);
}

// ---------------------------------------------------------------- OpenAI-compatible

#[test]
fn openai_compatible_falls_back_parses_loosely_and_retries_truncation() {
    let fx = Fixture::new(6);
    let seen = Shared::default();
    let files = fx.files.clone();
    let max_tokens_seen: Arc<Mutex<Vec<(usize, u64)>>> = Arc::default();
    let tokens = max_tokens_seen.clone();
    let state = seen.clone();
    let server = VisionServer::start(move |req: &Request| {
        let seen = &state;
        seen.lock().unwrap().requests += 1;
        if req.method != "POST" || req.path() != "/v1/chat/completions" {
            return violation(seen, format!("{} {}", req.method, req.target));
        }
        if req.header("authorization") != Some(&format!("Bearer {OPENAI_KEY}")) {
            return Reply::json(401, json!({"error": {"message": "invalid api key"}}));
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return violation(seen, "body is not JSON".into());
        };
        // This server knows json_object only, as older ones do.
        if body["response_format"]["type"] == "json_schema" {
            return Reply::json(
                400,
                json!({"error": {"message": "response_format json_schema is not supported"}}),
            );
        }
        if body["model"] != "qwen2.5vl:7b" || body["messages"][0]["role"] != "system" {
            return violation(seen, format!("model/messages {body}"));
        }
        let parts = &body["messages"][1]["content"];
        let (Some("text"), Some(uri)) = (
            parts[0]["type"].as_str(),
            parts[1]["image_url"]["url"].as_str(),
        ) else {
            return violation(seen, format!("content {parts}"));
        };
        let Some(data) = uri.strip_prefix("data:image/jpeg;base64,") else {
            return violation(seen, "not a JPEG data URI".into());
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap_or_default();
        let Some(i) = files.iter().position(|f| *f == bytes) else {
            return violation(seen, "unknown image".into());
        };
        let max_tokens = body["max_tokens"].as_u64().unwrap_or(0);
        tokens.lock().unwrap().push((i, max_tokens));
        let mut s = seen.lock().unwrap();
        *s.received.entry(i).or_default() += 1;
        let (content, finish) = match i {
            0 => ("Here you go:\n```json\n{\"tags\": [{\"name\": \"Protest Sign\", \"confidence\": 0.9}]}\n```".to_string(), "stop"),
            1 if max_tokens <= 512 => ("{\"tags\": [{\"name\": \"cro".to_string(), "length"),
            2 => ("I cannot describe this image.".to_string(), "stop"),
            _ => (format!("{{\"tags\": [{{\"name\": \"thing{i}\", \"confidence\": 0.7}}, {{\"name\": \"shared\", \"confidence\": 0.4}}]}}"), "stop"),
        };
        if finish == "stop" {
            *s.answered.entry(i).or_default() += 1;
        }
        Reply::json(
            200,
            json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "qwen2.5vl:7b",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}),
        )
    });
    let base = format!("{}/v1", server.base());
    let mut args = vec![
        "--with",
        "openai",
        "--model",
        "qwen2.5vl:7b",
        "--endpoint",
        &base,
        "--concurrency",
        "1",
    ];
    args.extend_from_slice(FAST);
    let out = fx.tag(&args, &[("OPENAI_API_KEY", OPENAI_KEY)]);
    assert_some_failed(&out);
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("5 tagged") && stdout.contains("1 failed (unparseable_answer: 1)"),
        "{stdout}"
    );
    let s = seen.lock().unwrap();
    assert!(s.violations.is_empty(), "{:?}", s.violations);
    for i in 0..6 {
        assert_eq!(s.answered.get(&i), Some(&1), "image {i}");
    }
    drop(s);
    // Image 1 was cut off at 512 tokens and asked again with more.
    let tokens: Vec<u64> = max_tokens_seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(i, _)| *i == 1)
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(tokens, vec![512, 1024]);
    let tags = fx.tags("label");
    assert_eq!(
        tags[&0],
        BTreeMap::from([("protest sign".to_string(), Some(0.9))])
    );
    assert_eq!(
        tags[&4],
        BTreeMap::from([
            ("thing4".to_string(), Some(0.7)),
            ("shared".to_string(), Some(0.4))
        ])
    );
    assert_eq!(
        tags.keys().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([0, 1, 3, 4, 5])
    );
    assert_eq!(
        fx.failures(),
        vec![(2, "unparseable_answer".to_string(), true)]
    );
    fx.assert_secret_absent(OPENAI_KEY);
}
