//! API keys for the cloud backends: read from an environment variable or the
//! user's config file, held in a type that never prints them.
//!
//! Lookup order, first found wins:
//! 1. the backend's environment variable (`CLARIFAI_PAT`, `GOOGLE_API_KEY`,
//!    `GOOGLE_ACCESS_TOKEN`, `OPENAI_API_KEY`);
//! 2. `keys.toml` in the user's config directory
//!    (`$XDG_CONFIG_HOME/tagscape/keys.toml` on Linux, see `config_file`),
//!    with the same names in lowercase: `clarifai_pat = "..."`.
//!
//! Keys are never written to the project, the logs or error messages: the
//! only way to read one is `ApiKey::expose`, used where the request is built.

use std::fmt;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

/// A secret. `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(secret: impl Into<String>) -> ApiKey {
        ApiKey(secret.into())
    }

    /// The secret itself, for the request header or query only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced by `***`: applied to
    /// anything a vendor sends back before it is stored or shown.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `keys.toml` in the user's config directory, when the platform has one.
pub fn config_file() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("tagscape").join("keys.toml"))
}

/// The key named `env_var`: from the environment, else from `keys.toml`
/// (the same name in lowercase). `None` when neither has it.
pub fn lookup(env_var: &str) -> Result<Option<ApiKey>> {
    if let Some(value) = std::env::var_os(env_var) {
        let Some(value) = value.to_str() else {
            bail!("the environment variable {env_var} is not valid UTF-8: set it again");
        };
        let value = value.trim();
        if !value.is_empty() {
            return Ok(Some(ApiKey::new(value)));
        }
    }
    let Some(path) = config_file() else {
        return Ok(None);
    };
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}: check its permissions", path.display()))?;
    from_toml(&text, &env_var.to_lowercase()).with_context(|| format!("{}", path.display()))
}

/// The string value of `name` in a keys file. A parse error never quotes the
/// file (it holds secrets): it names the line only.
fn from_toml(text: &str, name: &str) -> Result<Option<ApiKey>> {
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            bail!(
                "not a valid TOML file{}: write one `name = \"value\"` per line, e.g. clarifai_pat = \"...\"",
                line.map(|l| format!(" (line {l})")).unwrap_or_default()
            );
        }
    };
    match table.get(name) {
        None => Ok(None),
        Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(ApiKey::new(s.trim()))),
        Some(_) => bail!("`{name}` must be a non-empty string: write {name} = \"...\""),
    }
}

/// Where to put a key, for "key missing" messages.
pub fn how_to_set(env_var: &str) -> String {
    let file = config_file()
        .map(|p| {
            format!(
                " or add `{} = \"...\"` to {}",
                env_var.to_lowercase(),
                p.display()
            )
        })
        .unwrap_or_default();
    format!("set the environment variable {env_var}{file}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_never_prints() {
        let key = ApiKey::new("sk-secret-123");
        assert_eq!(format!("{key}"), "***");
        assert_eq!(format!("{key:?}"), "***");
        assert_eq!(format!("{:?}", Some(&key)), "Some(***)");
        assert_eq!(
            key.redact("bad key sk-secret-123 given"),
            "bad key *** given"
        );
    }

    #[test]
    fn keys_file_is_read_and_errors_do_not_quote_it() {
        let text = "clarifai_pat = \"abc\"\nopenai_api_key = \"  def \"\n";
        assert_eq!(
            from_toml(text, "clarifai_pat").unwrap(),
            Some(ApiKey::new("abc"))
        );
        assert_eq!(
            from_toml(text, "openai_api_key").unwrap(),
            Some(ApiKey::new("def"))
        );
        assert_eq!(from_toml(text, "google_api_key").unwrap(), None);
        let err = from_toml("a = \"ok\"\nclarifai_pat = secret-xyz\n", "clarifai_pat")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains("secret-xyz"), "{err}");
    }
}
