//! The served OpenAPI document against the server's real answers: every documented
//! operation is called on the running router (console fixture: orders, connections,
//! webhooks, a failed order, a dead letter, shipments, acks, support lookups), each
//! answer's status must be documented and its body must match the documented schema,
//! closed: a field the server sends that the document does not name fails, as does a
//! missing required field or a wrong type. Every documented operation must have been
//! answered 2xx at least once here, so a route added (and so documented, routes come
//! from `#[utoipa::path]`) without a check in this file fails. Problems (401, 404, 405)
//! must be application/problem+json matching `Problem`.

use std::collections::BTreeSet;

use crate::common::api::{token, TestApp};
use crate::common::console::console_fixture;
use crate::common::TestEnv;
use ordervault::ids::Role;
use ordervault::store::outbox::AttemptResult;
use serde_json::{json, Value};

/// The document and the operations answered 2xx so far.
struct Checker {
    base: String,
    doc: Value,
    http: reqwest::Client,
    covered: BTreeSet<(String, String)>,
}

impl Checker {
    /// Calls `method concrete` (an instance of the documented `template`) and checks the
    /// answer against the document; returns status and body.
    async fn call(
        &mut self,
        method: &str,
        template: &str,
        concrete: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let m = method.to_ascii_lowercase();
        let op = self.doc["paths"][template][&m].clone();
        assert!(op.is_object(), "{method} {template} is not documented");
        let mut req = self.http.request(
            method.parse().unwrap(),
            format!("{}/api/v1{concrete}", self.base),
        );
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = resp.text().await.unwrap();
        let what = format!("{method} {concrete} → {status}");
        let mut response = op["responses"][status.to_string()].clone();
        assert!(
            response.is_object(),
            "{what}: status not documented; body {text}"
        );
        if let Some(r) = response["$ref"].as_str() {
            response = resolve(&self.doc, r).clone();
        }
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e})"))
        };
        match response.get("content").and_then(Value::as_object) {
            None => assert!(text.is_empty(), "{what}: undocumented body {text}"),
            Some(content) => {
                let media = ct.split(';').next().unwrap_or("").trim();
                let schema = &content
                    .get(media)
                    .unwrap_or_else(|| panic!("{what}: content-type {ct} not documented"))
                    ["schema"];
                let mut errors = Vec::new();
                check(&self.doc, schema, &value, "$", &mut errors);
                assert!(
                    errors.is_empty(),
                    "{what}: answer does not match the document:\n{}\nbody: {text}",
                    errors.join("\n")
                );
            }
        }
        if (200..300).contains(&status) {
            self.covered.insert((m, template.to_owned()));
        }
        (status, value)
    }
}

fn resolve<'a>(doc: &'a Value, r: &str) -> &'a Value {
    let mut v = doc;
    for part in r.trim_start_matches("#/").split('/') {
        v = &v[part];
    }
    assert!(!v.is_null(), "dangling reference {r}");
    v
}

/// The properties, required names and whether other members are allowed, of an object
/// schema and everything it is composed of (`allOf`, as `#[serde(flatten)]` is written).
fn object_shape(
    doc: &Value,
    schema: &Value,
    props: &mut serde_json::Map<String, Value>,
    required: &mut BTreeSet<String>,
    open: &mut bool,
) {
    let schema = match schema["$ref"].as_str() {
        Some(r) => resolve(doc, r),
        None => schema,
    };
    if let Some(p) = schema["properties"].as_object() {
        props.extend(p.clone());
    }
    for r in schema["required"].as_array().into_iter().flatten() {
        required.insert(r.as_str().unwrap().to_owned());
    }
    if schema
        .get("additionalProperties")
        .is_some_and(|a| a != &Value::Bool(false))
    {
        *open = true;
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        object_shape(doc, part, props, required, open);
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

/// Validates `v` against `schema` (the subset of JSON Schema utoipa writes), objects
/// closed: members the schema does not name are errors.
fn check(doc: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        return check(doc, resolve(doc, r), v, at, errors);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[key].as_array() {
            let fits = branches
                .iter()
                .filter(|b| {
                    let mut e = Vec::new();
                    check(doc, b, v, at, &mut e);
                    e.is_empty()
                })
                .count();
            let ok = if key == "oneOf" { fits == 1 } else { fits >= 1 };
            if !ok {
                errors.push(format!("{at}: {fits} branches of {key} fit {v}"));
            }
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| type_matches(t, v)) {
        errors.push(format!("{at}: {v} is not {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(v) {
            errors.push(format!("{at}: {v} not in {allowed:?}"));
        }
    }
    if let Some(min) = schema["minimum"].as_f64() {
        if v.as_f64().is_some_and(|n| n < min) {
            errors.push(format!("{at}: {v} below {min}"));
        }
    }
    if let Some(s) = v.as_str() {
        if let Some(max) = schema["maxLength"].as_u64() {
            if s.chars().count() as u64 > max {
                errors.push(format!("{at}: longer than {max}"));
            }
        }
        if schema["format"] == "date-time" && chrono::DateTime::parse_from_rfc3339(s).is_err() {
            errors.push(format!("{at}: {s:?} is not a date-time"));
        }
    }
    if let Some(items) = v.as_array() {
        if let Some(max) = schema["maxItems"].as_u64() {
            if items.len() as u64 > max {
                errors.push(format!("{at}: more than {max} items"));
            }
        }
        if schema.get("items").is_some() {
            for (i, item) in items.iter().enumerate() {
                check(doc, &schema["items"], item, &format!("{at}[{i}]"), errors);
            }
        }
    }
    if let Some(obj) = v.as_object() {
        let (mut props, mut required, mut open) = (serde_json::Map::new(), BTreeSet::new(), false);
        object_shape(doc, schema, &mut props, &mut required, &mut open);
        let described = !props.is_empty() || schema["allOf"].is_array();
        if !described && !open && !types.contains(&"object") {
            return; // a oneOf wrapper: its branches were checked above
        }
        for name in &required {
            if !obj.contains_key(name) {
                errors.push(format!("{at}: required `{name}` missing"));
            }
        }
        for (k, member) in obj {
            match props.get(k) {
                Some(p) => check(doc, p, member, &format!("{at}.{k}"), errors),
                None if open => {}
                None => errors.push(format!("{at}: `{k}` is not in the document")),
            }
        }
    }
}

async fn document_matches_answers(env: TestEnv) {
    let f = console_fixture(&env).await;
    let app = &env.app;
    let now = app.now_ms();
    // An order the shop's bol connection listed that could not be stored.
    let bol_connection = app
        .store
        .catalog()
        .connections(Some(&f.healthy))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.marketplace == "bol")
        .map(|c| c.id)
        .expect("the shop's bol connection");
    app.store
        .account(&f.healthy)
        .await
        .unwrap()
        .record_failures(
            "bol",
            bol_connection.as_str(),
            &[(
                "BOL-FAILED-1".into(),
                "total_minor: lines do not add up".into(),
            )],
            now,
            now,
        )
        .await
        .unwrap();
    let service = TestApp::spawn(&env).await;
    let base = service.base.clone();
    let admin = token(&env, Role::Admin, None).await;
    let office = token(&env, Role::Backoffice, Some(&f.healthy)).await;
    let support = token(&env, Role::Support, None).await;
    let doc: Value = service.openapi().await;
    assert_eq!(doc["openapi"], "3.1.0");
    let mut c = Checker {
        base,
        doc,
        http: reqwest::Client::new(),
        covered: BTreeSet::new(),
    };
    let (a, o, s) = (
        Some(admin.as_str()),
        Some(office.as_str()),
        Some(support.as_str()),
    );
    let healthy = f.healthy.as_str();

    // Admin: accounts, connections, privacy, console.
    c.call("GET", "/accounts", "/accounts", a, None).await;
    let (st, created) = c
        .call(
            "POST",
            "/accounts",
            "/accounts",
            a,
            Some(json!({"name": "Kort Bestaan"})),
        )
        .await;
    assert_eq!(st, 201);
    let gone = created["id"].as_str().unwrap().to_owned();
    let close = format!("/accounts/{gone}/close");
    assert_eq!(
        c.call("POST", "/accounts/{id}/close", &close, a, None)
            .await
            .0,
        200
    );
    let (_, conns) = c.call("GET", "/connections", "/connections", a, None).await;
    let list = conns["connections"].as_array().unwrap();
    assert!(
        list.iter().any(|x| x["failed_orders_total"] == 1),
        "{conns}"
    );
    assert!(
        list.iter().any(|x| x["marketplace_side"].is_object()),
        "{conns}"
    );
    let conn = list[0]["id"].as_str().unwrap();
    let patch = format!("/connections/{conn}");
    let body = json!({"max_requests_per_second": 5});
    let (st, _) = c
        .call("PATCH", "/connections/{id}", &patch, a, Some(body))
        .await;
    assert_eq!(st, 200);
    let privacy = format!("/accounts/{healthy}/privacy");
    c.call("GET", "/accounts/{id}/privacy", &privacy, a, None)
        .await;
    let (_, health) = c.call("GET", "/health", "/health", a, None).await;
    assert_eq!(health["accounts"].as_array().unwrap().len(), 2);
    let series = format!("/health/series?account={healthy}");
    c.call("GET", "/health/series", &series, a, None).await;
    c.call("GET", "/health/series", "/health/series", a, None)
        .await;

    // Backoffice: orders, acks, shipments, cancellations.
    let (_, new) = c
        .call("GET", "/orders/new", "/orders/new?limit=10", o, None)
        .await;
    assert_eq!(new["orders"].as_array().unwrap().len(), 5);
    let ship = "/orders/LEAK-0000/shipments";
    let body = json!({"carrier": "postnl", "tracking_number": "3SABCD1234567"});
    let template = "/orders/{order_number}/shipments";
    assert_eq!(c.call("POST", template, ship, o, Some(body)).await.0, 201);
    c.call("GET", template, ship, o, None).await;
    let cancel = "/orders/LEAK-0001/cancellations";
    let template = "/orders/{order_number}/cancellations";
    let body = json!({"reason": "out_of_stock", "reference": "RMA-1"});
    assert_eq!(c.call("POST", template, cancel, o, Some(body)).await.0, 201);
    c.call("GET", template, cancel, o, None).await;
    let body = json!({"reference": "BO-1"});
    let (st, _) = c
        .call(
            "POST",
            "/orders/{order_number}/ack",
            "/orders/LEAK-0000/ack",
            o,
            Some(body),
        )
        .await;
    assert_eq!(st, 200);
    let (_, one) = c
        .call(
            "GET",
            "/orders/{order_number}",
            "/orders/LEAK-0000",
            o,
            None,
        )
        .await;
    assert!(one["ack"].is_object() && one["shipments"].as_array().unwrap().len() == 1);
    c.call(
        "GET",
        "/orders/{order_number}",
        "/orders/LEAK-0001?marketplace=bol",
        o,
        None,
    )
    .await;
    let (_, new) = c.call("GET", "/orders/new", "/orders/new", o, None).await;
    assert!(new["orders"][0]["cancellations"].is_array());

    // Backoffice: webhooks, a dead letter, replay, removal.
    let body = json!({"url": "http://127.0.0.1:9/second"});
    let (st, hook) = c
        .call("POST", "/webhooks", "/webhooks", o, Some(body))
        .await;
    assert_eq!(st, 201);
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"));
    let id = hook["id"].as_str().unwrap().to_owned();
    c.call("GET", "/webhooks", "/webhooks", o, None).await;
    let replay = format!("/webhooks/{id}/replay");
    let body = json!({"order_number": "LEAK-0002"});
    let (_, r) = c
        .call("POST", "/webhooks/{id}/replay", &replay, o, Some(body))
        .await;
    assert!(r["requeued"].as_u64().unwrap() >= 1, "{r}");
    let store = app.store.account(&f.healthy).await.unwrap();
    let event = store.pending_events(&id, 0, 1).await.unwrap().remove(0);
    let dead = AttemptResult::Dead {
        status: Some(500),
        error: "receiver answered 500".into(),
    };
    store
        .record_attempt(&id, event.id, &dead, now)
        .await
        .unwrap();
    let letters = format!("/webhooks/{id}/dead-letters?limit=5");
    let (_, d) = c
        .call("GET", "/webhooks/{id}/dead-letters", &letters, o, None)
        .await;
    assert_eq!(d["dead_letters"].as_array().unwrap().len(), 1, "{d}");
    let enable = format!("/webhooks/{id}/enable");
    c.call("POST", "/webhooks/{id}/enable", &enable, o, None)
        .await;
    let remove = format!("/webhooks/{id}");
    assert_eq!(
        c.call("DELETE", "/webhooks/{id}", &remove, o, None).await.0,
        204
    );

    // Support: picker, lookup; then the backoffice's audit of it.
    c.call(
        "GET",
        "/support/accounts",
        "/support/accounts?q=Fiets",
        s,
        None,
    )
    .await;
    let lookup = format!("/support/accounts/{healthy}/orders/LEAK-0000");
    let template = "/support/accounts/{account}/orders/{order_number}";
    let (_, found) = c.call("GET", template, &lookup, s, None).await;
    assert_eq!(found["orders"][0]["shipments"].as_array().unwrap().len(), 1);
    let (_, audit) = c.call("GET", "/audit", "/audit?limit=10", o, None).await;
    assert!(!audit["entries"].as_array().unwrap().is_empty());

    // Privacy: export, then erase, one customer.
    let body = json!({"email": "Geheime.Klant2@Voorbeeld-Mail.nl"});
    let (_, export) = c
        .call(
            "POST",
            "/subject/export",
            "/subject/export",
            o,
            Some(body.clone()),
        )
        .await;
    assert_eq!(export["orders"].as_array().unwrap().len(), 1);
    let (_, erased) = c
        .call("POST", "/subject/erase", "/subject/erase", o, Some(body))
        .await;
    assert_eq!(erased["orders_erased"], 1);

    // Problems: no token, unknown order, wrong role, a bad body.
    let (st, p) = c
        .call("GET", "/orders/new", "/orders/new", None, None)
        .await;
    assert_eq!((st, p["status"].as_u64()), (401, Some(401)));
    let (st, _) = c
        .call("GET", "/orders/{order_number}", "/orders/NOPE-1", o, None)
        .await;
    assert_eq!(st, 404);
    assert_eq!(
        c.call("GET", "/accounts", "/accounts", s, None).await.0,
        403
    );
    let body = json!({"name": "x", "nonsense": true, "retention_days": "many"});
    assert_eq!(
        c.call("POST", "/accounts", "/accounts", a, Some(body))
            .await
            .0,
        400
    );

    // Every documented operation was answered 2xx above.
    let mut documented = BTreeSet::new();
    for (path, item) in c.doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let missing: Vec<_> = documented.difference(&c.covered).collect();
    assert!(
        missing.is_empty(),
        "documented but never checked: {missing:?}"
    );
    // And every operation carries the common problems as application/problem+json.
    for (method, path) in &documented {
        let responses = &c.doc["paths"][path][method]["responses"];
        for status in ordervault::api::openapi::COMMON_PROBLEMS {
            assert!(responses[status].is_object(), "{method} {path}: {status}");
        }
    }
}

/// The document is generated from code: it holds no operation the router lacks, and the
/// checker above rejects undocumented answers (a test of the test).
async fn checker_rejects_drift(env: TestEnv) {
    let doc = serde_json::to_value(ordervault::api::openapi::spec()).unwrap();
    let order = json!({"marketplace": "bol", "order_number": "1", "surprise": 1});
    let mut errors = Vec::new();
    check(
        &doc,
        &json!({"$ref": "#/components/schemas/Order"}),
        &order,
        "$",
        &mut errors,
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("`surprise` is not in the document")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("required `version` missing")),
        "{errors:?}"
    );
    let mut errors = Vec::new();
    let problem =
        json!({"type": "about:blank", "title": "Not Found", "status": "404", "detail": "x"});
    check(
        &doc,
        &json!({"$ref": "#/components/schemas/Problem"}),
        &problem,
        "$",
        &mut errors,
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    // The served document is the generated one.
    let service = TestApp::spawn(&env).await;
    let served: Value = service.openapi().await;
    assert_eq!(served, doc);
}

both_backends!(document_matches_answers, checker_rejects_drift);
