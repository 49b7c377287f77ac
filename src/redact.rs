//! Keeps secrets out of everything the cockpit shows or stores (errors, the journal, toasts,
//! settings): [`redact_url`] drops a URL's `user:password@` and the values of credential-like
//! query parameters; [`redact`] does that to every URL in a text and masks the secret values
//! registered when a kubeconfig was loaded (tokens, passwords, exec plugin env values).

use std::collections::BTreeSet;
use std::sync::{LazyLock, Mutex};

/// What a secret is replaced with.
pub const MASK: &str = "<redacted>";

/// Query parameters whose values are credentials (matched case-insensitively, by substring).
const SECRET_PARAMS: [&str; 9] = [
    "token",
    "pass",
    "pwd",
    "secret",
    "key",
    "auth",
    "sig",
    "credential",
    "session",
];

/// Secret values shorter than this are not registered: masking every "a" would garble text.
const MIN_SECRET_LEN: usize = 4;

static SECRETS: LazyLock<Mutex<BTreeSet<String>>> = LazyLock::new(|| Mutex::new(BTreeSet::new()));

/// Remembers a secret value (a token, a password, an exec plugin's env value) so that
/// [`redact`] masks it wherever it shows up, e.g. in a failing plugin's output.
pub fn register_secret(value: &str) {
    let value = value.trim();
    if value.len() >= MIN_SECRET_LEN
        && let Ok(mut secrets) = SECRETS.lock()
    {
        secrets.insert(value.to_string());
    }
}

/// `url` without credentials: `https://user:pass@host/p?token=x&q=1` becomes
/// `https://<redacted>@host/p?token=<redacted>&q=1`. Text that is not a URL comes back as is.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest_start = scheme_end + 3;
    let rest = &url[rest_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..rest_start]);
    let authority = &rest[..authority_len];
    match authority.rfind('@') {
        Some(at) => {
            out.push_str(MASK);
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let tail = &rest[authority_len..];
    let Some(q) = tail.find('?') else {
        out.push_str(tail);
        return out;
    };
    out.push_str(&tail[..=q]);
    let query_and_fragment = &tail[q + 1..];
    let query_len = query_and_fragment
        .find('#')
        .unwrap_or(query_and_fragment.len());
    let pairs: Vec<String> = query_and_fragment[..query_len]
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !value.is_empty() && is_secret_param(key) => {
                format!("{key}={MASK}")
            }
            _ => pair.to_string(),
        })
        .collect();
    out.push_str(&pairs.join("&"));
    out.push_str(&query_and_fragment[query_len..]);
    out
}

/// True when `url` carries credentials: a `user:password@` or a credential-like parameter.
pub fn url_has_credentials(url: &str) -> bool {
    redact_url(url) != url
}

fn is_secret_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|p| key.contains(p))
}

/// `text` with every URL in it redacted ([`redact_url`]), the word after `Bearer ` masked
/// and every registered secret value masked.
pub fn redact(text: &str) -> String {
    let mut out = redact_urls_in(text);
    out = mask_after(&out, "bearer ");
    if let Ok(secrets) = SECRETS.lock() {
        // Longest first, so a secret that contains another is masked whole.
        let mut values: Vec<&String> = secrets.iter().collect();
        values.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in values {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
    }
    out
}

fn redact_urls_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(sep) = rest.find("://") {
        let start = rest[..sep]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let end = rest[sep..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(rest.len(), |i| sep + i);
        out.push_str(&rest[..start]);
        out.push_str(&redact_url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Masks the word after each (case-insensitive) `marker`, e.g. a bearer token in a header
/// echoed into an error.
fn mask_after(text: &str, marker: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while let Some(found) = lower[pos..].find(marker) {
        let word_start = pos + found + marker.len();
        let word_end = text[word_start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';'))
            .map_or(text.len(), |i| word_start + i);
        out.push_str(&text[pos..word_start]);
        if word_end > word_start {
            out.push_str(MASK);
        }
        pos = word_end;
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_userinfo_and_credential_parameters() {
        assert_eq!(
            redact_url("https://ops:hunter22@prom.example:9090/api?query=up&token=abc#x"),
            "https://<redacted>@prom.example:9090/api?query=up&token=<redacted>#x"
        );
        assert_eq!(
            redact_url("http://prom:9090/?X-Amz-Signature=f00&access_key=k&step=10"),
            "http://prom:9090/?X-Amz-Signature=<redacted>&access_key=<redacted>&step=10"
        );
        for plain in [
            "http://127.0.0.1:9090",
            "https://host/path?query=up",
            "not a url",
            "https://h/p@q",
        ] {
            assert_eq!(redact_url(plain), plain);
            assert!(!url_has_credentials(plain));
        }
        assert!(url_has_credentials("https://user@host"));
    }

    #[test]
    fn text_has_every_url_bearer_token_and_registered_secret_masked() {
        register_secret("zz-registered-9f8e");
        register_secret("abc"); // too short to register: it would mask ordinary words
        let text = "error sending request for url (https://u:p4ss@h/x?auth=zz) after \
                    Authorization: Bearer eyJhbGci.payload, plugin said zz-registered-9f8e; abc";
        let out = redact(text);
        for secret in ["p4ss", "auth=zz", "eyJhbGci", "zz-registered-9f8e"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(
            out.contains("https://<redacted>@h/x?auth=<redacted>"),
            "{out}"
        );
        assert!(out.contains("Bearer <redacted>,"), "{out}");
        assert!(out.ends_with("; abc"), "{out}");
    }
}
