//! Where a Gateway API HTTPRoute sends its requests: each backendRef (a Service) gets its
//! weight's share, and a Service's share goes to the ReplicaSets its selector picks, by their
//! available pods. So the per-version traffic follows the route's weights as a gateway would.

use crate::lab::deployments::DEPLOYMENT_HASH_LABEL;
use serde_json::Value;

/// (pod hash, share in percent, Service name) for every version `route` sends traffic to.
/// `services` and `replica_sets` are those of the route's namespace.
pub fn route_shares(
    route: &Value,
    services: &[Value],
    replica_sets: &[Value],
) -> Vec<super::Share> {
    let backends: Vec<(&str, f64)> = route["spec"]["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|rule| rule["backendRefs"].as_array().into_iter().flatten())
        .filter(|b| b["kind"].as_str().unwrap_or("Service") == "Service")
        .filter_map(|b| Some((b["name"].as_str()?, b["weight"].as_f64().unwrap_or(1.0))))
        .collect();
    let total: f64 = backends.iter().map(|(_, w)| w.max(0.0)).sum();
    if total <= 0.0 {
        return Vec::new();
    }
    let mut shares = Vec::new();
    for (service_name, weight) in backends {
        let Some(selector) = services
            .iter()
            .find(|s| s["metadata"]["name"] == service_name)
            .and_then(|s| s["spec"]["selector"].as_object())
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let pods: Vec<(&str, f64)> = replica_sets
            .iter()
            .filter(|rs| {
                let labels = &rs["spec"]["template"]["metadata"]["labels"];
                selector.iter().all(|(k, v)| labels[k] == *v)
            })
            .filter_map(|rs| {
                let hash = rs["metadata"]["labels"][DEPLOYMENT_HASH_LABEL].as_str()?;
                let available = rs["status"]["availableReplicas"].as_f64().unwrap_or(0.0);
                (available > 0.0).then_some((hash, available))
            })
            .collect();
        let available: f64 = pods.iter().map(|(_, a)| a).sum();
        for (hash, count) in pods {
            let share = 100.0 * weight.max(0.0) / total * count / available;
            shares.push((hash.to_string(), share, service_name.to_string()));
        }
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn replica_set(hash: &str, track: &str, available: i64) -> Value {
        json!({"metadata": {"labels": {DEPLOYMENT_HASH_LABEL: hash}},
            "spec": {"template": {"metadata": {"labels": {"app": "cart", "track": track, DEPLOYMENT_HASH_LABEL: hash}}}},
            "status": {"availableReplicas": available}})
    }

    fn service(name: &str, track: &str) -> Value {
        json!({"metadata": {"name": name}, "spec": {"selector": {"app": "cart", "track": track}}})
    }

    #[test]
    fn the_weights_split_the_route_and_available_pods_split_each_service() {
        let route = json!({"spec": {"rules": [{"backendRefs": [
            {"name": "cart-stable", "port": 80, "weight": 67},
            {"name": "cart-canary", "port": 80, "weight": 33},
        ]}]}});
        let services = [
            service("cart-stable", "stable"),
            service("cart-canary", "canary"),
        ];
        // The stable Deployment mid-update: 2 pods of the old template, 2 of the new.
        let replica_sets = [
            replica_set("old", "stable", 2),
            replica_set("new", "stable", 2),
            replica_set("canary", "canary", 1),
            replica_set("gone", "canary", 0),
        ];
        let shares = route_shares(&route, &services, &replica_sets);
        let of = |hash: &str| {
            shares
                .iter()
                .find(|(h, _, _)| h == hash)
                .map(|(_, s, svc)| (*s, svc.as_str()))
        };
        assert_eq!(of("old"), Some((33.5, "cart-stable")));
        assert_eq!(of("new"), Some((33.5, "cart-stable")));
        assert_eq!(of("canary"), Some((33.0, "cart-canary")));
        assert_eq!(of("gone"), None, "no pods, no traffic");
    }

    #[test]
    fn a_route_with_all_weights_zero_sends_nothing() {
        let route = json!({"spec": {"rules": [{"backendRefs": [{"name": "a", "weight": 0}]}]}});
        assert!(route_shares(&route, &[service("a", "stable")], &[]).is_empty());
    }
}
