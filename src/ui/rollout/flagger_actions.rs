//! What each button does for a Flagger canary, or why it cannot: Approve opens the gate
//! Flagger waits on, Rollback its rollback gate, Pause/Resume its `spec.suspend`, Promote
//! full its `spec.skipAnalysis`. A button whose webhook is missing says which one to add.
//! A gate's load tester may live in another namespace: the proxy permission is judged there.

use crate::model::flagger::{FlaggerDetail, Webhook};
use crate::model::{RolloutView, Verb};
use crate::ui::events::Access;

/// Where the door asks `create services/proxy` for `verb` when that is not the canary's
/// namespace (the load tester its gate calls lives elsewhere), and the permissions `verb` is
/// then judged by: the canary namespace's, with the proxy permission as answered there.
/// Err(namespace): that namespace has not answered yet.
pub fn with_load_tester(
    view: &RolloutView,
    verb: Verb,
    access: Access,
    load_testers: &[(String, Option<Access>)],
) -> Result<(Access, Option<String>), String> {
    let canary_namespace = &view.reference.namespace;
    let Some(namespace) = view
        .flagger
        .as_ref()
        .and_then(|f| f.gate_for(verb))
        .map(|hook| hook.service_namespace(canary_namespace))
        .filter(|ns| ns != canary_namespace)
    else {
        return Ok((access, None));
    };
    match load_testers.iter().find(|(ns, _)| *ns == namespace) {
        Some((_, Some(there))) => Ok((
            Access {
                create_service_proxy: there.create_service_proxy,
                ..access
            },
            Some(namespace),
        )),
        _ => Err(namespace),
    }
}

/// The permissions known in the namespaces of `view`'s load testers outside its own.
pub fn load_testers(
    view: &RolloutView,
    access_in: impl Fn(&str) -> Option<Access>,
) -> Vec<(String, Option<Access>)> {
    view.flagger
        .as_ref()
        .map(|f| f.load_tester_namespaces(&view.reference.namespace))
        .unwrap_or_default()
        .into_iter()
        .map(|ns| {
            let access = access_in(&ns);
            (ns, access)
        })
        .collect()
}

/// "add a confirm-promotion webhook (url http://flagger-loadtester.NS/gate/check)".
fn add_webhook(view: &RolloutView, kind: &str, path: &str) -> String {
    format!(
        "add a {kind} webhook to the canary's analysis (url \
         http://flagger-loadtester.{}/{path}) to do this from here",
        view.reference.namespace
    )
}

/// Only the load tester's check routes can be opened (a `/gate/halt` or a custom hook can't).
fn openable(hook: &Webhook, check: &str) -> Result<(), String> {
    if hook.url.ends_with(check) {
        Ok(())
    } else {
        Err(format!(
            "its {} webhook \"{}\" calls {}; point it at the load tester's {check} so the \
             cockpit can open it",
            hook.kind, hook.name, hook.url
        ))
    }
}

pub fn approve(view: &RolloutView, f: &FlaggerDetail) -> Result<String, String> {
    let gates = [
        "confirm-rollout",
        "confirm-traffic-increase",
        "confirm-promotion",
    ];
    if !gates.iter().any(|g| f.webhook(g).is_some()) {
        return Err(format!(
            "Flagger advances by itself: this canary has no confirm-* gate; {}",
            add_webhook(view, "confirm-promotion", "gate/check")
        ));
    }
    match f.waiting_gate() {
        Some(gate) => {
            openable(gate, "/gate/check")?;
            Ok(format!(
                "open the {} gate \"{}\" Flagger waits on at {} (weight {}%)",
                gate.kind, gate.name, f.phase, f.canary_weight
            ))
        }
        None => match f.phase.as_str() {
            "Waiting" => Err(add_webhook(view, "confirm-rollout", "gate/check")),
            "WaitingPromotion" => Err(add_webhook(view, "confirm-promotion", "gate/check")),
            phase => Err(format!(
                "nothing to approve: Flagger is {phase} (weight {}%), waiting on no gate",
                f.canary_weight
            )),
        },
    }
}

pub fn abort(view: &RolloutView, f: &FlaggerDetail) -> Result<String, String> {
    let Some(hook) = f.webhook("rollback") else {
        return Err(format!(
            "this canary has no rollback webhook; {}",
            add_webhook(view, "rollback", "rollback/check")
        ));
    };
    openable(hook, "/rollback/check")?;
    if !matches!(
        f.phase.as_str(),
        "Progressing" | "Waiting" | "WaitingPromotion"
    ) {
        return Err(format!(
            "nothing to roll back: Flagger is {}; it calls its rollback webhook only during \
             the analysis",
            f.phase
        ));
    }
    Ok(format!(
        "open the rollback gate \"{}\": Flagger routes all traffic to {}-primary and fails \
         the canary (weight {}% → 0%)",
        hook.name, f.target, f.canary_weight
    ))
}

pub fn promote_full(f: &FlaggerDetail) -> Result<String, String> {
    if f.skip_analysis {
        return Err("spec.skipAnalysis is already set: Flagger promotes without checks".into());
    }
    if !matches!(
        f.phase.as_str(),
        "Progressing" | "Waiting" | "WaitingPromotion"
    ) {
        return Err(format!("nothing to promote: Flagger is {}", f.phase));
    }
    Ok(format!(
        "set spec.skipAnalysis: Flagger promotes {} without further checks (weight {}% → \
         100%)",
        f.target, f.canary_weight
    ))
}

pub fn pause(f: &FlaggerDetail) -> Result<String, String> {
    if f.suspended {
        return Err("already suspended: Resume continues".into());
    }
    Ok("suspend: set spec.suspend, Flagger stops the analysis where it is".into())
}

pub fn resume(f: &FlaggerDetail) -> Result<String, String> {
    if !f.suspended {
        return Err("not suspended: nothing to resume (Approve opens a gate)".into());
    }
    Ok("resume: clear spec.suspend, Flagger continues the analysis".into())
}

/// Retry, Restart and Undo: Flagger owns them.
pub fn not_flaggers(what: &str) -> Result<String, String> {
    Err(format!(
        "Flagger has no {what}: change the target Deployment and Flagger analyses it as a new \
         revision"
    ))
}

/// The slider: Flagger owns the weight.
pub fn set_weight(f: &FlaggerDetail) -> Result<String, String> {
    Err(format!(
        "Flagger has no manual weight: it moves canaryWeight itself each analysis interval \
         ({}); live weight {}%",
        f.interval, f.canary_weight
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::flagger::view_of;
    use crate::model::gateway::Side;
    use serde_json::json;

    fn view(phase: &str, hooks: serde_json::Value) -> RolloutView {
        let canary = json!({
            "metadata": {"name": "podinfo", "namespace": "test"},
            "spec": {"analysis": {"interval": "30s", "stepWeight": 10, "maxWeight": 50,
                "webhooks": hooks}},
            "status": {"phase": phase, "canaryWeight": 50},
        });
        view_of("lab", &canary, &Side::default(), &Side::default())
    }

    /// podinfo in `demo` whose gates call the load tester in `test`, waiting for promotion.
    fn gated_elsewhere() -> RolloutView {
        let canary = json!({
            "metadata": {"name": "podinfo", "namespace": "demo"},
            "spec": {"analysis": {"interval": "30s", "stepWeight": 10, "maxWeight": 50,
                "webhooks": [
                    {"name": "promotion gate", "type": "confirm-promotion",
                        "url": "http://flagger-loadtester.test/gate/check"},
                    {"name": "rollback gate", "type": "rollback",
                        "url": "http://flagger-loadtester.test:8080/rollback/check"}]}},
            "status": {"phase": "WaitingPromotion", "canaryWeight": 50},
        });
        view_of("lab-dev", &canary, &Side::default(), &Side::default())
    }

    /// The window judges Approve and Rollback by `create services/proxy` in the load tester's
    /// namespace, as the door does: allowed in the canary's namespace is not enough.
    #[test]
    fn gates_of_a_load_tester_elsewhere_are_judged_in_its_namespace() {
        use crate::ui::rollout::actions::{self, Gate, GateInput};
        let view = gated_elsewhere();
        let no_proxy = Access {
            create_service_proxy: false,
            ..Access::ALL
        };
        let known_in = |namespace: &str| match namespace {
            "test" => Some(no_proxy),
            _ => None,
        };
        let input = |load_testers| GateInput {
            view: &view,
            access: Some(Access::ALL),
            read_only: false,
            user: Some("dev"),
            load_testers,
        };
        assert_eq!(
            load_testers(&view, known_in),
            vec![("test".to_string(), Some(no_proxy))]
        );

        let denied = input(load_testers(&view, known_in));
        for (verb, by_phase) in [
            (Verb::Promote, actions::approve(&view)),
            (Verb::Abort, actions::abort(&view)),
        ] {
            assert!(by_phase.is_ok(), "{by_phase:?}");
            assert_eq!(
                denied.gate(verb, by_phase),
                Gate::Disabled(format!(
                    "dev may not {verb}: missing permission \"create services/proxy\" in \
                     namespace test of lab-dev"
                ))
            );
        }
        // Suspending patches the Canary: the load tester's namespace does not matter.
        assert!(matches!(
            denied.gate(Verb::Pause, actions::pause(&view)),
            Gate::Enabled(_)
        ));

        let unknown = input(load_testers(&view, |_| None));
        assert_eq!(
            unknown.gate(Verb::Promote, actions::approve(&view)),
            Gate::Disabled(
                "checking your permissions in namespace test (the load tester's) of lab-dev…"
                    .into()
            )
        );

        // Allowed there and not in the canary's namespace: the door asks only there.
        let allowed = GateInput {
            access: Some(no_proxy),
            ..input(vec![("test".to_string(), Some(Access::ALL))])
        };
        assert!(matches!(
            allowed.gate(Verb::Promote, actions::approve(&view)),
            Gate::Enabled(_)
        ));
    }

    #[test]
    fn buttons_say_which_webhook_to_add() {
        let bare = view("WaitingPromotion", json!([]));
        let f = bare.flagger.as_ref().expect("flagger");
        let why = approve(&bare, f).unwrap_err();
        assert!(why.contains("add a confirm-promotion webhook"), "{why}");
        let why = abort(&bare, f).unwrap_err();
        assert!(why.contains("add a rollback webhook"), "{why}");
        assert!(
            set_weight(f)
                .unwrap_err()
                .contains("Flagger has no manual weight")
        );

        let gated = view(
            "WaitingPromotion",
            json!([{"name": "promotion gate", "type": "confirm-promotion",
                "url": "http://flagger-loadtester.test/gate/check"}]),
        );
        let f = gated.flagger.as_ref().expect("flagger");
        let what = approve(&gated, f).expect("approvable");
        assert!(what.contains("\"promotion gate\""), "{what}");
    }
}
