//! The orchestration API: one async function per verb, shared by CLI, GUI and `auto`.
//! Every command passes through [`execute`] / [`execute_with`]: guards, identity,
//! permissions, the journal and the audit trail live there; verbs compute a [`Plan`] (what
//! to send) from the rollout as read, and [`send`] is the only code that writes.

mod access;
mod argo;
mod audit;
mod error;
mod execute;
mod identity;
pub mod journal;
mod plan;
mod undo;
mod verbs;

pub use access::{ACCESS_REFRESH, Access, AccessCache, Decision, Permission, access, review};
pub use argo::{
    plan_abort, plan_pause, plan_promote, plan_restart, plan_resume, plan_retry, plan_set_weight,
};
pub use audit::{
    ActivityEntry, EVENT_COMPONENT, LAST_ACTION_ANNOTATION, LastAction, activity, activity_of,
    annotate, audit_event, event_reason,
};
pub use error::OrchestratorError;
pub use execute::{ExecuteOptions, Executed, execute, execute_with, needed_permissions};
pub use identity::{Identity, whoami};
pub use journal::{Intent, Journal, JournalError, acknowledge, crashed, unfinished};
pub use plan::{FIELD_MANAGER, PatchBody, Plan, PlannedPatch, Subresource, send};
pub use undo::plan_undo;
pub use verbs::{abort, pause, plan_action, promote, restart, resume, retry, set_weight, undo};
