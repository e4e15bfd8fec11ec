//! Shapes the shared sandbox world into what bol actually holds (order ids, item ids,
//! relay emails, the phone only for appointment deliveries, no delivery notes, sometimes no
//! billing details; FBB orders, pickup-point orders, item discounts, companies with VAT
//! and chamber-of-commerce numbers, buyers' order references and cancellation requests)
//! and renders it as v10 JSON with the field names of the official spec.
//!
//! Deliberately independent of the client's wire types: the JSON is spelled out here, so a
//! misspelled field on either side breaks the round-trip tests.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use crate::model::{
    Address, Amounts, DeliveryWindow, FulfilmentMethod, Order, PersonalText, PickupPoint,
};
use crate::sandbox::world::{OrderPlan, World};

/// bol-only facts about one order that the canonical model does not carry.
#[derive(Debug, Clone)]
pub(super) struct Extra {
    pub fbb: bool,
    pub time_frame: &'static str,
    pub language: &'static str,
    pub offer_ids: Vec<String>,
}

/// bol order ids: mostly ten digits (`1043946570`), some alphanumeric (`A4K8290LP0`).
pub(super) fn order_number(rng: &mut StdRng, i: usize) -> String {
    if i % 5 == 4 {
        let prefix = ['A', 'B', 'C'][rng.gen_range(0..3)];
        format!(
            "{prefix}{}K{:05}LP{}",
            rng.gen_range(0..10),
            i,
            rng.gen_range(0..10)
        )
    } else {
        (1_040_000_000u64 + i as u64 * 100 + rng.gen_range(0..100)).to_string()
    }
}

/// bol's offset for rendered times and `latest-change-date` days. Fixed CET (+01:00): the
/// real API uses Europe/Amsterdam, and the client's day walk covers +00:00 to +02:00.
pub(super) fn bol_offset() -> FixedOffset {
    FixedOffset::east_opt(3600).expect("valid offset")
}

pub(super) fn bol_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&bol_offset())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

pub(super) fn bol_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&bol_offset()).date_naive()
}

fn text(p: &Option<PersonalText>) -> &str {
    p.as_deref().unwrap_or("")
}

fn strip_spaces(p: &Option<PersonalText>) -> Option<PersonalText> {
    p.as_ref().map(|v| v.replace(' ', "").into())
}

/// Rewrites the generic world into bol's shape; returns the bol-only facts per plan. The
/// ground truth is the snapshot of the rewritten world.
pub(super) fn adapt(world: &mut World, seed: u64) -> Vec<Extra> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xb01_c0de);
    let mut extras = Vec::with_capacity(world.plans.len());
    for (i, plan) in world.plans.iter_mut().enumerate() {
        let o = &mut plan.order;
        // bol renders whole seconds.
        let placed = DateTime::from_timestamp(o.placed_at.timestamp(), 0).unwrap_or(o.placed_at);
        o.placed_at = placed;
        o.updated_at = placed;
        for (l, line) in o.lines.iter_mut().enumerate() {
            line.line_id = (6_100_000_000u64 + i as u64 * 10 + l as u64).to_string();
        }
        let appointment = rng.gen_bool(0.15);
        let time_frame = if appointment {
            "APPOINTMENT"
        } else {
            ["REGULAR", "REGULAR", "REGULAR", "EVENING", "SUNDAY"][rng.gen_range(0..5)]
        };
        let country = o.country_code.clone().unwrap_or_default();
        let c = &mut o.customer;
        if !appointment {
            c.phone = None;
        }
        c.delivery_notes = None;
        let relay: String = (0..30)
            .map(|_| {
                let n = rng.gen_range(0..36u8);
                (if n < 10 { b'0' + n } else { b'a' + n - 10 }) as char
            })
            .collect();
        c.email = Some(format!("{relay}@verkopen.bol.com").into());
        let salutation = ["MALE", "FEMALE", "UNKNOWN"][rng.gen_range(0..3)];
        if let Some(s) = c.shipping.as_mut() {
            s.salutation = Some(salutation.into());
            s.postcode = strip_spaces(&s.postcode);
        }
        if rng.gen_bool(0.15) {
            // bol stopped sending billing details for many orders (2021).
            c.billing = None;
        } else if let Some(b) = c.billing.as_mut() {
            b.salutation = Some(salutation.into());
            b.postcode = strip_spaces(&b.postcode);
            if b.company.is_some() {
                b.vat_id = Some(format!("NL{:09}B01", rng.gen_range(0..1_000_000_000u32)).into());
                b.coc_number = Some(format!("{:08}", rng.gen_range(0..100_000_000u32)).into());
                o.terms.customer_reference = Some(format!("PO-{}", 4000 + i));
            }
            c.billing_email = c.email.clone();
        }
        let pickup = i % 10 == 3;
        if pickup {
            if let Some(s) = &c.shipping {
                c.pickup_point = Some(PickupPoint {
                    name: Some(format!("PostNL punt Primera {}", text(&s.city)).into()),
                    address: Some(Address {
                        street: s.street.clone(),
                        house_number: s.house_number.clone(),
                        postcode: s.postcode.clone(),
                        city: s.city.clone(),
                        country_code: s.country_code.clone(),
                        ..Address::default()
                    }),
                });
            }
        }
        if i % 8 == 5 {
            // A bol discount, already in the price the buyer pays.
            o.lines[0].discount_minor = 100.min(o.lines[0].total_minor);
        }
        let fbb = rng.gen_bool(0.2);
        o.terms.fulfilment_method = Some(if fbb {
            FulfilmentMethod::Marketplace
        } else {
            FulfilmentMethod::Seller
        });
        o.terms.pickup_point = pickup;
        o.terms.cancellation_requested = plan.cancel_after.is_some() && i % 2 == 0;
        o.terms.delivery_window = (bol_date(placed) + Duration::days(2))
            .and_hms_opt(23, 59, 59)
            .map(|t| DeliveryWindow {
                earliest: None,
                latest: Some(t.and_utc()),
            });
        o.terms.amounts = Amounts {
            lines_minor: o.total_minor,
            ..Amounts::default()
        };
        let language = match country.as_str() {
            "BE" => ["nl-BE", "fr-BE"][rng.gen_range(0..2)],
            "FR" => "fr",
            _ => "nl",
        };
        let offer_ids = o
            .lines
            .iter()
            .map(|_| {
                let a: u128 = rng.gen();
                let h = format!("{a:032x}");
                format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            })
            .collect();
        extras.push(Extra {
            fbb,
            time_frame,
            language,
            offer_ids,
        });
    }
    extras
}

/// When each line last changed as of `at`: cancellation, its shipment, or placement.
pub(super) fn line_times(plan: &OrderPlan, at: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let placed = plan.order.placed_at;
    let cancelled = plan.cancel_after.map(|c| placed + c).filter(|t| *t <= at);
    let pushed = plan
        .pushes
        .line_changes(plan.order.order_number.as_str(), at);
    let mut times: Vec<DateTime<Utc>> = plan
        .ship_after
        .iter()
        .map(|ship| {
            if let Some(c) = cancelled {
                return c;
            }
            match ship.map(|s| placed + s) {
                Some(t) if t <= at => t,
                _ => placed,
            }
        })
        .collect();
    for (line, when) in pushed {
        if let Some(t) = times.get_mut(line) {
            *t = (*t).max(when);
        }
    }
    times
}

/// Decimal money as a JSON number (`19.99`), built from its text.
pub(super) fn amount(minor: i64) -> Value {
    let sign = if minor < 0 { "-" } else { "" };
    let text = format!("{sign}{}.{:02}", minor.abs() / 100, minor.abs() % 100);
    Value::Number(text.parse().expect("a decimal is a JSON number"))
}

/// One `ReducedOrderItem`.
pub(super) fn reduced_item(o: &Order, l: usize, changed: DateTime<Utc>, extra: &Extra) -> Value {
    let line = &o.lines[l];
    let handled = line.quantity_shipped + line.quantity_cancelled >= line.quantity;
    json!({
        "orderItemId": line.line_id,
        "ean": line.ean.clone().unwrap_or_default(),
        "fulfilmentMethod": if extra.fbb { "FBB" } else { "FBR" },
        "fulfilmentStatus": if handled { "HANDLED" } else { "OPEN" },
        "quantity": line.quantity,
        "quantityShipped": line.quantity_shipped,
        "quantityCancelled": line.quantity_cancelled,
        "cancellationRequest": line.quantity_cancelled > 0,
        "latestChangedDateTime": bol_time(changed),
    })
}

/// One `ReducedOrder` with the given (already filtered) items.
pub(super) fn reduced_order(o: &Order, items: Vec<Value>) -> Value {
    json!({
        "orderId": o.order_number.as_str(),
        "orderPlacedDateTime": bol_time(o.placed_at),
        "orderItems": items,
    })
}

fn put(m: &mut Map<String, Value>, key: &str, v: Option<&PersonalText>) {
    if let Some(v) = v {
        m.insert(key.into(), Value::String(v.as_str().to_owned()));
    }
}

fn address(a: &Address, email: Option<&PersonalText>) -> Map<String, Value> {
    let mut m = Map::new();
    put(&mut m, "salutation", a.salutation.as_ref());
    put(&mut m, "firstName", a.first_name.as_ref());
    put(&mut m, "surname", a.last_name.as_ref());
    put(&mut m, "streetName", a.street.as_ref());
    put(&mut m, "houseNumber", a.house_number.as_ref());
    put(&mut m, "houseNumberExtension", a.house_number_ext.as_ref());
    put(&mut m, "extraAddressInformation", a.extra.as_ref());
    put(&mut m, "zipCode", a.postcode.as_ref());
    put(&mut m, "city", a.city.as_ref());
    put(&mut m, "countryCode", a.country_code.as_ref());
    put(&mut m, "email", email);
    put(&mut m, "company", a.company.as_ref());
    m
}

/// The `Order` detail, personal data included. `corrupt` breaks one item the way a
/// misbehaving API might (for the per-order failure tests).
pub(super) fn order_detail(
    o: &Order,
    times: &[DateTime<Utc>],
    extra: &Extra,
    corrupt: bool,
) -> Value {
    let c = &o.customer;
    let mut shipment = c
        .shipping
        .as_ref()
        .map(|a| address(a, c.email.as_ref()))
        .unwrap_or_default();
    put(&mut shipment, "deliveryPhoneNumber", c.phone.as_ref());
    if let Some(p) = &c.pickup_point {
        put(&mut shipment, "pickupPointName", p.name.as_ref());
    }
    shipment.insert("language".into(), json!(extra.language));
    let placed_day = bol_date(o.placed_at);
    let items: Vec<Value> = o
        .lines
        .iter()
        .enumerate()
        .map(|(l, line)| {
            let mut offer = Map::new();
            offer.insert("offerId".into(), json!(extra.offer_ids[l]));
            if let Some(sku) = &line.sku {
                offer.insert("reference".into(), json!(sku));
            }
            let mut item = json!({
                "orderItemId": line.line_id,
                "cancellationRequest": o.terms.cancellation_requested,
                "fulfilment": {
                    "method": if extra.fbb { "FBB" } else { "FBR" },
                    "distributionParty": if extra.fbb { "BOL" } else { "RETAILER" },
                    "latestDeliveryDate": (placed_day + Duration::days(2)).to_string(),
                    "expiryDate": (placed_day + Duration::days(5)).to_string(),
                    "timeFrameType": extra.time_frame,
                },
                "offer": offer,
                "product": {"ean": line.ean.clone().unwrap_or_default(), "title": line.title},
                "quantity": line.quantity,
                "quantityShipped": line.quantity_shipped,
                "quantityCancelled": line.quantity_cancelled,
                "unitPrice": amount(line.unit_price_minor.unwrap_or_default()),
                "totalPrice": amount(line.total_minor),
                "discounts": if line.discount_minor > 0 {
                    json!([{"title": "Bol.com korting", "amount": amount(line.discount_minor)}])
                } else {
                    json!([])
                },
                "commission": amount(line.total_minor * 15 / 100),
                "additionalServices": [],
                "latestChangedDateTime": bol_time(times[l]),
            });
            if corrupt && l == 0 {
                item["quantity"] = json!("drie");
                item["unitPrice"] = json!("12,99");
            }
            item
        })
        .collect();
    let mut detail = json!({
        "orderId": o.order_number.as_str(),
        "pickupPoint": o.terms.pickup_point,
        "orderPlacedDateTime": bol_time(o.placed_at),
        "shipmentDetails": shipment,
        "orderItems": items,
    });
    if let Some(b) = &c.billing {
        let mut billing = address(b, c.billing_email.as_ref());
        put(&mut billing, "vatNumber", b.vat_id.as_ref());
        put(&mut billing, "kvkNumber", b.coc_number.as_ref());
        if let Some(r) = &o.terms.customer_reference {
            billing.insert("orderReference".into(), json!(r));
        }
        detail["billingDetails"] = Value::Object(billing);
    }
    detail
}
