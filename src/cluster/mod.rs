//! Clusters: kubeconfig contexts, one kube client per context, rollout list/get/watch.
