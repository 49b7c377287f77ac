//! `analyze` and `auto` end to end: the real binary against an in-process lab at speed 10,
//! reading the lab's `/metrics` by direct scrape (the kubeconfig extension names it), with a
//! short-window test policy. `auto` aborts `inventory` (its canary starts failing), carries
//! `checkout` to Healthy, and on a latency regression judged marginal waits until a person
//! promotes from the CLI; on the Flagger canary podinfo it opens the confirm-promotion gate.
//! `analyze` exits 0 / 1 / 3 / 4 on pass / fail / marginal / no data.
//! `auto cart` drives the weighted (Gateway API) release the same way: to weight 100 when
//! healthy, canary weight 0 when its canary fails (the error-spike scenario).

#[path = "support/lab.rs"]
mod support;
#[path = "support/webhook.rs"]
mod webhook;

use release_cockpit::lab::{Kind, Lab, LabOptions};
use release_cockpit::model::{Tool, Verb};
use release_cockpit::orchestrator::journal::Entry;
use release_cockpit::orchestrator::{Intent, Journal};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

const ADMIN: &str = "lab-admin";
const SPEED: f64 = 10.0;

/// Short windows: 8 s judged, 5 samples a side at least, rules over 3 s held for 2 s.
const FAST_POLICY: &str = "window_secs = 8\nmin_samples = 5\nrecent_secs = 0\n\
    [success_rate]\nfor_secs = 3\n\
    [metrics.error_rate]\nsmooth_secs = 3\nfor_secs = 2\n\
    [metrics.p95_ms]\nsmooth_secs = 3\nfor_secs = 2\n";

/// [`FAST_POLICY`] where latency is not critical and weighs 20 of 100: a latency regression
/// alone scores 80, marginal.
const MARGINAL_POLICY: &str = "window_secs = 8\nmin_samples = 5\nrecent_secs = 0\n\
    [groups]\nerrors = 80\nlatency = 20\n\
    [success_rate]\nfor_secs = 3\n\
    [metrics.error_rate]\nsmooth_secs = 3\nfor_secs = 2\n\
    [metrics.p95_ms]\ncritical = false\nworse_than_stable_pct = \"off\"\nsmooth_secs = 3\nfor_secs = 2\n";

/// Flags that make `auto` and `analyze` sample every second with 2 s rates.
const SAMPLING: &[&str] = &["--step", "1s", "--rate-window", "2s"];

struct TestLab {
    lab: Lab,
    dir: tempfile::TempDir,
    data: tempfile::TempDir,
}

impl TestLab {
    /// A lab at [`SPEED`] whose rollouts in `busy` take 1000 requests a second, so that a
    /// 2 s sample of a 10 % canary holds hundreds of requests.
    async fn start(scenario: &str, busy: &[&str]) -> TestLab {
        let support::LabDirs { lab, dir, data } = support::LabDirs::start(LabOptions {
            scenario: scenario.into(),
            speed: SPEED,
            ..support::options()
        })
        .await;
        let t = TestLab { lab, dir, data };
        let client = release_cockpit::cluster::LoadedKubeconfig::load(Some(&t.kubeconfig()))
            .expect("kubeconfig")
            .client(ADMIN)
            .await
            .expect("client");
        let api: kube::Api<release_cockpit::model::Rollout> = kube::Api::namespaced(client, "demo");
        let busy_rate = serde_json::json!({"metadata": {"annotations": {
            release_cockpit::lab::traffic::RATE_ANNOTATION: "1000"}}});
        for name in busy {
            api.patch(
                name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(&busy_rate),
            )
            .await
            .expect("request rate set");
        }
        t
    }

    /// The weighted release `cart` takes 1000 requests a second (its route's annotation).
    async fn busy_cart(&self) {
        let client = release_cockpit::cluster::LoadedKubeconfig::load(Some(&self.kubeconfig()))
            .expect("kubeconfig")
            .client(ADMIN)
            .await
            .expect("client");
        let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
            client,
            "demo",
            &release_cockpit::cluster::http_route_resource(),
        );
        let busy_rate = serde_json::json!({"metadata": {"annotations": {
            release_cockpit::lab::traffic::RATE_ANNOTATION: "1000"}}});
        api.patch(
            "cart",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&busy_rate),
        )
        .await
        .expect("request rate set");
    }

    fn route(&self, name: &str) -> Value {
        self.lab
            .store()
            .get(Kind::HttpRoute, "demo", name)
            .expect("route in the lab")
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn policy(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("policy written");
        path
    }

    /// The commands journaled by the CLI runs of this test.
    fn journal_intents(&self) -> Vec<Intent> {
        Journal::at(self.data.path().join("journal.jsonl"), 10 << 20)
            .entries()
            .expect("journal")
            .into_iter()
            .filter_map(|e| match e {
                Entry::Intent(i) => Some(i),
                Entry::Outcome(_) | Entry::Stage(_) => None,
            })
            .collect()
    }

    fn rollout(&self, name: &str) -> Value {
        self.lab
            .store()
            .get(Kind::Rollout, "demo", name)
            .expect("rollout in the lab")
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        self.command_in("demo", args)
    }

    fn command_in(&self, namespace: &str, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_release-cockpit"));
        cmd.arg("--kubeconfig")
            .arg(self.kubeconfig())
            .args(["--context", ADMIN, "-n", namespace])
            .args(args)
            .env("RELEASE_COCKPIT_DATA_DIR", self.data.path())
            .env_remove("RELEASE_COCKPIT_READ_ONLY")
            .env_remove("RELEASE_COCKPIT_REQUIRE_COMMENT")
            .kill_on_drop(true);
        cmd
    }

    /// [`TestLab::cli`] with owned arguments (for `join!`).
    async fn run(&self, args: Vec<&str>) -> Output {
        self.cli(&args).await
    }

    /// Runs the binary to the end (60 s at most): (exit code, stdout, stderr).
    async fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_env(args, &[]).await
    }

    /// [`TestLab::cli`] with environment variables set for the run.
    async fn cli_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        run_to_end(command).await
    }

    /// [`TestLab::cli`] in namespace `namespace`.
    async fn cli_in(&self, namespace: &str, args: &[&str]) -> Output {
        run_to_end(self.command_in(namespace, args)).await
    }
}

/// Runs `command` to the end (60 s at most): (exit code, stdout, stderr).
async fn run_to_end(mut command: tokio::process::Command) -> Output {
    let out = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the CLI finished within 60 s")
        .expect("the CLI ran");
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    Output(
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// (exit code, stdout, stderr) of one run.
struct Output(i32, String, String);

fn auto_args<'a>(name: &'a str, policy: &'a str) -> Vec<&'a str> {
    let mut args = vec![
        "auto",
        name,
        "--policy",
        policy,
        "--interval",
        "1s",
        "--dwell",
        "3s",
        "--timeout",
        "50s",
        "--no-data-limit",
        "20s",
    ];
    args.extend_from_slice(SAMPLING);
    args
}

fn analyze_args<'a>(name: &'a str, policy: &'a str, window: &'a str) -> Vec<&'a str> {
    let mut args = vec!["analyze", name, "--policy", policy, "--window", window];
    args.extend_from_slice(SAMPLING);
    args
}

fn last_action(ro: &Value) -> Value {
    let text = ro["metadata"]["annotations"]["release-cockpit.io/last-action"]
        .as_str()
        .unwrap_or_else(|| panic!("no last-action annotation on {}", ro["metadata"]["name"]));
    serde_json::from_str(text).expect("last-action is JSON")
}

fn auto_status(ro: &Value) -> String {
    ro["metadata"]["annotations"]["release-cockpit.io/auto-status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The demo scenario: analyze judges checkout healthy (0), inventory failing (1) and search,
/// which has no canary, no data (4); then auto aborts inventory and carries checkout to
/// Healthy, both with tool `auto` in the audit trail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_aborts_inventory_and_promotes_checkout() {
    let t = TestLab::start("demo", &["checkout", "inventory", "search"]).await;
    let policy = t.policy("fast.toml", FAST_POLICY);
    let policy = policy.to_str().expect("utf-8 path");

    // inventory's canary fails from 6 s (60 lab seconds of traffic at speed 10).
    let (healthy, bad, none) = tokio::join!(
        t.run(analyze_args("checkout", policy, "8s")),
        t.run(analyze_args("inventory", policy, "14s")),
        t.run(analyze_args("search", policy, "3s")),
    );
    assert_eq!(healthy.0, 0, "checkout: {}{}", healthy.1, healthy.2);
    assert!(healthy.1.contains("verdict: pass"), "{}", healthy.1);
    assert!(
        healthy.2.contains("a scrape has no history"),
        "{}",
        healthy.2
    );
    assert_eq!(bad.0, 1, "inventory: {}{}", bad.1, bad.2);
    assert!(bad.1.contains("verdict: fail"), "{}", bad.1);
    assert!(bad.1.contains("error rate"), "{}", bad.1);
    assert_eq!(none.0, 4, "search: {}{}", none.1, none.2);
    assert!(none.1.contains("verdict: no data"), "{}", none.1);

    let json = t
        .cli(
            &[
                &["-o", "json"][..],
                &analyze_args("inventory", policy, "4s"),
            ]
            .concat(),
        )
        .await;
    assert_eq!(json.0, 1, "{}{}", json.1, json.2);
    let doc: Value = serde_json::from_str(&json.1).expect("analyze -o json is JSON");
    assert_eq!(doc["verdict"]["kind"], "fail");
    assert_eq!(doc["exit_code"], 1);
    assert_eq!(doc["rollout"], "demo/inventory");

    // auto tells a chat about the abort it sends: the webhook's URL from an env var.
    let received = webhook::Received::default();
    let url = webhook::webhook(received.clone()).await;
    let mut inventory_args = auto_args("inventory", policy);
    inventory_args.extend(["--notify-webhook-env", "AUTO_TEST_HOOK"]);
    let hook_env = [("AUTO_TEST_HOOK", url.as_str())];
    let (inventory, checkout) = tokio::join!(
        t.cli_with_env(&inventory_args, &hook_env),
        t.run(auto_args("checkout", policy)),
    );
    let bodies = received.bodies();
    let aborts: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["kind"] == "aborted" && b["name"] == "inventory")
        .collect();
    assert_eq!(aborts.len(), 1, "one abort notice: {bodies:?}");
    assert!(
        aborts[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("inventory")),
        "{bodies:?}"
    );
    assert!(
        !format!("{}{}", inventory.1, inventory.2).contains(&url),
        "the webhook URL is never printed"
    );

    eprintln!(
        "auto inventory:\n{}\nauto checkout:\n{}",
        inventory.1, checkout.1
    );
    assert_eq!(inventory.0, 1, "{}{}", inventory.1, inventory.2);
    assert!(
        inventory.1.contains(": abort — fail, score 0"),
        "{}",
        inventory.1
    );
    assert!(
        inventory.1.contains("done: rollout is aborted"),
        "{}",
        inventory.1
    );
    let ro = t.rollout("inventory");
    assert_eq!(ro["status"]["abort"], true, "{}", ro["status"]);
    let action = last_action(&ro);
    assert_eq!(action["tool"], "auto");
    assert_eq!(action["verb"], "abort");
    let comment = action["comment"].as_str().unwrap_or_default();
    assert!(comment.starts_with("auto: fail, score 0: "), "{comment}");
    assert!(auto_status(&ro).starts_with("auto finished: done: rollout is aborted"));
    let (events, _) = t.lab.store().list(Kind::Event, Some("demo"));
    let abort_event = events
        .iter()
        .find(|e| e["involvedObject"]["name"] == "inventory" && e["reason"] == "AbortedByUser")
        .expect("an AbortedByUser Event on inventory");
    assert!(
        abort_event["message"]
            .as_str()
            .unwrap_or_default()
            .contains("auto: fail"),
        "{abort_event}"
    );

    assert_eq!(checkout.0, 0, "{}{}", checkout.1, checkout.2);
    assert!(
        checkout.1.contains("step 1/8: promote — pass"),
        "{}",
        checkout.1
    );
    assert!(
        checkout.1.contains("done: rollout is Healthy"),
        "{}",
        checkout.1
    );
    let ro = t.rollout("checkout");
    assert_eq!(ro["status"]["phase"], "Healthy", "{}", ro["status"]);
    assert_eq!(
        ro["status"]["stableRS"], ro["status"]["currentPodHash"],
        "the canary is the new stable"
    );
    let action = last_action(&ro);
    assert_eq!(
        (&action["tool"], &action["verb"]),
        (&Value::from("auto"), &Value::from("promote"))
    );
    assert_eq!(action["fromStep"], 1);
    t.lab.shutdown().await;
}

/// latency-regression judged with latency non-critical: marginal. analyze exits 3 (and 1
/// with the fast policy, where p95 is critical); auto waits, shows why in the auto-status
/// annotation, and carries on when a person promotes from the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marginal_canary_waits_for_a_person() {
    let t = TestLab::start("latency-regression", &["checkout"]).await;
    let marginal = t.policy("marginal.toml", MARGINAL_POLICY);
    let marginal = marginal.to_str().expect("utf-8 path");
    let fast = t.policy("fast.toml", FAST_POLICY);
    let fast = fast.to_str().expect("utf-8 path");

    let (judged_marginal, judged_fail) = tokio::join!(
        t.run(analyze_args("checkout", marginal, "6s")),
        t.run(analyze_args("checkout", fast, "6s")),
    );
    assert_eq!(
        judged_marginal.0, 3,
        "{}{}",
        judged_marginal.1, judged_marginal.2
    );
    assert!(
        judged_marginal.1.contains("verdict: marginal (score 80"),
        "{}",
        judged_marginal.1
    );
    assert_eq!(judged_fail.0, 1, "{}{}", judged_fail.1, judged_fail.2);
    assert!(judged_fail.1.contains("p95"), "{}", judged_fail.1);

    let auto = t
        .command(&auto_args("checkout", marginal))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("auto starts");
    let waiting = "waiting for approval: marginal verdict, score 80";
    wait_until(&t, "auto to wait for approval", |ro| {
        auto_status(ro) == waiting
    })
    .await;
    let ro = t.rollout("checkout");
    assert_eq!(ro["status"]["currentStepIndex"], 1, "auto did not move it");
    assert!(ro["metadata"]["annotations"]["release-cockpit.io/last-action"].is_null());

    let human = t
        .cli(&[
            "promote",
            "checkout",
            "--step",
            "1",
            "--comment",
            "looked fine",
        ])
        .await;
    assert_eq!(human.0, 0, "{}{}", human.1, human.2);
    wait_until(&t, "step 3", |ro| ro["status"]["currentStepIndex"] == 3).await;
    // Let auto judge step 3 (every second) before the person promotes the rest.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let human = t.cli(&["promote", "checkout", "--full"]).await;
    assert_eq!(human.0, 0, "{}{}", human.1, human.2);

    let out = tokio::time::timeout(Duration::from_secs(40), auto.wait_with_output())
        .await
        .expect("auto ends once the rollout is Healthy")
        .expect("auto ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("step 1/6: wait — {waiting}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("step 3/6: wait — {waiting}")),
        "{stdout}"
    );
    assert!(stdout.contains("done: rollout is Healthy"), "{stdout}");
    assert!(
        !stdout.contains("promote —") && !stdout.contains("abort —"),
        "{stdout}"
    );
    let action = last_action(&t.rollout("checkout"));
    assert_eq!(action["tool"], "cli", "the person promoted, not auto");
    // The auto-status went through the orchestration API: journaled with tool auto.
    let statuses: Vec<Intent> = t
        .journal_intents()
        .into_iter()
        .filter(|i| i.verb == Verb::AutoStatus)
        .collect();
    assert!(!statuses.is_empty(), "auto-status is journaled");
    assert!(
        statuses.iter().all(|i| i.tool == Tool::Auto),
        "{statuses:?}"
    );
    t.lab.shutdown().await;
}

/// `--read-only auto` judges and prints but writes nothing: no auto-status annotation, no
/// journal line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_auto_writes_nothing() {
    let t = TestLab::start("demo", &["checkout"]).await;
    let policy = t.policy("fast.toml", FAST_POLICY);
    let policy = policy.to_str().expect("utf-8 path");
    let mut args = vec!["--read-only"];
    args.extend(auto_args("checkout", policy));
    let timeout = args.iter().position(|a| *a == "50s").expect("timeout");
    args[timeout] = "6s";
    let out = t.cli(&args).await;
    assert_eq!(out.0, 1, "gave up at the timeout: {}{}", out.1, out.2);
    assert!(out.1.contains("wait —"), "it judged: {}", out.1);
    let ro = t.rollout("checkout");
    assert!(
        ro["metadata"]["annotations"]["release-cockpit.io/auto-status"].is_null(),
        "{}",
        ro["metadata"]["annotations"]
    );
    assert!(t.journal_intents().is_empty(), "nothing journaled");
    t.lab.shutdown().await;
}

/// (stable, canary) weights of a route.
fn weights(route: &Value) -> (i64, i64) {
    let refs = &route["spec"]["rules"][0]["backendRefs"];
    (
        refs[0]["weight"].as_i64().unwrap_or(-1),
        refs[1]["weight"].as_i64().unwrap_or(-1),
    )
}

/// `auto cart` walks the weighted release's steps like an Argo rollout's: a healthy cart
/// (demo) is promoted step by step to weight 100 and ends Healthy (exit 0); a cart whose
/// canary spikes errors (error-spike) is aborted, its canary weight 0 (exit 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_carries_a_healthy_cart_to_100_and_sets_a_failing_ones_canary_weight_to_0() {
    let (healthy, failing) = tokio::join!(
        TestLab::start("demo", &[]),
        TestLab::start("error-spike", &[])
    );
    tokio::join!(healthy.busy_cart(), failing.busy_cart());
    let policy = healthy.policy("fast.toml", FAST_POLICY);
    let policy = policy.to_str().expect("utf-8 path");
    let bad_policy = failing.policy("fast.toml", FAST_POLICY);
    let bad_policy = bad_policy.to_str().expect("utf-8 path");
    let (good, bad) = tokio::join!(
        healthy.run(auto_args("cart", policy)),
        failing.run(auto_args("cart", bad_policy)),
    );
    eprintln!(
        "auto cart (healthy):\n{}\nauto cart (failing):\n{}",
        good.1, bad.1
    );

    assert_eq!(good.0, 0, "{}{}", good.1, good.2);
    for step in ["step 0/4: promote — pass", "step 2/4: promote — pass"] {
        assert!(good.1.contains(step), "{}", good.1);
    }
    assert!(
        good.1.contains("done: rollout is Healthy (3/4)"),
        "{}",
        good.1
    );
    let route = healthy.route("cart");
    assert_eq!(weights(&route), (0, 100));
    assert_eq!(
        route["metadata"]["annotations"]["release-cockpit.io/step"],
        "3"
    );
    let action = last_action(&route);
    assert_eq!(
        (&action["tool"], &action["verb"], &action["toStep"]),
        (
            &Value::from("auto"),
            &Value::from("promote"),
            &Value::from(3)
        )
    );
    let promotes = healthy
        .journal_intents()
        .into_iter()
        .filter(|i| i.verb == Verb::Promote && i.tool == Tool::Auto)
        .map(|i| (i.from_step, i.to_step))
        .collect::<Vec<_>>();
    assert_eq!(
        promotes,
        vec![(Some(0), Some(1)), (Some(1), Some(2)), (Some(2), Some(3))],
        "one pinned promote per step"
    );

    assert_eq!(bad.0, 1, "{}{}", bad.1, bad.2);
    assert!(bad.1.contains(": abort — fail"), "{}", bad.1);
    assert!(bad.1.contains("done: rollout is aborted"), "{}", bad.1);
    let route = failing.route("cart");
    assert_eq!(weights(&route).1, 0, "all traffic back to stable");
    assert_eq!(
        route["metadata"]["annotations"]["release-cockpit.io/aborted"],
        "true"
    );
    let action = last_action(&route);
    assert_eq!(
        (&action["tool"], &action["verb"]),
        (&Value::from("auto"), &Value::from("abort"))
    );
    healthy.lab.shutdown().await;
    failing.lab.shutdown().await;
}

/// Polls the lab's checkout until `ready` (30 s at most).
async fn wait_until(t: &TestLab, what: &str, ready: impl Fn(&Value) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let ro = t.rollout("checkout");
        if ready(&ro) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never saw {what}: annotations {} status {}",
            ro["metadata"]["annotations"],
            ro["status"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A Flagger canary: analyze judges podinfo healthy; auto judges podinfo (200 requests a second: enough to judge, light
/// beside the other tests' labs running at the same time) while Flagger steps it, and once
/// Flagger waits at its confirm-promotion gate auto opens it; Flagger promotes podinfo and
/// auto ends with exit 0, its approval in the Canary's audit trail with tool `auto`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_opens_podinfos_promotion_gate_and_flagger_promotes_it() {
    let t = TestLab::start("demo", &[]).await;
    t.lab
        .store()
        .update(
            Kind::HttpRoute,
            "test",
            "podinfo",
            release_cockpit::lab::store::Part::Main,
            |route| {
                let mut busy = route.clone();
                busy["metadata"]["annotations"] = serde_json::json!({
                    release_cockpit::lab::traffic::RATE_ANNOTATION: "200"});
                Ok::<_, std::convert::Infallible>(busy)
            },
        )
        .expect("podinfo's route made busy");
    let policy = t.policy("fast.toml", FAST_POLICY);
    let policy = policy.to_str().expect("utf-8 path");
    // analyze judges the canary the same way: healthy, exit 0.
    let Output(code, out, err) = t
        .cli_in("test", &analyze_args("podinfo", policy, "8s"))
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let Output(code, out, err) = t.cli_in("test", &auto_args("podinfo", policy)).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("promote"), "{out}");
    let canary = t
        .lab
        .store()
        .get(Kind::Canary, "test", "podinfo")
        .expect("podinfo");
    assert_eq!(canary["status"]["phase"], "Succeeded", "{out}");
    let action = last_action(&canary);
    assert_eq!(
        (&action["verb"], &action["tool"]),
        (&Value::from("promote"), &Value::from("auto")),
        "{action}"
    );
    let promoted = t
        .journal_intents()
        .into_iter()
        .filter(|i| i.verb == Verb::Promote && i.tool == Tool::Auto)
        .count();
    assert_eq!(promoted, 1, "one approval, by auto");
    assert!(t.lab.load_tester().is_open("podinfo", "test", false));
}
