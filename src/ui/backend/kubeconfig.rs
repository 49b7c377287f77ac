//! Which kubeconfig files the window reads and how they merge: the lab's file first (when
//! the lab runs), then what kubectl would read, then the extra files from the settings.
//! The merged result feeds both the window (`KubeconfigInfo`) and the clients.

use crate::cluster::LoadedKubeconfig;
use crate::ui::events::KubeconfigInfo;
use kube::config::Kubeconfig;
use std::path::PathBuf;

/// The kubeconfig files kubectl would read: `explicit`, else `KUBECONFIG` (colon-separated),
/// else `~/.kube/config`; then the extra files from the settings.
pub fn kubeconfig_paths(explicit: Option<&PathBuf>, extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = match explicit {
        Some(p) => vec![p.clone()],
        None => match std::env::var_os("KUBECONFIG") {
            Some(v) if !v.is_empty() => std::env::split_paths(&v).collect(),
            _ => directories::BaseDirs::new()
                .map(|d| vec![d.home_dir().join(".kube").join("config")])
                .unwrap_or_default(),
        },
    };
    for p in extra {
        if !paths.contains(p) {
            paths.push(p.clone());
        }
    }
    paths
}

/// The files read, merged: what the window shows, and the clients.
pub struct MergedKubeconfig {
    pub info: KubeconfigInfo,
    pub loaded: LoadedKubeconfig,
    /// Files that exist but could not be read or merged, in words.
    pub problems: Vec<String>,
}

/// Read and merge the kubeconfig files: `lab`'s first (so its `current-context` wins), then
/// what kubectl reads, then `extra`. Missing files are skipped (kubectl does the same),
/// unreadable ones are reported as problems but do not hide the others. The first file to
/// name a context or a `current-context` wins, as in kubectl.
pub fn read_kubeconfigs(
    lab: Option<&PathBuf>,
    explicit: Option<&PathBuf>,
    extra: &[PathBuf],
) -> MergedKubeconfig {
    let mut searched: Vec<PathBuf> = lab.into_iter().cloned().collect();
    for p in kubeconfig_paths(explicit, extra) {
        if !searched.contains(&p) {
            searched.push(p);
        }
    }
    let mut info = KubeconfigInfo {
        searched: searched.clone(),
        ..KubeconfigInfo::default()
    };
    let mut merged: Option<Kubeconfig> = None;
    let mut problems = Vec::new();
    for path in searched.iter().filter(|p| p.exists()) {
        let config = match Kubeconfig::read_from(path) {
            Ok(config) => config,
            Err(e) => {
                problems.push(format!(
                    "kubeconfig {} could not be read: {}; fix or remove it",
                    path.display(),
                    crate::redact::redact(&e.to_string())
                ));
                continue;
            }
        };
        merged = Some(match merged {
            None => config,
            Some(m) => match m.clone().merge(config) {
                Ok(m) => m,
                Err(e) => {
                    problems.push(format!(
                        "kubeconfig {} could not be merged with the others: {e}",
                        path.display()
                    ));
                    m
                }
            },
        });
        info.files.push(path.clone());
    }
    let config = merged.unwrap_or_default();
    info.current = config.current_context.clone().filter(|c| !c.is_empty());
    info.contexts = config.contexts.iter().map(|c| c.name.clone()).collect();
    MergedKubeconfig {
        loaded: LoadedKubeconfig::from_kubeconfig(config, info.files.clone()),
        info,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_merges_kubeconfig_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        std::fs::write(
            &a,
            "apiVersion: v1\nkind: Config\ncurrent-context: lab-admin\nclusters: []\nusers: []\n\
             contexts:\n- name: lab-admin\n  context: {cluster: lab, user: admin}\n\
             - name: lab-viewer\n  context: {cluster: lab, user: viewer}\n",
        )
        .expect("write a");
        std::fs::write(
            &b,
            "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters: []\nusers: []\n\
             contexts:\n- name: prod\n  context: {cluster: prod, user: me}\n",
        )
        .expect("write b");
        let missing = dir.path().join("missing.yaml");
        let merged = read_kubeconfigs(None, Some(&a), &[b.clone(), missing.clone()]);
        let info = &merged.info;
        assert_eq!(info.contexts, ["lab-admin", "lab-viewer", "prod"]);
        assert_eq!(info.current.as_deref(), Some("lab-admin"));
        assert_eq!(info.files, [a.clone(), b.clone()]);
        assert_eq!(info.searched.len(), 3);
        assert_eq!(merged.loaded.contexts(), info.contexts);
        assert!(merged.problems.is_empty());

        // The lab's file comes first and its current-context wins.
        let with_lab = read_kubeconfigs(Some(&b), Some(&a), &[]);
        assert_eq!(with_lab.info.current.as_deref(), Some("prod"));
        assert_eq!(with_lab.info.contexts, ["prod", "lab-admin", "lab-viewer"]);

        let none = read_kubeconfigs(None, Some(&missing), &[]);
        assert!(none.info.files.is_empty() && none.info.contexts.is_empty());
        assert_eq!(none.info.searched, [missing]);
    }

    #[test]
    fn an_unreadable_file_is_a_problem_not_a_hole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "contexts: [[[").expect("write bad");
        let merged = read_kubeconfigs(None, Some(&bad), &[]);
        assert!(merged.info.contexts.is_empty());
        assert_eq!(merged.problems.len(), 1, "{:?}", merged.problems);
        assert!(merged.problems[0].contains("bad.yaml"));
    }
}
