//! Plain data shared by every layer: which rollout (`RolloutRef`), what it looks like
//! (`RolloutView`), its versions and their roles, the verbs a person or pipeline can send,
//! and what a verb did (`Outcome`). No I/O lives here.

pub mod analysis_run;
pub mod argo;
pub mod command;
pub mod flagger;
pub mod gateway;
mod phase;
pub mod series;
pub mod view;

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
pub(crate) mod testdata;

pub use analysis_run::{AnalysisRunSummary, Measurement, MetricSummary};
pub use argo::{Rollout, RolloutSpec, RolloutStatus};
pub use command::{Action, Command, Pin, Tool};
pub use series::{
    BucketPoint, BucketSeries, MetricsSnapshot, NamedSeries, Point, RoleChange, Signal,
    VersionRoles, VersionSeries,
};
pub use view::{Phase, RolloutView, StepKind, StrategyKind};

use serde::{Deserialize, Serialize};

/// A connection the user should know is unsafe (TLS not verified, credentials over plain
/// HTTP): the context it belongs to, a few words for the status bar, and the full sentence
/// naming the object and what to do (the CLI's `warning:` line, the status bar's hover).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityWarning {
    pub context: String,
    pub short: String,
    pub text: String,
}

impl std::fmt::Display for SecurityWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// What moves a release's traffic, and so which objects its verbs change.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// An `argoproj.io/v1alpha1` Rollout: the Argo controller moves traffic by its steps.
    #[default]
    Argo,
    /// An HTTPRoute annotated as a weighted release: the cockpit moves its backendRefs'
    /// weights itself ([`gateway`]).
    Gateway,
    /// A `flagger.app/v1beta1` Canary: Flagger moves traffic; the cockpit opens its gates
    /// ([`flagger`]).
    Flagger,
}

impl Provider {
    fn is_argo(&self) -> bool {
        *self == Provider::Argo
    }

    /// The controller column's word: Argo, Gateway, Flagger.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Argo => "Argo",
            Provider::Gateway => "Gateway",
            Provider::Flagger => "Flagger",
        }
    }

    /// What its release is called in messages: `rollout`, `weighted release`, `canary`.
    pub fn release_word(self) -> &'static str {
        match self {
            Provider::Argo => "rollout",
            Provider::Gateway => "weighted release",
            Provider::Flagger => "canary",
        }
    }
}

/// Names one rollout in one cluster: kubeconfig context, namespace, name, and the provider
/// whose object it is (Argo unless said otherwise; left out of JSON when Argo).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RolloutRef {
    pub context: String,
    pub namespace: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Provider::is_argo")]
    pub provider: Provider,
}

impl RolloutRef {
    /// An Argo rollout.
    pub fn new(context: &str, namespace: &str, name: &str) -> RolloutRef {
        RolloutRef {
            context: context.into(),
            namespace: namespace.into(),
            name: name.into(),
            provider: Provider::Argo,
        }
    }
}

impl std::fmt::Display for RolloutRef {
    /// `namespace/name`, the way kubectl and the metrics JSON name a rollout.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The part a version plays in a rollout. The last two are what a version that no longer
/// plays a part is called on the charts: a former stable (or active) is "previous stable"; a
/// canary (or preview) replaced or rolled back without becoming stable, "previous canary".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionRole {
    Stable,
    Canary,
    Active,
    Preview,
    PreviousStable,
    PreviousCanary,
}

impl VersionRole {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionRole::Stable => "stable",
            VersionRole::Canary => "canary",
            VersionRole::Active => "active",
            VersionRole::Preview => "preview",
            VersionRole::PreviousStable => "previous stable",
            VersionRole::PreviousCanary => "previous canary",
        }
    }

    /// Whether the version plays this part now (the judge compares only those).
    pub fn is_current(self) -> bool {
        !matches!(
            self,
            VersionRole::PreviousStable | VersionRole::PreviousCanary
        )
    }

    /// What a version that played this part is called once it plays none.
    pub fn previous(self) -> VersionRole {
        match self {
            VersionRole::Stable | VersionRole::Active | VersionRole::PreviousStable => {
                VersionRole::PreviousStable
            }
            VersionRole::Canary | VersionRole::Preview | VersionRole::PreviousCanary => {
                VersionRole::PreviousCanary
            }
        }
    }
}

impl std::fmt::Display for VersionRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One version of a rollout: its role and its pod-template hash.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Version {
    pub role: VersionRole,
    pub hash: String,
}

impl Version {
    pub fn new(role: VersionRole, hash: &str) -> Version {
        Version {
            role,
            hash: hash.into(),
        }
    }
}

/// The verbs of the orchestration API; the same words on the buttons and the CLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verb {
    Promote,
    PromoteFull,
    Abort,
    Retry,
    Pause,
    Resume,
    Restart,
    Undo,
    SetWeight,
    /// `auto` writes what it waits for on the rollout (an annotation, no change to traffic).
    AutoStatus,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Promote => "promote",
            Verb::PromoteFull => "promote-full",
            Verb::Abort => "abort",
            Verb::Retry => "retry",
            Verb::Pause => "pause",
            Verb::Resume => "resume",
            Verb::Restart => "restart",
            Verb::Undo => "undo",
            Verb::SetWeight => "set-weight",
            Verb::AutoStatus => "auto-status",
        }
    }

    /// The CLI command that sends this verb: `promote --full` for promote-full.
    pub fn command_words(self) -> &'static str {
        match self {
            Verb::PromoteFull => "promote --full",
            other => other.as_str(),
        }
    }
}

impl std::fmt::Display for Verb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a verb did: the change sent, the step it moved from and to, and the
/// resourceVersion the API server answered with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub rollout: RolloutRef,
    pub verb: Verb,
    /// One line in words: "promoted: step 1 → 2 (weight 40%)"; "nothing to do: ..." when no
    /// request was needed.
    pub summary: String,
    pub from_step: Option<i32>,
    pub to_step: Option<i32>,
    pub weight: Option<i32>,
    /// False when nothing needed sending (e.g. resume on a rollout that is not paused).
    pub changed: bool,
    pub resource_version: Option<String>,
}
