//! Recording a purchase: spend the card code, use the coupons named, credit points and
//! growth on what was paid, upgrade the tier (with its gift pack), append the ledger and
//! the audit log, all in one transaction with the idempotency key.
//!
//! A purchase without coupons and without an upgrade sends exactly the statements it
//! sent before coupons existed: the coupon work is only done when asked for.

use member_core::card_code::{verify_totp, CardCodeError, CardKey};
use member_core::coupons::Birthday;
use member_core::coupons::Till;
use member_core::dto::{LedgerEvent, PurchaseResult, TierRef};
use member_core::money::Cents;
use member_core::points::LedgerKind;
use member_core::purchase;
use member_core::tier_program::Task;

use crate::coupons::store::coupons;
use crate::db::batch::{self, Arg, Refusal, Stmt};
use crate::db::{audit, idempotency, Backend, Db, DbError, Tx};
use crate::points::store::ledger::{self, Entry};
use crate::signup::store::referrals;
use crate::tiers::store::growth::{self, Event};
use crate::tiers::store::tier_moves;
use crate::tiers::store::tier_program as versions;
use crate::till::store::checkout;

pub struct NewPurchase<'a> {
    pub staff_id: i64,
    pub staff_username: &'a str,
    pub store_id: i64,
    /// The till's store, for coupons valid in some stores only.
    pub store_code: &'a str,
    pub member_no: &'a str,
    /// The card code's TOTP; `None` when the member was looked up by phone instead (the
    /// caller has checked the look-up token), which spends no code.
    pub totp: Option<u32>,
    pub amount: Cents,
    pub order_ref: &'a str,
    /// How the member was identified without a card code, for the audit log.
    pub identified_by: &'a str,
    /// Coupons to use, as the cashier named them (empty: none).
    pub coupon_ids: &'a [i64],
    pub idempotency_scope: &'a str,
    pub idempotency_key: &'a str,
    pub request_hash: &'a str,
    pub now: i64,
}

pub type Recorded = idempotency::Outcome<PurchaseResult>;

#[derive(sqlx::FromRow)]
struct Card {
    id: i64,
    card_key: Vec<u8>,
    last_code_step: Option<i64>,
    tier_code: String,
    growth: i64,
    points: i64,
    points_debt: i64,
    window_spend_cents: i64,
    birth_month: Option<i64>,
    birth_day: Option<i64>,
    last_purchase_at: Option<i64>,
}

/// The member row, locked for the rest of the transaction: SQLite's write transaction
/// (BEGIN IMMEDIATE) already excludes other writers; Postgres needs the row lock, and
/// after waiting for it reads the latest committed row.
const SELECT_CARD_SQLITE: &str = "SELECT id, card_key, last_code_step, tier_code, growth, points, \
                                  points_debt, window_spend_cents, birth_month, birth_day, \
                                  last_purchase_at FROM members WHERE member_no = $1";
const SELECT_CARD_PG: &str = "SELECT id, card_key, last_code_step, tier_code, growth, points, \
                              points_debt, window_spend_cents, birth_month, birth_day, \
                              last_purchase_at FROM members WHERE member_no = $1 \
                              FOR NO KEY UPDATE";

const INSERT_PURCHASE: &str =
    "INSERT INTO purchases (member_id, store_id, staff_id, order_ref, amount_cents, \
                            points_earned, growth_earned, created_at, discount_cents) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/// Growth and spend move by increment (never written from a value computed in Rust),
/// like `growth::APPLY_TO_MEMBER` does for other events (the purchase's growth event is
/// folded into this one update to keep the hot path at one member write); the step
/// condition makes the code single-use even if the lock above were missing.
/// `last_purchase_at` feeds the win-back campaigns and decay.
const UPDATE_MEMBER: &str = "UPDATE members SET growth = growth + $1, tier_code = $2, \
        last_code_step = $3, last_purchase_at = $5, window_spend_cents = window_spend_cents + $6, \
        growth_recount_at = CASE WHEN $7 IS NULL THEN growth_recount_at \
                                 WHEN growth_recount_at IS NULL OR growth_recount_at > $7 THEN $7 \
                                 ELSE growth_recount_at END \
     WHERE id = $4 AND (last_code_step IS NULL OR last_code_step < $3)";
/// `UPDATE_MEMBER` for a member looked up by phone: no card code to spend.
const UPDATE_MEMBER_LOOKED_UP: &str = "UPDATE members SET growth = growth + $1, tier_code = $2, \
        last_purchase_at = $4, window_spend_cents = window_spend_cents + $5, \
        growth_recount_at = CASE WHEN $6 IS NULL THEN growth_recount_at \
                                 WHEN growth_recount_at IS NULL OR growth_recount_at > $6 THEN $6 \
                                 ELSE growth_recount_at END \
     WHERE id = $3";

/// Records `p` in `held` when the caller's card check hands over its write transaction
/// (the hold of the staff account's guessing budget: one transaction per purchase, not
/// two), else in a fresh one.
pub async fn record(db: &Db, held: Option<Tx>, p: NewPurchase<'_>) -> Result<Recorded, DbError> {
    let tx = match held {
        Some(tx) => tx,
        None => db.begin_write().await?,
    };
    let (mut tx, claim_id) = idempotency::claim_or_replay!(
        in tx,
        p.idempotency_scope,
        p.idempotency_key,
        p.request_hash,
        p.now
    );

    let select = match db.backend() {
        Backend::Sqlite => SELECT_CARD_SQLITE,
        Backend::Postgres => SELECT_CARD_PG,
    };
    let card: Option<Card> = sqlx::query_as(select)
        .bind(p.member_no)
        .fetch_optional(&mut *tx)
        .await?;
    let card = card.ok_or(DbError::CardCode(CardCodeError::Invalid))?;
    let key = CardKey::from_slice(&card.card_key).ok_or(DbError::Corrupt("card key length"))?;
    let step = match p.totp {
        Some(totp) => {
            Some(verify_totp(&key, totp, p.now, card.last_code_step).map_err(DbError::CardCode)?)
        }
        None => None,
    };

    let version = versions::in_effect_in(&mut tx, p.now).await?;
    let program = &version.program;
    let expiry = ledger::expiry_rule_in(&mut tx).await?;
    // Coupons are read after the member lock above: a concurrent purchase of this
    // member waits there and then finds them used.
    let quoted = if p.coupon_ids.is_empty() {
        None
    } else {
        let till = Till {
            now: p.now,
            store_code: p.store_code,
            basket_cents: p.amount.get(),
        };
        Some(checkout::quote(&mut tx, card.id, p.coupon_ids, &till).await?)
    };
    let discount = quoted.as_ref().map_or(0, |q| q.quote.discount_cents);
    let birthday = match (card.birth_month, card.birth_day) {
        (Some(m), Some(d)) => u32::try_from(m)
            .ok()
            .zip(u32::try_from(d).ok())
            .and_then(|(m, d)| Birthday::new(m, d)),
        _ => None,
    };
    let member = purchase::Member {
        tier_code: &card.tier_code,
        growth: card.growth,
        window_spend_cents: card.window_spend_cents,
        points: card.points,
        points_debt: card.points_debt,
        birthday,
        first_purchase: card.last_purchase_at.is_none(),
    };
    let basket = purchase::Basket {
        amount: p.amount,
        discount_cents: discount,
        at: p.now,
    };
    let plan = purchase::plan(program, &member, basket)
        .map_err(|_| DbError::Corrupt("discount larger than the basket"))?;
    let (earned, payable, task_growth) = (plan.earned, plan.payable, plan.task_growth);
    let new_tier = plan.tier_code.clone();
    let gift_pack = if plan.upgrade.is_some() {
        coupons::grant_upgrade(
            &mut tx,
            card.id,
            &plan.passed_codes(program),
            &new_tier,
            p.now,
        )
        .await?
        .into_iter()
        .map(|(_, name)| name)
        .collect()
    } else {
        Vec::new()
    };
    let upgrade_points = plan.upgrade_points();
    let actor = format!("staff:{}", p.staff_username);
    let entry = Entry {
        member_id: card.id,
        kind: LedgerKind::Earn,
        reason: if discount > 0 {
            format!(
                "消费 {}（优惠 {}）",
                payable.to_yuan_string(),
                Cents::paid(discount).map_or_else(|_| discount.to_string(), Cents::to_yuan_string)
            )
        } else {
            format!("消费 {}", p.amount.to_yuan_string())
        },
        source_ref: Some(p.order_ref.to_string()),
        actor: actor.clone(),
        store_id: Some(p.store_id),
        now: p.now,
        event: Some(member_core::dto::LedgerEvent {
            amount_cents: Some(payable.get()),
            discount_cents: (discount > 0).then_some(discount),
            ..LedgerEvent::of("purchase")
        }),
    };
    let owed = ledger::debt_of(&mut tx, card.id, card.points_debt).await?;
    let (credit, settled) =
        ledger::plan_credit(&entry, earned.points, expiry.expires_at(p.now), &owed);
    if settled != plan.settled {
        return Err(DbError::Corrupt("the credit settled other than the plan"));
    }
    // A friend's first purchase releases the referral rewards held since sign-up.
    let referral = if card.last_purchase_at.is_none() {
        referrals::release_on_first_purchase(
            &mut tx,
            db.backend(),
            card.id,
            &new_tier,
            expiry.expires_at(p.now),
            p.now,
        )
        .await?
    } else {
        None
    };
    let referral_points = referral.as_ref().map_or(0, |r| r.friend_points);
    let result = PurchaseResult {
        member_no: p.member_no.to_string(),
        points_earned: earned.points,
        growth_earned: earned.growth,
        points: plan.points_after + referral_points,
        growth: plan.after.growth,
        tier: TierRef {
            code: new_tier.clone(),
            name: plan.tier_name.clone(),
        },
        upgraded: plan.upgrade.is_some(),
        discount_cents: discount,
        payable_cents: payable.get(),
        coupons_used: quoted
            .as_ref()
            .map(checkout::Quoted::line_views)
            .unwrap_or_default(),
        gift_pack,
        upgrade_points,
        task_growth,
        member_day: earned.member_day,
        birthday_month: earned.birthday_month,
        referral_points,
    };
    let purchase_event = Event::earned(
        program,
        card.id,
        growth::Kind::Purchase,
        earned.growth,
        payable.get(),
        p.order_ref.to_string(),
        p.now,
    );
    let body = serde_json::to_string(&result).map_err(|_| DbError::Corrupt("response body"))?;
    let mut stmts = vec![
        Stmt::new(
            INSERT_PURCHASE,
            vec![
                Arg::Int(card.id),
                Arg::Int(p.store_id),
                Arg::Int(p.staff_id),
                Arg::Text(p.order_ref.to_string()),
                Arg::Int(p.amount.get()),
                Arg::Int(earned.points),
                Arg::Int(earned.growth),
                Arg::Int(p.now),
                Arg::Int(discount),
            ],
        ),
        match step {
            Some(step) => Stmt::one(
                UPDATE_MEMBER,
                vec![
                    Arg::Int(earned.growth),
                    Arg::Text(new_tier.clone()),
                    Arg::Int(step),
                    Arg::Int(card.id),
                    Arg::Int(p.now),
                    Arg::Int(payable.get()),
                    Arg::OptInt(purchase_event.counts_until),
                ],
                Refusal::CardCodeReplayed,
            ),
            None => Stmt::new(
                UPDATE_MEMBER_LOOKED_UP,
                vec![
                    Arg::Int(earned.growth),
                    Arg::Text(new_tier.clone()),
                    Arg::Int(card.id),
                    Arg::Int(p.now),
                    Arg::Int(payable.get()),
                    Arg::OptInt(purchase_event.counts_until),
                ],
            ),
        },
        purchase_event.insert_statement(),
    ];
    if task_growth > 0 {
        // The member lock makes this the only first purchase; the row records the task.
        stmts.push(Stmt::new(
            growth::INSERT_TASK,
            vec![
                Arg::Int(card.id),
                Arg::Text(Task::FirstPurchase.as_str().into()),
                Arg::Text(Task::FirstPurchase.period(p.now)),
                Arg::Int(p.now),
            ],
        ));
        stmts.extend(
            Event::earned(
                program,
                card.id,
                growth::Kind::Task,
                task_growth,
                0,
                Task::FirstPurchase.as_str().into(),
                p.now,
            )
            .statements(),
        );
    }
    if let Some(u) = &plan.upgrade {
        let mv = tier_moves::Move {
            program,
            version_id: version.id,
            member_id: card.id,
            from: plan.from,
            points_expire_at: expiry.expires_at(p.now),
            actor: &actor,
            now: p.now,
        };
        stmts.extend(tier_moves::upgrade(&mv, u));
    }
    let mut coupon_detail = String::new();
    if let Some(q) = &quoted {
        stmts.extend(checkout::use_statements(
            &q.quote,
            card.id,
            p.store_id,
            p.order_ref,
            p.now,
        ));
        let ids: Vec<String> = q
            .quote
            .lines
            .iter()
            .map(|l| l.coupon_id.to_string())
            .collect();
        coupon_detail = format!(
            " discount_cents={} payable_cents={} coupons={}",
            discount,
            payable.get(),
            ids.join(",")
        );
    }
    if p.totp.is_none() {
        coupon_detail.push_str(&format!(" identified={}", p.identified_by));
    }
    if !result.gift_pack.is_empty() {
        coupon_detail.push_str(&format!(" gift_pack={}", result.gift_pack.len()));
    }
    stmts.extend(credit);
    if let Some(r) = referral {
        stmts.extend(r.statements);
    }
    stmts.push(idempotency::complete(claim_id, 200, body));
    stmts.push(Stmt::new(
        audit::INSERT,
        vec![
            Arg::Text(actor),
            Arg::Text("purchase.record".into()),
            Arg::Text(format!("member:{}", p.member_no)),
            Arg::Text(format!(
                "order_ref={} amount_cents={} points={} growth={} tier={}{}",
                p.order_ref,
                p.amount.get(),
                earned.points,
                earned.growth,
                new_tier,
                coupon_detail
            )),
            Arg::Int(p.now),
        ],
    ));
    batch::execute(&mut tx, db.backend(), stmts)
        .await
        .map_err(|e| match e {
            DbError::Sqlx(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                DbError::DuplicateOrder
            }
            other => other,
        })?;
    tx.commit().await?;
    Ok(Recorded::Fresh(result))
}
