//! Cursor pagination: lists never return unbounded rows, and a page boundary never
//! skips or repeats a row when rows are added meanwhile (cursors are keys, not offsets).

use serde::Serialize;

/// How many rows a list may return; out-of-range requests are clamped, not rejected,
/// so a client asking for "everything" still gets a bounded answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    pub const DEFAULT: Limit = Limit(50);
    pub const MAX: u32 = 500;

    pub fn new(requested: Option<u32>) -> Self {
        match requested {
            None => Self::DEFAULT,
            Some(n) => Self(n.clamp(1, Self::MAX)),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// One more than the limit: fetching it tells whether another page exists.
    pub fn probe(self) -> i64 {
        i64::from(self.0) + 1
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// Builds a page from up to `limit + 1` fetched rows, using the last returned row's
    /// key as the cursor when more rows exist.
    pub fn from_probe(mut rows: Vec<T>, limit: Limit, key: impl Fn(&T) -> C) -> Self {
        let more = rows.len() > limit.get() as usize;
        rows.truncate(limit.get() as usize);
        let next = if more { rows.last().map(key) } else { None };
        Self { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clamped() {
        assert_eq!(Limit::new(None).get(), 50);
        assert_eq!(Limit::new(Some(0)).get(), 1);
        assert_eq!(Limit::new(Some(1_000_000)).get(), Limit::MAX);
    }

    #[test]
    fn from_probe_sets_the_cursor_only_when_more_rows_exist() {
        let limit = Limit::new(Some(2));
        let page = Page::from_probe(vec![1, 2, 3], limit, |n| *n);
        assert_eq!((page.items, page.next), (vec![1, 2], Some(2)));
        let last = Page::from_probe(vec![1, 2], limit, |n| *n);
        assert_eq!((last.items, last.next), (vec![1, 2], None));
    }
}
