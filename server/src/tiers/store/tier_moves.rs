//! What a change of tier writes, wherever it happens (a purchase, a task): the member's
//! tier and evaluation period, a `tier_changes` row, the inbox message and the upgrade
//! points. Callers run these statements in the transaction that changed the growth.

use member_core::dto::{LedgerEvent, TierProgram};
use member_core::points::LedgerKind;
use member_core::tier_program::{self, Upgrade};

use crate::db::batch::{Arg, Stmt};
use crate::messages::store::notifications::{self, Kind};
use crate::points::store::ledger::{self, Debt, Entry};

/// `$1` tier, `$2` now, `$3` period end (NULL: not evaluated), `$4` member. The period
/// starts just after the upgrade: the growth that caused it doesn't also keep the tier.
const START_PERIOD: &str = "UPDATE members SET tier_code = $1, tier_since = $2, \
                            period_start = $2 + 1, period_end = $3, warned_for = NULL \
                            WHERE id = $4";
const INSERT_CHANGE: &str =
    "INSERT INTO tier_changes (member_id, kind, from_tier, to_tier, period_end, period_growth, \
                               version_id, at) VALUES ($1, 'upgraded', $2, $3, NULL, NULL, $4, $5)";

/// Who moves up, from where, under which version, and by whom.
pub struct Move<'a> {
    pub program: &'a TierProgram,
    pub version_id: i64,
    pub member_id: i64,
    /// Index into `program.tiers`.
    pub from: usize,
    /// When upgrade points expire (the points rule at `now`).
    pub points_expire_at: Option<i64>,
    pub actor: &'a str,
    pub now: i64,
}

/// An upgrade's statements. The upgrade points become a ledger credit of their own
/// ("升级礼 金卡") expiring like earned points.
pub fn upgrade(mv: &Move<'_>, up: &Upgrade) -> Vec<Stmt> {
    let Move {
        program,
        version_id,
        member_id,
        from,
        points_expire_at,
        actor,
        now,
    } = *mv;
    let code = |i: usize| {
        program
            .tiers
            .get(i)
            .map(|t| t.code.clone())
            .unwrap_or_default()
    };
    let name = |i: usize| {
        program
            .tiers
            .get(i)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    };
    let period_end = tier_program::has_periods(program, up.to)
        .then(|| tier_program::period_end(now, program.downgrade.period_months));
    let mut data = notifications::data();
    data.tier = Some(notifications::tier_ref(&code(up.to), &name(up.to)));
    data.from_tier = Some(notifications::tier_ref(&code(from), &name(from)));
    data.date = period_end.map(|e| member_core::civil::iso(tier_program::last_day(e)));
    let mut stmts = vec![
        Stmt::new(
            START_PERIOD,
            vec![
                Arg::Text(code(up.to)),
                Arg::Int(now),
                Arg::OptInt(period_end),
                Arg::Int(member_id),
            ],
        ),
        Stmt::new(
            INSERT_CHANGE,
            vec![
                Arg::Int(member_id),
                Arg::Text(code(from)),
                Arg::Text(code(up.to)),
                Arg::Int(version_id),
                Arg::Int(now),
            ],
        ),
        notifications::message(
            member_id,
            Kind::Upgraded,
            format!("upgrade:{now}:{}", code(up.to)),
            &data,
            now,
        ),
    ];
    if up.upgrade_points > 0 {
        let entry = Entry {
            member_id,
            kind: LedgerKind::Earn,
            reason: format!("升级礼 {}", name(up.to)),
            source_ref: Some(format!("upgrade:{}", code(up.to))),
            actor: actor.to_string(),
            store_id: None,
            now,
            event: Some(member_core::dto::LedgerEvent {
                tier: Some(member_core::dto::TierRef {
                    code: code(up.to),
                    name: name(up.to),
                }),
                ..LedgerEvent::of("upgrade")
            }),
        };
        // Refund debt is settled by the purchase's own credit; the gift is paid in full.
        let (credit, _) = ledger::plan_credit(
            &entry,
            up.upgrade_points,
            points_expire_at,
            &Debt::default(),
        );
        stmts.extend(credit);
    }
    stmts
}
