//! The one card check behind `/staff/verify`, `/staff/checkout/preview` and
//! `/staff/purchases`, with the guessing limit inside it.
//!
//! Three of the million possible codes of a card are valid at any moment, so unlimited
//! checks find one in minutes. Three budgets of wrong codes hold (the staff account, its
//! store, and this member number at this store: `member_core::throttle`); a spent one
//! refuses every check, right or wrong, so the refusal tells nothing about the code.
//! The code is looked at first and its answer told only after, under a hold of the staff
//! account's budget (`limits::hold`): there the three budgets are read and a wrong code
//! counted, one check of the account at a time, so its parallel guesses get no more
//! answers than serial ones; a right code writes nothing. Only the account's budget is
//! held: holding the store's too would make every till of a store queue on one lock for
//! every right code, while one account's guesses past the store's budget are already
//! told one at a time.
//! A purchase (`Use::Spend`) is recorded in the hold's own transaction, so a purchase
//! by code opens one write transaction, not two.
//! The card itself is never locked: a cashier of another store still checks it.

use member_core::card_code::{parse_code, verify_totp, CardCodeError, CardKey, ParsedCode};
use member_core::throttle::{
    self, Budget, WRONG_CODES_PER_NUMBER, WRONG_CODES_PER_STAFF, WRONG_CODES_PER_STORE,
};

use crate::db::idempotency::{self, Replay};
use crate::db::limits::{self, Note, Window};
use crate::db::Tx;
use crate::http::error::{card_code, ApiError, ApiResult};
use crate::http::extract::StaffSession;
use crate::members::store::members::{self, ScannedRow};
use crate::state::AppState;

/// What the caller does with a right code.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Use<'a> {
    /// Look only (verify, preview): a used code is refused here.
    Look,
    /// Spend it (purchase): the purchase's own transaction spends it under the member
    /// lock, and decides about a used code (a retry may get the stored answer).
    Spend(Retry<'a>),
}

/// The purchase's idempotency key: a code refused as used or expired may be a retry of
/// a purchase already recorded, whose stored answer is given instead (and the code is
/// not counted as a wrong one). Only read when the code is refused: a right, unused
/// code belongs to no recorded purchase, so the till's every purchase skips the read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    pub request_hash: &'a str,
}

pub(crate) struct Checked {
    /// The member; `None` only for `Use::Spend` of an already used code, or of a retry.
    pub scanned: Option<ScannedRow>,
    /// `Use::Spend` only: the stored answer of the purchase this request retries.
    pub replay: Option<Replay>,
    /// `Use::Spend` only: the hold's write transaction, still open, for the purchase to
    /// be recorded in (one transaction per purchase; the account's next check waits
    /// until it commits, as it would for a cashier's next scan).
    pub held: Option<Tx>,
}

/// One budget of wrong codes; the staff account's comes first.
struct Scope {
    key: String,
    budget: Budget,
    target: String,
}

impl Scope {
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
pub(crate) async fn check(
    state: &AppState,
    session: &StaffSession,
    code: &str,
    usage: Use<'_>,
) -> ApiResult<Checked> {
    let parsed = parse_code(code).map_err(card_code)?;
    let now = state.clock.now();
    let scopes = scopes(session, &parsed.member_no);
    let windows: Vec<Window> = scopes.iter().map(|s| s.budget.into()).collect();
    let wrong_keys: Vec<String> = scopes.iter().map(Scope::wrong_key).collect();
    let counted: Vec<(&str, &Window)> = wrong_keys
        .iter()
        .zip(&windows)
        .map(|(k, w)| (k.as_str(), w))
        .collect();
    // Looked at first, told only once the budgets allow it: under the account's hold the
    // budgets are read and a wrong code counted, one check of the account at a time.
    let answer = look_up(state, &parsed, now).await;
    if let (Use::Spend(retry), Err(Refusal::Code(_))) = (usage, &answer) {
        let stored = idempotency::stored(&state.db, retry.scope, retry.key, retry.request_hash);
        if let Some(replay) = stored.await? {
            return Ok(Checked {
                scanned: None,
                replay: Some(replay),
                held: None,
            });
        }
    }
    let wrong = matches!(&answer, Err(Refusal::Code(e)) if throttle::is_wrong_code(*e));
    let own_key = wrong_keys.first().ok_or(ApiError::Internal)?;
    let (mut tx, counts) = limits::hold(&state.db, own_key, &counted, now).await?;
    let spent =
        scopes
            .iter()
            .zip(&counts)
            .enumerate()
            .find_map(|(i, (scope, count))| match count {
                Some((n, start)) if *n >= scope.budget.max => Some((i, *start)),
                _ => None,
            });
    if let Some((i, window_start)) = spent {
        tx.rollback().await.map_err(crate::db::DbError::from)?;
        let (Some(scope), Some(window)) = (scopes.get(i), windows.get(i)) else {
            return Err(ApiError::Internal);
        };
        note_refusal(state, session, scope, window_start, now).await?;
        return Err(ApiError::TooManyWrongCodes {
            retry_after_secs: limits::seconds_left(window_start, window, now),
        });
    }
    if wrong {
        limits::bump_in(&mut tx, &counted, now).await?;
    }
    let spendable = match &answer {
        Ok(_) => true,
        Err(Refusal::Code(CardCodeError::Replayed)) => true,
        Err(_) => false,
    };
    let held = if matches!(usage, Use::Spend(_)) && spendable {
        Some(tx)
    } else {
        tx.commit().await.map_err(crate::db::DbError::from)?;
        None
    };
    match answer {
        Ok(scanned) => Ok(Checked {
            scanned: Some(scanned),
            replay: None,
            held,
        }),
        Err(Refusal::Code(CardCodeError::Replayed)) if matches!(usage, Use::Spend(_)) => {
            Ok(Checked {
                scanned: None,
                replay: None,
                held,
            })
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
