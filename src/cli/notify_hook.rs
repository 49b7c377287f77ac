//! `--notify-webhook-env VAR` for `watch` and `auto`: the transitions of the rollout they
//! follow (starts waiting for approval, verdict turns to fail, aborted, rollback complete or
//! stuck), each posted once to the webhook whose URL is in `$VAR` (or in the file it names).
//! A delivery that fails is a warning on stderr, never the URL, and never stops the command.

use super::UsageError;
use crate::analysis::VerdictKind;
use crate::attention::Transitions;
use crate::attention::webhook::Webhook;
use crate::model::RolloutView;

/// The help text of the flag (the same on both commands).
pub const FLAG_HELP: &str = "Post each transition (waiting for approval, verdict fail, aborted, \
    rollback complete or stuck) once, as JSON with a Slack-compatible `text`, to the webhook \
    whose URL is in environment variable VAR (or in the file whose path VAR holds); the URL is \
    never printed";

pub struct HookNotifier {
    hook: Webhook,
    transitions: Transitions,
}

impl HookNotifier {
    /// None without the flag; a usage error (exit 2) when VAR holds no URL.
    pub fn from_flag(var: Option<&str>) -> Result<Option<HookNotifier>, UsageError> {
        let Some(var) = var else { return Ok(None) };
        let hook = Webhook::from_env(var).map_err(|e| UsageError(e.to_string()))?;
        Ok(Some(HookNotifier {
            hook,
            transitions: Transitions::default(),
        }))
    }

    /// Post what changed since the last view (the first view is only remembered).
    pub async fn observe(&mut self, view: &RolloutView, verdict: Option<VerdictKind>) {
        let notices = self.transitions.observe(view, verdict, now_secs());
        self.post(notices).await;
    }

    /// Time passed without a new view: a rollback may be stuck now.
    pub async fn tick(&mut self, view: &RolloutView) {
        let notices = self.transitions.tick(&[view], now_secs());
        self.post(notices).await;
    }

    /// Before the command stops on `view`: an abort's notice that still waits to say who
    /// aborted waits a little more (re-reading the rollout with `reread`), then goes out.
    pub async fn finish<F, Fut>(&mut self, view: &RolloutView, mut reread: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<RolloutView>>,
    {
        let mut last = view.clone();
        let deadline = tokio::time::Instant::now()
            + std::time::Duration::from_secs_f64(
                crate::attention::transitions::ATTRIBUTION_WAIT_SECS,
            );
        while self.transitions.waiting_to_tell() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            if let Some(v) = reread().await {
                self.observe(&v, None).await;
                last = v;
            }
        }
        let notices = self.transitions.flush(&last, now_secs());
        self.post(notices).await;
    }

    async fn post(&self, notices: Vec<crate::attention::Notice>) {
        for notice in notices {
            if let Err(e) = self.hook.send(&notice).await {
                eprintln!("warning: {e}");
            }
        }
    }
}

fn now_secs() -> f64 {
    jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
}
