//! The release report of the other providers, by the real binary against the lab and a real
//! Prometheus: the weighted release `cart` (its stable and canary Deployments' pod-template
//! hashes, the set-weight made through the one door) and the Flagger canary `podinfo` (its
//! primary's and target's hashes, Flagger's Events on the Canary).

use release_cockpit::model::{Provider, RolloutRef, RolloutView};
use release_cockpit::orchestrator;
use std::time::{Duration, Instant};

const CONTEXT: &str = "lab-admin";

fn release(provider: Provider, namespace: &str, name: &str) -> RolloutRef {
    RolloutRef {
        provider,
        ..RolloutRef::new(CONTEXT, namespace, name)
    }
}

/// Both hashes of a release running two versions.
fn both_hashes(view: &RolloutView) -> [String; 2] {
    let stable = view.stable_hash.clone().expect("a stable version");
    let canary = view.current_hash.clone().expect("a canary version");
    assert_ne!(stable, canary, "{view:?}");
    [stable, canary]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_covers_a_weighted_release_and_a_flagger_canary() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, prom) = super::lab_with_prometheus(dir.path()).await;
    let client = kube::Client::try_from(lab.kube_config(CONTEXT).await.unwrap()).unwrap();
    let cart = release(Provider::Gateway, "demo", "cart");
    let podinfo = release(Provider::Flagger, "test", "podinfo");

    super::set_weight(&client, dir.path(), &cart, 33, Some("report review test")).await;

    // Flagger records its Events as the lab's controller steps podinfo (every few seconds).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !orchestrator::activity(&client, &podinfo)
        .await
        .unwrap()
        .iter()
        .any(|e| !e.ours)
    {
        assert!(Instant::now() < deadline, "no Flagger Event on podinfo");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let cart_hashes = both_hashes(
        &release_cockpit::cluster::get_release(&client, &cart)
            .await
            .unwrap(),
    );
    let podinfo_hashes = both_hashes(
        &release_cockpit::cluster::get_release(&client, &podinfo)
            .await
            .unwrap(),
    );

    let kubeconfig = dir.path().join("lab/kubeconfig");
    let home = dir.path().join("config-home");
    let prom_url = prom.url();
    let report = |name: &str, namespace: &str, format: &str| {
        let args = [
            "report",
            name,
            "-n",
            namespace,
            "--since",
            "5m",
            "--prometheus",
            &prom_url,
            "-o",
            format,
        ];
        super::versions::cli(&kubeconfig, &home, &args)
    };

    let out = report("cart", "demo", "json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let versions: Vec<&str> = json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["hash"].as_str())
        .collect();
    for hash in &cart_hashes {
        assert!(versions.contains(&hash.as_str()), "{hash}: {versions:?}");
    }
    let actions = json["actions"].as_array().unwrap();
    assert!(
        actions.iter().any(|a| a["verb"] == "set-weight"
            && a["comment"] == "report review test"
            && a["detail"].as_str().unwrap_or("").contains("33%")),
        "{actions:?}"
    );
    assert!(json["controllerEvents"].is_array(), "{json}");

    let out = report("podinfo", "test", "csv");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    for hash in &podinfo_hashes {
        assert!(
            csv.lines()
                .any(|l| l.starts_with("version,") && l.contains(hash.as_str())),
            "{hash} not a version in the CSV:\n{csv}"
        );
    }
    assert!(
        csv.lines()
            .any(|l| l.starts_with("event,") && l.contains("podinfo")),
        "no Flagger Event in the CSV:\n{csv}"
    );
}
