//! The lab: a local Kubernetes-compatible API with a simulated Argo Rollouts controller.
//! `start` brings up the API server, the controller loop, the traffic simulation and
//! (optionally) a child Prometheus on 127.0.0.1; `Lab::shutdown` stops all of them.

use std::path::PathBuf;

/// Whether the lab starts a real Prometheus scraping its `/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PrometheusMode {
    /// Start one when a `prometheus` binary is on PATH; run without one otherwise.
    #[default]
    Auto,
    /// Never start one.
    Off,
    /// Start this binary; failing to start it is an error.
    Path(PathBuf),
}
