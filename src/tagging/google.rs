//! Google Cloud Vision `images:annotate` (FORMATS.md section e): up to 16
//! images per request, labels with score and topicality; web entities,
//! text and SafeSearch as other tag kinds; per-image errors inside HTTP 200.

use std::collections::HashSet;

use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

use super::http;
use super::keys::ApiKey;
use super::send::Payload;
use super::tagger::{CallError, ImageOutcome, Prepared, Tag, TagKind, Tagger, TaggerInfo};

pub const DEFAULT_ENDPOINT: &str = "https://vision.googleapis.com";
pub const KEY_VARIABLE: &str = "GOOGLE_API_KEY";
/// `gcloud auth print-access-token` output, sent as a bearer token.
pub const TOKEN_VARIABLE: &str = "GOOGLE_ACCESS_TOKEN";
/// The project billed when a bearer token is used (`x-goog-user-project`).
pub const PROJECT_VARIABLE: &str = "GOOGLE_CLOUD_PROJECT";
/// Google's name for the model used when a request names none.
const DEFAULT_MODEL: &str = "builtin/stable";
const MAX_IMAGES: usize = 16;
/// The JSON body limit is 10 MB; keep a margin for the JSON around the images.
const MAX_REQUEST_BYTES: u64 = 9_500_000;
/// 1,800 requests per minute, the default quota.
const DEFAULT_RATE: f64 = 30.0;

/// A Vision feature `tagscape` asks for (`--features`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Feature {
    Label,
    Web,
    Text,
    Safe,
}

impl Feature {
    pub fn parse_list(text: &str) -> Result<Vec<Feature>> {
        let mut features = Vec::new();
        for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let feature = match name.to_ascii_lowercase().as_str() {
                "label" | "labels" => Feature::Label,
                "web" => Feature::Web,
                "text" => Feature::Text,
                "safe" | "safesearch" | "safe_search" => Feature::Safe,
                _ => bail!(
                    "--features: `{name}` is not a feature: choose from label, web, text, safe (e.g. --features label,web)"
                ),
            };
            if !features.contains(&feature) {
                features.push(feature);
            }
        }
        if features.is_empty() {
            bail!("--features is empty: give at least one of label, web, text, safe");
        }
        features.sort();
        Ok(features)
    }

    pub fn name(self) -> &'static str {
        match self {
            Feature::Label => "label",
            Feature::Web => "web",
            Feature::Text => "text",
            Feature::Safe => "safe",
        }
    }

    fn api_type(self) -> &'static str {
        match self {
            Feature::Label => "LABEL_DETECTION",
            Feature::Web => "WEB_DETECTION",
            Feature::Text => "TEXT_DETECTION",
            Feature::Safe => "SAFE_SEARCH_DETECTION",
        }
    }
}

/// How requests are authorised.
#[derive(Clone, Debug)]
pub enum Auth {
    /// `?key=` on the URL.
    ApiKey(ApiKey),
    /// `Authorization: Bearer`, billed to `project` when given.
    Token {
        token: ApiKey,
        project: Option<String>,
    },
}

impl Auth {
    fn secret(&self) -> &ApiKey {
        match self {
            Auth::ApiKey(k) => k,
            Auth::Token { token, .. } => token,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub endpoint: String,
    /// `builtin/stable` or `builtin/latest`; `None` lets Google choose (stable).
    pub model: Option<String>,
    pub features: Vec<Feature>,
    /// `maxResults` for labels and web entities.
    pub max_results: u32,
    /// Labels scored below are dropped (Google's own threshold applies first).
    pub min_score: Option<f64>,
}

pub fn info(settings: &Settings) -> TaggerInfo {
    let features: Vec<&str> = settings.features.iter().map(|f| f.name()).collect();
    TaggerInfo {
        backend: "google",
        // The features change the answer, so they are part of the key.
        model: format!(
            "{}[{}]",
            settings.model.as_deref().unwrap_or(DEFAULT_MODEL),
            features.join(",")
        ),
        max_batch: MAX_IMAGES,
        max_request_bytes: Some(MAX_REQUEST_BYTES),
        fetches_urls: true,
        default_rate: Some(DEFAULT_RATE),
    }
}

pub struct Google {
    info: TaggerInfo,
    settings: Settings,
    auth: Auth,
    client: reqwest::Client,
    url: url::Url,
}

impl Google {
    pub fn new(settings: Settings, auth: Auth) -> Result<Google> {
        let address = format!(
            "{}/v1/images:annotate",
            settings.endpoint.trim_end_matches('/')
        );
        let url = url::Url::parse(&address).map_err(|e| {
            anyhow!(
                "--endpoint {}: {e}: give a URL such as {DEFAULT_ENDPOINT}",
                settings.endpoint
            )
        })?;
        Ok(Google {
            info: info(&settings),
            settings,
            auth,
            client: http::client()?,
            url,
        })
    }

    fn body(&self, images: &[Prepared]) -> Value {
        let features: Vec<Value> = self
            .settings
            .features
            .iter()
            .map(|f| {
                let mut feature = json!({"type": f.api_type()});
                if matches!(f, Feature::Label | Feature::Web) {
                    feature["maxResults"] = json!(self.settings.max_results);
                }
                if let Some(model) = &self.settings.model {
                    feature["model"] = json!(model);
                }
                feature
            })
            .collect();
        let requests: Vec<Value> = images
            .iter()
            .map(|p| {
                let image = match &p.payload {
                    Payload::Url(url) => json!({"source": {"imageUri": url}}),
                    bytes => json!({"content": bytes.base64()}),
                };
                json!({"image": image, "features": features})
            })
            .collect();
        json!({ "requests": requests })
    }

    /// One entry of `responses`.
    fn response(&self, response: &Value) -> ImageOutcome {
        if let Some(error) = response.get("error") {
            let code = error["code"].as_i64().unwrap_or(0);
            let message = error["message"].as_str().unwrap_or("").to_string();
            // google.rpc.Code: 4 DEADLINE_EXCEEDED, 8 RESOURCE_EXHAUSTED,
            // 13 INTERNAL, 14 UNAVAILABLE are worth another try.
            return if matches!(code, 4 | 8 | 13 | 14) {
                ImageOutcome::Retry {
                    code: code.to_string(),
                    message,
                }
            } else {
                ImageOutcome::Failed {
                    code: code.to_string(),
                    message,
                    transient: false,
                }
            };
        }
        let mut tags = Vec::new();
        for label in response["labelAnnotations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(name) = label["description"].as_str() else {
                continue;
            };
            let score = label["score"].as_f64().filter(|s| (0.0..=1.0).contains(s));
            if let (Some(min), Some(s)) = (self.settings.min_score, score)
                && s < min
            {
                continue;
            }
            tags.push(Tag {
                name: name.to_string(),
                confidence: score,
                topicality: label["topicality"].as_f64(),
                kind: TagKind::Label,
            });
        }
        // Web entity scores are not on a 0–1 scale (they are kept in the
        // stored answer); many entities have no description.
        for entity in response["webDetection"]["webEntities"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(name) = entity["description"]
                .as_str()
                .filter(|d| !d.trim().is_empty())
            {
                tags.push(Tag {
                    name: name.to_string(),
                    confidence: None,
                    topicality: None,
                    kind: TagKind::WebEntity,
                });
            }
        }
        // textAnnotations[0] is the whole text; the rest are its words.
        let mut words = HashSet::new();
        for word in response["textAnnotations"]
            .as_array()
            .into_iter()
            .flatten()
            .skip(1)
        {
            let Some(text) = word["description"].as_str() else {
                continue;
            };
            let text = text.trim();
            if text.chars().any(char::is_alphanumeric) && words.insert(text.to_lowercase()) {
                tags.push(Tag {
                    name: text.to_string(),
                    confidence: None,
                    topicality: None,
                    kind: TagKind::Text,
                });
            }
        }
        if let Some(safe) = response["safeSearchAnnotation"].as_object() {
            for category in ["adult", "spoof", "medical", "violence", "racy"] {
                if let Some(likelihood) = safe
                    .get(category)
                    .and_then(Value::as_str)
                    .and_then(likelihood_score)
                {
                    tags.push(Tag {
                        name: category.to_string(),
                        confidence: Some(likelihood),
                        topicality: None,
                        kind: TagKind::SafeSearch,
                    });
                }
            }
        }
        ImageOutcome::Tagged {
            tags,
            response: response.clone(),
            model_version: None,
        }
    }
}

/// SafeSearch likelihoods on a 0–1 scale (evenly spaced; UNKNOWN is dropped).
fn likelihood_score(likelihood: &str) -> Option<f64> {
    Some(match likelihood {
        "VERY_UNLIKELY" => 0.0,
        "UNLIKELY" => 0.25,
        "POSSIBLE" => 0.5,
        "LIKELY" => 0.75,
        "VERY_LIKELY" => 1.0,
        _ => return None,
    })
}

impl Tagger for Google {
    fn info(&self) -> &TaggerInfo {
        &self.info
    }

    fn redact(&self, text: &str) -> String {
        self.auth.secret().redact(text)
    }

    async fn tag(&self, images: &[Prepared]) -> Result<Vec<ImageOutcome>, CallError> {
        let mut url = self.url.clone();
        if let Auth::ApiKey(key) = &self.auth {
            url.query_pairs_mut().append_pair("key", key.expose());
        }
        let mut request = self
            .client
            .post(url)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(self.body(images).to_string());
        request = match &self.auth {
            Auth::ApiKey(_) => request,
            Auth::Token { token, project } => {
                let request = request.bearer_auth(token.expose());
                match project {
                    Some(p) => request.header("x-goog-user-project", p),
                    None => request,
                }
            }
        };
        let answer = http::send(request).await?;
        let body: Option<Value> = serde_json::from_slice(&answer.body).ok();
        let status = answer.status;
        if status.is_success() {
            return match body.as_ref().and_then(|b| b["responses"].as_array()) {
                Some(responses) if responses.len() == images.len() => {
                    Ok(responses.iter().map(|r| self.response(r)).collect())
                }
                _ => Err(CallError::Retry {
                    code: "malformed_response".into(),
                    message: format!(
                        "not an images:annotate answer for {} images: {}",
                        images.len(),
                        answer.body_excerpt()
                    ),
                    after: None,
                }),
            };
        }
        let error = body.as_ref().map(|b| &b["error"]);
        let status_name = error
            .and_then(|e| e["status"].as_str())
            .unwrap_or("")
            .to_string();
        let message = error
            .and_then(|e| e["message"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| answer.body_excerpt());
        let code = if status_name.is_empty() {
            format!("http_{}", status.as_u16())
        } else {
            status_name.clone()
        };
        match status.as_u16() {
            401 | 403 => Err(CallError::Fatal(anyhow!(
                "Google refused the credentials (HTTP {} {status_name}: {message}): check {KEY_VARIABLE} or {TOKEN_VARIABLE}, and that the Cloud Vision API is enabled for the project",
                status.as_u16()
            ))),
            404 => Err(CallError::Fatal(anyhow!(
                "{} has no images:annotate (HTTP 404): check --endpoint",
                self.settings.endpoint
            ))),
            _ if http::is_transient(status) || status_name == "RESOURCE_EXHAUSTED" => {
                Err(CallError::Retry {
                    code,
                    message,
                    after: answer.retry_after,
                })
            }
            _ => Err(CallError::Rejected { code, message }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google(features: &str) -> Google {
        Google::new(
            Settings {
                endpoint: DEFAULT_ENDPOINT.into(),
                model: None,
                features: Feature::parse_list(features).unwrap(),
                max_results: 20,
                min_score: Some(0.5),
            },
            Auth::ApiKey(ApiKey::new("k")),
        )
        .unwrap()
    }

    #[test]
    fn features_parse_sorted_and_deduplicated() {
        let f = Feature::parse_list("web, label,web").unwrap();
        assert_eq!(f, vec![Feature::Label, Feature::Web]);
        assert!(Feature::parse_list("faces").is_err());
        assert_eq!(
            info(&google("text,label").settings).model,
            "builtin/stable[label,text]"
        );
    }

    #[test]
    fn every_kind_is_read_from_a_response() {
        let g = google("label,web,text,safe");
        let response = json!({
            "labelAnnotations": [
                {"mid": "/m/01dk8s", "description": "powdered sugar", "score": 0.94, "topicality": 0.93},
                {"mid": "/m/x", "description": "faint", "score": 0.3, "topicality": 0.3}],
            "webDetection": {"webEntities": [
                {"entityId": "/m/1", "score": 1.7, "description": "Beignet"},
                {"entityId": "/m/2", "score": 0.2}]},
            "textAnnotations": [
                {"description": "NOT AMUSED\nnot amused"},
                {"description": "NOT"}, {"description": "AMUSED"}, {"description": "not"},
                {"description": "!!"}],
            "safeSearchAnnotation": {"adult": "VERY_UNLIKELY", "racy": "POSSIBLE", "spoof": "UNKNOWN"}
        });
        let ImageOutcome::Tagged { tags, .. } = g.response(&response) else {
            panic!("expected tags");
        };
        let seen: Vec<(&str, TagKind, Option<f64>)> = tags
            .iter()
            .map(|t| (t.name.as_str(), t.kind, t.confidence))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("powdered sugar", TagKind::Label, Some(0.94)),
                ("Beignet", TagKind::WebEntity, None),
                ("NOT", TagKind::Text, None),
                ("AMUSED", TagKind::Text, None),
                ("adult", TagKind::SafeSearch, Some(0.0)),
                ("racy", TagKind::SafeSearch, Some(0.5)),
            ]
        );
        assert_eq!(tags[0].topicality, Some(0.93));
    }

    #[test]
    fn per_image_errors() {
        let g = google("label");
        let bad = g.response(&json!({"error": {"code": 3, "message": "Bad image data."}}));
        assert!(
            matches!(bad, ImageOutcome::Failed { ref code, transient: false, .. } if code == "3")
        );
        let busy = g.response(&json!({"error": {"code": 14, "message": "unavailable"}}));
        assert!(matches!(busy, ImageOutcome::Retry { .. }));
    }
}
