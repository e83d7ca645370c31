//! Data every database needs (default tiers) and the `--dev` demo data.

use member_core::dto::{DowngradeRules, GrowthRules, TierBenefit, TierDef, TierProgram};
use member_core::tiers::TierRule;

use crate::staff::store as staff;

use crate::db::{Db, DbError};
use crate::tiers::store::{tier_program, tiers};

mod dev_coupons;
mod dev_mall;
pub use dev_coupons::DEV_CLAIM_TOKEN;

fn default_tiers() -> [TierRule; 4] {
    let t = |code: &str, name: &str, growth_threshold, points_per_yuan_pct| TierRule {
        code: code.into(),
        name: name.into(),
        growth_threshold,
        points_per_yuan_pct,
    };
    [
        t("normal", "普卡", 0, 100),
        t("silver", "银卡", 500, 120),
        t("gold", "金卡", 2000, 150),
        t("diamond", "钻石卡", 8000, 200),
    ]
}

/// A fresh database gets the four default tiers so it works at once; a brand that has
/// edited its tiers keeps them. Without a tier program version yet, the tiers as they
/// are become version 1 (tiers never drop, lifetime growth: how it worked before).
pub async fn default_tiers_if_empty(db: &Db, now: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    if tiers::count_in(&mut tx).await? == 0 {
        for tier in default_tiers() {
            tiers::insert_if_missing(&mut tx, &tier).await?;
        }
    }
    let program = TierProgram {
        tiers: tiers::catalogue_in(&mut tx)
            .await?
            .into_iter()
            .map(|t| plain_tier(&t))
            .collect(),
        growth: GrowthRules::default(),
        downgrade: DowngradeRules::default(),
        member_day: None,
    };
    tier_program::first_if_missing(&mut tx, &program, now).await?;
    tx.commit().await?;
    Ok(())
}

fn plain_tier(t: &TierRule) -> TierDef {
    TierDef {
        code: t.code.clone(),
        name: t.name.clone(),
        color: String::new(),
        icon: String::new(),
        growth_threshold: t.growth_threshold,
        spend_threshold_cents: None,
        points_per_yuan_pct: t.points_per_yuan_pct,
        benefits: Vec::new(),
        upgrade_points: 0,
    }
}

/// The demo program: badges, benefits, growth for tasks, a 12-month rolling window,
/// yearly evaluation from the upgrade with a warning 30 days ahead. No member day and no
/// upgrade points, so a purchase earns the same on every day of the month (tests rely on
/// it); a brand turns those on with a new version.
fn dev_program() -> TierProgram {
    let benefit = |kind: &str, value: i64, text: &str| TierBenefit {
        kind: kind.into(),
        value,
        text: text.into(),
    };
    let styled = |t: &TierRule, color: &str, icon: &str, benefits: Vec<TierBenefit>| TierDef {
        color: color.into(),
        icon: icon.into(),
        benefits,
        ..plain_tier(t)
    };
    let [normal, silver, gold, diamond] = default_tiers();
    TierProgram {
        tiers: vec![
            styled(
                &normal,
                "#8A8F98",
                "leaf",
                vec![benefit("custom", 0, "生日礼券")],
            ),
            styled(
                &silver,
                "#9EA7B3",
                "star",
                vec![
                    benefit("custom", 0, "生日礼券"),
                    benefit("member_day_price", 0, ""),
                ],
            ),
            styled(
                &gold,
                "#C9A227",
                "crown",
                vec![
                    benefit("discount", 5, ""),
                    benefit("birthday_multiplier", 200, ""),
                    benefit("member_day_price", 0, ""),
                    benefit("exclusive_mall", 0, ""),
                ],
            ),
            styled(
                &diamond,
                "#4B6CB7",
                "diamond",
                vec![
                    benefit("discount", 10, ""),
                    benefit("birthday_multiplier", 300, ""),
                    benefit("free_shipping", 0, ""),
                    benefit("member_day_price", 0, ""),
                    benefit("exclusive_mall", 0, ""),
                ],
            ),
        ],
        growth: GrowthRules {
            profile_completed: 20,
            check_in: 1,
            window: "rolling_months".into(),
            window_months: 12,
            ..GrowthRules::default()
        },
        downgrade: DowngradeRules {
            policy: "to_earned".into(),
            period_months: 12,
            warn_days: 30,
        },
        member_day: None,
    }
}

/// Demo store, staff, tiers, mall items and coupons (templates, campaigns, a claim link).
/// Safe to run at every start and from several instances.
pub async fn dev(db: &Db, now: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    for tier in default_tiers() {
        tiers::insert_if_missing(&mut tx, &tier).await?;
    }
    tier_program::first_if_missing(&mut tx, &dev_program(), now).await?;
    let store_id = staff::ensure_store(&mut tx, "S001", "旗舰店", now).await?;
    tx.commit().await?;
    let accounts = [
        (
            "cashier",
            "cashier-dev-pass",
            "收银员小王",
            "cashier",
            Some(store_id),
        ),
        (
            "manager",
            "manager-dev-pass",
            "店长小李",
            "manager",
            Some(store_id),
        ),
        ("admin", "admin-dev-pass", "管理员", "admin", None),
    ];
    for (username, password, display, role, store) in accounts {
        staff::create_staff_if_missing(db, username, password, display, role, store, now).await?;
    }
    dev_mall::dev_mall_items(db, now).await?;
    dev_coupons::dev_coupons(db, now).await?;
    dev_signup(db, now).await
}

/// Sign-up asks for birthday and city (both optional); a referral gives the inviter 200
/// points and the friend 100 after the friend's first purchase, five a day.
async fn dev_signup(db: &Db, now: i64) -> Result<(), DbError> {
    let mut s = crate::signup::store::signup_links::default_settings();
    s.fields.birthday = "optional".into();
    s.fields.city = "optional".into();
    s.referral.enabled = true;
    s.referral.referrer_points = 200;
    s.referral.friend_points = 100;
    let body = serde_json::to_string(&s).map_err(|_| DbError::Corrupt("signup settings"))?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO signup_settings (id, body, updated_by, updated_at) \
         VALUES (1, $1, 'seed', $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(body)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
