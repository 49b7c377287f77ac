use super::*;
use crate::model::{RolloutRef, Tool, Verb};

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
        to_revision: None,
        to_hash: None,
        stage: None,
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

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn the_journal_is_private_and_a_looser_one_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let fresh = Journal::at(
        dir.path().join("new/data/journal.jsonl"),
        DEFAULT_ROTATE_BYTES,
    );
    fresh.append(&Entry::Intent(intent("a"))).expect("append");
    assert_eq!(mode_of(fresh.path()), 0o600);
    assert_eq!(mode_of(&dir.path().join("new/data")), 0o700);
    assert_eq!(mode_of(&fresh.lock_path()), 0o600);

    // A journal left world-readable by an older version, in a world-readable directory.
    let old_dir = dir.path().join("old");
    std::fs::create_dir(&old_dir).expect("mkdir");
    std::fs::set_permissions(&old_dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let old = Journal::at(old_dir.join("journal.jsonl"), DEFAULT_ROTATE_BYTES);
    std::fs::write(old.path(), b"").expect("write");
    std::fs::set_permissions(old.path(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    old.append(&Entry::Intent(intent("b"))).expect("append");
    assert_eq!(mode_of(old.path()), 0o600);
    assert_eq!(mode_of(&old_dir), 0o700);
}

/// The child of [`two_processes_lose_no_line_and_rotation_loses_no_history`]: when this env
/// var names a journal, the test writes its share of commands there instead of testing.
/// The writer waits for the cross-process lock: while another holder (here the test, as a
/// second process would) has `journal.jsonl.lock`, an append writes nothing; once it is
/// released the line lands. Proves the lock is taken, which the two-writer race below only
/// makes likely.
#[test]
fn an_append_waits_while_another_holder_has_the_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::at(dir.path().join("journal.jsonl"), DEFAULT_ROTATE_BYTES);
    journal
        .append(&Entry::Intent(intent("first")))
        .expect("append");
    let holder = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(journal.lock_path())
        .expect("the lock file exists after a write");
    holder
        .lock()
        .expect("take the lock as another process would");
    let writer = {
        let journal = journal.clone();
        std::thread::spawn(move || journal.append(&Entry::Intent(intent("second"))))
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let held = std::fs::read_to_string(&journal.path).expect("read");
    assert_eq!(
        held.lines().count(),
        1,
        "nothing written while the lock is held"
    );
    assert!(!writer.is_finished(), "the writer waits for the lock");
    holder.unlock().expect("release");
    writer.join().expect("writer thread").expect("append");
    let after = std::fs::read_to_string(&journal.path).expect("read");
    assert_eq!(after.lines().count(), 2);
    assert!(after.contains("second"));
}

const CHILD_ENV: &str = "RC_JOURNAL_RACE_CHILD";
const RACE_COMMANDS: usize = 500;

#[test]
fn two_processes_lose_no_line_and_rotation_loses_no_history() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        let rotate: u64 = std::env::var("RC_JOURNAL_RACE_ROTATE")
            .expect("rotate")
            .parse()
            .expect("rotate bytes");
        let tag = std::env::var("RC_JOURNAL_RACE_TAG").expect("tag");
        let journal = Journal::at(path, rotate);
        for i in 0..RACE_COMMANDS {
            let id = format!("{tag}-{i:04}");
            journal.append(&Entry::Intent(intent(&id))).expect("append");
            journal
                .append(&Entry::Outcome(completion(&id, CommandResult::Done)))
                .expect("append");
        }
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("journal.jsonl");
    // Both processes write ~2000 lines; the limit is past half of them, so exactly one
    // rotation happens mid-race and the two files together must hold every line. Without
    // the lock and the size re-read under it, two writers rotate twice and .1 is clobbered.
    let line = |e: &Entry| serde_json::to_vec(e).expect("json").len() as u64 + 1;
    let pair = line(&Entry::Intent(intent("a-0000")))
        + line(&Entry::Outcome(completion("a-0000", CommandResult::Done)));
    let total = pair * 2 * RACE_COMMANDS as u64;
    let rotate = total * 3 / 5;
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|tag| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "orchestrator::journal::tests::two_processes_lose_no_line_and_rotation_loses_no_history",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, &path)
                .env("RC_JOURNAL_RACE_ROTATE", rotate.to_string())
                .env("RC_JOURNAL_RACE_TAG", tag)
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait").success(), "a writer failed");
    }
    let journal = Journal::at(&path, rotate);
    assert!(
        journal.rotated_path().exists(),
        "rotation happened mid-race"
    );
    let text = std::fs::read_to_string(&path).expect("read")
        + &std::fs::read_to_string(journal.rotated_path()).expect("read rotated");
    let mut intents = std::collections::BTreeSet::new();
    let mut outcomes = std::collections::BTreeSet::new();
    for line in text.lines() {
        match serde_json::from_str::<Entry>(line).expect("every line parses") {
            Entry::Intent(i) => assert!(intents.insert(i.id), "duplicate intent"),
            Entry::Outcome(c) => assert!(outcomes.insert(c.id), "duplicate outcome"),
            Entry::Stage(s) => panic!("no command here runs in stages: {s:?}"),
        }
    }
    assert_eq!(intents.len(), 2 * RACE_COMMANDS);
    assert_eq!(outcomes.len(), 2 * RACE_COMMANDS);
    assert_eq!(intents, outcomes);
    assert!(unfinished(&journal).expect("read").is_empty());
}

#[test]
fn the_start_up_check_reads_only_the_end_of_a_big_journal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("journal.jsonl");
    // ~10 MB of finished commands, written directly (appending each with an fsync is slow).
    let mut text = Vec::new();
    let mut n = 0;
    while text.len() < 10 * 1024 * 1024 {
        let id = format!("old-{n}");
        for e in [
            Entry::Intent(intent(&id)),
            Entry::Outcome(completion(&id, CommandResult::Done)),
        ] {
            text.extend(serde_json::to_vec(&e).expect("json"));
            text.push(b'\n');
        }
        n += 1;
    }
    std::fs::write(&path, &text).expect("write");
    let journal = Journal::at(&path, DEFAULT_ROTATE_BYTES * 2);
    journal
        .append(&Entry::Intent(intent("crashed-last")))
        .expect("append");

    let t = std::time::Instant::now();
    let found = crashed(&journal).expect("read");
    let tail_time = t.elapsed();
    assert_eq!(
        found.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["crashed-last"]
    );
    let recent = journal.recent_entries(START_SCAN_BYTES).expect("read");
    let t = std::time::Instant::now();
    let all = unfinished(&journal).expect("read");
    let full_time = t.elapsed();
    assert_eq!(all.len(), 1);
    let whole = journal.entries().expect("read").len();
    assert!(
        recent.len() * 20 < whole,
        "the tail holds {} of {whole} lines",
        recent.len()
    );
    // The numbers for the report (run with --nocapture).
    println!(
        "10 MB journal ({whole} lines): start-up check {tail_time:?} reading {} lines, whole-file scan {full_time:?}",
        recent.len()
    );
}

#[test]
fn the_tail_spans_the_rotated_file_when_the_current_one_is_short() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::at(dir.path().join("journal.jsonl"), 4000);
    for i in 0..30 {
        journal
            .append(&Entry::Intent(intent(&format!("i{i}"))))
            .expect("append");
    }
    let all = journal.entries().expect("read");
    let text = std::fs::read_to_string(journal.path()).expect("read");
    let line_len = text.lines().last().expect("a line").len() as u64 + 1;
    // The current file and one and a half lines of the rotated one: one whole line more.
    let rotated = journal
        .recent_entries(text.len() as u64 + line_len * 3 / 2)
        .expect("read");
    assert_eq!(rotated.len(), text.lines().count() + 1);
    assert!(rotated.len() < all.len());
    assert_eq!(rotated.last(), all.last());
    assert_eq!(journal.recent_entries(u64::MAX).expect("read"), all);
    assert!(journal.recent_entries(0).expect("read").is_empty());
}

#[test]
fn secrets_in_a_message_or_comment_never_reach_the_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::at(dir.path().join("journal.jsonl"), DEFAULT_ROTATE_BYTES);
    let mut leaky = intent("a");
    leaky.comment = Some("see https://ops:hunter22@ci.example/run?token=abc123".into());
    journal.append(&Entry::Intent(leaky)).expect("append");
    let mut failed = completion("a", CommandResult::Refused);
    failed.message = "cannot reach http://u:pw-9876@10.0.0.1:6443: refused".into();
    journal.append(&Entry::Outcome(failed)).expect("append");
    let text = std::fs::read_to_string(journal.path()).expect("read");
    for secret in ["hunter22", "abc123", "pw-9876"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(
        text.contains("ci.example") && text.contains("10.0.0.1:6443"),
        "{text}"
    );
}

#[test]
fn an_unfinished_command_in_stages_is_reported_at_the_stage_it_had_reached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::at(dir.path().join(JOURNAL_FILE), DEFAULT_ROTATE_BYTES);
    let stage = |number: u32, what: &str| Stage {
        number,
        of: 4,
        what: what.into(),
    };
    let mut started = intent("full");
    started.verb = Verb::PromoteFull;
    started.stage = Some(Box::new(stage(
        1,
        "copy the canary's pod template to cart-stable",
    )));
    journal.append(&Entry::Intent(started)).expect("intent");
    journal
        .append(&Entry::Stage(StageDone {
            id: "full".into(),
            time: "2026-11-22T03:00:02Z".parse().expect("time"),
            done: stage(1, "copy the canary's pod template to cart-stable"),
            next: Some(stage(2, "wait until Deployment cart-stable is available")),
        }))
        .expect("stage");
    let open = unfinished(&journal).expect("journal");
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].stage.as_deref(),
        Some(&stage(2, "wait until Deployment cart-stable is available"))
    );
    assert_eq!(
        open[0].stopped_at(),
        " — it stopped at stage 2 of 4 (wait until Deployment cart-stable is available); run \
         promote --full again to continue from there (the stages already done are seen on the \
         cluster and not repeated)"
    );
    journal
        .append(&Entry::Outcome(completion("full", CommandResult::Done)))
        .expect("outcome");
    assert!(unfinished(&journal).expect("journal").is_empty());
}
