//! The lab's seed data: named sets of Rollouts (with the ReplicaSets of their earlier
//! revisions) in namespace `demo`, so that something is happening the moment the lab starts;
//! the demo and error-spike also have `cart`, a Gateway API release (`cart.rs`), and the
//! demo Flagger canaries in namespace `test` (`podinfo.rs`).
//! Each version's behaviour is a traffic profile annotation on its pod template.
//!
//! Seeds are stored as given, `status` included: a rollout caught mid-update carries the
//! status the controller wrote for its previous revision (computed by running the lab's own
//! controller on it) and the new template, so the controller starts the update on its first
//! tick. Previous revisions' ReplicaSets come with the seed (kind `ReplicaSet`), so each
//! version's profile, image and revision are there from the start.

mod cart;
mod podinfo;

pub use cart::{CART, CART_STEPS};
pub use podinfo::{FLAGGER_NAMESPACE, FRONTEND, LOAD_TESTER_SERVICE, PODINFO};

use super::controller::{self, REVISION_ANNOTATION};
use super::traffic::{PROFILE_ANNOTATION, RATE_ANNOTATION};
use jiff::Timestamp;
use serde_json::{Value, json};

/// Every scenario name `--scenario` accepts; the first is the default.
pub const NAMES: &[&str] = &[
    "demo",
    "healthy",
    "error-spike",
    "latency-regression",
    "noisy-healthy",
    "blue-green",
];

pub const NAMESPACE: &str = "demo";

/// The objects to create for scenario `name`: the Namespace first, then Rollouts and
/// ReplicaSets. The error names the scenarios there are.
pub fn seed(name: &str) -> Result<Vec<Value>, String> {
    let now = Timestamp::now();
    let mut objects = vec![json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": NAMESPACE, "labels": {"kubernetes.io/metadata.name": NAMESPACE}},
    })];
    let healthy = || profile(0.002, 40.0, 120.0, None);
    match name {
        "demo" => {
            let checkout = App::canary("checkout", "shop", 5, checkout_steps());
            objects.extend(checkout.mid_update(("1.4.1", healthy()), ("1.4.2", healthy()), 3, now));
            let payments = App::blue_green("payments", "shop", 3);
            let calm = profile(0.001, 80.0, 200.0, None);
            objects.extend(payments.mid_update(("2.0.3", calm.clone()), ("2.1.0", calm), 5, now));
            let search = App::canary("search", "shop", 4, checkout_steps());
            objects.extend(search.finished(("3.2.0", profile(0.001, 25.0, 70.0, None)), 7));
            objects.push(error_rate_template());
            objects.push(smoke_template());
            let mut inventory = App::canary(
                "inventory",
                "shop",
                4,
                json!([
                    {"setWeight": 10}, {"pause": {"duration": "2m"}},
                    {"setWeight": 25}, {"pause": {}},
                    {"setWeight": 50}, {"pause": {"duration": "5m"}}
                ]),
            );
            // Background analysis: its error-rate fails after the spike and aborts the update.
            inventory.strategy["canary"]["analysis"] = json!({
                "templates": [{"templateName": "error-rate"}],
                "args": [{"name": "service-name", "value": "inventory-canary"}],
            });
            let goes_bad = profile(
                0.002,
                45.0,
                130.0,
                Some(json!({"afterSecs": 60, "errorRate": 0.06})),
            );
            objects.extend(inventory.mid_update(
                ("5.8.0", healthy()),
                ("5.9.0", goes_bad),
                12,
                now,
            ));
            // A step analysis that ends Inconclusive (2 % errors: not clean, not failing) and
            // waits for a person.
            let mut catalog = App::canary(
                "catalog",
                "shop",
                3,
                json!([
                    {"setWeight": 20},
                    {"analysis": {
                        "templates": [{"templateName": "smoke-error-rate"}],
                        "args": [{"name": "service-name", "value": "catalog-canary"}],
                    }},
                    {"setWeight": 50}, {"pause": {"duration": "1m"}}
                ]),
            );
            catalog.requests_per_second = Some(200.0);
            let murky = profile(0.03, 35.0, 100.0, None);
            objects.extend(catalog.mid_update(("7.1.0", healthy()), ("7.2.0", murky), 4, now));
            objects.extend(cart::cart());
            objects.extend(podinfo::flagger(now));
        }
        "healthy" => {
            let steps = json!([
                {"setWeight": 20}, {"pause": {"duration": "30s"}},
                {"setWeight": 50}, {"pause": {"duration": "30s"}},
                {"setWeight": 80}, {"pause": {"duration": "30s"}}
            ]);
            let app = App::canary("checkout", "shop", 5, steps);
            objects.extend(app.mid_update(("1.4.1", healthy()), ("1.4.2", healthy()), 3, now));
        }
        "error-spike" => {
            let app = App::canary("checkout", "shop", 5, approval_steps());
            let spikes = profile(
                0.002,
                40.0,
                120.0,
                Some(json!({"afterSecs": 30, "errorRate": 0.08})),
            );
            objects.extend(app.mid_update(("1.4.1", healthy()), ("1.4.2", spikes.clone()), 3, now));
            // The weighted release's canary spikes the same way (what `auto cart` aborts).
            objects.extend(cart::cart_with_canary(&spikes));
        }
        "latency-regression" => {
            let app = App::canary("checkout", "shop", 5, approval_steps());
            let slower = profile(0.002, 48.0, 240.0, None);
            objects.extend(app.mid_update(("1.4.1", healthy()), ("1.4.2", slower), 3, now));
        }
        "noisy-healthy" => {
            let mut app = App::canary("checkout", "shop", 5, approval_steps());
            app.requests_per_second = Some(3.0);
            objects.extend(app.mid_update(("1.4.1", healthy()), ("1.4.2", healthy()), 3, now));
        }
        "blue-green" => {
            let app = App::blue_green("payments", "shop", 3);
            let calm = profile(0.001, 80.0, 200.0, None);
            objects.extend(app.mid_update(("2.0.3", calm.clone()), ("2.1.0", calm), 5, now));
        }
        other => {
            return Err(format!(
                "unknown scenario {other:?}; known scenarios: {}",
                NAMES.join(", ")
            ));
        }
    }
    Ok(objects)
}

/// The demo's background analysis (as in Argo's examples/analysis-templates.yaml): the
/// canary's 5xx ratio every minute, failing above 5 %, three failures allowed to be two.
fn error_rate_template() -> Value {
    analysis_template(
        "error-rate",
        json!({
            "name": "error-rate",
            "interval": "1m",
            "count": 10,
            "successCondition": "result[0] <= 0.05",
            "failureCondition": "result[0] > 0.05",
            "failureLimit": 2,
            "inconclusiveLimit": 0,
            "consecutiveErrorLimit": 4,
        }),
    )
}

/// The demo's step analysis: one measurement after a minute; clean up to 0.5 %, failing
/// from 8 %, in between Inconclusive (a person decides).
fn smoke_template() -> Value {
    analysis_template(
        "smoke-error-rate",
        json!({
            "name": "error-rate",
            "interval": "1m",
            "count": 1,
            "successCondition": "result[0] <= 0.005",
            "failureCondition": "result[0] >= 0.08",
            "failureLimit": 0,
            "inconclusiveLimit": 0,
        }),
    )
}

fn analysis_template(name: &str, mut metric: Value) -> Value {
    metric["provider"] = json!({"prometheus": {
        "address": "http://prometheus.istio-system:9090",
        "query": "sum(irate(istio_requests_total{reporter=\"source\",destination_service_name=\"{{args.service-name}}\",response_code=~\"5.*\"}[1m])) / sum(irate(istio_requests_total{reporter=\"source\",destination_service_name=\"{{args.service-name}}\"}[1m]))",
    }});
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"args": [{"name": "service-name"}], "metrics": [metric]},
    })
}

/// 20 % → approval → 40 % → 60 % (30 s) → 80 % (30 s) → done, the ladder of the demo.
fn checkout_steps() -> Value {
    json!([
        {"setWeight": 20}, {"pause": {}},
        {"setWeight": 40}, {"pause": {"duration": "10s"}},
        {"setWeight": 60}, {"pause": {"duration": "30s"}},
        {"setWeight": 80}, {"pause": {"duration": "30s"}}
    ])
}

/// A ladder that waits for a person at every weight.
fn approval_steps() -> Value {
    json!([
        {"setWeight": 20}, {"pause": {}},
        {"setWeight": 50}, {"pause": {}},
        {"setWeight": 80}, {"pause": {}}
    ])
}

fn profile(error_rate: f64, median_ms: f64, p95_ms: f64, spike: Option<Value>) -> Value {
    let mut p = json!({"errorRate": error_rate, "latencyMs": {"median": median_ms, "p95": p95_ms}});
    if let Some(spike) = spike {
        p["spike"] = spike;
    }
    p
}

/// One application of the shop and the shape of its Rollout.
struct App {
    name: &'static str,
    part_of: &'static str,
    replicas: i64,
    strategy: Value,
    requests_per_second: Option<f64>,
}

impl App {
    fn canary(name: &'static str, part_of: &'static str, replicas: i64, steps: Value) -> App {
        App {
            name,
            part_of,
            replicas,
            strategy: json!({"canary": {
                "canaryService": format!("{name}-canary"),
                "stableService": format!("{name}-stable"),
                "trafficRouting": {"istio": {"virtualService": {"name": name, "routes": ["primary"]}}},
                "steps": steps,
            }}),
            requests_per_second: None,
        }
    }

    fn blue_green(name: &'static str, part_of: &'static str, replicas: i64) -> App {
        App {
            name,
            part_of,
            replicas,
            strategy: json!({"blueGreen": {
                "activeService": name,
                "previewService": format!("{name}-preview"),
                "autoPromotionEnabled": false,
                "scaleDownDelaySeconds": 30,
            }}),
            requests_per_second: None,
        }
    }

    fn template(&self, version: &str, profile: &Value) -> Value {
        json!({
            "metadata": {
                "labels": {
                    "app": self.name,
                    "app.kubernetes.io/name": self.name,
                    "app.kubernetes.io/version": version,
                },
                "annotations": {PROFILE_ANNOTATION: profile.to_string()},
            },
            "spec": {"containers": [{
                "name": self.name,
                "image": format!("registry.example/{}:{version}", self.name),
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            }]},
        })
    }

    fn rollout(&self, template: Value, revision: u64) -> Value {
        let mut annotations = json!({REVISION_ANNOTATION: revision.to_string()});
        if let Some(rate) = self.requests_per_second {
            annotations[RATE_ANNOTATION] = json!(rate.to_string());
        }
        json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": {
                "name": self.name,
                "namespace": NAMESPACE,
                "generation": 1,
                "labels": {
                    "app": self.name,
                    "app.kubernetes.io/name": self.name,
                    "app.kubernetes.io/part-of": self.part_of,
                },
                "annotations": annotations,
            },
            "spec": {
                "replicas": self.replicas,
                "revisionHistoryLimit": 3,
                "selector": {"matchLabels": {"app": self.name}},
                "strategy": self.strategy,
                "template": template,
            },
        })
    }

    /// A rollout that finished revision `revision` long ago; the controller writes its
    /// status and ReplicaSet on the first tick.
    fn finished(&self, (version, profile): (&str, Value), revision: u64) -> Vec<Value> {
        vec![self.rollout(self.template(version, &profile), revision)]
    }

    /// A rollout stable on `old` (revision `revision`) whose template was just changed to
    /// `new`: the controller starts revision `revision + 1` on its first tick.
    fn mid_update(
        &self,
        (old_version, old_profile): (&str, Value),
        (new_version, new_profile): (&str, Value),
        revision: u64,
        now: Timestamp,
    ) -> Vec<Value> {
        let mut rollout = self.rollout(self.template(old_version, &old_profile), revision);
        let mut objects = Vec::new();
        if let Some(stable) = controller::reconcile(&rollout, now, 1.0) {
            rollout["status"] = stable.status;
            objects.extend(stable.replica_sets);
        }
        rollout["spec"]["template"] = self.template(new_version, &new_profile);
        objects.insert(0, rollout);
        objects
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::traffic::{Profile, Traffic};

    /// Seed, then run the controller once on every rollout as the lab loop does.
    fn started(name: &str) -> (Vec<Value>, Vec<Value>) {
        let objects = seed(name).expect("known scenario");
        assert_eq!(objects[0]["kind"], "Namespace");
        assert_eq!(objects[0]["metadata"]["name"], NAMESPACE);
        let mut rollouts = Vec::new();
        let mut replica_sets = Vec::new();
        // Flagger's canaries live in their own namespace (podinfo.rs).
        let ours = |o: &&Value| {
            o["metadata"]["namespace"] != podinfo::FLAGGER_NAMESPACE
                && o["metadata"]["name"] != podinfo::FLAGGER_NAMESPACE
        };
        for o in objects[1..].iter().filter(ours) {
            assert_eq!(o["metadata"]["namespace"], NAMESPACE, "{o}");
            match o["kind"].as_str() {
                Some("Rollout") => rollouts.push(o.clone()),
                Some("ReplicaSet") => replica_sets.push(o.clone()),
                // The Gateway API release `cart` (see cart.rs and the Deployment controller).
                Some("AnalysisTemplate" | "Deployment" | "Service" | "HTTPRoute") => {}
                other => panic!("unexpected kind {other:?}"),
            }
        }
        let now = Timestamp::now();
        for ro in &mut rollouts {
            let out = controller::reconcile(ro, now, 1.0).expect("the seed needs the controller");
            ro["status"] = out.status;
            for rs in out.replica_sets {
                let name = rs["metadata"]["name"].clone();
                if !replica_sets.iter().any(|r| r["metadata"]["name"] == name) {
                    replica_sets.push(rs);
                }
            }
            assert_eq!(
                controller::reconcile(ro, now, 1.0),
                None,
                "seed rests after one tick"
            );
        }
        (rollouts, replica_sets)
    }

    fn find<'a>(rollouts: &'a [Value], name: &str) -> &'a Value {
        rollouts
            .iter()
            .find(|r| r["metadata"]["name"] == name)
            .expect(name)
    }

    #[test]
    fn the_demo_shows_a_paused_canary_a_blue_green_a_finished_and_a_failing_one() {
        let (rollouts, replica_sets) = started("demo");
        let checkout = &find(&rollouts, "checkout")["status"];
        assert_eq!(checkout["phase"], "Paused");
        assert_eq!(checkout["message"], "CanaryPauseStep");
        assert_eq!(checkout["currentStepIndex"], 1);
        assert_eq!(checkout["canary"]["weights"]["canary"]["weight"], 20);
        let payments = &find(&rollouts, "payments")["status"];
        assert_eq!(payments["message"], "BlueGreenPause");
        assert_ne!(
            payments["blueGreen"]["activeSelector"],
            payments["blueGreen"]["previewSelector"]
        );
        assert_eq!(find(&rollouts, "search")["status"]["phase"], "Healthy");
        let inventory = &find(&rollouts, "inventory")["status"];
        assert_eq!(inventory["canary"]["weights"]["canary"]["weight"], 10);
        assert_eq!(inventory["phase"], "Paused");
        // Every version that takes traffic has its ReplicaSet, with its own profile.
        for ro in &rollouts {
            let status = &ro["status"];
            for hash in [&status["stableRS"], &status["currentPodHash"]] {
                let rs_name = format!(
                    "{}-{}",
                    ro["metadata"]["name"].as_str().unwrap(),
                    hash.as_str().unwrap()
                );
                assert!(
                    replica_sets
                        .iter()
                        .any(|r| r["metadata"]["name"] == rs_name.as_str()),
                    "{rs_name}"
                );
            }
        }
        let canary_rs = replica_sets
            .iter()
            .find(|r| {
                r["metadata"]["name"]
                    == format!(
                        "inventory-{}",
                        inventory["currentPodHash"].as_str().unwrap()
                    )
            })
            .unwrap();
        let profile = Profile::of_template(&canary_rs["spec"]["template"]);
        assert_eq!(profile.spike.unwrap().error_rate, Some(0.06));
        assert_eq!(
            find(&rollouts, "checkout")["metadata"]["annotations"][REVISION_ANNOTATION],
            "3",
            "the controller bumps the revision to 4 on its first tick"
        );
    }

    #[test]
    fn every_scenario_seeds_rollouts_that_take_traffic() {
        for name in NAMES {
            let (rollouts, replica_sets) = started(name);
            assert!(!rollouts.is_empty(), "{name}");
            let mut traffic = Traffic::new(1);
            let t0 = Timestamp::now();
            for ms in (0..=3000).step_by(100) {
                traffic.tick(
                    &rollouts,
                    &replica_sets,
                    t0 + jiff::SignedDuration::from_millis(ms),
                    1.0,
                );
            }
            let text = traffic.render();
            for ro in &rollouts {
                let workload = format!(
                    "destination_canonical_service=\"{}\"",
                    ro["metadata"]["name"].as_str().unwrap()
                );
                assert!(
                    text.contains(&workload),
                    "{name}: no traffic for {workload}"
                );
            }
        }
    }

    #[test]
    fn an_unknown_scenario_names_the_known_ones() {
        let err = seed("nope").unwrap_err();
        for name in NAMES {
            assert!(err.contains(name), "{err}");
        }
    }
}
