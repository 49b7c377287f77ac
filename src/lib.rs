//! Release Cockpit: a desktop cockpit and a CLI for progressive delivery on Kubernetes.
//! This file is the module map; each layer is a folder (see ../shared/ARCHITECTURE.md).
//!
//! - [`model`]: plain data — rollout views, versions and roles, verbs, outcomes.
//! - [`cluster`]: kubeconfig contexts → one kube client per context; list/get/watch rollouts.
//! - [`orchestrator`]: THE orchestration API: one door (`execute_with`) for every change, shared
//!   by CLI, GUI and `auto`; pinned plans per verb, guards, journal, audit, the evidence read.
//! - [`metrics`]: Prometheus client, PromQL templates per mesh, direct scrape, bounded series.
//! - [`analysis`]: the canary judge (rules + Mann–Whitney U + weighted score) → verdict.
//! - [`attention`]: who needs a person now: the inbox, transitions worth a notification.
//! - [`lab`]: the embedded Kubernetes-compatible lab with a simulated Argo controller and traffic.
//! - [`cli`]: clap definitions; each handler calls orchestrator/metrics/analysis and prints.
//! - [`report`]: the release report for the review (CLI `report` and the window's Export).
//! - [`redact`]: keeps secrets out of errors, the journal and settings (`redact_url`, `redact`).
//! - [`ui`]: the egui window: draws state, emits commands, never touches the network.

pub mod analysis;
pub mod attention;
pub mod cli;
pub mod cluster;
pub mod lab;
pub mod metrics;
pub mod model;
pub mod orchestrator;
pub mod redact;
pub mod report;
pub mod ui;
