//! Amazon SP-API: a getOrders page and a getOrderItems page, parsed as the client does
//! and normalized together. The first byte picks how the input splits into the two.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ordervault_connectors::amazon::{normalize, wire};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = (split as usize * rest.len()) / 255;
    let (orders, items) = rest.split_at(at.min(rest.len()));
    let items: Vec<wire::OrderItem> =
        serde_json::from_slice::<wire::Envelope<wire::OrderItemsList>>(items)
            .ok()
            .and_then(|e| e.payload)
            .map(|p| p.order_items)
            .unwrap_or_default();
    let Ok(list) =
        serde_json::from_slice::<wire::Envelope<wire::OrdersList<serde_json::Value>>>(orders)
    else {
        return;
    };
    for raw in list.payload.map(|p| p.orders).unwrap_or_default() {
        if let Ok(order) = serde_json::from_value::<wire::Order>(raw) {
            let _ = normalize::map_status(&order.order_status);
            let _ = normalize::normalize(&order, &items);
        }
    }
});
