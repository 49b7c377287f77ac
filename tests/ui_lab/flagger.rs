//! A Flagger canary in the real window against the lab: podinfo joins the fleet and, waiting
//! at its gate, the inbox; its weight slider is read-only with Flagger's reason, Approve +
//! Confirm opens the load tester gate Flagger waits on (through the same dialog as Argo's),
//! Flagger promotes it, and its Events and the approval show in the activity panel. The lab
//! runs 60 times faster.

use super::*;
use release_cockpit::model::Provider;

fn podinfo_phase(fixture: &LabFixture) -> String {
    fixture
        .lab()
        .store()
        .get(Kind::Canary, "test", "podinfo")
        .and_then(|c| c["status"]["phase"].as_str().map(String::from))
        .unwrap_or_default()
}

#[test]
fn approve_on_podinfo_opens_flaggers_gate_and_flagger_promotes_it() {
    let fixture = LabFixture::start_at_speed(60.0);
    let mut w = fixture.window("lab-admin");
    let podinfo = RolloutRef {
        provider: Provider::Flagger,
        ..RolloutRef::new("lab-admin", "test", "podinfo")
    };
    w.wait_until("podinfo in the fleet", 30, |app| {
        app.state
            .fleet
            .get("lab-admin")
            .is_some_and(|rows| rows.iter().any(|v| v.reference == podinfo))
    });
    // The fleet's Controller column names who moves each release's traffic.
    w.harness.run_steps(2);
    assert!(
        w.harness.query_all_by_label("Flagger").count() >= 2,
        "podinfo and frontend say Flagger"
    );
    // Waiting at its promotion gate, podinfo is in the inbox of who needs a person; the
    // inbox row (namespace/name) selects it.
    w.wait_until("podinfo in the inbox", 30, |app| {
        app.state.inbox.iter().any(|row| row.rollout == podinfo)
    });
    w.click("test/podinfo");
    w.wait_until("podinfo selected at its promotion gate", 30, |app| {
        app.state
            .selected_view()
            .and_then(|v| v.flagger.as_ref())
            .is_some_and(|f| f.phase == "WaitingPromotion")
    });
    let slider = w.harness.get_by_role_and_label(Role::Slider, "Weight");
    assert!(
        slider.accesskit_node().is_disabled(),
        "Flagger owns the weight"
    );
    assert!(
        w.harness
            .query_by_label_contains("Flagger has no manual weight")
            .is_some(),
        "the reason is on screen"
    );
    // Flagger has no retry: the button is there, disabled, and says why on hover.
    assert!(
        w.harness
            .get_by_label("Retry")
            .accesskit_node()
            .is_disabled()
    );

    w.wait_until("the permission check of namespace test", 20, |app| {
        app.state
            .access
            .contains_key(&("lab-admin".to_string(), "test".to_string()))
    });
    w.click("Approve");
    w.click("Confirm");
    let outcome = w.next_outcome(&podinfo, 0, "the approval's outcome");
    assert!(
        outcome.contains("opened confirm-promotion gate \"promotion gate\""),
        "{outcome}"
    );
    assert!(
        fixture
            .lab()
            .load_tester()
            .is_open("podinfo", "test", false)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while podinfo_phase(&fixture) != "Succeeded" {
        assert!(
            Instant::now() < deadline,
            "podinfo never succeeded: {}",
            podinfo_phase(&fixture)
        );
        w.harness.step();
        std::thread::sleep(Duration::from_millis(50));
    }
    w.wait_until(
        "Flagger's promotion and the approval in the activity",
        20,
        |app| {
            app.state.activity.get(&podinfo).is_some_and(|entries| {
                entries
                    .iter()
                    .any(|e| e.verb == "Synced" && e.detail.contains("Promotion completed!"))
                    && entries
                        .iter()
                        .any(|e| e.verb == "promote" && e.user == "lab-admin")
            })
        },
    );
}
