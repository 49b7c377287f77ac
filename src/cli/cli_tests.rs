//! Parsing: kubectl's flag names, verbs and their usage errors (exit 2).

use super::*;
use crate::model::{Action, Pin};

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("release-cockpit").chain(args.iter().copied()))
}

#[test]
fn global_flags_are_kubectls_and_work_after_the_verb() {
    let cli = parse(&[
        "promote",
        "checkout",
        "--kubeconfig",
        "/tmp/kc",
        "--context",
        "lab",
        "-n",
        "demo",
        "-o",
        "json",
        "--step",
        "2",
    ])
    .expect("parses");
    assert_eq!(
        cli.global.kubeconfig.as_deref(),
        Some(std::path::Path::new("/tmp/kc"))
    );
    assert_eq!(cli.global.context.as_deref(), Some("lab"));
    assert_eq!(cli.global.namespace.as_deref(), Some("demo"));
    assert_eq!(cli.global.output, OutputFormat::Json);
    let command = cli.command.expect("a verb");
    assert_eq!(
        verb_cmd::action_of(&command),
        Some((
            "checkout".to_string(),
            Action::Promote {
                pin: Some(Pin {
                    step: Some(2),
                    ..Pin::default()
                })
            },
            None
        ))
    );
    let cli = parse(&["-A", "list"]).expect("parses");
    assert!(cli.global.all_namespaces);
    assert!(
        parse(&[])
            .expect("no verb opens the window")
            .command
            .is_none()
    );
}

#[test]
fn set_weight_rejects_what_is_not_a_percentage_with_exit_2() {
    for bad in ["150", "-5", "abc", "40.5"] {
        let err = parse(&["set-weight", "checkout", bad]).expect_err(bad);
        assert_eq!(err.exit_code(), 2, "{bad}: {err}");
    }
    let cli = parse(&["set-weight", "checkout", "0"]).expect("0 is a weight");
    assert!(matches!(
        cli.command,
        Some(Commands::SetWeight { percent: 0, .. })
    ));
    let err = parse(&["promote", "checkout", "--full", "--step", "1"]).expect_err("conflict");
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn every_verb_maps_to_its_action() {
    let hash = |h: &str| {
        Some(Pin {
            pod_hash: Some(h.into()),
            ..Pin::default()
        })
    };
    let cases: [(&[&str], Action); 13] = [
        (
            &["promote", "x", "--full"],
            Action::PromoteFull { pin: None },
        ),
        (
            &["promote", "x", "--full", "--expect-hash", "abc"],
            Action::PromoteFull { pin: hash("abc") },
        ),
        (
            &["promote", "x", "--step", "1", "--expect-hash", "abc"],
            Action::Promote {
                pin: Some(Pin {
                    step: Some(1),
                    pod_hash: Some("abc".into()),
                    preview_hash: None,
                }),
            },
        ),
        (&["abort", "x"], Action::Abort { pin: None }),
        (
            &["abort", "x", "--expect-hash", "abc"],
            Action::Abort { pin: hash("abc") },
        ),
        (&["retry", "x"], Action::Retry),
        (&["pause", "x"], Action::Pause),
        (&["resume", "x"], Action::Resume),
        (&["restart", "x"], Action::Restart),
        (
            &["undo", "x", "--to-revision", "3"],
            Action::Undo {
                to_revision: Some(3),
                pin: None,
                to_hash: None,
            },
        ),
        (
            &[
                "undo",
                "x",
                "--to-revision",
                "3",
                "--to-hash",
                "old",
                "--expect-hash",
                "abc",
            ],
            Action::Undo {
                to_revision: Some(3),
                pin: hash("abc"),
                to_hash: Some("old".into()),
            },
        ),
        (
            &["set-weight", "x", "40"],
            Action::SetWeight {
                weight: 40,
                pin: None,
            },
        ),
        (
            &["set-weight", "x", "40", "--expect-hash", "abc"],
            Action::SetWeight {
                weight: 40,
                pin: hash("abc"),
            },
        ),
    ];
    for (args, action) in cases {
        let command = parse(args).expect("parses").command.expect("verb");
        assert_eq!(
            verb_cmd::action_of(&command),
            Some(("x".into(), action, None)),
            "{args:?}"
        );
    }
    let command = parse(&["abort", "x", "--comment", "error spike"])
        .expect("parses")
        .command
        .expect("verb");
    assert_eq!(
        verb_cmd::action_of(&command),
        Some((
            "x".into(),
            Action::Abort { pin: None },
            Some("error spike".into())
        ))
    );
    for read in [
        &["list"][..],
        &["get", "x"],
        &["watch", "x", "--until", "healthy", "--timeout", "10m"],
        &["whoami"],
    ] {
        let command = parse(read).expect("parses").command.expect("verb");
        assert_eq!(verb_cmd::action_of(&command), None, "{read:?}");
    }
}

#[tokio::test]
async fn all_namespaces_only_goes_with_list() {
    let cli = parse(&["-A", "abort", "checkout"]).expect("parses");
    let err = run_command(&cli.global, cli.command.expect("verb"))
        .await
        .expect_err("usage");
    assert_eq!(exit_code_of(&err), 2);
    assert!(err.to_string().contains("only applies to list"), "{err}");
}

#[test]
fn read_only_is_a_global_flag() {
    let cli = parse(&["promote", "checkout", "--read-only"]).expect("parses");
    assert!(cli.global.read_only);
    assert!(verb_cmd::options(&cli.global).read_only);
    assert!(!parse(&["list"]).expect("parses").global.read_only);
}

#[test]
fn lab_is_a_top_level_flag_that_opens_the_window() {
    let cli = parse(&["--lab"]).expect("parses");
    assert!(cli.global.lab && cli.command.is_none());
    assert!(
        parse(&["list", "--lab"]).is_err(),
        "--lab is not a flag of the verbs"
    );
}

#[test]
fn a_senseless_policy_or_window_is_bad_input_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, "[metrics.p95_ms]\nsmooth_secs = inf\n").expect("write");
    let rollout = crate::model::RolloutRef::new("lab-admin", "demo", "checkout");
    let err = analyze_cmd::load_policy(Some(&path), &rollout, None).expect_err("inf");
    assert_eq!(exit_code_of(&err), 2);
    assert!(
        err.to_string().contains("metrics.p95_ms.smooth_secs = inf"),
        "{err}"
    );

    std::fs::write(&path, "window_secs = 300\n").expect("write");
    let two_days = std::time::Duration::from_secs(2 * 86_400);
    let err =
        analyze_cmd::load_policy(Some(&path), &rollout, Some(two_days)).expect_err("too long");
    assert_eq!(exit_code_of(&err), 2);
    assert!(err.to_string().contains("--window (172800 s)"), "{err}");
    // Overflowing or year-long durations are refused by the parser (clap: exit 2).
    assert!(parse(&["analyze", "checkout", "--window", "99999999999999d"]).is_err());
}

#[test]
fn abort_wait_takes_a_timeout_of_two_minutes_by_default() {
    let timeout_of = |args: &[&str]| match parse(args).expect("parses").command {
        Some(Commands::Abort { wait, timeout, .. }) => (wait, timeout),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        timeout_of(&["abort", "x", "--wait"]),
        (true, std::time::Duration::from_secs(120))
    );
    assert_eq!(
        timeout_of(&["abort", "x", "--wait", "--timeout", "90s"]),
        (true, std::time::Duration::from_secs(90))
    );
    assert!(!timeout_of(&["abort", "x"]).0);
    let err = parse(&["abort", "x", "--timeout", "90s"]).expect_err("--timeout needs --wait");
    assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
}

#[test]
fn a_lab_directory_refused_is_bad_input_exit_2_and_a_failed_write_exit_1() {
    let unsafe_dir = anyhow::Error::new(crate::lab::LabError::UnsafeDir {
        path: "/tmp/lab".into(),
        why: "it is writable by group and others (mode 777)".into(),
    })
    .context("cannot start the lab");
    assert_eq!(exit_code_of(&unsafe_dir), 2, "{unsafe_dir:#}");
    let write = anyhow::Error::new(crate::lab::LabError::Write {
        path: "/tmp/lab/kubeconfig".into(),
        source: std::io::Error::other("disk full"),
    });
    assert_eq!(exit_code_of(&write), 1, "{write:#}");
}

#[tokio::test]
async fn markdown_and_csv_are_the_reports_formats_only() {
    let cli = parse(&["get", "checkout", "-o", "markdown"]).expect("parses");
    let err = run_command(&cli.global, cli.command.expect("verb"))
        .await
        .expect_err("usage");
    assert_eq!(exit_code_of(&err), 2);
    assert!(err.to_string().contains("formats of `report`"), "{err}");
    let cli = parse(&[
        "report", "checkout", "-o", "csv", "--since", "30m", "--out", "review",
    ])
    .expect("parses");
    let Some(Commands::Report(args)) = cli.command else {
        panic!("report parses as report");
    };
    assert_eq!(args.since, std::time::Duration::from_secs(1800));
    assert_eq!(args.out.as_deref(), Some(std::path::Path::new("review")));
    assert_eq!(cli.global.output, OutputFormat::Csv);
    for bad in ["soon", "30s", "2d"] {
        let err = parse(&["report", "checkout", "--since", bad]).expect_err(bad);
        assert!(err.to_string().contains("--since"), "{bad}: {err}");
    }
}
