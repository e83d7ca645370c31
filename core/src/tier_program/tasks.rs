//! Tasks that give growth.

use crate::civil::{self, weekday, Date};
use crate::dto::TierProgram;

/// Tasks that give growth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    ProfileCompleted,
    FirstPurchase,
    CheckIn,
}

impl Task {
    pub const ALL: [Task; 3] = [Task::ProfileCompleted, Task::FirstPurchase, Task::CheckIn];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProfileCompleted => "profile_completed",
            Self::FirstPurchase => "first_purchase",
            Self::CheckIn => "check_in",
        }
    }

    pub fn growth(self, p: &TierProgram) -> i64 {
        match self {
            Self::ProfileCompleted => p.growth.profile_completed,
            Self::FirstPurchase => p.growth.first_purchase,
            Self::CheckIn => p.growth.check_in,
        }
    }

    /// The period a task is done once in: ever, or the local day for check-ins.
    pub fn period(self, now: i64) -> String {
        match self {
            Self::CheckIn => civil::iso(civil::local_date(now)),
            _ => String::new(),
        }
    }
}

/// Monday = 1 … Sunday = 7 (re-exported for the apps' member-day wording).
pub fn weekday_of(date: Date) -> u32 {
    weekday(date)
}
