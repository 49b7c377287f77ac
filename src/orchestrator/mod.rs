//! The orchestration API, shared by CLI, GUI and `auto`: a `Command` (a verb and what the
//! caller saw) goes through the one door, [`execute`] / [`execute_with`]: guards, identity,
//! permissions, the journal and the audit trail live there; verbs compute a [`Plan`] (what
//! to send, pure) from the rollout as read, and only the door sends it.

mod access;
mod activity_list;
mod activity_watch;
mod argo;
mod audit;
mod error;
mod execute;
pub mod flagger;
pub mod gateway;
mod identity;
pub mod journal;
mod journal_entry;
mod plan;
mod record;
mod refusal;
pub mod rollback;
mod stages;
mod verbs;

pub use verbs::resolve;

pub use access::{ACCESS_REFRESH, Access, AccessCache, Decision, Permission, access, review};
pub use activity_list::activity;
pub use activity_watch::{ActivityUpdate, RecentActivity, watch_activity};
pub use argo::{
    plan_abort, plan_auto_status, plan_pause, plan_promote, plan_restart, plan_resume, plan_retry,
    plan_set_weight, plan_undo,
};
pub use audit::{
    ACTIVITY_LIMIT, ActivityEntry, EVENT_COMPONENT, LAST_ACTION_ANNOTATION, LastAction,
    activity_about, activity_of, annotate, audit_event, entry_about, entry_of, event_reason,
};
pub use error::OrchestratorError;
pub use execute::{ExecuteOptions, Executed, execute, execute_with, needed_permissions};
pub use identity::{Identity, whoami};
pub use journal::{Intent, Journal, JournalError, acknowledge, crashed, unfinished};
pub use plan::{FIELD_MANAGER, PatchBody, Plan, PlannedPatch, Subresource};
pub use stages::StageProgress;
