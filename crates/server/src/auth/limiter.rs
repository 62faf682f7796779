//! Token-bucket rate limits for sign-in. In-process by default; with Redis configured the
//! buckets live in Redis so every instance draws from the same ones. If Redis stops
//! answering, the limits fall back to this process's buckets instead of failing open.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `burst` attempts, refilled evenly over `per`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub burst: u32,
    pub per: Duration,
}

impl Rate {
    pub const fn new(burst: u32, per: Duration) -> Self {
        Self { burst, per }
    }

    fn tokens_per_second(self) -> f64 {
        f64::from(self.burst) / self.per.as_secs_f64().max(0.001)
    }
}

impl FromStr for Rate {
    type Err = String;

    /// `30/60s`, `5/15m`, `100/1h`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || format!("invalid rate {s:?}: expected COUNT/DURATION like 30/60s, 5/15m or 100/1h");
        let (count, period) = s.trim().split_once('/').ok_or_else(bad)?;
        let burst: u32 = count.trim().parse().map_err(|_| bad())?;
        let period = period.trim();
        let (number, unit) = period.split_at(
            period
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(period.len()),
        );
        let number: u64 = number.parse().map_err(|_| bad())?;
        let seconds = match unit {
            "s" | "" => number,
            "m" => number * 60,
            "h" => number * 3600,
            _ => return Err(bad()),
        };
        if burst == 0 || seconds == 0 {
            return Err(bad());
        }
        Ok(Rate::new(burst, Duration::from_secs(seconds)))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.burst, self.per.as_secs())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Limited { retry_after: Duration },
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Buckets in this process's memory.
#[derive(Default)]
pub struct LocalBuckets {
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Beyond this many keys, full buckets (nobody near the limit) are forgotten.
const MAX_KEYS: usize = 100_000;

impl LocalBuckets {
    /// Takes `cost` tokens from `key`'s bucket if it has them. A cost of 0 only asks
    /// whether one more attempt would be allowed.
    pub fn take(&self, key: &str, rate: Rate, cost: u32) -> Decision {
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > MAX_KEYS {
            let burst = f64::from(rate.burst);
            let per_second = rate.tokens_per_second();
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < burst
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: f64::from(rate.burst),
            updated: now,
        });
        let per_second = rate.tokens_per_second();
        bucket.tokens = (bucket.tokens
            + now.duration_since(bucket.updated).as_secs_f64() * per_second)
            .min(f64::from(rate.burst));
        bucket.updated = now;
        let needed = f64::from(cost.max(1));
        if bucket.tokens < needed {
            let wait = (needed - bucket.tokens) / per_second;
            return Decision::Limited {
                retry_after: Duration::from_secs_f64(wait.max(0.001)),
            };
        }
        bucket.tokens -= f64::from(cost);
        Decision::Allowed
    }
}

/// The same bucket arithmetic as [`LocalBuckets::take`], run atomically inside Redis.
const REDIS_TAKE: &str = r#"
local burst = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(stored[1]) or burst
local ts = tonumber(stored[2]) or now
local rate = burst / per_ms
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local needed = math.max(cost, 1)
if tokens < needed then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
  redis.call('PEXPIRE', KEYS[1], per_ms * 2)
  return {0, math.ceil((needed - tokens) / rate)}
end
tokens = tokens - cost
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], per_ms * 2)
return {1, 0}
"#;

pub struct RedisBuckets {
    connection: redis::aio::ConnectionManager,
    script: redis::Script,
    prefix: String,
}

pub struct Limiter {
    local: LocalBuckets,
    redis: Option<RedisBuckets>,
}

impl Limiter {
    pub fn local() -> Self {
        Self {
            local: LocalBuckets::default(),
            redis: None,
        }
    }

    /// Buckets in Redis at `url`. Connects lazily: a Redis that is down at start does
    /// not stop the server, it only means local limits until it answers.
    pub fn redis(url: &str, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1);
        let connection = redis::aio::ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("cannot set up Redis: {e}"))?;
        Ok(Self {
            local: LocalBuckets::default(),
            redis: Some(RedisBuckets {
                connection,
                script: redis::Script::new(REDIS_TAKE),
                prefix: prefix.to_owned(),
            }),
        })
    }

    pub fn is_shared(&self) -> bool {
        self.redis.is_some()
    }

    pub async fn take(&self, key: &str, rate: Rate, cost: u32) -> Decision {
        let Some(redis) = &self.redis else {
            return self.local.take(key, rate, cost);
        };
        let mut connection = redis.connection.clone();
        let result: redis::RedisResult<(i64, i64)> = redis
            .script
            .key(format!("{}{key}", redis.prefix))
            .arg(rate.burst)
            .arg(u64::try_from(rate.per.as_millis()).unwrap_or(u64::MAX))
            .arg(cost)
            .invoke_async(&mut connection)
            .await;
        match result {
            Ok((1, _)) => Decision::Allowed,
            Ok((_, wait_ms)) => Decision::Limited {
                retry_after: Duration::from_millis(u64::try_from(wait_ms.max(1)).unwrap_or(1)),
            },
            Err(e) => {
                tracing::warn!(error = %e, "Redis rate limit unavailable; using this instance's limits");
                self.local.take(key, rate, cost)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!("30/60s".parse(), Ok(Rate::new(30, Duration::from_secs(60))));
        assert_eq!("5/15m".parse(), Ok(Rate::new(5, Duration::from_secs(900))));
        assert_eq!(
            "100/1h".parse(),
            Ok(Rate::new(100, Duration::from_secs(3600)))
        );
        for bad in ["", "5", "0/1s", "5/0s", "5/1d", "x/1s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bucket_empties_then_refills() {
        let buckets = LocalBuckets::default();
        let rate = Rate::new(3, Duration::from_millis(300));
        for _ in 0..3 {
            assert_eq!(buckets.take("k", rate, 1), Decision::Allowed);
        }
        let Decision::Limited { retry_after } = buckets.take("k", rate, 1) else {
            panic!("the fourth attempt must be limited");
        };
        assert!(retry_after <= Duration::from_millis(100), "{retry_after:?}");
        assert_eq!(
            buckets.take("other", rate, 1),
            Decision::Allowed,
            "keys are independent"
        );
        std::thread::sleep(retry_after + Duration::from_millis(5));
        assert_eq!(buckets.take("k", rate, 1), Decision::Allowed);
    }

    #[test]
    fn a_zero_cost_peek_takes_nothing() {
        let buckets = LocalBuckets::default();
        let rate = Rate::new(1, Duration::from_secs(60));
        assert_eq!(buckets.take("k", rate, 0), Decision::Allowed);
        assert_eq!(buckets.take("k", rate, 0), Decision::Allowed);
        assert_eq!(buckets.take("k", rate, 1), Decision::Allowed);
        assert!(matches!(
            buckets.take("k", rate, 0),
            Decision::Limited { .. }
        ));
    }
}
