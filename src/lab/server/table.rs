//! Server-side printing for `kubectl get`: when a client asks for
//! `application/json;as=Table;v=v1;g=meta.k8s.io`, lists, gets and watch events are answered
//! as `meta.k8s.io/v1` Tables with the columns a real cluster prints (Argo's printer columns
//! for rollouts: DESIRED, CURRENT, UP-TO-DATE, AVAILABLE, AGE).

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use crate::lab::kind::Kind;

/// Whether the request's `Accept` header asks for a Table.
pub fn wanted(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .next()
                .is_some_and(|first| first.contains("as=Table") && first.contains("g=meta.k8s.io"))
        })
}

/// One column: header, type and where the value comes from (empty path: the age, or
/// `computed` when set).
struct Column {
    name: &'static str,
    type_: &'static str,
    path: &'static [&'static str],
    computed: Option<fn(&Value) -> Value>,
}

fn columns(kind: Kind) -> Vec<Column> {
    let col = |name, type_, path| Column {
        name,
        type_,
        path,
        computed: None,
    };
    let computed = |name, computed| Column {
        name,
        type_: "string",
        path: &[],
        computed: Some(computed),
    };
    let mut columns = vec![col("Name", "string", &["metadata", "name"][..])];
    match kind {
        Kind::Rollout => {
            columns.push(col("Desired", "integer", &["spec", "replicas"]));
            columns.push(col("Current", "integer", &["status", "replicas"]));
            columns.push(col("Up-to-date", "integer", &["status", "updatedReplicas"]));
            columns.push(col(
                "Available",
                "integer",
                &["status", "availableReplicas"],
            ));
        }
        Kind::ReplicaSet => {
            columns.push(col("Desired", "integer", &["spec", "replicas"]));
            columns.push(col("Current", "integer", &["status", "replicas"]));
            columns.push(col("Ready", "integer", &["status", "readyReplicas"]));
        }
        Kind::Namespace => columns.push(col("Status", "string", &["status", "phase"])),
        Kind::Event => {
            columns.push(col("Type", "string", &["type"]));
            columns.push(col("Reason", "string", &["reason"]));
            columns.push(col("Message", "string", &["message"]));
        }
        Kind::EventV1 => {
            columns.push(col("Type", "string", &["type"]));
            columns.push(col("Reason", "string", &["reason"]));
            columns.push(col("Note", "string", &["note"]));
        }
        Kind::AnalysisRun => columns.push(col("Status", "string", &["status", "phase"])),
        Kind::AnalysisTemplate => {}
        Kind::Deployment => {
            columns.push(computed("Ready", deployment_ready));
            columns.push(col("Up-to-date", "integer", &["status", "updatedReplicas"]));
            columns.push(col(
                "Available",
                "integer",
                &["status", "availableReplicas"],
            ));
        }
        Kind::Service => {
            columns.push(col("Type", "string", &["spec", "type"]));
            columns.push(col("Cluster-IP", "string", &["spec", "clusterIP"]));
            columns.push(computed("Port(s)", service_ports));
        }
        // The CRD's printer columns.
        Kind::HttpRoute => columns.push(col("Hostnames", "string", &["spec", "hostnames"])),
        // Flagger's printer columns of priority 0; its CRD declares no Age.
        Kind::Canary => {
            columns.push(col("Status", "string", &["status", "phase"]));
            columns.push(col("Weight", "string", &["status", "canaryWeight"]));
            columns.push(col(
                "LastTransitionTime",
                "string",
                &["status", "lastTransitionTime"],
            ));
            return columns;
        }
    }
    columns.push(col("Age", "date", &[]));
    columns
}

/// A Table of `objects` of `kind`; `resource_version` is set for lists.
pub fn table(
    kind: Kind,
    objects: &[Value],
    resource_version: Option<u64>,
    now: jiff::Timestamp,
) -> Value {
    let columns = columns(kind);
    let definitions: Vec<Value> = columns
        .iter()
        .map(|c| {
            let format = if c.name == "Name" { "name" } else { "" };
            json!({"name": c.name, "type": c.type_, "format": format, "description": c.name, "priority": 0})
        })
        .collect();
    let rows: Vec<Value> = objects.iter().map(|o| row(&columns, o, now)).collect();
    let mut metadata = json!({});
    if let Some(rv) = resource_version {
        metadata["resourceVersion"] = json!(rv.to_string());
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

fn row(columns: &[Column], object: &Value, now: jiff::Timestamp) -> Value {
    let cells: Vec<Value> = columns
        .iter()
        .map(|c| {
            if let Some(computed) = c.computed {
                return computed(object);
            }
            if c.type_ == "date" {
                let created = object["metadata"]["creationTimestamp"]
                    .as_str()
                    .unwrap_or("");
                return json!(age(created, now));
            }
            c.path.iter().fold(object, |v, key| &v[*key]).clone()
        })
        .collect();
    json!({
        "cells": cells,
        "object": {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": object["metadata"],
        },
    })
}

/// kubectl's READY of a Deployment: `ready/desired`.
fn deployment_ready(deployment: &Value) -> Value {
    let ready = deployment["status"]["readyReplicas"].as_i64().unwrap_or(0);
    let desired = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    json!(format!("{ready}/{desired}"))
}

/// kubectl's PORT(S) of a Service: `80/TCP,443/TCP`.
fn service_ports(service: &Value) -> Value {
    let ports: Vec<String> = service["spec"]["ports"]
        .as_array()
        .map(|ports| {
            ports
                .iter()
                .map(|p| {
                    format!(
                        "{}/{}",
                        p["port"].as_i64().unwrap_or(0),
                        p["protocol"].as_str().unwrap_or("TCP")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    json!(if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports.join(",")
    })
}

/// How kubectl words an age: `45s`, `3m20s`, `130m`, `4h10m`, `3d` (Go's `HumanDuration`).
fn age(created: &str, now: jiff::Timestamp) -> String {
    let Ok(created) = created.parse::<jiff::Timestamp>() else {
        return "<unknown>".into();
    };
    let seconds = now.as_second() - created.as_second();
    let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86_400);
    match seconds {
        s if s < 0 => "0s".into(),
        s if s < 120 => format!("{s}s"),
        _ if minutes < 10 && seconds % 60 != 0 => format!("{minutes}m{}s", seconds % 60),
        _ if minutes < 180 => format!("{minutes}m"),
        _ if hours < 8 && minutes % 60 != 0 => format!("{hours}h{}m", minutes % 60),
        _ if hours < 48 => format!("{hours}h"),
        _ if hours < 192 && hours % 24 != 0 => format!("{days}d{}h", hours % 24),
        _ => format!("{days}d"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollouts_print_argo_columns_and_ages_read_like_kubectl() {
        let now: jiff::Timestamp = "2026-01-01T01:00:00Z".parse().unwrap();
        let ro = json!({"metadata": {"name": "checkout", "namespace": "demo",
            "creationTimestamp": "2026-01-01T00:56:40Z"},
            "spec": {"replicas": 5}, "status": {"replicas": 6, "updatedReplicas": 1, "availableReplicas": 5}});
        let t = table(Kind::Rollout, &[ro], Some(7), now);
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "Name",
                "Desired",
                "Current",
                "Up-to-date",
                "Available",
                "Age"
            ]
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["checkout", 5, 6, 1, 5, "3m20s"])
        );
        assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "demo");
        assert_eq!(age("2026-01-01T00:59:15Z", now), "45s");
        assert_eq!(age("2025-12-31T22:50:00Z", now), "130m");
        assert_eq!(age("2025-12-31T20:50:00Z", now), "4h10m");
        assert_eq!(age("2025-12-29T01:00:00Z", now), "3d");
        let mut headers = HeaderMap::new();
        assert!(!wanted(&headers));
        headers.insert(
            header::ACCEPT,
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
                .parse()
                .unwrap(),
        );
        assert!(wanted(&headers));
    }
}
