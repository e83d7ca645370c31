//! The one card check behind `/staff/verify`, `/staff/checkout/preview` and
//! `/staff/purchases`, with the guessing limit inside it.
//!
//! Three of the million possible codes of a card are valid at any moment, so unlimited
//! checks find one in minutes. Every check first takes a unit of three budgets (the
//! staff account, its store, and this member number at this store: `member_core::
//! throttle`) before the code is looked at, so parallel guesses get no more checks than
//! serial ones; a check that was not a wrong code gives its units back, so only wrong
//! codes use the budget up.
//! The card itself is never locked: a cashier of another store still checks it.

use member_core::card_code::{parse_code, verify_totp, CardCodeError, CardKey, ParsedCode};
use member_core::throttle::{
    self, Budget, WRONG_CODES_PER_NUMBER, WRONG_CODES_PER_STAFF, WRONG_CODES_PER_STORE,
};

use super::error::{card_code, ApiError, ApiResult};
use super::extract::StaffSession;
use crate::db::limits::{self, Note, Window};
use crate::db::members::{self, ScannedRow};
use crate::state::AppState;

/// What the caller does with a right code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Use {
    /// Look only (verify, preview): a used code is refused here.
    Look,
    /// Spend it (purchase): the purchase's own transaction spends it under the member
    /// lock, and decides about a used code (a retry may get the stored answer).
    Spend,
}

pub(super) struct Checked {
    /// The member; `None` only for `Use::Spend` of an already used code.
    pub scanned: Option<ScannedRow>,
}

/// How long a check waits for a budget that is full of checks in flight, not of wrong
/// codes, before giving up with 503 (retry).
const CONGESTION_WAIT: std::time::Duration = std::time::Duration::from_secs(3);
const CONGESTION_STEP: std::time::Duration = std::time::Duration::from_millis(20);

struct Scope {
    /// Units: wrong codes plus checks in flight.
    key: String,
    budget: Budget,
    target: String,
}

impl Scope {
    /// Wrong codes only (tells a spent budget from a busy one).
    fn wrong_key(&self) -> String {
        format!("{}:wrong", self.key)
    }
}

fn scopes(session: &StaffSession, member_no: &str) -> Vec<Scope> {
    let staff = &session.staff;
    let mut out = vec![Scope {
        key: format!("card-wrong-staff:{}", staff.id),
        budget: WRONG_CODES_PER_STAFF,
        target: format!("staff:{}", staff.username),
    }];
    // A store-less account (an admin) is its own "store" for the per-number budget.
    let till = match (staff.store_id, staff.store_code.as_deref()) {
        (Some(id), Some(code)) => {
            out.push(Scope {
                key: format!("card-wrong-store:{id}"),
                budget: WRONG_CODES_PER_STORE,
                target: format!("store:{code}"),
            });
            format!("store{id}")
        }
        _ => format!("staff{}", staff.id),
    };
    out.push(Scope {
        key: format!("card-wrong-no:{till}:{member_no}"),
        budget: WRONG_CODES_PER_NUMBER,
        target: format!("member:{member_no}"),
    });
    out
}

/// Checks a scanned or typed code for a staff session.
pub(super) async fn check(
    state: &AppState,
    session: &StaffSession,
    code: &str,
    usage: Use,
) -> ApiResult<Checked> {
    let parsed = parse_code(code).map_err(card_code)?;
    let now = state.clock.now();
    let scopes = scopes(session, &parsed.member_no);
    let windows: Vec<Window> = scopes.iter().map(|s| s.budget.into()).collect();
    let claims: Vec<(&str, &Window)> = scopes
        .iter()
        .zip(&windows)
        .map(|(s, w)| (s.key.as_str(), w))
        .collect();
    let started = std::time::Instant::now();
    while let Err(refused) = limits::claim_all(&state.db, &claims, now).await? {
        let (Some(scope), Some(window)) = (scopes.get(refused.index), windows.get(refused.index))
        else {
            return Err(ApiError::Internal);
        };
        // A budget holds wrong codes and checks in flight. Spent by wrong codes: refuse
        // until the window ends. Full of checks in flight (a busy store, retries of one
        // purchase at several tills): they give their units back in a moment, so wait.
        let wrong = limits::count(&state.db, &scope.wrong_key(), window, now).await?;
        if wrong >= scope.budget.max {
            note_refusal(state, session, scope, refused.window_start, now).await?;
            return Err(ApiError::TooManyWrongCodes {
                retry_after_secs: refused.retry_after_secs,
            });
        }
        if started.elapsed() > CONGESTION_WAIT {
            return Err(ApiError::RetryLater);
        }
        tokio::time::sleep(CONGESTION_STEP).await;
    }
    let answer = look_up(state, &parsed, now).await;
    let wrong = matches!(&answer, Err(Refusal::Code(e)) if throttle::is_wrong_code(*e));
    if wrong {
        let keys: Vec<String> = scopes.iter().map(Scope::wrong_key).collect();
        let counts: Vec<(&str, &Window)> = keys
            .iter()
            .zip(&windows)
            .map(|(k, w)| (k.as_str(), w))
            .collect();
        limits::bump_all(&state.db, &counts, now).await?;
    } else {
        let keys: Vec<&str> = scopes.iter().map(|s| s.key.as_str()).collect();
        limits::release(&state.db, &keys).await?;
    }
    match answer {
        Ok(scanned) => Ok(Checked {
            scanned: Some(scanned),
        }),
        Err(Refusal::Code(CardCodeError::Replayed)) if usage == Use::Spend => {
            Ok(Checked { scanned: None })
        }
        Err(Refusal::Code(e)) => Err(card_code(e)),
        Err(Refusal::Api(e)) => Err(e),
    }
}

enum Refusal {
    Code(CardCodeError),
    Api(ApiError),
}

async fn look_up(state: &AppState, parsed: &ParsedCode, now: i64) -> Result<ScannedRow, Refusal> {
    // Unknown member and wrong TOTP answer alike, so member numbers cannot be probed.
    let scanned = members::scanned(&state.db, &parsed.member_no)
        .await
        .map_err(|e| Refusal::Api(e.into()))?
        .ok_or(Refusal::Code(CardCodeError::Invalid))?;
    let member = &scanned.member;
    let key = CardKey::from_slice(&member.card_key).ok_or(Refusal::Api(ApiError::Internal))?;
    verify_totp(&key, parsed.totp, now, member.last_code_step).map_err(Refusal::Code)?;
    Ok(scanned)
}

/// One audit entry per spent window, however many checks it refuses.
async fn note_refusal(
    state: &AppState,
    session: &StaffSession,
    scope: &Scope,
    window_start: i64,
    now: i64,
) -> ApiResult<()> {
    let detail = format!(
        "{} wrong card codes within {} s; card checks refused until the window ends",
        scope.budget.max, scope.budget.secs
    );
    limits::once(
        &state.db,
        &format!("noted:{}:{window_start}", scope.key),
        scope.budget.secs,
        Note {
            actor: &format!("staff:{}", session.staff.username),
            action: "card_code.too_many_wrong",
            target: &scope.target,
            detail: &detail,
        },
        now,
    )
    .await?;
    Ok(())
}
