use super::*;
use crate::ui::fixtures;

fn fleet() -> BTreeMap<String, Vec<RolloutView>> {
    let a = fixtures::checkout_paused_at(1);
    let mut b = fixtures::checkout_paused_at(4);
    b.reference.name = "payments".into();
    b.reference.namespace = "billing".into();
    b.pause_reasons.clear();
    b.controller_pause = false;
    let mut c = fixtures::checkout_paused_at(2);
    c.reference.context = "lab-viewer".into();
    BTreeMap::from([
        ("lab-admin".to_string(), vec![a, b]),
        ("lab-viewer".to_string(), vec![c]),
    ])
}

fn names(rows: &[&RolloutView]) -> Vec<String> {
    rows.iter()
        .map(|v| format!("{}@{}", v.reference.name, v.reference.context))
        .collect()
}

#[test]
fn age_is_the_objects_and_in_phase_how_long_it_has_been_so() {
    let mut view = fixtures::checkout();
    view.created_at = Some("2026-11-20T10:00:00Z".into());
    view.since = Some("2026-11-22T09:00:00Z".into());
    let now = theme::parse_time("2026-11-22T10:00:00Z").expect("time");
    assert_eq!(theme::age(age_secs(&view, now)), "2d0h");
    assert_eq!(theme::age(in_phase_secs(&view, now)), "1h00m");
}

#[test]
fn filters_by_context_namespace_and_search() {
    let fleet = fleet();
    let all = FleetFilter::default();
    assert_eq!(
        visible_rows(&fleet, |_| true, &all, &HashMap::new(), 0.0).len(),
        3
    );
    let admin_only = visible_rows(&fleet, |c| c == "lab-admin", &all, &HashMap::new(), 0.0);
    assert_eq!(
        names(&admin_only),
        ["checkout@lab-admin", "payments@lab-admin"]
    );
    let shop = FleetFilter {
        namespace: Some("billing".into()),
        ..FleetFilter::default()
    };
    assert_eq!(
        names(&visible_rows(&fleet, |_| true, &shop, &HashMap::new(), 0.0)),
        ["payments@lab-admin"]
    );
    let search = FleetFilter {
        search: "CHECKOUT:1.8".into(),
        ..FleetFilter::default()
    };
    assert_eq!(
        visible_rows(&fleet, |_| true, &search, &HashMap::new(), 0.0).len(),
        3
    );
    let search = FleetFilter {
        search: "pay".into(),
        ..FleetFilter::default()
    };
    assert_eq!(
        visible_rows(&fleet, |_| true, &search, &HashMap::new(), 0.0).len(),
        1
    );
}

#[test]
fn sorts_by_weight_and_waiting_both_ways() {
    let fleet = fleet();
    let mut filter = FleetFilter {
        sort: SortKey::Weight,
        ..FleetFilter::default()
    };
    let weights = |f: &FleetFilter| {
        visible_rows(&fleet, |_| true, f, &HashMap::new(), 0.0)
            .iter()
            .map(|v| v.actual_weight)
            .collect::<Vec<_>>()
    };
    assert_eq!(weights(&filter), [20, 40, 60]);
    filter.descending = true;
    assert_eq!(weights(&filter), [60, 40, 20]);
    filter.sort = SortKey::Waiting;
    filter.descending = false;
    let rows = visible_rows(&fleet, |_| true, &filter, &HashMap::new(), 0.0);
    assert!(
        rows[0].waiting_for_human(),
        "checkout waits at a pause step"
    );
    assert!(!rows[1].waiting_for_human() && !rows[2].waiting_for_human());
}

#[test]
fn sorts_by_verdict_worst_first_and_unjudged_last() {
    let fleet = fleet();
    let all: Vec<&RolloutView> = fleet.values().flatten().collect();
    let verdict = |verdict: &str, score: f64| VerdictView {
        verdict: verdict.into(),
        score,
        reasons: Vec::new(),
        metrics: Vec::new(),
        metric_status: Vec::new(),
    };
    let verdicts = HashMap::from([
        (all[0].reference.clone(), verdict("pass", 95.0)),
        (all[2].reference.clone(), verdict("fail", 10.0)),
    ]);
    let mut filter = FleetFilter {
        sort: SortKey::Verdict,
        ..FleetFilter::default()
    };
    let order = |f: &FleetFilter| {
        visible_rows(&fleet, |_| true, f, &verdicts, 0.0)
            .iter()
            .map(|v| v.reference.clone())
            .collect::<Vec<_>>()
    };
    let worst_first = order(&filter);
    assert_eq!(
        worst_first,
        [
            all[2].reference.clone(),
            all[0].reference.clone(),
            all[1].reference.clone()
        ]
    );
    filter.descending = true;
    assert_eq!(order(&filter)[0], all[1].reference);
}
