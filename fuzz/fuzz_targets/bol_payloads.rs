//! bol.com: an order list page and an order detail, parsed and normalized exactly as
//! the client does (`Value` first, then the typed wire structs, then `normalize`).
//! Any input must end as an order or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ordervault_connectors::bol::{normalize, wire};

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    // As a list page.
    if v.is_object() {
        if let Ok(list) = serde_json::from_value::<wire::ReducedOrders>(v.clone()) {
            for raw in list.orders {
                if let Ok(o) = serde_json::from_value::<wire::ReducedOrder>(raw) {
                    let _ = normalize::latest_change(&o);
                }
            }
        }
    }
    // As a detail.
    if let Ok(detail) = normalize::typed::<wire::Order>(v, "order") {
        let _ = normalize::order(detail, None);
    }
});
