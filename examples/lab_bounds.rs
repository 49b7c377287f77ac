//! The lab's resource bounds, measured for BENCHMARKS.md ("Lab"): starts the demo lab twice as
//! real child processes — without and with Prometheus — samples CPU time and RSS of each from
//! /proc every 10 s, and measures the child Prometheus as a peer in the same run. Run with
//! `cargo build --release && cargo run --release --example lab_bounds -- [--secs 600] [--bin PATH]`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SAMPLE_EVERY: Duration = Duration::from_secs(10);

/// CPU seconds (user + system) and RSS in KiB of `pid`, from /proc.
fn sample(pid: u32) -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().ok()? + fields[12].parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((ticks / clock_ticks(), rss))
}

fn clock_ticks() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The direct children of `pid` (all its threads' children).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

fn start_lab(bin: &Path, dir: &Path, prometheus: &str) -> Child {
    let child = Command::new(bin)
        .args(["lab", "--dir"])
        .arg(dir)
        .args(["--prometheus", prometheus])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.join("lab.json").exists() {
        assert!(Instant::now() < deadline, "the lab did not start in 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// One process's samples: (seconds since start, CPU seconds, RSS KiB).
#[derive(Default)]
struct Series {
    name: String,
    points: Vec<(f64, f64, u64)>,
}

impl Series {
    fn summary(&self) -> String {
        let p = &self.points;
        if p.len() < 2 {
            return format!("{}: too few samples", self.name);
        }
        let rates: Vec<f64> = p
            .windows(2)
            .map(|w| 100.0 * (w[1].1 - w[0].1) / (w[1].0 - w[0].0))
            .collect();
        let mean = 100.0 * (p[p.len() - 1].1 - p[0].1) / (p[p.len() - 1].0 - p[0].0);
        let max = rates.iter().copied().fold(0.0, f64::max);
        let rss: Vec<f64> = p.iter().map(|x| x.2 as f64 / 1024.0).collect();
        let rss_max = rss.iter().copied().fold(0.0, f64::max);
        format!(
            "{}: CPU mean {mean:.2}% of a core, max {max:.2}% (10 s windows); \
             RSS start {:.1} MiB, end {:.1} MiB, max {rss_max:.1} MiB, slope {:+.2} MiB/h; {} samples",
            self.name,
            rss[0],
            rss[rss.len() - 1],
            self.rss_slope_per_hour(),
            p.len()
        )
    }

    fn cpu_mean(&self) -> f64 {
        let p = &self.points;
        100.0 * (p[p.len() - 1].1 - p[0].1) / (p[p.len() - 1].0 - p[0].0)
    }

    /// Least-squares slope of RSS over time, in MiB per hour.
    fn rss_slope_per_hour(&self) -> f64 {
        let n = self.points.len() as f64;
        let (sx, sy) = self.points.iter().fold((0.0, 0.0), |(sx, sy), p| {
            (sx + p.0, sy + p.2 as f64 / 1024.0)
        });
        let (mx, my) = (sx / n, sy / n);
        let (num, den) = self.points.iter().fold((0.0, 0.0), |(num, den), p| {
            let dx = p.0 - mx;
            (num + dx * (p.2 as f64 / 1024.0 - my), den + dx * dx)
        });
        if den == 0.0 { 0.0 } else { 3600.0 * num / den }
    }
}

const USAGE: &str = "usage: lab_bounds [--secs N] [--bin PATH-TO-release-cockpit]";

/// `--secs` (default 600) and the release-cockpit binary: `--bin`, else the one built beside
/// this example (`target/<profile>/release-cockpit`).
fn parse() -> Result<(u64, PathBuf), String> {
    let mut secs = 600;
    let mut bin = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--secs" => {
                secs = value
                    .parse()
                    .map_err(|_| format!("--secs {value:?} is not a whole number of seconds"))?
            }
            "--bin" => bin = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown flag {flag:?}")),
        }
    }
    let bin = match bin {
        Some(bin) => bin,
        None => std::env::current_exe()
            .map_err(|e| format!("cannot find this example's path: {e}"))?
            .parent()
            .and_then(Path::parent)
            .map(|profile| profile.join("release-cockpit"))
            .ok_or("cannot find the target directory; pass --bin")?,
    };
    if !bin.is_file() {
        return Err(format!(
            "{} is missing: build it first (`cargo build --release`) or pass --bin",
            bin.display()
        ));
    }
    Ok((secs, bin))
}

fn main() -> ExitCode {
    let (secs, bin) = match parse() {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("lab_bounds: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let plain_dir = tempfile::tempdir().unwrap();
    let prom_dir = tempfile::tempdir().unwrap();
    let mut plain = start_lab(&bin, plain_dir.path(), "off");
    let mut with_prom = start_lab(&bin, prom_dir.path(), "auto");
    let prometheus_pid = children(with_prom.id()).into_iter().find(|pid| {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.contains("prometheus"))
    });
    let mut series = vec![
        Series {
            name: "lab (--prometheus off)".into(),
            ..Series::default()
        },
        Series {
            name: "lab (--prometheus auto, scraped every 1 s)".into(),
            ..Series::default()
        },
        Series {
            name: "peer: the lab's child prometheus".into(),
            ..Series::default()
        },
    ];
    let pids = [Some(plain.id()), Some(with_prom.id()), prometheus_pid];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) + SAMPLE_EVERY / 2 {
        let t = start.elapsed().as_secs_f64();
        for (s, pid) in series.iter_mut().zip(pids) {
            if let Some((cpu, rss)) = pid.and_then(sample) {
                s.points.push((t, cpu, rss));
            }
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
    for child in [&mut plain, &mut with_prom] {
        // SIGTERM, as the lab expects; then wait for it to stop its Prometheus and exit.
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
    println!("lab bounds over {secs} s, sampled every 10 s:");
    for s in &series {
        println!("  {}", s.summary());
    }
    if series[2].points.len() >= 2 {
        println!(
            "  ratio lab (with prometheus) / its prometheus: CPU {:.2}, RSS end {:.2}",
            series[1].cpu_mean() / series[2].cpu_mean(),
            series[1].points.last().unwrap().2 as f64 / series[2].points.last().unwrap().2 as f64
        );
    } else {
        println!("  no prometheus on PATH: no peer measured");
    }
    let mut within = true;
    for s in &series[..2] {
        if s.cpu_mean() >= 5.0 {
            println!("  over the 5 % bound: {}", s.summary());
            within = false;
        }
    }
    if let Some(pid) = prometheus_pid
        && Path::new(&format!("/proc/{pid}")).exists()
    {
        println!("  the lab left its prometheus (pid {pid}) running");
        within = false;
    }
    if within {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
