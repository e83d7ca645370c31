//! Recording a purchase: spend the card code, use the coupons named, credit points and
//! growth on what was paid, upgrade the tier (with its gift pack), append the ledger and
//! the audit log, all in one transaction with the idempotency key.
//!
//! A purchase without coupons and without an upgrade sends exactly the statements it
//! sent before coupons existed: the coupon work is only done when asked for.

use member_core::card_code::{verify_totp, CardCodeError, CardKey};
use member_core::coupons::Till;
use member_core::dto::{PurchaseResult, TierRef};
use member_core::money::Cents;
use member_core::tiers::apply_purchase;

use super::batch::{self, Arg, Refusal, Stmt};
use super::ledger::{self, Entry};
use super::{audit, checkout, coupons, idempotency, tiers, Backend, Db, DbError};

pub struct NewPurchase<'a> {
    pub staff_id: i64,
    pub staff_username: &'a str,
    pub store_id: i64,
    /// The till's store, for coupons valid in some stores only.
    pub store_code: &'a str,
    pub member_no: &'a str,
    pub totp: u32,
    pub amount: Cents,
    pub order_ref: &'a str,
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
}

/// The member row, locked for the rest of the transaction: SQLite's write transaction
/// (BEGIN IMMEDIATE) already excludes other writers; Postgres needs the row lock, and
/// after waiting for it reads the latest committed row.
const SELECT_CARD_SQLITE: &str = "SELECT id, card_key, last_code_step, tier_code, growth, points, \
                                  points_debt FROM members WHERE member_no = $1";
const SELECT_CARD_PG: &str = "SELECT id, card_key, last_code_step, tier_code, growth, points, \
                              points_debt FROM members WHERE member_no = $1 FOR NO KEY UPDATE";

const INSERT_PURCHASE: &str =
    "INSERT INTO purchases (member_id, store_id, staff_id, order_ref, amount_cents, \
                            points_earned, growth_earned, created_at, discount_cents) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/// Growth moves by increment (never written from a value computed in Rust), and the
/// step condition makes the code single-use even if the lock above were missing.
/// `last_purchase_at` feeds the win-back campaigns.
const UPDATE_MEMBER: &str = "UPDATE members SET growth = growth + $1, tier_code = $2, \
                             last_code_step = $3, last_purchase_at = $5 \
                             WHERE id = $4 AND (last_code_step IS NULL OR last_code_step < $3)";

pub async fn record(db: &Db, p: NewPurchase<'_>) -> Result<Recorded, DbError> {
    let (mut tx, claim_id) = match idempotency::begin(
        db,
        p.idempotency_scope,
        p.idempotency_key,
        p.request_hash,
        p.now,
    )
    .await?
    {
        Ok(claimed) => claimed,
        Err(replay) => return Ok(replay.into()),
    };

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
    let step = verify_totp(&key, p.totp, p.now, card.last_code_step).map_err(DbError::CardCode)?;

    let program = tiers::all_in(&mut tx, p.now).await?;
    let expiry = ledger::expiry_rule_in(&mut tx).await?;
    if program.is_empty() {
        return Err(DbError::NoTiers);
    }
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
    // Points and growth are earned on what was paid.
    let payable = Cents::paid(p.amount.get() - discount)
        .map_err(|_| DbError::Corrupt("discount larger than the basket"))?;
    let outcome = apply_purchase(&program, &card.tier_code, card.growth, payable);
    let gift_pack = if outcome.upgraded {
        let passed = passed_tiers(&program, &card.tier_code, &outcome.tier_code);
        coupons::grant_upgrade(&mut tx, card.id, &passed, &outcome.tier_code, p.now)
            .await?
            .into_iter()
            .map(|(_, name)| name)
            .collect()
    } else {
        Vec::new()
    };
    let tier_name = program
        .iter()
        .find(|t| t.code == outcome.tier_code)
        .map_or_else(|| outcome.tier_code.clone(), |t| t.name.clone());
    let actor = format!("staff:{}", p.staff_username);
    let earned = Entry {
        member_id: card.id,
        kind: "earn",
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
    };
    let owed = ledger::debt_of(&mut tx, card.id, card.points_debt).await?;
    let (credit, settled) = ledger::plan_credit(
        &earned,
        outcome.points_earned,
        expiry.expires_at(p.now),
        &owed,
    );
    let result = PurchaseResult {
        member_no: p.member_no.to_string(),
        points_earned: outcome.points_earned,
        growth_earned: outcome.growth_earned,
        points: card.points + outcome.points_earned - settled,
        growth: outcome.growth_after,
        tier: TierRef {
            code: outcome.tier_code.clone(),
            name: tier_name,
        },
        upgraded: outcome.upgraded,
        discount_cents: discount,
        payable_cents: payable.get(),
        coupons_used: quoted
            .as_ref()
            .map(checkout::Quoted::line_views)
            .unwrap_or_default(),
        gift_pack,
        upgrade_points: 0,
        task_growth: 0,
        member_day: false,
        birthday_month: false,
    };
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
                Arg::Int(outcome.points_earned),
                Arg::Int(outcome.growth_earned),
                Arg::Int(p.now),
                Arg::Int(discount),
            ],
        ),
        Stmt::one(
            UPDATE_MEMBER,
            vec![
                Arg::Int(outcome.growth_earned),
                Arg::Text(outcome.tier_code.clone()),
                Arg::Int(step),
                Arg::Int(card.id),
                Arg::Int(p.now),
            ],
            Refusal::CardCodeReplayed,
        ),
    ];
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
    if !result.gift_pack.is_empty() {
        coupon_detail.push_str(&format!(" gift_pack={}", result.gift_pack.len()));
    }
    stmts.extend(credit);
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
                outcome.points_earned,
                outcome.growth_earned,
                outcome.tier_code,
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

/// The tiers an upgrade from `from` to `to` passes, in order, `to` included (each may
/// have its own gift pack). `program` is sorted by threshold.
fn passed_tiers(program: &[member_core::tiers::TierRule], from: &str, to: &str) -> Vec<String> {
    let start = program.iter().position(|t| t.code == from);
    let end = program.iter().position(|t| t.code == to);
    let range = match (start, end) {
        (Some(s), Some(e)) if e > s => s + 1..=e,
        (None, Some(e)) => e..=e,
        _ => return Vec::new(),
    };
    program
        .get(range)
        .map(|ts| ts.iter().map(|t| t.code.clone()).collect())
        .unwrap_or_default()
}
