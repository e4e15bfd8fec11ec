//! Listings indexed by time, so paging through a large world costs a page, not the world.
//!
//! A list endpoint evaluates its filter at the clock's time on every call (orders that
//! change during a walk leave the window and shift later pages, as on the real APIs).
//! Recomputing the matching set for every page filters and sorts the whole world each
//! time. Instead a [`Listings`] keeps, per distinct filter, the sorted set of matching
//! plans and the time it was computed; the next page at a later time only re-checks the
//! plans with an event (placement, a shipment, a cancellation) between the two times,
//! found through [`Events`], the world's changes sorted by time. The result is exactly
//! what a full recomputation would give, because a plan's membership can only change at
//! one of its events.
//!
//! Seller pushes (shipments sent back) also change orders; while any push exists a
//! listing is recomputed in full (pushes are for fulfilment tests, not large worlds).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::world::World;

/// Every plan's change times (placement, each shipment, a cancellation), sorted by time.
#[derive(Debug, Default)]
pub struct Events {
    /// (milliseconds since the epoch, plan index).
    times: Vec<(i64, u32)>,
}

impl Events {
    pub fn build(world: &World) -> Self {
        let mut times = Vec::with_capacity(world.plans.len() * 3);
        for (i, p) in world.plans.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let placed = p.order.placed_at;
            times.push((placed.timestamp_millis(), i));
            for after in p.ship_after.iter().flatten().chain(&p.cancel_after) {
                times.push(((placed + *after).timestamp_millis(), i));
            }
        }
        times.sort_unstable();
        times.dedup();
        Self { times }
    }

    /// The plans with an event in `(after, upto]`, each once, in index order.
    pub fn changed(&self, after: DateTime<Utc>, upto: DateTime<Utc>) -> Vec<usize> {
        let (a, b) = (after.timestamp_millis(), upto.timestamp_millis());
        let lo = self.times.partition_point(|(t, _)| *t <= a);
        let hi = self.times.partition_point(|(t, _)| *t <= b);
        let mut plans: Vec<usize> = self.times[lo..hi.max(lo)]
            .iter()
            .map(|(_, i)| *i as usize)
            .collect();
        plans.sort_unstable();
        plans.dedup();
        plans
    }
}

/// One filter's matching plans (indexes, in listing order) as of `at`.
struct Listing {
    at: DateTime<Utc>,
    rows: Arc<Vec<u32>>,
}

/// Most filters kept at once; a client walks one window at a time.
const KEPT: usize = 32;

/// Matching sets per filter, kept current by [`Events`].
#[derive(Default)]
pub struct Listings {
    kept: Mutex<HashMap<String, Listing>>,
}

/// How one filter lists: which plans match at a time, and in which order.
pub struct Query<'a> {
    /// Identifies the filter (the raw filter parameter and anything else that selects).
    pub key: &'a str,
    pub now: DateTime<Utc>,
    /// The full computation: matching plan indexes at `now`, in listing order.
    pub fresh: &'a dyn Fn() -> Vec<u32>,
    /// Whether plan `i` matches at `now`.
    pub matches: &'a dyn Fn(usize) -> bool,
    /// Listing order of two plan indexes.
    pub order: &'a dyn Fn(u32, u32) -> Ordering,
}

impl Listings {
    /// The plans matching `q` at `q.now`, in listing order. `volatile`: something other
    /// than the world's events changed orders (seller pushes): compute in full.
    pub fn rows(&self, events: &Events, q: &Query<'_>, volatile: bool) -> Arc<Vec<u32>> {
        if volatile {
            return Arc::new((q.fresh)());
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = kept.get_mut(q.key) {
            if l.at <= q.now {
                let changed = events.changed(l.at, q.now);
                if !changed.is_empty() {
                    let rows = Arc::make_mut(&mut l.rows);
                    for i in changed {
                        let idx = u32::try_from(i).unwrap_or(u32::MAX);
                        let at = rows.binary_search_by(|r| (q.order)(*r, idx));
                        match (at, (q.matches)(i)) {
                            (Ok(pos), false) => {
                                rows.remove(pos);
                            }
                            (Err(pos), true) => rows.insert(pos, idx),
                            _ => {}
                        }
                    }
                }
                l.at = q.now;
                return l.rows.clone();
            }
        }
        if kept.len() >= KEPT {
            kept.clear();
        }
        let rows = Arc::new((q.fresh)());
        kept.insert(
            q.key.to_owned(),
            Listing {
                at: q.now,
                rows: rows.clone(),
            },
        );
        rows
    }
}
