//! The lab: a local Kubernetes-compatible API with a simulated Argo Rollouts controller.
