//! What each button does for a Flagger canary, or why it cannot: Approve opens the gate
//! Flagger waits on, Rollback its rollback gate, Pause/Resume its `spec.suspend`, Promote
//! full its `spec.skipAnalysis`. A button whose webhook is missing says which one to add.

use crate::model::RolloutView;
use crate::model::flagger::{FlaggerDetail, Webhook};

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
