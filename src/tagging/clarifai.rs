//! Clarifai v2 REST predict (FORMATS.md section d): up to 128 images per
//! request, concepts with values, status codes in the body.

use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

use super::http;
use super::keys::{ApiKey, how_to_set};
use super::send::Payload;
use super::tagger::{CallError, ImageOutcome, Prepared, Tag, Tagger, TaggerInfo};

pub const DEFAULT_ENDPOINT: &str = "https://api.clarifai.com";
/// The public General model, as `user/app/model`.
pub const DEFAULT_MODEL: &str = "clarifai/main/general-image-recognition";
pub const KEY_VARIABLE: &str = "CLARIFAI_PAT";
/// Inputs per request, documented limit.
const MAX_INPUTS: usize = 128;
/// Requests per second per account, all plans.
const DEFAULT_RATE: f64 = 15.0;

/// Which model, and what to ask of it.
#[derive(Clone, Debug)]
pub struct Settings {
    pub endpoint: String,
    pub model: ModelPath,
    pub max_concepts: u32,
    pub min_value: f64,
}

/// `users/{user}/apps/{app}/models/{model}[/versions/{version}]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelPath {
    pub user: String,
    pub app: String,
    pub model: String,
    pub version: Option<String>,
}

impl ModelPath {
    /// `MODEL` (a model of clarifai/main), `USER/APP/MODEL` or
    /// `USER/APP/MODEL/VERSION`.
    pub fn parse(text: &str) -> Result<ModelPath> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        let ok = |s: &&str| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if !parts.iter().all(ok) {
            bail!(
                "--model `{text}` is not a Clarifai model: give MODEL, USER/APP/MODEL or USER/APP/MODEL/VERSION, e.g. {DEFAULT_MODEL}"
            );
        }
        let own = |s: &str| s.to_string();
        Ok(match parts.as_slice() {
            [model] => ModelPath {
                user: "clarifai".into(),
                app: "main".into(),
                model: own(model),
                version: None,
            },
            [user, app, model] => ModelPath {
                user: own(user),
                app: own(app),
                model: own(model),
                version: None,
            },
            [user, app, model, version] => ModelPath {
                user: own(user),
                app: own(app),
                model: own(model),
                version: Some(own(version)),
            },
            _ => bail!(
                "--model `{text}` is not a Clarifai model: give MODEL, USER/APP/MODEL or USER/APP/MODEL/VERSION, e.g. {DEFAULT_MODEL}"
            ),
        })
    }

    /// `user/app/model[/version]`: the model key results are filed under.
    pub fn key(&self) -> String {
        let mut key = format!("{}/{}/{}", self.user, self.app, self.model);
        if let Some(v) = &self.version {
            key.push('/');
            key.push_str(v);
        }
        key
    }

    fn url_path(&self) -> String {
        let mut path = format!(
            "/v2/users/{}/apps/{}/models/{}",
            self.user, self.app, self.model
        );
        if let Some(v) = &self.version {
            path.push_str("/versions/");
            path.push_str(v);
        }
        path.push_str("/outputs");
        path
    }
}

pub fn info(settings: &Settings) -> TaggerInfo {
    TaggerInfo {
        backend: "clarifai",
        model: settings.model.key(),
        max_batch: MAX_INPUTS,
        max_request_bytes: None,
        fetches_urls: true,
        default_rate: Some(DEFAULT_RATE),
    }
}

pub struct Clarifai {
    info: TaggerInfo,
    settings: Settings,
    key: ApiKey,
    client: reqwest::Client,
    url: String,
}

impl Clarifai {
    pub fn new(settings: Settings, key: ApiKey) -> Result<Clarifai> {
        let url = format!(
            "{}{}",
            settings.endpoint.trim_end_matches('/'),
            settings.model.url_path()
        );
        Ok(Clarifai {
            info: info(&settings),
            settings,
            key,
            client: http::client()?,
            url,
        })
    }

    fn body(&self, images: &[Prepared]) -> Value {
        let inputs: Vec<Value> = images
            .iter()
            .map(|p| match &p.payload {
                Payload::Url(url) => json!({"data": {"image": {"url": url}}}),
                bytes => json!({"data": {"image": {"base64": bytes.base64()}}}),
            })
            .collect();
        json!({
            "inputs": inputs,
            "model": {"output_info": {"output_config": {
                "max_concepts": self.settings.max_concepts,
                "min_value": self.settings.min_value,
            }}}
        })
    }

    fn key_refused(&self, code: i64, description: &str) -> CallError {
        CallError::Fatal(anyhow!(
            "Clarifai refused the key ({code} {description}): {} with a valid personal access token (clarifai.com → Settings → Secrets)",
            how_to_set(KEY_VARIABLE)
        ))
    }
}

impl Tagger for Clarifai {
    fn info(&self) -> &TaggerInfo {
        &self.info
    }

    fn redact(&self, text: &str) -> String {
        self.key.redact(text)
    }

    async fn tag(&self, images: &[Prepared]) -> Result<Vec<ImageOutcome>, CallError> {
        let request = self
            .client
            .post(&self.url)
            .header("Authorization", format!("Key {}", self.key.expose()))
            .json(&self.body(images));
        let answer = http::send(request).await?;
        let body: Option<Value> = serde_json::from_slice(&answer.body).ok();
        let status = answer.status;
        let Some(body) = body.filter(|b| b.get("status").is_some()) else {
            return Err(match status.as_u16() {
                401 | 403 => self.key_refused(i64::from(status.as_u16()), "HTTP status"),
                s if http::is_transient(status) => CallError::Retry {
                    code: format!("http_{s}"),
                    message: answer.body_excerpt(),
                    after: answer.retry_after,
                },
                s if status.is_success() => CallError::Retry {
                    code: "malformed_response".into(),
                    message: format!(
                        "not a Clarifai answer (HTTP {s}): {}",
                        answer.body_excerpt()
                    ),
                    after: None,
                },
                s => CallError::Rejected {
                    code: format!("http_{s}"),
                    message: answer.body_excerpt(),
                },
            });
        };
        let (code, description) = status_of(&body["status"]);
        match code {
            // Throttled, busy, queue full, try again.
            11005 | 10030 | 21354 | 40030 => {
                return Err(CallError::Retry {
                    code: code.to_string(),
                    message: description,
                    after: answer.retry_after,
                });
            }
            11003 | 11004 | 11006 => {
                return Err(CallError::Fatal(anyhow!(
                    "Clarifai says the account is over its limits ({code} {description}): run again later or raise the plan's limits"
                )));
            }
            11000..=11009 => return Err(self.key_refused(code, &description)),
            21200 | 21201 | 11100 | 11101 => {
                return Err(CallError::Fatal(anyhow!(
                    "Clarifai refused the request for model {} ({code} {description}): check --model (e.g. {DEFAULT_MODEL}) and --endpoint",
                    self.info.model
                )));
            }
            _ => {}
        }
        let outputs = body["outputs"].as_array();
        match outputs {
            Some(outputs) if outputs.len() == images.len() => {
                Ok(outputs.iter().map(|o| self.output(o)).collect())
            }
            _ if code == 10000 || code == 10010 => Err(CallError::Retry {
                code: "malformed_response".into(),
                message: format!(
                    "Clarifai answered {code} with {} outputs for {} inputs",
                    outputs.map_or(0, Vec::len),
                    images.len()
                ),
                after: None,
            }),
            _ if http::is_transient(status) || code == 10020 && status.is_server_error() => {
                Err(CallError::Retry {
                    code: code.to_string(),
                    message: description,
                    after: answer.retry_after,
                })
            }
            _ => Err(CallError::Rejected {
                code: code.to_string(),
                message: description,
            }),
        }
    }
}

impl Clarifai {
    /// One entry of `outputs`: its own status decides.
    fn output(&self, output: &Value) -> ImageOutcome {
        let (code, description) = status_of(&output["status"]);
        match code {
            10000 => {
                let tags = output["data"]["concepts"]
                    .as_array()
                    .map(|concepts| {
                        concepts
                            .iter()
                            .filter_map(|c| {
                                let name = c["name"].as_str()?;
                                let value = c["value"].as_f64().filter(|v| (0.0..=1.0).contains(v));
                                Some(Tag::label(name, value))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                ImageOutcome::Tagged {
                    tags,
                    response: output.clone(),
                    model_version: output["model"]["model_version"]["id"]
                        .as_str()
                        .map(str::to_string),
                }
            }
            11005 | 10030 | 21354 | 40030 => ImageOutcome::Retry {
                code: code.to_string(),
                message: description,
            },
            // The vendor could not reach the image: it may work later.
            39996 => ImageOutcome::Failed {
                code: code.to_string(),
                message: description,
                transient: true,
            },
            // 30002 input failed, 30101 format, 30105 size, 30106 URL, and the rest.
            _ => ImageOutcome::Failed {
                code: code.to_string(),
                message: description,
                transient: false,
            },
        }
    }
}

/// `status.code` (a number, a numeric string or a code name) and a
/// description joining `description` and `details`.
fn status_of(status: &Value) -> (i64, String) {
    let code = match &status["code"] {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or_else(|_| code_by_name(s)),
        _ => 0,
    };
    let mut description = status["description"].as_str().unwrap_or("").to_string();
    if let Some(details) = status["details"].as_str().filter(|d| !d.is_empty()) {
        if !description.is_empty() {
            description.push_str(": ");
        }
        description.push_str(details);
    }
    (code, description)
}

/// The codes the documentation names (their throttling sample sends the name).
fn code_by_name(name: &str) -> i64 {
    match name {
        "SUCCESS" => 10000,
        "MIXED_STATUS" => 10010,
        "FAILURE" => 10020,
        "TRY_AGAIN" => 10030,
        "CONN_THROTTLED" => 11005,
        "MODEL_DOES_NOT_EXIST" => 21200,
        "MODEL_BUSY_PLEASE_RETRY" => 21354,
        "INPUT_FAILED" => 30002,
        "INPUT_CONNECTION_FAILED" => 39996,
        "RPC_REQUEST_QUEUE_FULL" => 40030,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_paths() {
        let m = ModelPath::parse("general-image-recognition").unwrap();
        assert_eq!(m.key(), DEFAULT_MODEL);
        assert_eq!(
            m.url_path(),
            "/v2/users/clarifai/apps/main/models/general-image-recognition/outputs"
        );
        let v = ModelPath::parse(
            "clarifai/main/general-image-recognition/aa7f35c01e0642fda5cf400f543e7c40",
        )
        .unwrap();
        assert_eq!(
            v.url_path(),
            "/v2/users/clarifai/apps/main/models/general-image-recognition/versions/aa7f35c01e0642fda5cf400f543e7c40/outputs"
        );
        assert!(ModelPath::parse("a/b").is_err());
        assert!(ModelPath::parse("a/../b/c").is_err());
    }

    #[test]
    fn status_codes_by_number_or_name() {
        assert_eq!(
            status_of(&json!({"code": 10000, "description": "Ok"})).0,
            10000
        );
        let (code, text) = status_of(&json!({
            "code": "CONN_THROTTLED",
            "description": "Making too many requests",
            "details": "exceeded limit of 15 requests per second"
        }));
        assert_eq!(code, 11005);
        assert_eq!(
            text,
            "Making too many requests: exceeded limit of 15 requests per second"
        );
    }
}
