//! Timestamps are UTC and truncated to microseconds, the finest precision PostgreSQL
//! keeps, so a value reads back exactly as it was written on every backend.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_has_no_sub_microsecond_part() {
        assert_eq!(now().timestamp_subsec_nanos() % 1_000, 0);
    }
}
