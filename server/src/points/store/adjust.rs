//! Points changed by hand in the admin console (goodwill credit, correction), and the
//! program's expiry rule. Both are audit-logged in the same transaction.

use member_core::dto::{LedgerEvent, PointsAdjustResult};
use member_core::points::{ExpiryRule, LedgerKind};

use crate::db::batch::{self, Arg, Stmt};
use crate::db::idempotency::{self, Outcome};
use crate::db::{audit, Db, DbError};
use crate::points::store::ledger::{self, Entry};

pub struct Adjustment<'a> {
    pub staff_username: &'a str,
    pub staff_store_id: Option<i64>,
    pub member_no: &'a str,
    /// Non-zero: positive credits a batch under the current expiry rule, negative
    /// spends soonest-expiry first.
    pub points: i64,
    pub reason: &'a str,
    pub idempotency_scope: &'a str,
    pub idempotency_key: &'a str,
    pub request_hash: &'a str,
    pub now: i64,
}

pub async fn adjust(db: &Db, a: Adjustment<'_>) -> Result<Outcome<PointsAdjustResult>, DbError> {
    let (mut tx, claim_id) = idempotency::claim_or_replay!(
        db,
        a.idempotency_scope,
        a.idempotency_key,
        a.request_hash,
        a.now
    );
    let member_id: i64 = sqlx::query_scalar("SELECT id FROM members WHERE member_no = $1")
        .bind(a.member_no)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DbError::NotFound)?;
    let balance = ledger::lock_member(&mut tx, db.backend(), member_id)
        .await?
        .ok_or(DbError::NotFound)?;
    let actor = format!("staff:{}", a.staff_username);
    let entry = Entry {
        member_id,
        kind: LedgerKind::Adjust,
        reason: a.reason.to_string(),
        source_ref: None,
        actor: actor.clone(),
        store_id: a.staff_store_id,
        now: a.now,
        event: Some(member_core::dto::LedgerEvent {
            note: Some(a.reason.to_string()),
            ..LedgerEvent::of("adjust")
        }),
    };
    let (mut stmts, after) = if a.points > 0 {
        let rule = ledger::expiry_rule_in(&mut tx).await?;
        let owed = ledger::debt(&mut tx, member_id).await?;
        let (stmts, settled) = ledger::plan_credit(&entry, a.points, rule.expires_at(a.now), &owed);
        (stmts, balance + a.points - settled)
    } else {
        let (stmts, expired) = ledger::plan_debit_counted(&mut tx, &entry, -a.points, None).await?;
        (stmts, balance - expired + a.points)
    };
    let result = PointsAdjustResult {
        member_no: a.member_no.to_string(),
        points_changed: a.points,
        points: after,
    };
    let body = serde_json::to_string(&result).map_err(|_| DbError::Corrupt("response body"))?;
    stmts.push(idempotency::complete(claim_id, 200, body));
    stmts.push(Stmt::new(
        audit::INSERT,
        vec![
            Arg::Text(actor),
            Arg::Text("points.adjust".into()),
            Arg::Text(format!("member:{}", a.member_no)),
            Arg::Text(format!(
                "delta={} balance_after={after} reason={}",
                a.points, a.reason
            )),
            Arg::Int(a.now),
        ],
    ));
    batch::execute(&mut tx, db.backend(), stmts).await?;
    tx.commit().await?;
    Ok(Outcome::Fresh(result))
}

/// Sets the expiry rule for points earned from now on (batches already earned keep
/// their expiry).
pub async fn set_expiry_rule(
    db: &Db,
    rule: ExpiryRule,
    staff_username: &str,
    now: i64,
) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    let before = ledger::expiry_rule_in(&mut tx).await?;
    ledger::set_expiry_rule(&mut tx, rule, now).await?;
    audit::record(
        &mut tx,
        &format!("staff:{staff_username}"),
        "points.rules",
        "points_policy",
        &format!(
            "expiry {} {} -> {} {}",
            before.kind(),
            before.n(),
            rule.kind(),
            rule.n()
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
