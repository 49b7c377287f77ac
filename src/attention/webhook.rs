//! Notices to a chat or a pipeline: a JSON POST with a Slack-compatible `text` field (and the
//! notice's parts for other receivers) to a URL read from an environment variable — or from
//! the file its value names — so the URL, which is a secret, is never on a command line and
//! never in a log or an error.

use super::transitions::Notice;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(
        "--notify-webhook-env {var}: the environment variable {var} is not set or empty; \
         export it with the webhook URL, or with the path of a file that holds it"
    )]
    Unset { var: String },
    #[error(
        "--notify-webhook-env {var}: the webhook URL (from {from}) is not an http(s) URL; \
         put the URL itself in it, e.g. https://hooks.slack.com/services/…"
    )]
    NotAUrl { var: String, from: String },
    #[error("--notify-webhook-env {var}: could not read the file {var} names ({path}): {error}")]
    File {
        var: String,
        path: String,
        error: String,
    },
    #[error("the webhook from {var} could not be reached: {error}; the notice was not delivered")]
    Unreachable { var: String, error: String },
    #[error("the webhook from {var} answered HTTP {status}; the notice was not delivered")]
    Refused { var: String, status: u16 },
}

/// Where notices are posted. `Debug` never shows the URL.
#[derive(Clone)]
pub struct Webhook {
    client: reqwest::Client,
    url: String,
    /// The variable it came from: how errors name it.
    var: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Webhook(from ${})", self.var)
    }
}

impl Webhook {
    /// The webhook whose URL is the value of `var`, or, when that value is the path of an
    /// existing file, the file's first line.
    pub fn from_env(var: &str) -> Result<Webhook, WebhookError> {
        Webhook::from_value(var, &std::env::var(var).unwrap_or_default())
    }

    /// [`Webhook::from_env`] with the variable's value given.
    pub fn from_value(var: &str, value: &str) -> Result<Webhook, WebhookError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(WebhookError::Unset { var: var.into() });
        }
        let (url, from) = if Path::new(value).is_file() {
            let text = std::fs::read_to_string(value).map_err(|e| WebhookError::File {
                var: var.into(),
                path: value.into(),
                error: e.to_string(),
            })?;
            let line = text.lines().next().unwrap_or_default().trim().to_string();
            (line, format!("the file {value}"))
        } else {
            (value.to_string(), format!("${var}"))
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(WebhookError::NotAUrl {
                var: var.into(),
                from,
            });
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| WebhookError::Unreachable {
                var: var.into(),
                error: e.without_url().to_string(),
            })?;
        Ok(Webhook {
            client,
            url,
            var: var.into(),
        })
    }

    /// POST one notice: `{"text": "title: body", "kind", "title", "body", "context",
    /// "namespace", "name"}`.
    pub async fn send(&self, notice: &Notice) -> Result<(), WebhookError> {
        let body = body_of(notice);
        let answer = self
            .client
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| WebhookError::Unreachable {
                var: self.var.clone(),
                error: e.without_url().to_string(),
            })?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(WebhookError::Refused {
                var: self.var.clone(),
                status: status.as_u16(),
            })
        }
    }
}

/// The JSON a webhook receives: Slack reads `text`; the rest is for other receivers.
pub fn body_of(notice: &Notice) -> serde_json::Value {
    serde_json::json!({
        "text": notice.text(),
        "kind": notice.kind,
        "title": notice.title,
        "body": notice.body,
        "context": notice.rollout.context,
        "namespace": notice.rollout.namespace,
        "name": notice.rollout.name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_comes_from_the_variable_or_the_file_it_names_and_errors_never_show_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("hook");
        std::fs::write(&file, "https://hooks.example/T0/secret-path\n").expect("write");
        let path = file.to_str().expect("utf-8 path");
        let hook = Webhook::from_value("HOOK", path).expect("from the file");
        assert_eq!(hook.url, "https://hooks.example/T0/secret-path");
        assert_eq!(format!("{hook:?}"), "Webhook(from $HOOK)");
        let hook = Webhook::from_value("HOOK", " https://hooks.example/x ").expect("the URL");
        assert_eq!(hook.url, "https://hooks.example/x");
        let err = Webhook::from_value("HOOK", "hooks.example/secret")
            .expect_err("not a URL")
            .to_string();
        assert!(!err.contains("secret") && err.contains("HOOK"), "{err}");
        let err = Webhook::from_value("HOOK", "")
            .expect_err("unset")
            .to_string();
        assert!(err.contains("is not set"), "{err}");
    }
}
