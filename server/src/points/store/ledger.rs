//! The points account: every change is a ledger row; credits create batches with an
//! expiry, debits take from batches (soonest expiry first) and remember which ones in
//! `points_allocations`, so a cancellation can put points back where they came from.
//!
//! Invariant, kept inside every transaction: `members.points` = SUM(ledger points) =
//! SUM(batch remaining).
//!
//! Callers lock the member first (`lock_member`), then plan statements here and run them
//! with `batch::execute` together with their own (one round trip on SQLite). The plans
//! read the member's batches, so they must be made under that lock.

use member_core::civil;
use member_core::dto::LedgerEvent;
use member_core::points::{self, Batch, ExpiryRule, LedgerKind};

use crate::db::batch::{self, Arg, Refusal, Stmt};
use crate::db::{Backend, Db, DbError, Tx};

/// Who and why, for one ledger row.
#[derive(Debug, Clone)]
pub struct Entry {
    pub member_id: i64,
    pub kind: LedgerKind,
    pub reason: String,
    pub source_ref: Option<String>,
    pub actor: String,
    pub store_id: Option<i64>,
    pub now: i64,
    /// The facts the member's history words (`reason` is the audit text).
    pub event: Option<LedgerEvent>,
}

const LOCK_SQLITE: &str = "SELECT points FROM members WHERE id = $1";
/// NO KEY: writers of this member still queue, but rows that merely reference the member
/// (sessions, purchases, orders) can be inserted meanwhile.
const LOCK_PG: &str = "SELECT points FROM members WHERE id = $1 FOR NO KEY UPDATE";

/// Locks the member row for the rest of `tx` and returns the balance; `None` if there is
/// no such member. SQLite's write transaction already excludes other writers.
pub async fn lock_member(
    tx: &mut Tx,
    backend: Backend,
    member_id: i64,
) -> Result<Option<i64>, DbError> {
    let sql = match backend {
        Backend::Sqlite => LOCK_SQLITE,
        Backend::Postgres => LOCK_PG,
    };
    Ok(sqlx::query_scalar(sql)
        .bind(member_id)
        .fetch_optional(&mut **tx)
        .await?)
}

pub const INSERT_LEDGER: &str =
    "INSERT INTO points_ledger (member_id, kind, points, reason, source_ref, actor, store_id, \
                                created_at, event) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/// The ledger row just inserted for this member: with the member locked no other
/// transaction adds rows for them, so the highest id is ours (portable, unlike
/// last_insert_rowid() / lastval()).
const INSERT_BATCH: &str =
    "INSERT INTO points_batches (member_id, ledger_id, points, remaining, expires_at, created_at) \
     VALUES ($1, (SELECT MAX(id) FROM points_ledger WHERE member_id = $1), $2, $5, $3, $4)";
/// Debt from refunds goes down only by what a credit actually settled.
const SETTLE_DEBT: &str =
    "UPDATE members SET points_debt = points_debt - $1 WHERE id = $2 AND points_debt >= $1";
/// A refund's shortfall becomes debt.
pub const ADD_DEBT: &str = "UPDATE members SET points_debt = points_debt + $1 WHERE id = $2";
const INSERT_ALLOCATION: &str = "INSERT INTO points_allocations (ledger_id, batch_id, points) \
     VALUES ((SELECT MAX(id) FROM points_ledger WHERE member_id = $1), $2, $3)";
const TAKE_FROM_BATCH: &str = "UPDATE points_batches SET remaining = remaining - $1 \
                               WHERE id = $2 AND member_id = $3 AND remaining >= $1";
const PUT_BACK_INTO_BATCH: &str = "UPDATE points_batches SET remaining = remaining + $1 \
                                   WHERE id = $2 AND remaining + $1 <= points";
const EXPIRE_BATCH: &str = "UPDATE points_batches SET remaining = 0 \
                            WHERE id = $1 AND remaining = $2 AND expires_at <= $3";
const ADD_POINTS: &str = "UPDATE members SET points = points + $1 WHERE id = $2";
const SUB_POINTS: &str = "UPDATE members SET points = points - $1 WHERE id = $2 AND points >= $1";

fn ledger_row(entry: &Entry, kind: LedgerKind, points: i64, reason: String) -> Stmt {
    Stmt::new(
        INSERT_LEDGER,
        vec![
            Arg::Int(entry.member_id),
            Arg::Text(kind.as_str().into()),
            Arg::Int(points),
            Arg::Text(reason),
            Arg::OptText(entry.source_ref.clone()),
            Arg::Text(entry.actor.clone()),
            Arg::OptInt(entry.store_id),
            Arg::Int(entry.now),
            // A plain struct of strings and numbers always serializes.
            Arg::OptText(
                entry
                    .event
                    .as_ref()
                    .and_then(|e| serde_json::to_string(e).ok()),
            ),
        ],
    )
}

/// Points a member owes from refunds (`members.points_debt`) and the refund they are
/// settled against next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Debt {
    pub points: i64,
    /// The order_ref of the oldest refund whose shortfall isn't paid off yet.
    pub source_ref: Option<String>,
}

/// Statements that credit `points` as a new batch expiring at `expires_at`, and settle
/// up to `debt` (points a refund could not take back) from it: the credit is recorded in
/// full, the settlement as its own `refund` row, and only the rest stays spendable.
/// A zero credit still writes its ledger row (a purchase that earned nothing shows up
/// in the history) but no batch. Returns the statements and the points settled.
pub fn plan_credit(
    entry: &Entry,
    points: i64,
    expires_at: Option<i64>,
    debt: &Debt,
) -> (Vec<Stmt>, i64) {
    let mut stmts = vec![ledger_row(entry, entry.kind, points, entry.reason.clone())];
    if points <= 0 {
        return (stmts, 0);
    }
    let settled = member_core::points::settled_from(debt.points, points);
    stmts.push(Stmt::new(
        INSERT_BATCH,
        vec![
            Arg::Int(entry.member_id),
            Arg::Int(points),
            Arg::OptInt(expires_at),
            Arg::Int(entry.now),
            Arg::Int(points - settled),
        ],
    ));
    stmts.extend(settlement(entry, debt, settled));
    stmts.push(Stmt::new(
        ADD_POINTS,
        vec![Arg::Int(points - settled), Arg::Int(entry.member_id)],
    ));
    (stmts, settled)
}

/// The ledger row and debt update for `settled` points of refund debt paid from a
/// credit (nothing when zero).
fn settlement(entry: &Entry, debt: &Debt, settled: i64) -> Vec<Stmt> {
    if settled <= 0 {
        return Vec::new();
    }
    let row = Entry {
        kind: LedgerKind::Refund,
        source_ref: debt.source_ref.clone(),
        event: Some(LedgerEvent::of("refund_settle")),
        ..entry.clone()
    };
    vec![
        ledger_row(
            &row,
            LedgerKind::Refund,
            -settled,
            "抵扣退货欠分 / Settles points owed for a refund".into(),
        ),
        Stmt::new(
            SETTLE_DEBT,
            vec![Arg::Int(settled), Arg::Int(entry.member_id)],
        ),
    ]
}

/// Points the member owes from refunds (member locked).
pub async fn debt(tx: &mut Tx, member_id: i64) -> Result<Debt, DbError> {
    let points: i64 = sqlx::query_scalar("SELECT points_debt FROM members WHERE id = $1")
        .bind(member_id)
        .fetch_optional(&mut **tx)
        .await?
        .unwrap_or(0);
    debt_of(tx, member_id, points).await
}

/// `Debt` for a member (locked) whose `points_debt` the caller has read already. Debt is
/// paid off oldest refund first, so what has been settled so far covers the oldest
/// shortfalls; the next settlement belongs to the first refund it doesn't cover.
pub async fn debt_of(tx: &mut Tx, member_id: i64, points: i64) -> Result<Debt, DbError> {
    if points <= 0 {
        return Ok(Debt::default());
    }
    let refunds: Vec<(String, i64)> = sqlx::query_as(
        "SELECT order_ref, refund_shortfall FROM purchases \
         WHERE member_id = $1 AND refund_shortfall > 0 ORDER BY refund_started_at, id",
    )
    .bind(member_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut paid = refunds.iter().map(|(_, s)| s).sum::<i64>() - points;
    let source_ref = refunds
        .into_iter()
        .find(|(_, shortfall)| {
            paid -= shortfall;
            paid < 0
        })
        .map(|(order_ref, _)| order_ref);
    Ok(Debt { points, source_ref })
}

#[derive(sqlx::FromRow)]
struct BatchRow {
    id: i64,
    remaining: i64,
    expires_at: Option<i64>,
}

const OPEN_BATCHES: &str = "SELECT id, remaining, expires_at FROM points_batches \
                            WHERE member_id = $1 AND remaining > 0";

fn to_batches(rows: Vec<BatchRow>) -> Vec<Batch> {
    rows.into_iter()
        .map(|r| Batch {
            id: r.id,
            remaining: r.remaining,
            expires_at: r.expires_at,
        })
        .collect()
}

async fn open_batches(tx: &mut Tx, member_id: i64) -> Result<Vec<Batch>, DbError> {
    let rows = sqlx::query_as(OPEN_BATCHES)
        .bind(member_id)
        .fetch_all(&mut **tx)
        .await?;
    Ok(to_batches(rows))
}

fn expiry_reason(expires_at: i64) -> String {
    let day = civil::iso(member_core::points::last_valid_day(expires_at));
    format!("积分过期（有效期至 {day}）")
}

/// Statements that expire one due batch holding `remaining` points.
fn expire_batch(
    member_id: i64,
    batch_id: i64,
    remaining: i64,
    expires_at: i64,
    now: i64,
) -> Vec<Stmt> {
    let entry = Entry {
        member_id,
        kind: LedgerKind::Expire,
        reason: expiry_reason(expires_at),
        source_ref: Some(format!("batch:{batch_id}")),
        actor: "system".into(),
        store_id: None,
        now,
        event: Some(LedgerEvent {
            valid_through: Some(civil::iso(member_core::points::last_valid_day(expires_at))),
            ..LedgerEvent::of("expire")
        }),
    };
    vec![
        Stmt::new(
            EXPIRE_BATCH,
            vec![Arg::Int(batch_id), Arg::Int(remaining), Arg::Int(now)],
        ),
        ledger_row(&entry, LedgerKind::Expire, -remaining, entry.reason.clone()),
        Stmt::new(SUB_POINTS, vec![Arg::Int(remaining), Arg::Int(member_id)]),
    ]
}

fn plan_expiry(member_id: i64, batches: &[Batch], now: i64) -> (Vec<Stmt>, i64) {
    let mut stmts = Vec::new();
    let mut expired = 0;
    for b in batches {
        if let Some(at) = b.expires_at.filter(|at| *at <= now) {
            if b.remaining > 0 {
                stmts.extend(expire_batch(member_id, b.id, b.remaining, at, now));
                expired += b.remaining;
            }
        }
    }
    (stmts, expired)
}

/// Statements that expire the member's due batches (member locked).
pub async fn plan_expire_due(
    tx: &mut Tx,
    member_id: i64,
    now: i64,
) -> Result<(Vec<Stmt>, i64), DbError> {
    let batches = open_batches(tx, member_id).await?;
    Ok(plan_expiry(member_id, &batches, now))
}

/// Statements that take `points` (> 0) from the member (locked): due batches expire
/// first, then the rest is taken soonest-expiry-first (`prefer` first), recorded as one
/// negative ledger row of `entry.kind` with its allocations.
/// `DbError::InsufficientPoints` when the spendable points don't cover it.
pub async fn plan_debit(
    tx: &mut Tx,
    entry: &Entry,
    points: i64,
    prefer: Option<i64>,
) -> Result<Vec<Stmt>, DbError> {
    Ok(plan_debit_counted(tx, entry, points, prefer).await?.0)
}

/// `plan_debit`, also returning how many due points the plan expires on the way, so the
/// caller can tell the balance afterwards (`balance - expired - points`).
pub async fn plan_debit_counted(
    tx: &mut Tx,
    entry: &Entry,
    points: i64,
    prefer: Option<i64>,
) -> Result<(Vec<Stmt>, i64), DbError> {
    let batches = open_batches(tx, entry.member_id).await?;
    let debit = points::debit(&batches, points, entry.now, prefer)
        .map_err(|_| DbError::InsufficientPoints)?;
    Ok((debit_statements(entry, points, &debit), debit.expired))
}

/// Statements for a debit as core decided it: the due batches expire, then one negative
/// ledger row of `points` (written even when 0) takes from the debit's batches.
pub fn debit_statements(entry: &Entry, points: i64, debit: &points::Debit) -> Vec<Stmt> {
    let (mut stmts, _) = plan_expiry(entry.member_id, &debit.due, entry.now);
    stmts.extend(take_statements(entry, points, &debit.takes));
    stmts
}

/// The negative ledger row of `points`, the batch updates and the allocations of
/// `takes` (`(batch id, points)`, adding up to `points`). A conditional update refuses
/// the whole transaction if a batch or the balance no longer holds its share.
fn take_statements(entry: &Entry, points: i64, takes: &[(i64, i64)]) -> Vec<Stmt> {
    let mut stmts = vec![ledger_row(entry, entry.kind, -points, entry.reason.clone())];
    for &(batch_id, take) in takes {
        stmts.push(Stmt::one(
            TAKE_FROM_BATCH,
            vec![
                Arg::Int(take),
                Arg::Int(batch_id),
                Arg::Int(entry.member_id),
            ],
            Refusal::InsufficientPoints,
        ));
        stmts.push(Stmt::new(
            INSERT_ALLOCATION,
            vec![
                Arg::Int(entry.member_id),
                Arg::Int(batch_id),
                Arg::Int(take),
            ],
        ));
    }
    stmts.push(Stmt::one(
        SUB_POINTS,
        vec![Arg::Int(points), Arg::Int(entry.member_id)],
        Refusal::InsufficientPoints,
    ));
    stmts
}

/// What a refund needs of the member's account (member locked): the open batches, and
/// what expiry runs already took from the purchase's own batch `own`.
pub struct RefundAccount {
    pub batches: Vec<Batch>,
    pub own_expired_before: i64,
}

pub async fn refund_account(
    tx: &mut Tx,
    member_id: i64,
    own: Option<i64>,
) -> Result<RefundAccount, DbError> {
    let batches = open_batches(tx, member_id).await?;
    let own_expired_before = match own {
        Some(own) => {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM points_ledger \
                 WHERE member_id = $1 AND kind = 'expire' AND source_ref = $2",
            )
            .bind(member_id)
            .bind(format!("batch:{own}"))
            .fetch_one(&mut **tx)
            .await?
            // Expiry rows are negative: what they took.
            .saturating_neg()
        }
        None => 0,
    };
    Ok(RefundAccount {
        batches,
        own_expired_before,
    })
}

#[derive(sqlx::FromRow)]
struct AllocationRow {
    batch_id: i64,
    points: i64,
    remaining: i64,
    expires_at: Option<i64>,
}

/// Statements that give back what the debit `debit_ledger_id` took, to the same
/// batches, as one positive ledger row of `entry.kind` (member locked). Points going
/// back into a batch that has expired meanwhile expire again at once (with their own
/// ledger row): a cancellation doesn't extend validity. Debt from a refund is settled,
/// as its own `refund` row, from the points that come back spendable only: points that
/// expire on the spot can't pay it, else refund-then-cancel would end with more points
/// than cancel-then-refund. Returns the points given back (before expiry and
/// settlement). The caller makes sure this runs once per debit (e.g. an order's status
/// change).
pub async fn plan_restore(
    tx: &mut Tx,
    entry: &Entry,
    debit_ledger_id: i64,
) -> Result<(Vec<Stmt>, i64), DbError> {
    let allocations: Vec<AllocationRow> = sqlx::query_as(
        "SELECT a.batch_id, a.points, b.remaining, b.expires_at \
         FROM points_allocations a JOIN points_batches b ON b.id = a.batch_id \
         WHERE a.ledger_id = $1 AND b.member_id = $2 ORDER BY a.id",
    )
    .bind(debit_ledger_id)
    .bind(entry.member_id)
    .fetch_all(&mut **tx)
    .await?;
    let total: i64 = allocations.iter().map(|a| a.points).sum();
    if total == 0 {
        return Ok((Vec::new(), 0));
    }
    let due = |a: &AllocationRow| a.expires_at.filter(|at| *at <= entry.now);
    let live: i64 = allocations
        .iter()
        .filter(|a| due(a).is_none())
        .map(|a| a.points)
        .sum();
    let owed = debt(tx, entry.member_id).await?;
    let settled = member_core::points::settled_from(owed.points, live);
    let mut stmts = vec![ledger_row(entry, entry.kind, total, entry.reason.clone())];
    stmts.extend(settlement(entry, &owed, settled));
    // What goes back into each batch: the settled points stay out of live batches.
    let mut to_settle = settled;
    let back: Vec<i64> = allocations
        .iter()
        .map(|a| {
            if due(a).is_some() {
                return a.points;
            }
            let kept = a.points.min(to_settle);
            to_settle -= kept;
            a.points - kept
        })
        .collect();
    for (a, put) in allocations.iter().zip(&back) {
        if *put > 0 {
            stmts.push(Stmt::new(
                PUT_BACK_INTO_BATCH,
                vec![Arg::Int(*put), Arg::Int(a.batch_id)],
            ));
        }
    }
    if total > settled {
        stmts.push(Stmt::new(
            ADD_POINTS,
            vec![Arg::Int(total - settled), Arg::Int(entry.member_id)],
        ));
    }
    for (a, put) in allocations.iter().zip(&back) {
        if let Some(at) = due(a) {
            if a.remaining + put > 0 {
                stmts.extend(expire_batch(
                    entry.member_id,
                    a.batch_id,
                    a.remaining + put,
                    at,
                    entry.now,
                ));
            }
        }
    }
    Ok((stmts, total))
}

/// The id of the ledger row a plan just inserted for this member (call after
/// `batch::execute`, member still locked).
pub async fn last_entry_id(tx: &mut Tx, member_id: i64) -> Result<i64, DbError> {
    sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM points_ledger WHERE member_id = $1")
        .bind(member_id)
        .fetch_one(&mut **tx)
        .await?
        .ok_or(DbError::Corrupt("ledger row missing"))
}

/// The program's expiry rule for points earned now.
pub async fn expiry_rule_in(tx: &mut Tx) -> Result<ExpiryRule, DbError> {
    let (kind, n): (String, i64) =
        sqlx::query_as("SELECT expiry_kind, expiry_n FROM points_policy WHERE id = 1")
            .fetch_one(&mut **tx)
            .await?;
    ExpiryRule::from_parts(&kind, n).map_err(|_| DbError::Corrupt("points_policy"))
}

pub async fn expiry_rule(db: &Db) -> Result<ExpiryRule, DbError> {
    let (kind, n): (String, i64) =
        sqlx::query_as("SELECT expiry_kind, expiry_n FROM points_policy WHERE id = 1")
            .fetch_one(db.reader())
            .await?;
    ExpiryRule::from_parts(&kind, n).map_err(|_| DbError::Corrupt("points_policy"))
}

pub async fn set_expiry_rule(tx: &mut Tx, rule: ExpiryRule, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE points_policy SET expiry_kind = $1, expiry_n = $2, updated_at = $3 WHERE id = 1",
    )
    .bind(rule.kind())
    .bind(rule.n())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The member's spendable batches, for "N points expire on …" (reads only).
pub async fn batches(db: &Db, member_id: i64) -> Result<Vec<Batch>, DbError> {
    let rows = sqlx::query_as(OPEN_BATCHES)
        .bind(member_id)
        .fetch_all(db.reader())
        .await?;
    Ok(to_batches(rows))
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryRun {
    /// Members found with due batches (some may have been done meanwhile by another
    /// instance); fewer than asked for means there were no more.
    pub selected: u64,
    /// Members whose due batches this run expired.
    pub members: u64,
    pub points: i64,
    /// Members whose expiry failed (logged; retried on the next run).
    pub failed: u64,
    /// The highest member id looked at: the next page starts after it.
    pub last_member: i64,
}

/// Expires every due batch of members with an id above `after_member`, one member per
/// transaction, at most `max_members` members.
/// Exactly once per point: a batch's expiry is a conditional update to zero together
/// with its ledger row, so a second run (or a second instance, or a run after a crash
/// mid-way) finds nothing left to expire in what was done. A member whose expiry fails
/// is logged and skipped, so one bad row can't hold up everyone after it.
pub async fn expire_due(
    db: &Db,
    now: i64,
    after_member: i64,
    max_members: i64,
) -> Result<ExpiryRun, DbError> {
    let members: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT member_id FROM points_batches \
         WHERE remaining > 0 AND expires_at <= $1 AND member_id > $2 \
         ORDER BY member_id LIMIT $3",
    )
    .bind(now)
    .bind(after_member)
    .bind(max_members)
    .fetch_all(db.reader())
    .await?;
    let mut run = ExpiryRun {
        selected: u64::try_from(members.len()).unwrap_or(u64::MAX),
        last_member: members.last().copied().unwrap_or(after_member),
        ..ExpiryRun::default()
    };
    for member_id in members {
        match expire_member(db, member_id, now).await {
            Ok(points) if points > 0 => {
                run.members += 1;
                run.points += points;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(member_id, error = %e, "points expiry failed for a member");
                run.failed += 1;
            }
        }
    }
    Ok(run)
}

async fn expire_member(db: &Db, member_id: i64, now: i64) -> Result<i64, DbError> {
    let mut tx = db.begin_write().await?;
    if lock_member(&mut tx, db.backend(), member_id)
        .await?
        .is_none()
    {
        return Ok(0);
    }
    // Read under the lock: what another instance expired meanwhile is not due any more.
    let (stmts, points) = plan_expire_due(&mut tx, member_id, now).await?;
    if points > 0 {
        batch::execute(&mut tx, db.backend(), stmts).await?;
        tx.commit().await?;
    }
    Ok(points)
}
