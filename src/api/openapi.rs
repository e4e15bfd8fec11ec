//! The OpenAPI 3.1 description of `/api/v1`, served so integrators can generate clients.
//! It says what the server does: the bounds it enforces (lengths, ranges, clamped
//! limits) and every status an operation answers; `scripts/schemathesis.sh` (run by
//! `.ci/run`) checks the running server against it.

use axum::Json;
use serde_json::{json, Value};

/// The problems any operation can answer: a bad path, query or body (400), no or a bad
/// token (401), the wrong role (403), not found (404), a body too slow (408) or too large
/// (413), and an internal error (500).
pub(super) fn problem_responses() -> Value {
    let problem = json!({"$ref": "#/components/responses/Problem"});
    let mut v = json!({});
    for status in ["400", "401", "403", "404", "408", "413", "500"] {
        v[status] = problem.clone();
    }
    v
}

/// Adds problem statuses particular to one operation.
fn with_problems(mut op: Value, statuses: &[&str]) -> Value {
    for status in statuses {
        op["responses"][*status] = json!({"$ref": "#/components/responses/Problem"});
    }
    op
}

/// A non-empty printable string: not only white space (the server trims), no control
/// characters.
fn printable(max: u32) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max,
           "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"})
}

/// A `limit` query parameter: any integer is taken and clamped into `1..=max`.
fn clamped_limit(max: u32) -> Value {
    json!({"name": "limit", "in": "query", "required": false,
           "description": format!("How many to return; values outside 1–{max} are clamped into that range"),
           "schema": {"type": "integer", "format": "int64", "default": 100}})
}

pub(super) fn op(summary: &str, tag: &str, ok: Value) -> Value {
    let mut responses = problem_responses();
    responses["200"] = ok;
    json!({"summary": summary, "tags": [tag], "responses": responses})
}

pub(super) fn ok_ref(schema: &str) -> Value {
    json!({"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

pub fn spec() -> Value {
    let mut doc = base_spec();
    for extra in [
        support_schemas(),
        order_schemas(),
        super::openapi_health::schemas(),
    ] {
        if let (Some(schemas), Value::Object(extra)) =
            (doc["components"]["schemas"].as_object_mut(), extra)
        {
            schemas.extend(extra);
        }
    }
    if let (Some(paths), Value::Object(extra)) =
        (doc["paths"].as_object_mut(), super::openapi_health::paths())
    {
        paths.extend(extra);
    }
    if let (Some(schemas), Value::Object(extra)) = (
        doc["components"]["schemas"].as_object_mut(),
        super::openapi_fulfilment::schemas(),
    ) {
        schemas.extend(extra);
    }
    if let (Some(paths), Value::Object(extra)) = (
        doc["paths"].as_object_mut(),
        super::openapi_fulfilment::paths(),
    ) {
        paths.extend(extra);
    }
    ensure_problem_responses(&mut doc);
    doc
}

/// Every operation, whichever module describes it, lists the problems any operation can
/// answer ([`problem_responses`]); an operation's own descriptions win.
fn ensure_problem_responses(doc: &mut Value) {
    let Value::Object(common) = problem_responses() else {
        return;
    };
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                continue;
            }
            if let Some(responses) = op["responses"].as_object_mut() {
                for (status, problem) in &common {
                    responses
                        .entry(status.clone())
                        .or_insert_with(|| problem.clone());
                }
            }
        }
    }
}

fn base_spec() -> Value {
    let number = json!({"name": "order_number", "in": "path", "required": true, "schema": {"type": "string", "maxLength": 64}});
    let marketplace = json!({"name": "marketplace", "in": "query", "required": false, "schema": {"type": "string", "enum": ["bol", "amazon", "ebay"]}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}});
    let mut ack = op(
        "Acknowledge an order version (idempotent)",
        "orders (backoffice)",
        json!({"description": "Acknowledged"}),
    );
    ack["parameters"] = json!([number, marketplace]);
    ack["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ack"}}}});
    let mut get_order = op(
        "One order in full, with customer data",
        "orders (backoffice)",
        ok_ref("Order"),
    );
    get_order["parameters"] = json!([number, marketplace]);
    let mut new_orders = op(
        "Unacknowledged orders, oldest change first",
        "orders (backoffice)",
        json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object", "properties": {"orders": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}}}}}}}),
    );
    new_orders["parameters"] = json!([clamped_limit(500)]);
    let get_order = with_problems(get_order, &["409"]);
    let ack = with_problems(ack, &["409"]);
    let mut create_hook = op(
        "Add a webhook endpoint; the secret is returned once",
        "webhooks (backoffice)",
        json!({"description": "unused"}),
    );
    create_hook["responses"]
        .as_object_mut()
        .map(|r| r.remove("200"));
    create_hook["responses"]["201"] = json!({"description": "Created"});
    create_hook["responses"]["422"] = json!({"description": "The target is refused: it resolves to an internal address (loopback, private, link-local, unique-local, multicast, unspecified), or does not resolve; the detail names the rule",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}});
    create_hook["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string", "format": "uri", "maxLength": 2000, "pattern": "^https?://[^\\s@/?#]+([/?#]\\S*)?$", "description": "http(s) only, no credentials; checked against internal addresses at registration and at every delivery"}, "secret": {"type": "string", "pattern": "^whsec_", "description": "whsec_ + base64 of 24 to 64 bytes (generated when absent)"}}}}}});
    let with_id = |mut v: Value| {
        v["parameters"] = json!([id.clone()]);
        v
    };
    let mut replay = with_id(op(
        "Queue events again by order number or time range",
        "webhooks (backoffice)",
        json!({"description": "OK"}),
    ));
    replay["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"order_number": {"type": "string"}, "from": {"type": "string", "format": "date-time"}, "to": {"type": "string", "format": "date-time"}}}}}});
    let mut create_account = op(
        "Create an account",
        "accounts (admin)",
        json!({"description": "unused"}),
    );
    create_account["responses"]
        .as_object_mut()
        .map(|r| r.remove("200"));
    create_account["responses"]["201"] = json!({"description": "Created"});
    create_account["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": printable(100), "retention_days": {"type": "integer", "minimum": 1, "maximum": 3650}}}}}});
    let subject_body = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["email"], "properties": {"email": printable(320)}}}}});
    let mut export = op(
        "Export everything held for a customer email (backoffice)",
        "privacy",
        json!({"description": "Export with receipt"}),
    );
    export["requestBody"] = subject_body.clone();
    let mut erase = op(
        "Erase everything held for a customer email (backoffice)",
        "privacy",
        json!({"description": "Erasure receipt"}),
    );
    erase["requestBody"] = subject_body;
    let mut remove_hook = with_id(op(
        "Remove an endpoint",
        "webhooks (backoffice)",
        json!({"description": "unused"}),
    ));
    remove_hook["responses"]
        .as_object_mut()
        .map(|r| r.remove("200"));
    remove_hook["responses"]["204"] = json!({"description": "Removed"});
    let mut dead_letters = with_id(op(
        "Events given up after 72 hours, with the last error",
        "webhooks (backoffice)",
        json!({"description": "OK"}),
    ));
    dead_letters["parameters"] = json!([id.clone(), clamped_limit(1000)]);
    let mut cap_connection = with_id(op(
        "Cap a connection's requests per second to its marketplace (a number above 0, at most 100000), or remove the cap (null): the sync then goes as fast as the marketplace's stated rate limits allow. Admin: any connection; backoffice: its account's",
        "connections",
        json!({"description": "The connection with its new settings"}),
    ));
    cap_connection["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {
        "type": "object", "required": ["max_requests_per_second"], "additionalProperties": false,
        "properties": {"max_requests_per_second": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 100000}}}}}});
    let (support_lookup, audit) = support_ops();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ordervault API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Marketplace orders for the seller's backoffice. Bearer tokens (`ov_…`) with roles admin, backoffice (one account) and support. Errors are application/problem+json. Webhooks follow Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature v1 = base64 HMAC-SHA256 of `id.timestamp.body`)."
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/orders/new": {"get": new_orders},
            "/orders/{order_number}": {"get": get_order},
            "/orders/{order_number}/ack": {"post": ack},
            "/webhooks": {
                "get": op("Webhook endpoints of the account", "webhooks (backoffice)", json!({"description": "OK"})),
                "post": create_hook
            },
            "/webhooks/{id}": {"delete": remove_hook},
            "/webhooks/{id}/enable": {"post": with_id(op("Re-enable an endpoint disabled by 410 Gone", "webhooks (backoffice)", json!({"description": "OK"})))},
            "/webhooks/{id}/dead-letters": {"get": dead_letters},
            "/webhooks/{id}/replay": {"post": replay},
            "/connections": {"get": op("Marketplace connections with status (needs_reauth + reason), cursor, last error, marketplace side (hosts, Amazon region, marketplaces, API version) and a deprecation warning for Amazon Orders v0", "connections", json!({"description": "OK"}))},
            "/connections/{id}": {"patch": cap_connection},
            "/accounts": {
                "get": op("List accounts", "accounts (admin)", json!({"description": "OK"})),
                "post": create_account
            },
            "/support/accounts/{account}/orders/{order_number}": {"get": support_lookup},
            "/audit": {"get": audit},
            "/accounts/{id}/privacy": {"get": with_id(op("Retention, orders with personal data, pseudonymized, overdue", "privacy", json!({"description": "OK"})))},
            "/subject/export": {"post": export},
            "/subject/erase": {"post": erase},
            "/accounts/{id}/close": {"post": with_problems(with_id(op("Close an account: shred keys, drop its store; returns the deletion receipt (same on repeat). 409 when a closure cannot complete; the account then stays closing and a repeat resumes it", "accounts (admin)", json!({"description": "Deletion receipt"}))), &["409"])}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Problem": {"description": "Problem details", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            },
            "schemas": {
                "Problem": {"type": "object", "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"}, "correlation_id": {"type": "string", "description": "On a 500: the id under which the server logged the cause; quote it when reporting the fault"}}},
                "Ack": {"type": "object", "required": ["reference"], "properties": {"reference": printable(200), "version": {"type": "integer", "format": "int64", "minimum": 1}}},
                "Order": {"type": "object", "required": ["marketplace", "order_number", "status", "version"], "properties": {
                    "marketplace": {"type": "string", "enum": ["bol", "amazon", "ebay"]},
                    "order_number": {"type": "string"},
                    "status": {"type": "string", "enum": ["pending", "open", "partially_shipped", "shipped", "cancelled"]},
                    "placed_at": {"type": "string", "format": "date-time"},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "fulfilled_at": {"type": "string", "format": "date-time"},
                    "cancelled_at": {"type": "string", "format": "date-time"},
                    "currency": {"type": "string"},
                    "total_minor": {"type": "integer", "description": "Total in minor units of currency"},
                    "country_code": {"type": ["string", "null"]},
                    "lines": {"type": "array", "items": {"$ref": "#/components/schemas/OrderLine"}},
                    "terms": {"$ref": "#/components/schemas/OrderTerms"},
                    "customer": {"oneOf": [{"$ref": "#/components/schemas/Customer"}, {"type": "null"}], "description": "null once pseudonymized"},
                    "pseudonymized": {"type": "boolean"},
                    "version": {"type": "integer"}
                }}
            }
        }
    })
}

/// Schemas of the order model (lines, terms, customer), merged into `components.schemas`.
fn order_schemas() -> Value {
    let text = json!({"type": "string"});
    let minor = json!({"type": "integer", "description": "Minor units of the order currency"});
    let time = json!({"type": "string", "format": "date-time"});
    let address_fields = [
        "salutation",
        "full_name",
        "first_name",
        "last_name",
        "company",
        "street",
        "house_number",
        "house_number_ext",
        "extra",
        "extra2",
        "postcode",
        "city",
        "state",
        "country_code",
        "vat_id",
        "coc_number",
    ];
    let address: serde_json::Map<String, Value> = address_fields
        .iter()
        .map(|f| (f.to_string(), text.clone()))
        .collect();
    json!({
        "OrderLine": {"type": "object", "required": ["line_id", "title", "quantity", "total_minor"], "properties": {
            "line_id": text, "sku": text, "ean": text, "title": text,
            "quantity": {"type": "integer"}, "quantity_shipped": {"type": "integer"}, "quantity_cancelled": {"type": "integer"},
            "unit_price_minor": {"type": "integer", "description": "As the source gives it; absent when the source states only a line total that does not divide evenly, or no price yet"},
            "total_minor": {"type": "integer", "description": "The line total as the source states it"},
            "discount_minor": {"type": "integer", "description": "Discount the source states for this line"},
            "tax_minor": {"type": "integer"}
        }},
        "OrderTerms": {"type": "object", "properties": {
            "fulfilment_method": {"type": "string", "enum": ["seller", "marketplace"], "description": "marketplace: fulfilled by bol (FBB), Amazon (AFN) or eBay; the seller must not ship it"},
            "pickup_point": {"type": "boolean"},
            "delivery_window": {"type": "object", "properties": {"earliest": time, "latest": time}},
            "cancellation_requested": {"type": "boolean", "description": "The buyer asked to cancel"},
            "customer_reference": {"type": "string", "description": "The buyer's own order or purchase-order reference"},
            "payment_status": {"type": "string", "enum": ["pending", "paid", "failed", "partially_refunded", "refunded"]},
            "amounts": {"type": "object", "description": "lines_minor - discount_minor + delivery_minor + difference_minor = total_minor", "properties": {
                "lines_minor": minor, "discount_minor": minor, "delivery_minor": minor, "tax_minor": minor,
                "refunded_minor": minor, "difference_minor": minor,
                "difference": {"type": "string", "enum": ["tax_added", "not_priced_yet", "not_broken_down", "other_charges"], "description": "Why difference_minor is not zero"}
            }}
        }},
        "Address": {"type": "object", "description": "Personal data, as the marketplace structures it (full_name stays whole; street is the first address line verbatim unless the source splits house numbers)", "properties": address},
        "Customer": {"type": "object", "description": "Personal data; sealed at rest, erased at pseudonymization", "properties": {
            "email": text, "phone": text, "delivery_notes": text, "billing_email": text, "buyer_username": text,
            "shipping": {"$ref": "#/components/schemas/Address"},
            "billing": {"$ref": "#/components/schemas/Address"},
            "pickup_point": {"type": "object", "properties": {"name": text, "address": {"$ref": "#/components/schemas/Address"}}}
        }}
    })
}

/// The support lookup and the backoffice's audit read.
fn support_ops() -> (Value, Value) {
    let mut lookup = op(
        "Masked order(s) with exactly this number (support tokens). Audited before it answers; \
         404 is the same for an unknown account, a closed account and an unknown order. When \
         two marketplaces share the number both are returned, unless ?marketplace= narrows it.",
        "support",
        json!({"description": "OK", "headers": {"Cache-Control": {"schema": {"type": "string", "const": "no-store"}}},
               "content": {"application/json": {"schema": {"type": "object", "properties": {
                   "orders": {"type": "array", "items": {"$ref": "#/components/schemas/MaskedOrder"}}}}}}}),
    );
    lookup["parameters"] = json!([
        {"name": "account", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"}},
        {"name": "order_number", "in": "path", "required": true, "description": "Exact; surrounding white space is trimmed",
         "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$"}},
        {"name": "marketplace", "in": "query", "required": false, "schema": {"type": "string", "enum": ["bol", "amazon", "ebay"]}}
    ]);
    lookup["responses"]["429"] = json!({"description": "Rate limited (support.rate_limit_per_minute per token, per process)",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}});

    let mut audit = op(
        "Support lookups of the token's own account, newest first (backoffice tokens)",
        "support",
        json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}}}}}}}),
    );
    audit["parameters"] = json!([clamped_limit(1000)]);
    (lookup, audit)
}

/// Schemas of the support responses, merged into `components.schemas`.
fn support_schemas() -> Value {
    json!({
        "MaskedOrder": {"type": "object", "properties": {
            "marketplace": {"type": "string"}, "order_number": {"type": "string"}, "status": {"type": "string"},
            "placed_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
            "fulfilled_at": {"type": "string", "format": "date-time"}, "cancelled_at": {"type": "string", "format": "date-time"},
            "currency": {"type": "string"}, "total_minor": {"type": "integer"},
            "lines": {"type": "array", "items": {"$ref": "#/components/schemas/OrderLine"}},
            "fulfilment_method": {"type": "string", "enum": ["seller", "marketplace"]},
            "pickup_point": {"type": "boolean", "description": "Whether; never which one"},
            "delivery_window": {"type": "object", "properties": {"earliest": {"type": "string", "format": "date-time"}, "latest": {"type": "string", "format": "date-time"}}},
            "cancellation_requested": {"type": "boolean"},
            "pseudonymized": {"type": "boolean"}, "version": {"type": "integer"},
            "shipments": {"type": "array", "description": "Shipments sent back to the marketplace", "items": {"type": "object", "properties": {
                "state": {"type": "string", "enum": ["pending", "sent", "accepted", "rejected", "failed"]},
                "carrier": {"type": "string"}, "tracking_number": {"type": "string"}}}},
            "customer": {"type": "object", "description": "Masked; only {\"pseudonymized\": true} once pseudonymized", "properties": {
                "pseudonymized": {"type": "boolean"},
                "initials": {"type": "string", "examples": ["A. d. V."]},
                "country": {"type": "string", "examples": ["NL"]},
                "postcode_prefix": {"type": "string", "examples": ["10"]},
                "email": {"type": "string", "examples": ["g***@***.nl"]},
                "phone": {"type": "string", "examples": ["••••••78"]}
            }},
            "forwarding": {"type": "object", "properties": {
                "webhooks": {"type": "array", "items": {"type": "object", "properties": {
                    "endpoint_id": {"type": "string"}, "endpoint_status": {"type": "string"},
                    "state": {"type": "string", "enum": ["delivered", "pending", "retrying", "dead", "not_sent", "no_event"]},
                    "version": {"type": "integer"}, "attempts": {"type": "integer"},
                    "last_attempt_at": {"type": "string", "format": "date-time"}}}},
                "pull": {"type": "object", "properties": {"acked": {"type": "boolean"}, "acked_version": {"type": "integer"},
                    "acked_at": {"type": "string", "format": "date-time"}, "current": {"type": "boolean"}}}
            }}
        }},
        "AuditEntry": {"type": "object", "properties": {
            "id": {"type": "integer"}, "token_id": {"type": "string"}, "token_label": {"type": ["string", "null"]},
            "account_id": {"type": "string"},
            "order_number": {"type": ["string", "null"], "description": "Kept only when the number matched an order"},
            "marketplace": {"type": ["string", "null"]},
            "result": {"type": "string", "enum": ["found", "not_found", "invalid", "error"]},
            "matches": {"type": "integer"}, "at": {"type": "integer", "description": "Unix milliseconds"}
        }}
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
}
