//! The member's inbox: one row per fact (upgraded, downgrade warning, downgraded, kept,
//! member day), deduplicated by a key so a job run twice or a replayed request never
//! sends a message twice.

use member_core::dto::{NotificationData, TierRef};

use super::batch::{Arg, Stmt};

/// `$1` member, `$2` kind, `$3` dedupe key, `$4` data JSON, `$5` at.
pub const INSERT: &str = "INSERT INTO notifications (member_id, kind, dedupe, data, created_at) \
                          VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Upgraded,
    DowngradeWarning,
    Downgraded,
    Kept,
    MemberDay,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upgraded => "upgraded",
            Self::DowngradeWarning => "downgrade_warning",
            Self::Downgraded => "downgraded",
            Self::Kept => "kept",
            Self::MemberDay => "member_day",
        }
    }
}

/// The statement that puts one message in a member's inbox (once per `dedupe`).
pub fn message(
    member_id: i64,
    kind: Kind,
    dedupe: String,
    data: &NotificationData,
    at: i64,
) -> Stmt {
    Stmt::new(
        INSERT,
        vec![
            Arg::Int(member_id),
            Arg::Text(kind.as_str().into()),
            Arg::Text(dedupe),
            Arg::Text(serde_json::to_string(data).unwrap_or_else(|_| "{}".into())),
            Arg::Int(at),
        ],
    )
}

/// Data with nothing set, to fill in.
pub fn data() -> NotificationData {
    NotificationData {
        tier: None,
        from_tier: None,
        date: None,
        growth_needed: None,
        points_multiplier_pct: None,
    }
}

pub fn tier_ref(code: &str, name: &str) -> TierRef {
    TierRef {
        code: code.into(),
        name: name.into(),
    }
}
