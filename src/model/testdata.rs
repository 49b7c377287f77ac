//! Test helpers: the real Argo Rollouts objects under `../shared/fixtures/argo-rollouts/`
//! (beside the checkout in CI, /work/shared here), read with serde-saphyr.

use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// `../shared/fixtures/argo-rollouts/objects`, relative to the crate.
pub(crate) fn objects_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/argo-rollouts/objects")
}

/// Reads one fixture (`"canary/canary-rollout.yaml"`) as `T`; panics with the file name.
pub(crate) fn object<T: DeserializeOwned>(relative: &str) -> T {
    let path = objects_dir().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("fixture {} does not parse: {e}", path.display()))
}

/// Every fixture file, as paths relative to [`objects_dir`], sorted.
pub(crate) fn all_objects() -> Vec<String> {
    let mut out = Vec::new();
    let root = objects_dir();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list fixtures in {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("fixture dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let rel = path.strip_prefix(&root).expect("under root");
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}
