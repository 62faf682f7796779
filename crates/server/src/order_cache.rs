//! Orders this instance wrote last, kept in memory so the next change to a tab (the
//! usual case: a waiter adding a round) skips reading and decoding it. A cached order is
//! used only when its version is the one the client based its change on; the commit
//! checks that version against the database anyway, so a copy made stale by another
//! instance can only turn into the same 409 the database would give.

use comanda_domain::orders::Order;
use comanda_domain::{OrderId, StoreId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Orders kept before the cache starts over: a busy night's open tabs, many times over.
const MAX_ORDERS: usize = 10_000;

#[derive(Default)]
pub struct OrderCache {
    orders: Mutex<HashMap<OrderId, Arc<Order>>>,
}

impl OrderCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OrderId, Arc<Order>>> {
        self.orders.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The order at `version`, if this instance has it.
    pub fn at_version(&self, store: StoreId, id: OrderId, version: i64) -> Option<Order> {
        self.lock()
            .get(&id)
            .filter(|o| o.store_id == store && o.version == version)
            .map(|o| Order::clone(o))
    }

    /// Remembers orders just committed; finished ones are forgotten.
    pub fn remember(&self, orders: &[Order]) {
        let mut cache = self.lock();
        if cache.len() >= MAX_ORDERS {
            cache.clear();
        }
        for order in orders {
            if order.status.is_active() {
                cache.insert(order.id, Arc::new(order.clone()));
            } else {
                cache.remove(&order.id);
            }
        }
    }
}
