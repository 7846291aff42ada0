//! OpenAI-compatible vision chat completions (FORMATS.md section f): one
//! image per request as a base64 data URI (Ollama accepts nothing else),
//! asking for a JSON list of tags with confidences. Works with Ollama, vLLM
//! and LM Studio.
//!
//! Servers differ in what they accept, so the request degrades on a 400:
//! `response_format` with a JSON schema, then `json_object` with the schema
//! spelled out in the prompt, then the prompt alone. Answers are parsed
//! defensively (code fences, text around the JSON). An answer cut short
//! (`finish_reason: length`) is asked again with more tokens.

use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

use super::http;
use super::keys::{ApiKey, how_to_set};
use super::tagger::{CallError, ImageOutcome, Prepared, Tag, Tagger, TaggerInfo};

/// Ollama's OpenAI-compatible base.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:11434/v1";
/// Optional: Ollama ignores it, vLLM checks it when started with `--api-key`.
pub const KEY_VARIABLE: &str = "OPENAI_API_KEY";
const FIRST_MAX_TOKENS: u32 = 512;
const MOST_MAX_TOKENS: u32 = 4096;

const SYSTEM_PROMPT: &str =
    "You tag images for a research image-tag network. Answer only with JSON.";

#[derive(Clone, Debug)]
pub struct Settings {
    /// The base URL up to `/v1` (as the OpenAI SDKs take it); a URL ending
    /// in `/chat/completions` is used as it is.
    pub endpoint: String,
    pub model: String,
    pub max_tags: u32,
    /// Tags the model rates below this are dropped.
    pub min_confidence: Option<f64>,
}

pub fn info(settings: &Settings) -> TaggerInfo {
    TaggerInfo {
        backend: "openai",
        model: settings.model.clone(),
        max_batch: 1,
        max_request_bytes: None,
        fetches_urls: false,
        default_rate: None,
    }
}

/// The `response_format` the server is sent, weakest last.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Format {
    JsonSchema = 0,
    JsonObject = 1,
    PromptOnly = 2,
}

pub struct OpenAi {
    info: TaggerInfo,
    settings: Settings,
    key: Option<ApiKey>,
    client: reqwest::Client,
    url: String,
    /// Shared by all requests: once a server refuses a format, it is not sent again.
    format: AtomicU8,
    max_tokens: AtomicU32,
}

impl OpenAi {
    pub fn new(settings: Settings, key: Option<ApiKey>) -> Result<OpenAi> {
        if settings.model.trim().is_empty() {
            bail!("--model is required with --with openai: e.g. --model qwen2.5vl:7b");
        }
        let url = completions_url(&settings.endpoint)?;
        Ok(OpenAi {
            info: info(&settings),
            settings,
            key,
            client: http::client()?,
            url,
            format: AtomicU8::new(Format::JsonSchema as u8),
            max_tokens: AtomicU32::new(FIRST_MAX_TOKENS),
        })
    }

    fn format(&self) -> Format {
        match self.format.load(Ordering::Relaxed) {
            0 => Format::JsonSchema,
            1 => Format::JsonObject,
            _ => Format::PromptOnly,
        }
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object", "additionalProperties": false, "required": ["tags"],
            "properties": {"tags": {"type": "array", "maxItems": self.settings.max_tags, "items": {
                "type": "object", "additionalProperties": false, "required": ["name", "confidence"],
                "properties": {"name": {"type": "string"},
                               "confidence": {"type": "number", "minimum": 0, "maximum": 1}}}}}
        })
    }

    fn body(&self, image_uri: &str, format: Format) -> Value {
        let mut prompt = format!(
            "List up to {} short lowercase English tags (objects, scene, style, mood) for this image, each with a confidence between 0 and 1.",
            self.settings.max_tags
        );
        if format != Format::JsonSchema {
            prompt.push_str(
                " Answer with one JSON object of this form and nothing else: {\"tags\": [{\"name\": \"crowd\", \"confidence\": 0.92}]}",
            );
        }
        let mut body = json!({
            "model": self.settings.model,
            "temperature": 0,
            "max_tokens": self.max_tokens.load(Ordering::Relaxed),
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": [
                    {"type": "text", "text": prompt},
                    {"type": "image_url", "image_url": {"url": image_uri}}
                ]}
            ]
        });
        match format {
            Format::JsonSchema => {
                body["response_format"] = json!({"type": "json_schema", "json_schema": {
                    "name": "image_tags", "strict": true, "schema": self.schema()}});
            }
            Format::JsonObject => body["response_format"] = json!({"type": "json_object"}),
            Format::PromptOnly => {}
        }
        body
    }
}

/// `{base}/chat/completions`, the base being what the OpenAI SDKs take
/// (`http://localhost:11434/v1`); a bare host gets `/v1` added.
fn completions_url(endpoint: &str) -> Result<String> {
    let parsed = url::Url::parse(endpoint).map_err(|e| {
        anyhow!("--endpoint {endpoint}: {e}: give the server's base URL, e.g. {DEFAULT_ENDPOINT}")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("--endpoint {endpoint} is not an http(s) URL: give e.g. {DEFAULT_ENDPOINT}");
    }
    let trimmed = endpoint.trim_end_matches('/');
    Ok(if trimmed.ends_with("/chat/completions") {
        trimmed.to_string()
    } else if parsed.path().trim_matches('/').is_empty() {
        format!("{trimmed}/v1/chat/completions")
    } else {
        format!("{trimmed}/chat/completions")
    })
}

impl Tagger for OpenAi {
    fn info(&self) -> &TaggerInfo {
        &self.info
    }

    fn redact(&self, text: &str) -> String {
        match &self.key {
            Some(k) => k.redact(text),
            None => text.to_string(),
        }
    }

    async fn tag(&self, images: &[Prepared]) -> Result<Vec<ImageOutcome>, CallError> {
        let mut outcomes = Vec::with_capacity(images.len());
        for image in images {
            outcomes.push(self.tag_one(image).await?);
        }
        Ok(outcomes)
    }
}

impl OpenAi {
    async fn tag_one(&self, image: &Prepared) -> Result<ImageOutcome, CallError> {
        let format = self.format();
        let mut request = self
            .client
            .post(&self.url)
            .json(&self.body(&image.payload.uri(), format));
        if let Some(key) = &self.key {
            request = request.bearer_auth(key.expose());
        }
        let answer = http::send(request).await?;
        let status = answer.status;
        if status.as_u16() == 400 && format != Format::PromptOnly {
            // Most likely the structured-output request itself: step down.
            let next = format as u8 + 1;
            self.format.fetch_max(next, Ordering::Relaxed);
            tracing::info!(
                "{} refused response_format {:?} (HTTP 400: {}); trying a weaker form",
                self.url,
                format,
                answer.body_excerpt()
            );
            return Err(CallError::Retry {
                code: "format_refused".into(),
                message: answer.body_excerpt(),
                after: Some(std::time::Duration::ZERO),
            });
        }
        if !status.is_success() {
            return Err(match status.as_u16() {
                401 | 403 => CallError::Fatal(anyhow!(
                    "{} refused the key (HTTP {}): {}",
                    self.url,
                    status.as_u16(),
                    how_to_set(KEY_VARIABLE)
                )),
                404 => CallError::Fatal(anyhow!(
                    "{} answered 404 ({}): check --endpoint (the base URL up to /v1) and that model `{}` is available (e.g. `ollama pull {}`)",
                    self.url,
                    answer.body_excerpt(),
                    self.settings.model,
                    self.settings.model
                )),
                s if http::is_transient(status) => CallError::Retry {
                    code: format!("http_{s}"),
                    message: answer.body_excerpt(),
                    after: answer.retry_after,
                },
                s => CallError::Rejected {
                    code: format!("http_{s}"),
                    message: answer.body_excerpt(),
                },
            });
        }
        let Ok(body) = serde_json::from_slice::<Value>(&answer.body) else {
            return Err(CallError::Retry {
                code: "malformed_response".into(),
                message: format!("not JSON: {}", answer.body_excerpt()),
                after: None,
            });
        };
        let choice = &body["choices"][0];
        if choice["finish_reason"].as_str() == Some("length") {
            let tokens = self.max_tokens.load(Ordering::Relaxed);
            if tokens >= MOST_MAX_TOKENS {
                return Ok(ImageOutcome::Failed {
                    code: "truncated".into(),
                    message: format!("the answer was cut off even with max_tokens {tokens}"),
                    transient: true,
                });
            }
            self.max_tokens
                .fetch_max((tokens * 2).min(MOST_MAX_TOKENS), Ordering::Relaxed);
            return Ok(ImageOutcome::Retry {
                code: "truncated".into(),
                message: format!("the answer was cut off at max_tokens {tokens}"),
            });
        }
        let Some(content) = choice["message"]["content"].as_str() else {
            return Err(CallError::Retry {
                code: "malformed_response".into(),
                message: format!(
                    "no choices[0].message.content in the answer: {}",
                    answer.body_excerpt()
                ),
                after: None,
            });
        };
        let Some(mut tags) = parse_tags(content) else {
            return Ok(ImageOutcome::Failed {
                code: "unparseable_answer".into(),
                message: format!("the model's answer holds no tag list: {}", excerpt(content)),
                transient: true,
            });
        };
        if let Some(min) = self.settings.min_confidence {
            tags.retain(|t| t.confidence.is_none_or(|c| c >= min));
        }
        tags.truncate(self.settings.max_tags as usize);
        Ok(ImageOutcome::Tagged {
            tags,
            model_version: body["model"].as_str().map(str::to_string),
            response: body,
        })
    }
}

fn excerpt(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The tags in a model's answer: `{"tags": [...]}` or a bare list, whose
/// items are `{"name", "confidence"}` objects (also `tag`/`label`, `score`)
/// or plain strings; wrapped in code fences or text or not. Names are
/// trimmed and lowercased, duplicates dropped; confidences outside 0–1 are
/// dropped (the tag is kept). `None` when there is no list at all.
pub fn parse_tags(content: &str) -> Option<Vec<Tag>> {
    let value = first_json_value(content)?;
    let list = match &value {
        Value::Array(items) => items,
        Value::Object(map) => map
            .get("tags")
            .or_else(|| map.get("labels"))
            .and_then(Value::as_array)?,
        _ => return None,
    };
    let mut tags: Vec<Tag> = Vec::new();
    for item in list {
        let (name, confidence) = match item {
            Value::String(s) => (s.as_str(), None),
            Value::Object(o) => {
                let Some(name) = ["name", "tag", "label"]
                    .iter()
                    .find_map(|k| o.get(*k).and_then(Value::as_str))
                else {
                    continue;
                };
                let confidence = ["confidence", "score"]
                    .iter()
                    .find_map(|k| o.get(*k))
                    .and_then(|v| v.as_f64().or_else(|| v.as_str()?.trim().parse().ok()));
                (name, confidence)
            }
            _ => continue,
        };
        let name = name.trim().to_lowercase();
        if name.is_empty() || tags.iter().any(|t| t.name == name) {
            continue;
        }
        let confidence = confidence.filter(|c| (0.0..=1.0).contains(c));
        tags.push(Tag::label(name, confidence));
    }
    Some(tags)
}

/// The first JSON object or array in `text`, ignoring whatever surrounds it.
fn first_json_value(text: &str) -> Option<Value> {
    let text = text.trim();
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Some(value);
    }
    for (start, _) in text.match_indices(['{', '[']) {
        let mut values = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        if let Some(Ok(value)) = values.next() {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tags: &[Tag]) -> Vec<(&str, Option<f64>)> {
        tags.iter()
            .map(|t| (t.name.as_str(), t.confidence))
            .collect()
    }

    #[test]
    fn plain_json_object() {
        let tags = parse_tags(
            r#"{"tags":[{"name":"crowd","confidence":0.92},{"name":"street","confidence":0.8}]}"#,
        )
        .unwrap();
        assert_eq!(
            names(&tags),
            vec![("crowd", Some(0.92)), ("street", Some(0.8))]
        );
    }

    #[test]
    fn fenced_with_chatter_and_odd_items() {
        let answer = "Sure! Here are the tags:\n```json\n{\"tags\": [{\"name\": \" Crowd \", \"confidence\": \"0.9\"}, \"Flag\", {\"tag\": \"crowd\", \"score\": 0.3}, {\"name\": \"sky\", \"confidence\": 7}]}\n```\nHope this helps.";
        let tags = parse_tags(answer).unwrap();
        assert_eq!(
            names(&tags),
            vec![("crowd", Some(0.9)), ("flag", None), ("sky", None)]
        );
    }

    #[test]
    fn bare_list_and_nothing() {
        let tags = parse_tags("tags: [\"cat\", \"sofa\"] done").unwrap();
        assert_eq!(names(&tags), vec![("cat", None), ("sofa", None)]);
        assert!(parse_tags("I cannot see the image.").is_none());
        assert!(parse_tags("{\"tags\": [{\"name\": \"cut off").is_none());
    }

    #[test]
    fn endpoint_forms() {
        assert_eq!(
            completions_url("http://localhost:11434/v1").unwrap(),
            "http://localhost:11434/v1/chat/completions"
        );
        assert_eq!(
            completions_url("http://localhost:8000/").unwrap(),
            "http://localhost:8000/v1/chat/completions"
        );
        assert_eq!(
            completions_url("http://h/x/v1/chat/completions").unwrap(),
            "http://h/x/v1/chat/completions"
        );
        assert!(completions_url("localhost:1234").is_err());
    }
}
