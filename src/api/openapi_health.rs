//! The OpenAPI description of the console's endpoints (`/health`, `/health/series`) and
//! of support's account picker (`/support/accounts`), merged into the main document.

use serde_json::{json, Value};

use super::openapi::{ok_ref, op};

/// Paths merged into `paths`.
pub fn paths() -> Value {
    let mut health = op(
        "Per active account: connections, webhook delivery, ship-back, privacy, key status, \
         and why it needs attention (admin tokens; what /console shows)",
        "console (admin)",
        ok_ref("HealthReport"),
    );
    health["parameters"] = json!([{"name": "needs_attention", "in": "query", "required": false,
        "description": "Only accounts that need attention", "schema": {"type": "boolean", "default": false}}]);
    let mut series = op(
        "Plots of /console: orders ingested per hour per marketplace (168 hours), webhook \
         delivery latency percentiles per day and orders pseudonymized per day (7 days), \
         UTC-aligned buckets ending with the current one (admin tokens)",
        "console (admin)",
        ok_ref("HealthSeries"),
    );
    series["parameters"] = json!([{"name": "account", "in": "query", "required": false,
        "description": "One account instead of all active accounts together",
        "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"}}]);
    let mut picker = op(
        "Active accounts whose name contains q, or whose id starts with q: id and name only, \
         at most 10, by name (support tokens; the account picker of /support)",
        "support",
        json!({"description": "OK", "headers": {"Cache-Control": {"schema": {"type": "string", "const": "no-store"}}},
               "content": {"application/json": {"schema": {"type": "object", "properties": {
                   "accounts": {"type": "array", "maxItems": 10, "items": {"$ref": "#/components/schemas/AccountName"}}}}}}}),
    );
    picker["parameters"] = json!([{"name": "q", "in": "query", "required": true,
        "schema": {"type": "string", "minLength": 2, "maxLength": 100}}]);
    json!({
        "/health": {"get": health},
        "/health/series": {"get": series},
        "/support/accounts": {"get": picker}
    })
}

/// Schemas merged into `components.schemas`.
pub fn schemas() -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let time_or_null = json!({"type": ["string", "null"], "format": "date-time"});
    let int_or_null = json!({"type": ["integer", "null"]});
    let axis = json!({"start": time, "bucket_seconds": {"type": "integer"}, "buckets": {"type": "integer"}});
    let with_axis = |extra: Value| {
        let mut props = axis.clone();
        if let (Some(p), Value::Object(e)) = (props.as_object_mut(), extra) {
            p.extend(e);
        }
        json!({"type": "object", "properties": props})
    };
    json!({
        "AccountName": {"type": "object", "required": ["id", "name"], "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}}},
        "HealthReport": {"type": "object", "properties": {
            "as_of": time, "next_sweep_at": time_or_null,
            "accounts": {"type": "array", "items": {"$ref": "#/components/schemas/AccountHealth"}}}},
        "AccountHealth": {"type": "object", "properties": {
            "account_id": {"type": "string"}, "name": {"type": "string"},
            "needs_attention": {"type": "boolean"},
            "attention": {"type": "array", "items": {"type": "string", "enum": [
                "connection_needs_reauth", "connection_failing", "webhook_disabled", "dead_letters",
                "ship_back_rejected", "delivery_lagging", "privacy_overdue"]}},
            "connections": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "marketplace": {"type": "string"},
                "state": {"type": "string", "enum": ["active", "needs_reauth", "failing", "paused"]},
                "reason": {"type": ["string", "null"]}, "last_error": {"type": ["string", "null"]},
                "consecutive_failures": {"type": "integer"}, "next_attempt_at": time,
                "last_success_at": time_or_null, "cursor_lag_seconds": int_or_null,
                "orders_synced": {"type": "integer"}}}},
            "webhooks": {"type": "object", "properties": {
                "endpoints": {"type": "integer"}, "backlog": {"type": "integer"},
                "oldest_undelivered_seconds": int_or_null, "dead_letters": {"type": "integer"},
                "disabled_endpoints": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, "reason": {"type": ["string", "null"]}}}}}},
            "ship_back": {"type": ["object", "null"], "description": "shipments and cancellations sent back to the marketplaces: pending (pending or sent) and rejected (rejected or failed after retries); null while the account has none",
                "properties": {"pending": {"type": "integer"}, "rejected": {"type": "integer"}}},
            "privacy": {"type": "object", "properties": {
                "retention_days": {"type": "integer"}, "with_personal_data": {"type": "integer"},
                "overdue": {"type": "integer", "description": "Past the deadline now, still with personal data (above 0 between sweeps)"},
                "missed_by_last_sweep": {"type": "integer", "description": "Due when the last sweep started and unchanged since: must be 0"},
                "pseudonymized": {"type": "integer"}, "last_sweep_at": time_or_null,
                "last_sweep_pseudonymized": {"type": "integer"}}},
            "keys": {"type": "object", "properties": {
                "current_version": int_or_null,
                "versions": {"type": "array", "items": {"type": "object", "properties": {
                    "version": {"type": "integer"}, "wrapped_under_current_master_key": {"type": "boolean"}}}}}}
        }},
        "HealthSeries": {"type": "object", "properties": {
            "as_of": time, "account_id": {"type": ["string", "null"]},
            "ingested_per_hour": with_axis(json!({"series": {"type": "array", "items": {"type": "object", "properties": {
                "marketplace": {"type": "string"}, "counts": {"type": "array", "items": {"type": "integer"}}}}}})),
            "delivery_latency": with_axis(json!({"days": {"type": "array", "items": {"type": "object", "properties": {
                "deliveries": {"type": "integer"}, "p50_ms": int_or_null, "p90_ms": int_or_null, "p99_ms": int_or_null}}}})),
            "pseudonymized_per_day": with_axis(json!({"counts": {"type": "array", "items": {"type": "integer"}}}))
        }}
    })
}
