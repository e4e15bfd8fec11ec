//! The OpenAPI description of shipments and cancellations (issue 15), merged into the
//! document by `openapi::spec`.

use serde_json::{json, Value};

fn problem(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

fn params() -> Value {
    json!([
        {"name": "order_number", "in": "path", "required": true, "schema": {"type": "string", "maxLength": 64}},
        {"name": "marketplace", "in": "query", "required": false, "schema": {"type": "string", "enum": ["bol", "amazon", "ebay"]}}
    ])
}

fn create(summary: &str, description: &str, body: &str) -> Value {
    let mut p = params();
    if let Some(a) = p.as_array_mut() {
        a.push(json!({"name": "Idempotency-Key", "in": "header", "required": false,
            "description": "1–200 visible ASCII characters. The same key with the same request returns the earlier answer (200); with another request, 409.",
            "schema": {"type": "string", "maxLength": 200}}));
    }
    let ok =
        json!({"application/json": {"schema": {"$ref": "#/components/schemas/FulfilmentRequest"}}});
    json!({
        "summary": summary,
        "description": description,
        "tags": ["shipments and cancellations (backoffice)"],
        "parameters": p,
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}},
        "responses": {
            "201": {"description": "Stored (state pending); delivered to the marketplace by the outbox", "content": ok},
            "200": {"description": "The earlier answer to this Idempotency-Key", "content": ok},
            "400": problem("Malformed JSON"),
            "401": problem("No or unknown token"),
            "403": problem("Not a backoffice token"),
            "404": problem("No such order in the token's account"),
            "409": problem("The order's state forbids it: fulfilled by the marketplace (FBB/AFN), cancelled, shipped units to cancel, Idempotency-Key reused with another request"),
            "422": problem("Lines or quantities that do not exist or exceed what is open, bad carrier or reason, a marketplace whose API takes no cancellations through ordervault (eBay, Amazon)")
        }
    })
}

fn list(summary: &str, field: &str) -> Value {
    json!({
        "summary": summary,
        "tags": ["shipments and cancellations (backoffice)"],
        "parameters": params(),
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object", "properties": {
                "marketplace": {"type": "string"}, "order_number": {"type": "string"},
                field: {"type": "array", "items": {"$ref": "#/components/schemas/FulfilmentRequest"}}}}}}},
            "401": problem("No or unknown token"),
            "403": problem("Not a backoffice token"),
            "404": problem("No such order in the token's account")
        }
    })
}

/// Paths to merge into `paths`.
pub fn paths() -> Value {
    json!({
        "/orders/{order_number}/shipments": {
            "post": create(
                "Confirm a shipment at the marketplace",
                "bol: POST /retailer/shipments (202, process status polled until SUCCESS/FAILURE); Amazon: confirmShipment (204); eBay: createShippingFulfillment (201). Webhook events shipment.accepted / shipment.rejected follow, and the order shows again in GET /orders/new.",
                "ShipmentRequest"),
            "get": list("Shipments of an order with their state at the marketplace", "shipments")
        },
        "/orders/{order_number}/cancellations": {
            "post": create(
                "Cancel lines at the marketplace",
                "bol only: PUT /retailer/orders/cancellation, one call per order item (bol cancels whole items). eBay cancels through its Post-Order API and Amazon through feeds: both answer 422. Webhook events cancellation.accepted / cancellation.rejected follow.",
                "CancellationRequest"),
            "get": list("Cancellations of an order with their state at the marketplace", "cancellations")
        }
    })
}

/// Schemas to merge into `components.schemas`.
pub fn schemas() -> Value {
    let lines = json!({"type": "array", "minItems": 1, "maxItems": 100, "description": "Omit for every open unit.",
        "items": {"type": "object", "required": ["line_id"], "properties": {
            "line_id": {"type": "string", "description": "bol orderItemId, Amazon OrderItemId, eBay lineItemId"},
            "quantity": {"type": "integer", "minimum": 1, "description": "All open units when omitted"}}}});
    json!({
        "ShipmentRequest": {"type": "object", "required": ["carrier", "tracking_number"], "additionalProperties": false, "properties": {
            "lines": lines,
            "carrier": {"type": "string", "description": "postnl, dhl, dhl-parcel-nl, dpd, ups, gls, bpost, or any carrier name (sent as bol OTHER, Amazon Other + carrierName, eBay as given)"},
            "tracking_number": {"type": "string", "maxLength": 100},
            "tracking_url": {"type": "string", "format": "uri", "description": "Checked, then not stored or forwarded: track-and-trace links often carry the recipient's postcode, and no marketplace API takes one"},
            "shipped_at": {"type": "string", "format": "date-time", "description": "Now when omitted"},
            "reference": {"type": "string", "maxLength": 200, "description": "The backoffice's own reference"}}},
        "CancellationRequest": {"type": "object", "required": ["reason"], "additionalProperties": false, "properties": {
            "lines": lines,
            "reason": {"type": "string", "enum": ["out_of_stock", "requested_by_customer", "bad_condition", "incorrect_price", "not_available_in_time", "other"]},
            "reference": {"type": "string", "maxLength": 200}}},
        "FulfilmentRequest": {"type": "object", "properties": {
            "id": {"type": "string", "description": "shp_… or cnl_…"},
            "kind": {"type": "string", "enum": ["shipment", "cancellation"]},
            "marketplace": {"type": "string"}, "order_number": {"type": "string"},
            "lines": {"type": "array", "items": {"type": "object", "properties": {"line_id": {"type": "string"}, "quantity": {"type": "integer"}}}},
            "carrier": {"type": "string"}, "tracking_number": {"type": "string"},
            "shipped_at": {"type": "string", "format": "date-time"}, "reason": {"type": "string"}, "reference": {"type": "string"},
            "state": {"type": "string", "enum": ["pending", "sent", "accepted", "rejected", "failed"]},
            "marketplace_reason": {"type": "string", "description": "The marketplace's reason when rejected; the last error when failed"},
            "marketplace_ref": {"type": "string", "description": "bol process status id, eBay fulfillment id, Amazon package reference"},
            "attempts": {"type": "integer"}, "last_error": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}}
    })
}
