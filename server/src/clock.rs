//! The server's notion of "now" (unix seconds): the system clock plus an offset, or, for
//! tests, a frozen instant that only moves when told to.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
    /// `Some(t)`: time stands still at `t` (+ offset). A test that reads "now", changes
    /// something stamped with "now" and then runs a job at the "now" it read must see one
    /// instant throughout, or a second (or a step, a day) boundary falling between the two
    /// reads makes it fail now and then.
    frozen_at: Option<i64>,
}

impl Clock {
    pub fn with_offset(secs: i64) -> Self {
        Self {
            offset: Arc::new(AtomicI64::new(secs)),
            frozen_at: None,
        }
    }

    /// A clock that reads `at` until `advance` or `set_offset` moves it.
    pub fn frozen(at: i64) -> Self {
        Self {
            offset: Arc::new(AtomicI64::new(0)),
            frozen_at: Some(at),
        }
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen_at.is_some()
    }

    pub fn now(&self) -> i64 {
        let base = self
            .frozen_at
            .unwrap_or_else(|| chrono::Utc::now().timestamp());
        base + self.offset.load(Ordering::Relaxed)
    }

    /// Offset from the base: the system clock, or the frozen instant.
    pub fn set_offset(&self, secs: i64) {
        self.offset.store(secs, Ordering::Relaxed);
    }

    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}

/// RFC 3339 in UTC with a `Z`, the wire format for times.
pub fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn offset_moves_now() {
        let c = Clock::with_offset(0);
        let a = c.now();
        c.advance(600);
        assert!(c.now() >= a + 600);
    }

    #[test]
    fn frozen_stands_still_until_moved() {
        let c = Clock::frozen(1_700_000_000);
        std::thread::sleep(std::time::Duration::from_millis(1_100));
        assert_eq!(c.now(), 1_700_000_000);
        c.advance(30);
        assert_eq!(c.now(), 1_700_000_030);
        c.set_offset(-10);
        assert_eq!(c.now(), 1_699_999_990);
        let shared = c.clone();
        shared.advance(10);
        assert_eq!(c.now(), 1_700_000_000, "clones share the offset");
    }
}
