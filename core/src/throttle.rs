//! How hard the server pushes back on guessing: card codes at the till and staff
//! passwords. Pure schedules and decisions; the server keeps the counts in its database.
//!
//! Nothing here ever locks a member's card or a staff account outright: a lock is a
//! weapon (anyone who knows a member number or a username could block the real owner),
//! so the limits fall on who is guessing (a staff account, a store, a client address).

use crate::card_code::CardCodeError;

/// A fixed-window budget: at most `max` units per `secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub secs: i64,
    pub max: i64,
}

/// Wrong card codes one staff account may try per window (all its sessions together,
/// so signing in again does not refill it).
pub const WRONG_CODES_PER_STAFF: Budget = Budget { secs: 60, max: 10 };
/// Wrong card codes one store may try per window (all its tills together).
pub const WRONG_CODES_PER_STORE: Budget = Budget { secs: 60, max: 10 };
/// Wrong card codes for one member number at one store. Per store so a guesser can
/// never block the member at another store's till.
pub const WRONG_CODES_PER_NUMBER: Budget = Budget {
    secs: 5 * 60,
    max: 5,
};

/// Does this answer to a card check spend guessing budget? Only a code that is not the
/// card's (wrong, or an old one: both are what a guesser gets); a malformed code tells
/// nothing and a used code was right.
pub fn is_wrong_code(e: CardCodeError) -> bool {
    matches!(e, CardCodeError::Invalid | CardCodeError::Expired)
}

/// Failures in a row one client may make on one staff account before it has to wait.
pub const LOGIN_FREE_FAILURES: i64 = 5;
/// The first wait; it doubles with every further failure.
pub const LOGIN_FIRST_WAIT_SECS: i64 = 30;
pub const LOGIN_MAX_WAIT_SECS: i64 = 60 * 60;
/// A client's failures are forgotten this long after its last wait ended.
pub const LOGIN_FORGET_SECS: i64 = 60 * 60;
/// Failures on one account from every client, per window, before each sign-in to it is
/// slowed down (not refused: that would lock the real owner out).
pub const LOGIN_ACCOUNT_BUDGET: Budget = Budget {
    secs: 15 * 60,
    max: 10,
};
/// The slow-down, per sign-in, once the account budget is spent.
pub const LOGIN_ACCOUNT_DELAY_MS: u64 = 1_000;
/// Failures from one client address across all accounts (a username sprayer).
pub const LOGIN_CLIENT_BUDGET: Budget = Budget {
    secs: 15 * 60,
    max: 50,
};

/// Seconds a client waits after its `failures`-th failure in a row on one account.
pub fn login_wait_secs(failures: i64) -> i64 {
    if failures < LOGIN_FREE_FAILURES {
        return 0;
    }
    let doublings = u32::try_from((failures - LOGIN_FREE_FAILURES).min(20)).unwrap_or(20);
    LOGIN_FIRST_WAIT_SECS
        .saturating_mul(1_i64 << doublings)
        .min(LOGIN_MAX_WAIT_SECS)
}

/// One client's standing on one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures in a row (including checks still running).
    pub failures: i64,
    /// No check before this time.
    pub not_before: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Check the password; store this standing meanwhile (counted as a failure until a
    /// right password clears it, so parallel guesses get no more checks than serial ones).
    Check(Backoff),
    /// Refuse; retry after this many seconds.
    Wait(i64),
}

/// Whether a client may try a password now.
pub fn login_attempt(current: Backoff, now: i64) -> Attempt {
    let current = if now >= current.not_before.saturating_add(LOGIN_FORGET_SECS) {
        Backoff {
            failures: 0,
            not_before: now,
        }
    } else {
        current
    };
    if now < current.not_before {
        return Attempt::Wait(current.not_before - now);
    }
    let failures = current.failures.saturating_add(1);
    Attempt::Check(Backoff {
        failures,
        not_before: now + login_wait_secs(failures),
    })
}

/// How long to hold a sign-in to an account that had `recent_failures` (all clients) in
/// the current window.
pub fn login_account_delay_ms(recent_failures: i64) -> u64 {
    if recent_failures >= LOGIN_ACCOUNT_BUDGET.max {
        LOGIN_ACCOUNT_DELAY_MS
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn fresh(now: i64) -> Backoff {
        Backoff {
            failures: 0,
            not_before: now,
        }
    }

    #[test]
    fn only_wrong_codes_count() {
        assert!(is_wrong_code(CardCodeError::Invalid));
        assert!(is_wrong_code(CardCodeError::Expired));
        assert!(!is_wrong_code(CardCodeError::Malformed));
        assert!(!is_wrong_code(CardCodeError::Replayed));
    }

    #[test]
    fn five_free_failures_then_a_growing_wait() {
        let now = 1_000_000;
        let mut b = fresh(now);
        for n in 1..=LOGIN_FREE_FAILURES {
            match login_attempt(b, now) {
                Attempt::Check(next) => b = next,
                Attempt::Wait(s) => panic!("attempt {n} refused for {s} s"),
            }
        }
        assert_eq!(login_attempt(b, now), Attempt::Wait(LOGIN_FIRST_WAIT_SECS));
        let Attempt::Check(b) = login_attempt(b, now + LOGIN_FIRST_WAIT_SECS) else {
            panic!("allowed after the wait");
        };
        assert_eq!(
            login_attempt(b, now + LOGIN_FIRST_WAIT_SECS),
            Attempt::Wait(2 * LOGIN_FIRST_WAIT_SECS)
        );
    }

    #[test]
    fn failures_are_forgotten_after_a_quiet_hour() {
        let b = Backoff {
            failures: 9,
            not_before: 500,
        };
        assert_eq!(
            login_attempt(b, 500 + LOGIN_FORGET_SECS),
            Attempt::Check(Backoff {
                failures: 1,
                not_before: 500 + LOGIN_FORGET_SECS
            })
        );
    }

    #[test]
    fn the_account_is_slowed_never_refused() {
        assert_eq!(login_account_delay_ms(0), 0);
        assert_eq!(login_account_delay_ms(LOGIN_ACCOUNT_BUDGET.max - 1), 0);
        assert_eq!(
            login_account_delay_ms(LOGIN_ACCOUNT_BUDGET.max * 100),
            LOGIN_ACCOUNT_DELAY_MS
        );
    }

    proptest! {
        #[test]
        fn the_wait_never_shrinks_and_is_capped(f in 0i64..10_000) {
            let w = login_wait_secs(f);
            prop_assert!(w <= login_wait_secs(f + 1));
            prop_assert!((0..=LOGIN_MAX_WAIT_SECS).contains(&w));
        }
    }
}
