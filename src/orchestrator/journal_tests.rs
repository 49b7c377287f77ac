use super::*;

fn intent(id: &str) -> Intent {
    Intent {
        id: id.into(),
        time: "2026-11-22T03:00:00Z".parse().expect("time"),
        user: "lab-admin".into(),
        rollout: RolloutRef::new("lab-admin", "demo", "checkout"),
        verb: Verb::Promote,
        from_step: Some(1),
        to_step: Some(2),
        weight: Some(40),
        comment: Some("metrics look fine".into()),
        tool: Tool::Cli,
        pid: None,
        pin: None,
    }
}

fn completion(id: &str, result: CommandResult) -> Completion {
    Completion {
        id: id.into(),
        time: "2026-11-22T03:00:01Z".parse().expect("time"),
        result,
        step: Some(2),
        resource_version: Some("42".into()),
        message: "promoted: step 1 → 2 (weight 40%)".into(),
    }
}

#[test]
fn lines_are_json_with_a_kind_and_read_back_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::at(dir.path().join("j/journal.jsonl"), DEFAULT_ROTATE_BYTES);
    journal.append(&Entry::Intent(intent("a"))).expect("append");
    journal
        .append(&Entry::Outcome(completion("a", CommandResult::Done)))
        .expect("append");
    let text = std::fs::read_to_string(journal.path()).expect("read");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["kind"], "intent");
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["fromStep"], 1);
    assert_eq!(lines[0]["tool"], "cli");
    assert_eq!(lines[0]["rollout"]["name"], "checkout");
    assert_eq!(lines[1]["kind"], "outcome");
    assert_eq!(lines[1]["result"], "done");
    assert_eq!(
        journal.entries().expect("entries"),
        vec![
            Entry::Intent(intent("a")),
            Entry::Outcome(completion("a", CommandResult::Done))
        ]
    );
}

#[test]
fn an_intent_without_an_outcome_is_unfinished() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::at(dir.path().join("journal.jsonl"), DEFAULT_ROTATE_BYTES);
    assert!(unfinished(&journal).expect("empty journal").is_empty());
    for id in ["a", "b", "c"] {
        journal.append(&Entry::Intent(intent(id))).expect("append");
    }
    journal
        .append(&Entry::Outcome(completion("a", CommandResult::Done)))
        .expect("append");
    journal
        .append(&Entry::Outcome(completion("c", CommandResult::Unknown)))
        .expect("append");
    let open: Vec<String> = unfinished(&journal)
        .expect("read")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(open, ["b"]);
}

#[test]
fn rotation_keeps_one_older_file_and_unfinished_looks_in_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::at(dir.path().join("journal.jsonl"), 600);
    journal
        .append(&Entry::Intent(intent("old")))
        .expect("append");
    for i in 0..6 {
        let id = format!("n{i}");
        journal.append(&Entry::Intent(intent(&id))).expect("append");
        journal
            .append(&Entry::Outcome(completion(&id, CommandResult::Done)))
            .expect("append");
    }
    assert!(journal.rotated_path().exists(), "rotated past 600 bytes");
    let size = std::fs::metadata(journal.path()).expect("meta").len();
    assert!(size <= 600, "current file stays under the limit: {size}");
    // The first intent was rotated away with the last rotation or is still in journal.1:
    // either way no line of the current pair of files is torn.
    let all = journal.entries().expect("entries");
    let text = std::fs::read_to_string(journal.path()).expect("read")
        + &std::fs::read_to_string(journal.rotated_path()).expect("read rotated");
    assert_eq!(all.len(), text.lines().count());
    let open = unfinished(&journal).expect("read");
    assert!(open.iter().all(|i| i.id == "old"));
}

#[test]
fn concurrent_writers_never_tear_a_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::at(dir.path().join("journal.jsonl"), DEFAULT_ROTATE_BYTES);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let journal = journal.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let id = format!("t{t}-{i}");
                    journal.append(&Entry::Intent(intent(&id))).expect("append");
                    journal
                        .append(&Entry::Outcome(completion(&id, CommandResult::MovedOn)))
                        .expect("append");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer");
    }
    let text = std::fs::read_to_string(journal.path()).expect("read");
    assert_eq!(text.lines().count(), 400);
    assert_eq!(journal.entries().expect("entries").len(), 400);
    assert!(unfinished(&journal).expect("read").is_empty());
}

#[test]
fn a_torn_last_line_is_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::at(dir.path().join("journal.jsonl"), DEFAULT_ROTATE_BYTES);
    journal.append(&Entry::Intent(intent("a"))).expect("append");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(journal.path())
        .expect("open");
    file.write_all(b"{\"kind\":\"outcome\",\"id\":\"a\",\"ti")
        .expect("write");
    assert_eq!(unfinished(&journal).expect("read").len(), 1);
}

#[test]
fn ids_are_unique_and_ordered_by_time() {
    let t1: jiff::Timestamp = "2026-11-22T03:00:00Z".parse().expect("time");
    let t2: jiff::Timestamp = "2026-11-22T03:00:01Z".parse().expect("time");
    let a = new_id(t1);
    let b = new_id(t1);
    assert_ne!(a, b);
    assert!(new_id(t2) > a);
}

#[test]
fn crashed_skips_commands_whose_process_still_runs_and_acknowledge_reports_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::at(dir.path().join("journal.jsonl"), DEFAULT_ROTATE_BYTES);
    let mut running = intent("running");
    running.pid = Some(std::process::id());
    let mut gone = intent("gone");
    // A child that has exited: its pid is free again.
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    gone.pid = Some(child.id());
    child.wait().expect("wait");
    journal.append(&Entry::Intent(running)).expect("append");
    journal.append(&Entry::Intent(gone)).expect("append");
    journal
        .append(&Entry::Intent(intent("no-pid")))
        .expect("append");
    let found: Vec<String> = crashed(&journal)
        .expect("read")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(found, ["gone", "no-pid"]);
    acknowledge(&journal, &crashed(&journal).expect("read")).expect("acknowledge");
    assert!(crashed(&journal).expect("read").is_empty());
    let open: Vec<String> = unfinished(&journal)
        .expect("read")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(open, ["running"]);
    let last = journal.entries().expect("entries").pop();
    assert!(matches!(last, Some(Entry::Outcome(c)) if c.result == CommandResult::Unknown));
}
