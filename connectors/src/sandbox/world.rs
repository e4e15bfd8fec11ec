//! The seeded order world every sandbox serves: canonical orders that are placed, shipped
//! and cancelled as the injected clock moves. A marketplace sandbox renders these orders in
//! its own wire format; [`World::snapshot`] is the ground truth a sync must converge to.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::model::{
    Address, Customer, MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus, OrderTerms,
};

const FIRST: &[&str] = &[
    "Anna", "Bram", "Chloé", "Daan", "Eva", "Finn", "Greta", "Hugo", "Iris", "Jonas", "Kim",
    "Lotte", "Milan", "Noor", "Oskar", "Pia", "Ruben", "Sara", "Tijn", "Vera", "Zoë", "Émile",
];
const LAST: &[&str] = &[
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Boer", "Bos", "Vos",
    "Peters", "Hendriks", "van Dijk", "Dekker", "Brouwer", "Müller", "Schäfer", "O'Neill",
];
const STREETS: &[&str] = &[
    "Kerkstraat",
    "Dorpsstraat",
    "Schoolstraat",
    "Molenweg",
    "Stationsweg",
    "Hoofdstraat",
    "Beukenlaan",
    "Julianastraat",
    "Marktplein",
    "Rue de la Paix",
    "Lindenallee",
];
const CITIES: &[(&str, &str)] = &[
    ("Utrecht", "NL"),
    ("Amsterdam", "NL"),
    ("Rotterdam", "NL"),
    ("Groningen", "NL"),
    ("Antwerpen", "BE"),
    ("Gent", "BE"),
    ("Köln", "DE"),
    ("Lyon", "FR"),
];
const PRODUCTS: &[(&str, i64)] = &[
    ("Koffiemolen RVS", 3499),
    ("Yogamat 6mm", 1995),
    ("USB-C kabel 2m", 899),
    ("Thermosfles 750 ml", 2450),
    ("Boek: Het Achterhuis", 1299),
    ("Legoset 10281", 4999),
    ("Fietsbel messing", 650),
];

/// How one order's life goes: when it is placed, and when (if ever) its lines ship or get
/// cancelled. Fixed at world creation; the clock decides how much of it has happened.
#[derive(Clone, Debug)]
pub struct OrderPlan {
    pub order: Order,
    /// When each line ships, relative to `placed_at` (None: never ships).
    pub ship_after: Vec<Option<Duration>>,
    /// When the whole order is cancelled instead, relative to `placed_at`.
    pub cancel_after: Option<Duration>,
    /// No change happens after this instant (its last shipment or its cancellation),
    /// unless the seller pushes a shipment or cancellation ([`Pushes`]).
    pub settles_at: DateTime<Utc>,
    /// What sellers pushed to this world (shared by all plans of one world).
    pub pushes: Pushes,
}

/// A deterministic set of orders for one marketplace.
#[derive(Clone, Debug)]
pub struct World {
    pub marketplace: MarketplaceKind,
    pub plans: Vec<OrderPlan>,
    /// What sellers pushed (the same handle every plan holds).
    pub pushes: Pushes,
    /// Order number → plan index, built on first use (after any re-sorting of `plans`).
    index: std::sync::OnceLock<std::collections::HashMap<String, usize>>,
}

/// Shape of the world: how many orders, spread over which period around `anchor`.
#[derive(Clone, Debug)]
pub struct WorldSpec {
    pub marketplace: MarketplaceKind,
    pub orders: usize,
    pub seed: u64,
    /// Usually the clock's time at sandbox start.
    pub anchor: DateTime<Utc>,
    /// Orders placed in `[anchor - history, anchor + arrival_span)`: past orders exist at
    /// start, later ones arrive while the clock moves (new orders during a sync).
    pub history: Duration,
    pub arrival_span: Duration,
}

impl World {
    /// Builds the world; the same spec always gives the same orders.
    pub fn generate(spec: &WorldSpec, order_number: impl Fn(&mut StdRng, usize) -> String) -> Self {
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let start = spec.anchor - spec.history;
        let span_ms = (spec.history + spec.arrival_span).num_milliseconds().max(1);
        let mut plans = Vec::with_capacity(spec.orders);
        let pushes = Pushes::default();
        for i in 0..spec.orders {
            // Evenly spread with jitter, so arrival is steady and paging sees a mix.
            let slot = span_ms * i as i64 / spec.orders.max(1) as i64;
            let jitter = rng.gen_range(0..(span_ms / spec.orders.max(1) as i64).max(1));
            let placed_at = start + Duration::milliseconds(slot + jitter);
            let number = order_number(&mut rng, i);
            let mut p = plan(&mut rng, spec.marketplace, number, placed_at, i);
            p.pushes = pushes.clone();
            plans.push(p);
        }
        Self {
            marketplace: spec.marketplace,
            plans,
            pushes,
            index: std::sync::OnceLock::new(),
        }
    }

    /// The plan of the order with this number.
    pub fn plan(&self, order_number: &str) -> Option<&OrderPlan> {
        let index = self.index.get_or_init(|| {
            self.plans
                .iter()
                .enumerate()
                .map(|(i, p)| (p.order.order_number.as_str().to_owned(), i))
                .collect()
        });
        index.get(order_number).map(|&i| &self.plans[i])
    }

    /// Every order placed by `now`, in the state it has at `now`.
    pub fn snapshot(&self, now: DateTime<Utc>) -> Vec<Order> {
        self.plans.iter().filter_map(|p| p.state_at(now)).collect()
    }
}

impl OrderPlan {
    /// The order's last-change time at `now` without building the order: sandboxes filter
    /// thousands of plans per request by it and render only the page they return.
    pub fn last_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let placed = self.order.placed_at;
        if now < placed {
            return None;
        }
        if let Some(c) = self.cancel_after {
            if now >= placed + c {
                return Some(placed + c);
            }
        }
        let shipped = self
            .ship_after
            .iter()
            .flatten()
            .map(|s| placed + *s)
            .filter(|at| *at <= now)
            .max();
        let planned = shipped.map_or(placed, |s| s.max(placed));
        Some(
            match self.pushes.last_at(self.order.order_number.as_str(), now) {
                Some(p) => planned.max(p),
                None => planned,
            },
        )
    }

    /// The order as the marketplace holds it at `now`; `None` before it is placed.
    pub fn state_at(&self, now: DateTime<Utc>) -> Option<Order> {
        let placed = self.order.placed_at;
        if now < placed {
            return None;
        }
        let mut o = self.order.clone();
        let mut last_change = placed;
        if let Some(c) = self.cancel_after {
            let at = placed + c;
            if now >= at {
                for l in &mut o.lines {
                    l.quantity_cancelled = l.quantity;
                }
                o.status = OrderStatus::Cancelled;
                o.cancelled_at = Some(at);
                o.updated_at = at;
                return Some(o);
            }
        }
        for (l, ship) in o.lines.iter_mut().zip(&self.ship_after) {
            if let Some(s) = ship {
                let at = placed + *s;
                if now >= at {
                    l.quantity_shipped = l.quantity;
                    last_change = last_change.max(at);
                }
            }
        }
        if let Some(at) = self
            .pushes
            .apply(&mut o.lines, o.order_number.as_str(), now)
        {
            last_change = last_change.max(at);
        }
        o.status = OrderStatus::from_lines(&o.lines);
        if o.status == OrderStatus::Shipped {
            o.fulfilled_at = Some(last_change);
        }
        if o.status == OrderStatus::Cancelled {
            o.cancelled_at = Some(last_change);
        }
        o.updated_at = last_change;
        Some(o)
    }
}

/// One push a seller made: which units of which line, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedUnits {
    pub line: usize,
    pub quantity: u32,
    pub at: DateTime<Utc>,
    pub cancelled: bool,
}

/// A shipment or cancellation a sandbox accepted, as tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRecord {
    /// `shipment` or `cancellation`.
    pub kind: &'static str,
    pub order_number: String,
    /// The marketplace-side identity the sandbox dedupes on (bol `shipmentReference`,
    /// Amazon package reference, eBay tracking number).
    pub key: Option<String>,
    pub lines: Vec<(String, u32)>,
    pub carrier_code: Option<String>,
    pub tracking_number: Option<String>,
    pub at: DateTime<Utc>,
}

/// Why a sandbox refuses to apply a push (worded like the marketplace would).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRefusal(pub String);

#[derive(Debug, Default)]
struct PushState {
    any: std::sync::atomic::AtomicBool,
    units: std::sync::RwLock<std::collections::HashMap<String, Vec<PushedUnits>>>,
    records: std::sync::Mutex<Vec<PushRecord>>,
    /// Held from check to record, so two concurrent pushes cannot both take the same units.
    gate: std::sync::Mutex<()>,
    faults: std::sync::Mutex<std::collections::VecDeque<PushFault>>,
}

/// A fault the next push call meets (tests of retries and idempotency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushFault {
    /// Answered with the marketplace's 429, nothing applied.
    Throttle,
    /// Answered with a 5xx, nothing applied.
    ServerError,
    /// Applied, then answered with a 5xx: the caller cannot know it went through.
    LoseAnswer,
}

/// The shipments and cancellations sellers pushed to one world: they change the orders
/// the sandbox serves from then on (next sync shows them) and are kept as records.
#[derive(Debug, Clone, Default)]
pub struct Pushes(std::sync::Arc<PushState>);

impl Pushes {
    /// Whether any seller push was recorded (orders then change outside their plans).
    pub fn any(&self) -> bool {
        self.0.any.load(std::sync::atomic::Ordering::Acquire)
    }

    fn last_at(&self, order: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.0.any.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let units = self.0.units.read().unwrap();
        units
            .get(order)?
            .iter()
            .filter(|u| u.at <= now)
            .map(|u| u.at)
            .max()
    }

    /// Applies the pushes made by `now` to `lines`; returns the latest push time.
    fn apply(
        &self,
        lines: &mut [crate::model::OrderLine],
        order: &str,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if !self.0.any.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let units = self.0.units.read().unwrap();
        let pushed = units.get(order)?;
        let mut latest = None;
        let mut shipped = vec![0u32; lines.len()];
        let mut cancelled = vec![0u32; lines.len()];
        for u in pushed
            .iter()
            .filter(|u| u.at <= now && u.line < lines.len())
        {
            if u.cancelled {
                cancelled[u.line] += u.quantity;
            } else {
                shipped[u.line] += u.quantity;
            }
            latest = latest.max(Some(u.at));
        }
        for (i, l) in lines.iter_mut().enumerate() {
            l.quantity_cancelled = l.quantity_cancelled.max(cancelled[i]).min(l.quantity);
            let room = l.quantity - l.quantity_cancelled;
            l.quantity_shipped = l.quantity_shipped.max(shipped[i]).min(room);
        }
        latest
    }

    /// Checks and records a push against `order` as it stands at `now`: every line must
    /// exist with enough open units (`None` quantity: all open units). Returns the units
    /// applied per line.
    pub fn push(
        &self,
        plan: &OrderPlan,
        lines: &[(String, Option<u32>)],
        cancel: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, u32)>, PushRefusal> {
        let _gate = self.0.gate.lock().unwrap();
        // Marketplaces render change times in whole seconds (or milliseconds): a push
        // recorded with nanoseconds could never be read back equal.
        let now = chrono::SubsecRound::trunc_subsecs(now, 0);
        let Some(order) = plan.state_at(now) else {
            return Err(PushRefusal("order not found".into()));
        };
        if order.status == OrderStatus::Cancelled {
            return Err(PushRefusal("order is cancelled".into()));
        }
        let mut applied = Vec::new();
        let mut units = Vec::new();
        for (id, qty) in lines {
            let Some((i, l)) = order
                .lines
                .iter()
                .enumerate()
                .find(|(_, l)| &l.line_id == id)
            else {
                return Err(PushRefusal(format!("order item {id} not found in order")));
            };
            let open = l.quantity - l.quantity_shipped - l.quantity_cancelled;
            let q = qty.unwrap_or(open);
            if q == 0 || q > open {
                return Err(PushRefusal(format!(
                    "order item {id}: quantity {q} exceeds the open quantity {open}"
                )));
            }
            applied.push((id.clone(), q));
            units.push(PushedUnits {
                line: i,
                quantity: q,
                at: now,
                cancelled: cancel,
            });
        }
        self.0
            .units
            .write()
            .unwrap()
            .entry(order.order_number.as_str().to_owned())
            .or_default()
            .extend(units);
        self.0.any.store(true, std::sync::atomic::Ordering::Release);
        Ok(applied)
    }

    /// When each pushed line of `order` last changed through a push, as of `now`.
    pub fn line_changes(&self, order: &str, now: DateTime<Utc>) -> Vec<(usize, DateTime<Utc>)> {
        if !self.0.any.load(std::sync::atomic::Ordering::Acquire) {
            return Vec::new();
        }
        let units = self.0.units.read().unwrap();
        units
            .get(order)
            .map(|v| {
                v.iter()
                    .filter(|u| u.at <= now)
                    .map(|u| (u.line, u.at))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The next push calls meet these faults, in order.
    pub fn inject(&self, faults: &[PushFault]) {
        self.0.faults.lock().unwrap().extend(faults.iter().copied());
    }

    /// The fault the current push call meets, if any.
    pub fn next_fault(&self) -> Option<PushFault> {
        self.0.faults.lock().unwrap().pop_front()
    }

    /// Keeps a record of an accepted push.
    pub fn record(&self, r: PushRecord) {
        self.0.records.lock().unwrap().push(r);
    }

    /// The accepted push with this kind, order and key, if any (dedupe).
    pub fn find(&self, kind: &str, order: &str, key: &str) -> Option<PushRecord> {
        self.0
            .records
            .lock()
            .unwrap()
            .iter()
            .find(|r| r.kind == kind && r.order_number == order && r.key.as_deref() == Some(key))
            .cloned()
    }

    /// Every accepted push, oldest first.
    pub fn records(&self) -> Vec<PushRecord> {
        self.0.records.lock().unwrap().clone()
    }
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.gen_range(0..list.len())]
}

fn plan(
    rng: &mut StdRng,
    marketplace: MarketplaceKind,
    number: String,
    placed_at: DateTime<Utc>,
    i: usize,
) -> OrderPlan {
    let first = pick(rng, FIRST);
    let last = pick(rng, LAST);
    let (city, country) = CITIES[rng.gen_range(0..CITIES.len())];
    let street = pick(rng, STREETS);
    let house = rng.gen_range(1..250).to_string();
    let postcode = match country {
        "NL" => format!(
            "{} {}{}",
            rng.gen_range(1000..9999),
            (b'A' + rng.gen_range(0..26)) as char,
            (b'A' + rng.gen_range(0..26)) as char
        ),
        "DE" | "FR" => format!("{:05}", rng.gen_range(10000..99999)),
        _ => format!("{}", rng.gen_range(1000..9999)),
    };
    // Unique per order, so a leak scan can look for each one.
    let email = format!(
        "{}.{}.{i}@example.com",
        first.to_lowercase().replace(' ', ""),
        last.to_lowercase().replace([' ', '\''], "")
    );
    let phone = format!("+316{:08}", rng.gen_range(0..100_000_000u32));
    let shipping = Address {
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        street: Some(street.into()),
        house_number: Some(house.into()),
        postcode: Some(postcode.into()),
        city: Some(city.into()),
        country_code: Some(country.into()),
        ..Address::default()
    };
    let billing = if rng.gen_bool(0.2) {
        Some(Address {
            company: Some(format!("{last} Handel B.V.").into()),
            ..shipping.clone()
        })
    } else {
        Some(shipping.clone())
    };
    let n_lines = rng.gen_range(1..=3);
    let mut lines = Vec::with_capacity(n_lines);
    let mut ship_after = Vec::with_capacity(n_lines);
    let ships_at_all = rng.gen_bool(0.9);
    for l in 0..n_lines {
        let (title, price) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
        let quantity = rng.gen_range(1..=3);
        lines.push(OrderLine {
            line_id: format!("{number}-{}", l + 1),
            sku: Some(format!("SKU-{:05}", rng.gen_range(0..100_000))),
            ean: Some(format!("87{:011}", rng.gen_range(0..100_000_000_000u64))),
            title: title.to_string(),
            quantity,
            quantity_shipped: 0,
            quantity_cancelled: 0,
            unit_price_minor: Some(price),
            total_minor: price * i64::from(quantity),
            discount_minor: 0,
            tax_minor: None,
        });
        // Most lines ship within one to 48 hours; some orders ship in two parts.
        ship_after.push(ships_at_all.then(|| Duration::minutes(rng.gen_range(60..48 * 60))));
    }
    let cancel_after =
        (!ships_at_all && rng.gen_bool(0.5)).then(|| Duration::minutes(rng.gen_range(5..600)));
    let total_minor = lines.iter().map(|l| l.total_minor).sum();
    let order = Order {
        marketplace,
        order_number: OrderNumber::parse(&number).expect("sandbox order numbers are valid"),
        status: OrderStatus::Open,
        placed_at,
        updated_at: placed_at,
        fulfilled_at: None,
        cancelled_at: None,
        currency: "EUR".into(),
        total_minor,
        country_code: Some(country.to_string()),
        lines,
        customer: Customer {
            email: Some(email.into()),
            phone: Some(phone.into()),
            shipping: Some(shipping),
            billing,
            delivery_notes: rng.gen_bool(0.1).then(|| "Bel aan bij de buren".into()),
            ..Customer::default()
        },
        terms: OrderTerms::default(),
    };
    let last = cancel_after
        .or_else(|| ship_after.iter().flatten().max().copied())
        .unwrap_or_else(Duration::zero);
    OrderPlan {
        pushes: Pushes::default(),
        settles_at: placed_at + last,
        order,
        ship_after,
        cancel_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> WorldSpec {
        WorldSpec {
            marketplace: MarketplaceKind::Bol,
            orders: 100,
            seed: 7,
            anchor: DateTime::parse_from_rfc3339("2026-01-10T12:00:00Z")
                .unwrap()
                .into(),
            history: Duration::days(5),
            arrival_span: Duration::hours(1),
        }
    }

    #[test]
    fn same_seed_same_world_and_orders_progress_with_time() {
        let numbering = |_: &mut StdRng, i: usize| format!("{}", 1_000_000_000 + i);
        let a = World::generate(&spec(), numbering);
        let b = World::generate(&spec(), numbering);
        let anchor = spec().anchor;
        assert_eq!(a.snapshot(anchor), b.snapshot(anchor));
        let now = a.snapshot(anchor);
        let later = a.snapshot(anchor + Duration::days(3));
        assert!(
            now.len() < 100 && later.len() == 100,
            "orders arrive after the anchor"
        );
        assert!(now.iter().any(|o| o.status == OrderStatus::Shipped));
        assert!(now.iter().any(|o| o.status == OrderStatus::Open));
        for (o, p) in later.iter().zip(&a.plans) {
            assert_eq!(
                Some(o.updated_at),
                p.last_change(anchor + Duration::days(3))
            );
            assert!(o.updated_at >= o.placed_at);
            if o.status == OrderStatus::Shipped {
                assert!(o.fulfilled_at.is_some());
            }
        }
    }
}
