//! Prometheus counters. Per-instance by nature (each instance is scraped on its own).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

pub const GROUPS: [&str; 10] = [
    "auth", "me", "staff", "admin", "dev", "tiers", "ops", "openapi", "static", "other",
];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

#[derive(Default)]
pub struct Metrics {
    requests: [[AtomicU64; 5]; GROUPS.len()],
    pub purchases: AtomicU64,
    pub points_expired: AtomicU64,
    /// Campaign grants (birthday, member day, win-back) made by this instance's job.
    pub campaign_grants: AtomicU64,
}

/// Which group a path belongs to (bounded label values: never the raw path).
pub fn group_of(path: &str) -> usize {
    let name = match path {
        "/healthz" | "/metrics" => "ops",
        "/api/openapi.json" => "openapi",
        p if p.starts_with("/api/v1/auth/") => "auth",
        p if p == "/api/v1/me" || p.starts_with("/api/v1/me/") => "me",
        p if p.starts_with("/api/v1/staff/") => "staff",
        p if p.starts_with("/api/v1/admin/") => "admin",
        p if p.starts_with("/api/v1/dev/") => "dev",
        "/api/v1/tiers" => "tiers",
        p if p.starts_with("/api/") => "other",
        _ => "static",
    };
    GROUPS
        .iter()
        .position(|g| *g == name)
        .unwrap_or(GROUPS.len() - 1)
}

impl Metrics {
    pub fn count(&self, group: usize, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        if let Some(row) = self.requests.get(group) {
            row[class].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP mc_http_requests_total HTTP responses by route group and status class.\n",
        );
        out.push_str("# TYPE mc_http_requests_total counter\n");
        for (g, row) in GROUPS.iter().zip(&self.requests) {
            for (c, n) in CLASSES.iter().zip(row) {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "mc_http_requests_total{{group=\"{g}\",class=\"{c}\"}} {n}"
                    );
                }
            }
        }
        out.push_str("# HELP mc_purchases_total Purchases recorded by this instance.\n");
        out.push_str("# TYPE mc_purchases_total counter\n");
        let _ = writeln!(
            out,
            "mc_purchases_total {}",
            self.purchases.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP mc_points_expired_total Points expired by this instance's expiry job.\n",
        );
        out.push_str("# TYPE mc_points_expired_total counter\n");
        let _ = writeln!(
            out,
            "mc_points_expired_total {}",
            self.points_expired.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP mc_campaign_grants_total Campaign grants made by this instance's issuance job.\n",
        );
        out.push_str("# TYPE mc_campaign_grants_total counter\n");
        let _ = writeln!(
            out,
            "mc_campaign_grants_total {}",
            self.campaign_grants.load(Ordering::Relaxed)
        );
        if let Some(rss) = resident_bytes() {
            out.push_str("# HELP process_resident_memory_bytes Resident set size.\n");
            out.push_str("# TYPE process_resident_memory_bytes gauge\n");
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
        out
    }
}

/// RSS from /proc (Linux only; elsewhere the gauge is left out).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_bounded() {
        assert_eq!(GROUPS[group_of("/api/v1/me/card-key")], "me");
        assert_eq!(GROUPS[group_of("/api/v1/staff/purchases")], "staff");
        assert_eq!(GROUPS[group_of("/api/v1/nope")], "other");
        assert_eq!(GROUPS[group_of("/assets/app-1234.js")], "static");
        let m = Metrics::default();
        m.count(group_of("/healthz"), 200);
        assert!(m
            .render()
            .contains("mc_http_requests_total{group=\"ops\",class=\"2xx\"} 1"));
    }
}
