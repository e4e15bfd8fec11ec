//! eBay Fulfillment: a getOrders page, parsed as the client does; every order is
//! normalized into an order or a recorded failure.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ordervault_connectors::ebay::{normalize, wire};

fuzz_target!(|data: &[u8]| {
    let Ok(page) =
        serde_json::from_slice::<wire::OrderSearchPagedCollection<serde_json::Value>>(data)
    else {
        return;
    };
    for raw in &page.orders {
        let _ = normalize::normalize_value(raw);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = normalize::parse_timestamp(s);
    }
});
