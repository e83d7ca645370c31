//! Growth as events: every change of a member's growth (purchase, refund, task, decay,
//! adjustment) is a row, stamped with when it stops counting for the window under the
//! rules of its time. `members.growth` and `members.window_spend_cents` are kept equal to
//! the window's sums (never below 0) by increments here and by the tier job's recount.

use member_core::dto::TierProgram;
use member_core::tier_program::{self, Window};

use crate::db::batch::{Arg, Stmt};

pub const INSERT_EVENT: &str =
    "INSERT INTO growth_events (member_id, kind, growth, spend_cents, note, at, counts_until, \
                                in_period) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Moves the member's window sums by an event's amounts and brings the next recount
/// forward to when the event leaves the window. `$1` growth, `$2` spend, `$3`
/// counts_until (NULL: never), `$4` member id. Growth and spend never go below 0.
pub const APPLY_TO_MEMBER: &str = "UPDATE members SET \
        growth = CASE WHEN growth + $1 < 0 THEN 0 ELSE growth + $1 END, \
        window_spend_cents = CASE WHEN window_spend_cents + $2 < 0 THEN 0 \
                                  ELSE window_spend_cents + $2 END, \
        growth_recount_at = CASE WHEN $3 IS NULL THEN growth_recount_at \
                                 WHEN growth_recount_at IS NULL OR growth_recount_at > $3 THEN $3 \
                                 ELSE growth_recount_at END \
     WHERE id = $4";

/// What an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Purchase,
    Refund,
    Task,
    Decay,
    Adjust,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Purchase => "purchase",
            Self::Refund => "refund",
            Self::Task => "task",
            Self::Decay => "decay",
            Self::Adjust => "adjust",
        }
    }
}

/// One growth event to write.
#[derive(Debug, Clone)]
pub struct Event {
    pub member_id: i64,
    pub kind: Kind,
    pub growth: i64,
    pub spend_cents: i64,
    pub note: String,
    pub at: i64,
    /// `None`: counts for ever.
    pub counts_until: Option<i64>,
    /// Counts for evaluation periods (decay doesn't).
    pub in_period: bool,
}

impl Event {
    /// An event earned at `at` under `program`: it counts for the program's window.
    pub fn earned(
        program: &TierProgram,
        member_id: i64,
        kind: Kind,
        growth: i64,
        spend_cents: i64,
        note: String,
        at: i64,
    ) -> Self {
        let window = tier_program::window(program).unwrap_or(Window::Lifetime);
        Event {
            member_id,
            kind,
            growth,
            spend_cents,
            note,
            at,
            counts_until: tier_program::counts_until(window, at),
            in_period: true,
        }
    }

    /// The row and the member's window sums, as two statements for a batch.
    pub fn statements(&self) -> [Stmt; 2] {
        [self.insert_statement(), self.apply_statement()]
    }

    /// The row alone (for a caller that moves the member's sums in its own update).
    pub fn insert_statement(&self) -> Stmt {
        Stmt::new(
            INSERT_EVENT,
            vec![
                Arg::Int(self.member_id),
                Arg::Text(self.kind.as_str().into()),
                Arg::Int(self.growth),
                Arg::Int(self.spend_cents),
                Arg::Text(self.note.clone()),
                Arg::Int(self.at),
                Arg::OptInt(self.counts_until),
                Arg::Int(i64::from(self.in_period)),
            ],
        )
    }

    pub fn apply_statement(&self) -> Stmt {
        Stmt::new(
            APPLY_TO_MEMBER,
            vec![
                Arg::Int(self.growth),
                Arg::Int(self.spend_cents),
                Arg::OptInt(self.counts_until),
                Arg::Int(self.member_id),
            ],
        )
    }
}

/// Records a task as done for its period; changes no row when it was done already
/// (the caller then gives nothing). `$1` member, `$2` task, `$3` period, `$4` at.
pub const INSERT_TASK: &str = "INSERT INTO growth_tasks (member_id, task, period, at) \
                               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

/// Growth and spend a member earned in `[start, end)` for evaluation periods.
pub const PERIOD_SUMS: &str = "SELECT CAST(COALESCE(SUM(growth), 0) AS BIGINT), \
            CAST(COALESCE(SUM(spend_cents), 0) AS BIGINT) \
     FROM growth_events WHERE member_id = $1 AND in_period = 1 AND at >= $2 AND at < $3";

/// The window's sums at `$2` and when the next event leaves it, for member `$1`, counting
/// events from `$3` on (the member's `growth_since`, 0 when none).
pub const WINDOW_SUMS: &str = "SELECT \
        CAST(COALESCE(SUM(CASE WHEN counts_until IS NULL OR counts_until > $2 THEN growth \
                               ELSE 0 END), 0) AS BIGINT), \
        CAST(COALESCE(SUM(CASE WHEN counts_until IS NULL OR counts_until > $2 THEN spend_cents \
                               ELSE 0 END), 0) AS BIGINT), \
        MIN(CASE WHEN counts_until > $2 THEN counts_until END) \
     FROM growth_events WHERE member_id = $1 AND at >= $3";
