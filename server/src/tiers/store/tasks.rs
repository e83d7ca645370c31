//! Growth tasks (profile completed, daily check-in): done once per period, each giving
//! the growth the program in effect sets, with an upgrade at once when it reaches one.
//! Callers hold the member locked in `tx` (the profile update does; `check_in` locks).

use member_core::tier_program::{self, Standing, Task};

use crate::coupons::store::coupons;
use crate::db::batch::{self, Arg, Stmt};
use crate::db::{Backend, Db, DbError, Tx};
use crate::points::store::ledger;
use crate::tiers::store::growth::{self, Event};
use crate::tiers::store::tier_moves;
use crate::tiers::store::tier_program as versions;

/// What doing a task gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// False when it was done already in this period (nothing given).
    pub first_time: bool,
    pub growth_earned: i64,
    pub growth: i64,
    pub tier_code: String,
    pub tier_name: String,
    pub upgraded: bool,
}

#[derive(sqlx::FromRow)]
struct MemberStanding {
    tier_code: String,
    growth: i64,
    window_spend_cents: i64,
}

/// Records `task` for the member in `tx` and gives its growth. The member must be locked
/// by the caller (its growth is read here and moved by increment).
pub async fn complete_in(
    tx: &mut Tx,
    backend: Backend,
    member_id: i64,
    task: Task,
    actor: &str,
    now: i64,
) -> Result<Done, DbError> {
    let version = versions::in_effect_in(tx, now).await?;
    let program = &version.program;
    let m: MemberStanding =
        sqlx::query_as("SELECT tier_code, growth, window_spend_cents FROM members WHERE id = $1")
            .bind(member_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(DbError::NotFound)?;
    let current = tier_program::index_of(program, &m.tier_code).unwrap_or(0);
    let name_of = |i: usize| {
        program
            .tiers
            .get(i)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    };
    let amount = task.growth(program);
    let inserted = sqlx::query(growth::INSERT_TASK)
        .bind(member_id)
        .bind(task.as_str())
        .bind(task.period(now))
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if inserted == 0 || amount <= 0 {
        return Ok(Done {
            first_time: inserted == 1,
            growth_earned: 0,
            growth: m.growth,
            tier_code: m.tier_code,
            tier_name: name_of(current),
            upgraded: false,
        });
    }
    let after = Standing {
        growth: m.growth.saturating_add(amount),
        spend_cents: m.window_spend_cents,
    };
    let mut stmts: Vec<Stmt> = Event::earned(
        program,
        member_id,
        growth::Kind::Task,
        amount,
        0,
        task.as_str().into(),
        now,
    )
    .statements()
    .into();
    let up = tier_program::upgrade(program, current, after);
    if let Some(u) = &up {
        // The upgrade gift packs, as a purchase that upgrades gets them.
        let passed: Vec<String> = u
            .passed
            .iter()
            .filter_map(|&i| program.tiers.get(i).map(|t| t.code.clone()))
            .collect();
        let to = program
            .tiers
            .get(u.to)
            .map_or_else(String::new, |t| t.code.clone());
        coupons::grant_upgrade(tx, member_id, &passed, &to, now).await?;
        let expiry = ledger::expiry_rule_in(tx).await?;
        let mv = tier_moves::Move {
            program,
            version_id: version.id,
            member_id,
            from: current,
            points_expire_at: expiry.expires_at(now),
            actor,
            now,
        };
        stmts.extend(tier_moves::upgrade(&mv, u));
        stmts.push(Stmt::new(
            crate::db::audit::INSERT,
            vec![
                Arg::Text(actor.to_string()),
                Arg::Text("tier.upgrade".into()),
                Arg::Text(actor.to_string()),
                Arg::Text(format!("task={} growth={}", task.as_str(), after.growth)),
                Arg::Int(now),
            ],
        ));
    }
    batch::execute(tx, backend, stmts).await?;
    let to = up.as_ref().map_or(current, |u| u.to);
    Ok(Done {
        first_time: true,
        growth_earned: amount,
        growth: after.growth,
        tier_code: program
            .tiers
            .get(to)
            .map_or(m.tier_code.clone(), |t| t.code.clone()),
        tier_name: name_of(to),
        upgraded: up.is_some(),
    })
}

/// The daily check-in, in its own transaction.
pub async fn check_in(db: &Db, member_id: i64, actor: &str, now: i64) -> Result<Done, DbError> {
    let mut tx = db.begin_write().await?;
    ledger::lock_member(&mut tx, db.backend(), member_id)
        .await?
        .ok_or(DbError::NotFound)?;
    let done = complete_in(&mut tx, db.backend(), member_id, Task::CheckIn, actor, now).await?;
    tx.commit().await?;
    Ok(done)
}
