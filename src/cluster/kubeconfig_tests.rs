//! Kubeconfig loading as kubectl does it: merging, precedence, errors that name the file.

use super::*;
use std::ffi::OsString;

const FIRST: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:6443
users:
- name: admin
  user:
    token: first-token
contexts:
- name: lab-admin
  context:
    cluster: lab
    user: admin
    namespace: demo
- name: shared
  context:
    cluster: lab
    user: admin
"#;

const SECOND: &str = r#"
apiVersion: v1
kind: Config
current-context: shared
clusters:
- name: lab
  cluster:
    server: https://10.0.0.1:6443
- name: prod
  cluster:
    server: https://127.0.0.1:1
users:
- name: viewer
  user:
    token: second-token
contexts:
- name: shared
  context:
    cluster: prod
    user: viewer
    namespace: from-second
- name: prod-viewer
  context:
    cluster: prod
    user: viewer
"#;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

fn env_of(paths: &[&Path]) -> OsString {
    std::env::join_paths(paths).expect("join paths")
}

#[test]
fn kubeconfig_list_merges_first_wins_and_skips_missing_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = write(&dir, "first", FIRST);
    let second = write(&dir, "second", SECOND);
    let missing = dir.path().join("missing");
    let env = env_of(&[&first, &missing, &second]);
    let kc = LoadedKubeconfig::load_with(None, Some(&env), None).expect("load");
    assert_eq!(kc.files(), &[first.clone(), second.clone()]);
    assert_eq!(kc.contexts(), vec!["lab-admin", "shared", "prod-viewer"]);
    // current-context comes from the first file that sets it (the second here).
    assert_eq!(kc.current_context().as_deref(), Some("shared"));
    // ...but the context named "shared" is the first file's.
    assert_eq!(kc.default_namespace("shared"), "default");
    assert_eq!(kc.default_namespace("lab-admin"), "demo");
    assert_eq!(kc.default_namespace("prod-viewer"), "default");
    assert_eq!(
        kc.cluster_url("lab-admin").as_deref(),
        Some("https://127.0.0.1:6443")
    );
    assert_eq!(kc.resolve_context(None).expect("current"), "shared");
    assert_eq!(
        kc.resolve_context(Some("prod-viewer")).expect("explicit"),
        "prod-viewer"
    );
}

#[test]
fn explicit_kubeconfig_alone_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = write(&dir, "first", FIRST);
    let second = write(&dir, "second", SECOND);
    let env = env_of(&[&second]);
    let kc = LoadedKubeconfig::load_with(Some(&first), Some(&env), None).expect("load");
    assert_eq!(kc.contexts(), vec!["lab-admin", "shared"]);
    assert_eq!(kc.current_context(), None);
    let err = kc.resolve_context(None).expect_err("no current context");
    assert!(
        matches!(err, ClusterError::NoCurrentContext { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("lab-admin, shared"), "{err}");
}

#[test]
fn home_kubeconfig_is_the_fallback() {
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(home.path().join(".kube")).expect("mkdir");
    std::fs::write(home.path().join(".kube/config"), SECOND).expect("write");
    let kc = LoadedKubeconfig::load_with(None, None, Some(home.path())).expect("load");
    assert_eq!(kc.current_context().as_deref(), Some("shared"));
    let empty = tempfile::tempdir().expect("tempdir");
    let err = LoadedKubeconfig::load_with(None, None, Some(empty.path())).expect_err("none");
    assert!(matches!(err, ClusterError::NoKubeconfig { .. }), "{err}");
    assert!(err.to_string().contains(".kube/config"), "{err}");
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn missing_and_unparsable_kubeconfigs_name_the_file_and_the_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.yaml");
    let err = LoadedKubeconfig::load_with(Some(&missing), None, None).expect_err("missing");
    assert!(matches!(err, ClusterError::ReadKubeconfig { .. }), "{err}");
    assert!(err.to_string().contains("nope.yaml"), "{err}");

    let env = env_of(&[&missing]);
    let err = LoadedKubeconfig::load_with(None, Some(&env), None).expect_err("all missing");
    assert!(matches!(err, ClusterError::NoKubeconfig { .. }), "{err}");
    assert!(err.to_string().contains("nope.yaml"), "{err}");

    let broken = write(
        &dir,
        "broken.yaml",
        "apiVersion: v1\nkind: Config\ncontexts:\n- name: a\n  context: [not, a, map]\n",
    );
    let err = LoadedKubeconfig::load_with(Some(&broken), None, None).expect_err("broken");
    let text = err.to_string();
    assert!(
        matches!(err, ClusterError::ParseKubeconfig { .. }),
        "{text}"
    );
    assert!(text.contains("broken.yaml"), "{text}");
    assert!(
        text.contains("line 5"),
        "the message points at the line: {text}"
    );
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn unknown_context_lists_the_known_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = write(&dir, "first", FIRST);
    let kc = LoadedKubeconfig::load_with(Some(&first), None, None).expect("load");
    let err = kc.resolve_context(Some("staging")).expect_err("unknown");
    let text = err.to_string();
    assert!(text.contains("'staging'"), "{text}");
    assert!(text.contains("lab-admin, shared"), "{text}");
    assert_eq!(err.exit_code(), 2);
}

#[tokio::test]
async fn unreachable_server_fails_fast_and_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let second = write(&dir, "second", SECOND);
    let kc = LoadedKubeconfig::load_with(Some(&second), None, None).expect("load");
    let client = kc
        .client("prod-viewer")
        .await
        .expect("client builds without I/O");
    let started = std::time::Instant::now();
    let err = crate::cluster::list_rollouts(&client, "prod-viewer", Some("demo"))
        .await
        .expect_err("nothing listens on port 1");
    assert!(started.elapsed() < CONNECT_TIMEOUT, "refused at once");
    let text = err.to_string();
    assert!(matches!(err, ClusterError::Unreachable { .. }), "{text}");
    assert!(text.contains("https://127.0.0.1:1"), "{text}");
    assert!(text.contains("prod-viewer"), "{text}");
    assert_eq!(err.exit_code(), 2);
    assert!(kc.client("nope").await.is_err());
}

const EXEC_LEAKS: &str = r#"
apiVersion: v1
kind: Config
current-context: leaky
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
- name: plain
  cluster:
    server: http://ops:pa55w0rd-xyz@127.0.0.1:2
users:
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: sh
      args: ["-c", "echo \"token: $TOKEN\"; echo \"login failed for $TOKEN\" >&2; exit 3"]
      env: [{name: TOKEN, value: s3cret-exec-token}]
      interactiveMode: Never
- name: static
  user:
    token: static-token-123
contexts:
- name: leaky
  context: {cluster: lab, user: plugin}
- name: plain
  context: {cluster: plain, user: static}
"#;

#[tokio::test]
async fn a_failing_exec_plugin_leaks_neither_its_env_nor_its_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "config", EXEC_LEAKS);
    let loaded = LoadedKubeconfig::load_with(Some(&path), None, None).expect("loads");
    let Err(err) = loaded.client("leaky").await else {
        panic!("the plugin fails, so no client is built");
    };
    let err = err.to_string();
    assert!(!err.contains("s3cret"), "{err}");
    assert!(err.contains("'leaky'"), "names the context: {err}");
    assert!(err.contains("exec credential plugin failed"), "{err}");
    assert!(err.contains("exit status: 3"), "{err}");
}

#[test]
fn insecure_contexts_are_found_once_at_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "config", EXEC_LEAKS);
    let loaded = LoadedKubeconfig::load_with(Some(&path), None, None).expect("loads");
    let warnings = loaded.security_warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    let leaky = loaded.security_warnings_of("leaky");
    assert_eq!(leaky.len(), 1);
    assert!(
        leaky[0].text.contains("insecure-skip-tls-verify"),
        "{}",
        leaky[0]
    );
    assert!(
        leaky[0].text.contains("certificate-authority-data"),
        "{}",
        leaky[0]
    );
    let plain = loaded.security_warnings_of("plain");
    assert_eq!(plain.len(), 1);
    assert!(plain[0].text.contains("plain HTTP"), "{}", plain[0]);
    assert!(!plain[0].text.contains("pa55w0rd"), "{}", plain[0]);
    // The static token was registered: an error that echoes it shows the mask.
    assert_eq!(
        crate::redact::redact("server said: bad token static-token-123"),
        "server said: bad token <redacted>"
    );
    let first =
        LoadedKubeconfig::load_with(Some(&write(&dir, "first", FIRST)), None, None).expect("loads");
    assert!(first.security_warnings().is_empty());
}
