//! The end of each store's order log, as this instance committed it, kept in memory for
//! the screens that follow the log (kitchen displays), with a signal when a log moves.
//! It is only a shortcut: whenever it cannot say for certain what follows a sequence
//! number (events older than it keeps, or written by another instance), the reader goes
//! to the database, which always can. So a screen never misses an event, and never sees
//! one twice, whichever way it was served.

use comanda_domain::StoreId;
use comanda_domain::orders::chain::LoggedEvent;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// Events kept per store: minutes of a busy night.
const KEEP: usize = 4096;

#[derive(Default)]
pub struct LogTail {
    stores: Mutex<HashMap<StoreId, Arc<StoreTail>>>,
}

pub struct StoreTail {
    recent: Mutex<VecDeque<Arc<LoggedEvent>>>,
    /// The highest sequence known to be in the log, from here or from elsewhere.
    head: watch::Sender<i64>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl LogTail {
    pub fn store(&self, store: StoreId) -> Arc<StoreTail> {
        lock(&self.stores)
            .entry(store)
            .or_insert_with(|| {
                Arc::new(StoreTail {
                    recent: Mutex::new(VecDeque::new()),
                    head: watch::Sender::new(0),
                })
            })
            .clone()
    }

    /// The stores whose log this instance has seen move.
    pub fn stores(&self) -> Vec<StoreId> {
        lock(&self.stores).keys().copied().collect()
    }

    /// Events just committed, in log order.
    pub fn append(&self, events: &[LoggedEvent]) {
        let mut i = 0;
        while let Some(first) = events.get(i) {
            let same = events[i..]
                .iter()
                .take_while(|e| e.store_id == first.store_id)
                .count();
            self.store(first.store_id).push(&events[i..i + same]);
            i += same;
        }
    }

    /// Another instance says `store`'s log reached `seq`.
    pub fn moved(&self, store: StoreId, seq: i64) {
        self.store(store).raise(seq);
    }
}

impl StoreTail {
    fn push(&self, events: &[LoggedEvent]) {
        let Some(last) = events.last() else { return };
        {
            let mut recent = lock(&self.recent);
            // A gap (another instance wrote in between) makes what is kept useless.
            if let (Some(back), Some(first)) = (recent.back(), events.first())
                && back.seq + 1 != first.seq
            {
                recent.clear();
            }
            recent.extend(events.iter().cloned().map(Arc::new));
            while recent.len() > KEEP {
                recent.pop_front();
            }
        }
        self.raise(last.seq);
    }

    fn raise(&self, seq: i64) {
        self.head.send_if_modified(|head| {
            let higher = seq > *head;
            if higher {
                *head = seq;
            }
            higher
        });
    }

    /// Changes whenever the log is known to have moved.
    pub fn watch(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    /// The events after `seq` (at most `limit`), if this tail knows them all; `None`
    /// means: read the database.
    pub fn after(&self, seq: i64, limit: usize) -> Option<Vec<Arc<LoggedEvent>>> {
        let head = *self.head.borrow();
        let recent = lock(&self.recent);
        let front = recent.front()?.seq;
        let back = recent.back()?.seq;
        if front > seq + 1 || back < head {
            return None;
        }
        let skip = usize::try_from(seq + 1 - front).unwrap_or(0);
        Some(recent.iter().skip(skip).take(limit).cloned().collect())
    }
}
