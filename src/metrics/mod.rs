//! Live per-version metrics: Prometheus client, query templates, series store.
