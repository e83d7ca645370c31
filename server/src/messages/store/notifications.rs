//! The member's inbox: one row per fact (upgraded, downgrade warning, downgraded, kept,
//! member day), deduplicated by a key so a job run twice or a replayed request never
//! sends a message twice.

use member_core::civil;
use member_core::dto::{NotificationData, TierProgram, TierRef};
use member_core::tier_program as rules;

use crate::db::batch::{Arg, Stmt};
use crate::db::{Db, DbError};

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

/// Today's member-day message for every member, once (set-based: one statement).
pub async fn member_day(db: &Db, program: &TierProgram, now: i64) -> Result<u64, DbError> {
    let today = civil::local_date(now);
    let Some(md) = rules::member_day_on(program, today) else {
        return Ok(0);
    };
    let mut data = data();
    data.date = Some(civil::iso(today));
    data.points_multiplier_pct = Some(md.points_multiplier_pct);
    let body = serde_json::to_string(&data).map_err(|_| DbError::Corrupt("notification"))?;
    // `WHERE true`: SQLite needs it to tell the upsert clause from a join constraint.
    let mut tx = db.begin_write().await?;
    let n = sqlx::query(
        "INSERT INTO notifications (member_id, kind, dedupe, data, created_at) \
         SELECT id, 'member_day', $1, $2, $3 FROM members WHERE true ON CONFLICT DO NOTHING",
    )
    .bind(format!("member_day:{}", civil::iso(today)))
    .bind(body)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n)
}
