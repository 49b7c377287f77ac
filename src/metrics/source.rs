//! The common interface of metric sources (Prometheus, direct scrape) and the refresh loop
//! around them: ask only for the window since the last sample, keep the last data when the
//! source fails, mark it stale, back off exponentially and recover by itself.

use super::store::{NamedKind, SeriesStore, SourceHealth};
use crate::analysis::CustomQuery;
use crate::model::{BucketPoint, MetricsSnapshot, Point, RolloutRef, RolloutView, Signal, Version};
use futures::future::BoxFuture;
use std::time::Duration;

/// One rollout the window or CLI shows, with the versions to split its traffic into.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub rollout: RolloutRef,
    pub versions: Vec<Version>,
}

impl Target {
    pub fn from_view(view: &RolloutView) -> Target {
        Target {
            rollout: view.reference.clone(),
            versions: view.versions(),
        }
    }
}

/// What a refresh asks for: every target, the points from `start_secs` to `end_secs` at
/// `step_secs` (a range source fills every step; a scrape source answers "now").
#[derive(Clone, Debug, PartialEq)]
pub struct FetchRequest {
    pub targets: Vec<Target>,
    pub start_secs: f64,
    pub end_secs: f64,
    pub step_secs: f64,
    /// The policy's custom metrics (`metrics.NAME.query`), one query each for every target.
    pub custom: Vec<CustomQuery>,
}

/// One value of one signal of one version.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalPoint {
    pub rollout: RolloutRef,
    pub version: Version,
    pub signal: Signal,
    pub point: Point,
}

/// One interval's latency histogram of one version (bucket increases), for the judge.
#[derive(Clone, Debug, PartialEq)]
pub struct BucketSignal {
    pub rollout: RolloutRef,
    pub version: Version,
    pub point: BucketPoint,
}

/// One value of one custom metric of one version.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedPoint {
    pub rollout: RolloutRef,
    pub version: Version,
    pub name: String,
    pub point: Point,
}

/// A source's answer to one refresh, with its cost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fetched {
    pub points: Vec<SignalPoint>,
    pub queries: u64,
    pub bytes: u64,
    pub warnings: Vec<String>,
    /// Samples the source dropped because their value was NaN or ±Inf (a direct scrape).
    pub dropped_non_finite: u64,
    /// Latency histogram bucket increases per version per interval, when the source has them.
    pub buckets: Vec<BucketSignal>,
    /// The custom metrics' values per version and step.
    pub custom: Vec<NamedPoint>,
    /// The template's extra latency quantiles (`p99`) per version and step, in ms.
    pub quantiles: Vec<NamedPoint>,
}

/// A source failed; the message names the server, the query and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// A place metrics come from. `fetch` must be cancel-safe: dropping the future abandons the
/// request and leaves the source usable.
pub trait MetricsSource: Send + Sync {
    /// `prometheus` or `scrape`, as `MetricsSnapshot::source` and the CLI JSON say it.
    fn kind(&self) -> &'static str;
    /// The server or endpoint, for messages.
    fn endpoint(&self) -> &str;
    /// Whether the source runs PromQL, and so the policy's custom metrics' queries (a direct
    /// scrape does not).
    fn runs_queries(&self) -> bool {
        true
    }
    /// The span each sample's rates cover (`rate(x[1m])`: 60), when the source knows it: the
    /// judge counts one sample per span as independent.
    fn rate_window_secs(&self) -> Option<f64> {
        None
    }
    fn fetch<'a>(
        &'a mut self,
        request: &'a FetchRequest,
    ) -> BoxFuture<'a, Result<Fetched, SourceError>>;
}

/// Exponential back-off: the base interval doubled per consecutive failure, up to a cap.
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap,
            failures: 0,
        }
    }

    pub fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// How long to wait before the next refresh.
    pub fn delay(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.failures.min(16));
        self.base
            .saturating_mul(factor)
            .min(self.cap)
            .max(self.base)
    }
}

/// What one refresh did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RefreshReport {
    pub ok: bool,
    pub queries: u64,
    pub bytes: u64,
    pub points: usize,
    pub elapsed: Duration,
}

/// A source, its series store, its health and back-off: the state the refresh loop drives.
pub struct Refresher {
    source: Box<dyn MetricsSource>,
    store: SeriesStore,
    health: SourceHealth,
    backoff: Backoff,
    history: Duration,
    dropped_non_finite: u64,
    custom: Vec<CustomQuery>,
}

impl Refresher {
    /// Keeps `history` at `step`; backs off up to `max(8 × step, 60 s)`.
    pub fn new(source: Box<dyn MetricsSource>, history: Duration, step: Duration) -> Refresher {
        Refresher {
            source,
            store: SeriesStore::new(history, step),
            health: SourceHealth::default(),
            backoff: Backoff::new(step, (step * 8).max(Duration::from_secs(60))),
            history,
            dropped_non_finite: 0,
            custom: Vec::new(),
        }
    }

    /// Also fetches the policy's custom metrics ([`crate::analysis::Policy::custom_queries`]),
    /// one query each per refresh for every target; a source that cannot run them says so in
    /// every snapshot's note, naming them.
    pub fn with_custom(mut self, custom: Vec<CustomQuery>) -> Refresher {
        self.custom = custom;
        self
    }

    /// Fetches these custom metrics from the next refresh on (a fleet whose rollouts'
    /// policies were read after the refresher was made); the same list changes nothing.
    pub fn set_custom(&mut self, custom: Vec<CustomQuery>) {
        self.custom = custom;
    }

    /// Why the custom metrics are not fetched, when they are not.
    fn custom_note(&self) -> Option<String> {
        if self.custom.is_empty() || self.source.runs_queries() {
            return None;
        }
        let names: Vec<&str> = self.custom.iter().map(|c| c.name.as_str()).collect();
        Some(format!(
            "the {} source at {} cannot run PromQL, so the policy's custom metrics ({}) are not \
             fetched; configure a Prometheus URL for this context to judge them",
            self.source.kind(),
            self.source.endpoint(),
            names.join(", ")
        ))
    }

    pub fn kind(&self) -> &'static str {
        self.source.kind()
    }

    pub fn store(&self) -> &SeriesStore {
        &self.store
    }

    pub fn health(&self) -> &SourceHealth {
        &self.health
    }

    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// NaN or ±Inf samples the source dropped (never judged) since this refresher was made.
    pub fn dropped_non_finite(&self) -> u64 {
        self.dropped_non_finite
    }

    /// How long the loop waits before the next refresh (the step, or the back-off).
    pub fn next_delay(&self) -> Duration {
        self.backoff.delay()
    }

    /// One refresh at `now_secs`: asks for the window since the newest sample (or the whole
    /// history the first time), stores it, or on failure keeps the data and marks it stale.
    pub async fn refresh(&mut self, targets: &[Target], now_secs: f64) -> RefreshReport {
        let started = std::time::Instant::now();
        let step = self.store.step_secs();
        let rollouts: Vec<RolloutRef> = targets.iter().map(|t| t.rollout.clone()).collect();
        let end = (now_secs / step).floor() * step;
        let start = match self.store.last_t_secs(&rollouts) {
            Some(last) => last + step,
            None => end - (self.history.as_secs_f64() - step).max(0.0),
        };
        // Versions are followed for the whole window, whatever role they play now: the
        // previous ones are asked for too (after the current ones, so a source that matches
        // by role finds the current version first), so a switch shows traffic leaving them.
        for t in targets {
            self.store.observe_roles(&t.rollout, &t.versions, now_secs);
        }
        self.store
            .retain(&rollouts, now_secs - self.history.as_secs_f64());
        let asked: Vec<Target> = targets
            .iter()
            .map(|t| {
                let mut versions = t.versions.clone();
                versions.extend(self.store.previous_versions(&t.rollout));
                Target {
                    rollout: t.rollout.clone(),
                    versions,
                }
            })
            .collect();
        let request = FetchRequest {
            targets: asked,
            start_secs: start.min(end),
            end_secs: end,
            step_secs: step,
            custom: if self.source.runs_queries() {
                self.custom.clone()
            } else {
                Vec::new()
            },
        };
        match self.source.fetch(&request).await {
            Ok(fetched) => {
                self.dropped_non_finite += fetched.dropped_non_finite;
                for warning in &fetched.warnings {
                    tracing::info!(source = self.source.endpoint(), %warning, "metrics source warning");
                }
                for sp in &fetched.points {
                    self.store
                        .push(&sp.rollout, &sp.version, sp.signal, sp.point);
                }
                for b in &fetched.buckets {
                    self.store
                        .push_buckets(&b.rollout, &b.version, b.point.clone());
                }
                let named = [
                    (NamedKind::Custom, &fetched.custom),
                    (NamedKind::Quantile, &fetched.quantiles),
                ];
                for (kind, points) in named {
                    for n in points {
                        self.store
                            .push_named(&n.rollout, &n.version, kind, &n.name, n.point);
                    }
                }
                self.health = SourceHealth {
                    last_good_secs: Some(now_secs),
                    error: None,
                };
                self.backoff.succeeded();
                RefreshReport {
                    ok: true,
                    queries: fetched.queries,
                    bytes: fetched.bytes,
                    points: fetched.points.len(),
                    elapsed: started.elapsed(),
                }
            }
            Err(e) => {
                tracing::warn!(source = self.source.endpoint(), error = %e, "metrics refresh failed");
                self.health.error = Some(e.to_string());
                self.backoff.failed();
                RefreshReport {
                    ok: false,
                    elapsed: started.elapsed(),
                    ..RefreshReport::default()
                }
            }
        }
    }

    /// The snapshot of one target from what the store holds now.
    pub fn snapshot(&self, target: &Target) -> MetricsSnapshot {
        let mut snapshot = self.store.snapshot(
            &target.rollout,
            &target.versions,
            self.source.kind(),
            &self.health,
        );
        snapshot.sample_window_secs = self.source.rate_window_secs();
        if let Some(note) = self.custom_note() {
            snapshot.error = Some(match snapshot.error.take() {
                Some(error) => format!("{error}; {note}"),
                None => note,
            });
        }
        snapshot
    }

    pub fn snapshots(&self, targets: &[Target]) -> Vec<MetricsSnapshot> {
        targets.iter().map(|t| self.snapshot(t)).collect()
    }
}

/// Unix time now in seconds.
pub fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Runs refreshes until the `targets` sender is dropped: refresh, send the snapshots of
/// every target, wait the step (or the back-off), repeat. A change of targets refreshes at
/// once. Spawn it on the app's runtime; abort the task to stop it mid-request.
pub async fn refresh_loop(
    mut refresher: Refresher,
    mut targets: tokio::sync::watch::Receiver<Vec<Target>>,
    snapshots: tokio::sync::mpsc::Sender<Vec<MetricsSnapshot>>,
) {
    loop {
        let current = targets.borrow_and_update().clone();
        if !current.is_empty() {
            refresher.refresh(&current, now_secs()).await;
            if snapshots.send(refresher.snapshots(&current)).await.is_err() {
                return;
            }
        }
        tokio::select! {
            changed = targets.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(refresher.next_delay()) => {}
        }
    }
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
