//! The server's notion of "now" (unix seconds), with an offset tests can move.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    pub fn with_offset(secs: i64) -> Self {
        Self {
            offset: Arc::new(AtomicI64::new(secs)),
        }
    }

    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.offset.load(Ordering::Relaxed)
    }

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
}
