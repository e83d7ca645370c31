//! The `--dev` coupon templates and campaigns (a claim link among them).

use crate::db::{Backend, Db, DbError};
use crate::mall::store::mall;
use crate::ops::store::seed::dev_mall::item;

/// The dev claim link's token (`/claim/DEVGETCPNS234567`): fixed so demos and docs can
/// print it; 16 characters of the coupon-code alphabet like the random ones.
pub const DEV_CLAIM_TOKEN: &str = "DEVGETCPNS234567";

/// A demo template: `(name, description, kind, amount_off, percent_off, cap, gift,
/// min_spend, stackable, valid_days, per_member_limit)`.
type DevTemplate = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
    Option<i64>,
    Option<&'static str>,
    i64,
    bool,
    i64,
    Option<i64>,
);

fn dev_templates() -> Vec<DevTemplate> {
    vec![
        (
            "新人礼",
            "无门槛立减 10 元，新会员专享",
            "amount",
            1000,
            0,
            None,
            None,
            0,
            false,
            30,
            Some(1),
        ),
        (
            "满100减20",
            "单笔满 100 元立减 20 元",
            "amount",
            2000,
            0,
            None,
            None,
            10_000,
            false,
            30,
            None,
        ),
        (
            "9折券",
            "全单 9 折，最高减 30 元，可与其他可叠加的券同用",
            "percent",
            0,
            10,
            Some(3000),
            None,
            0,
            true,
            14,
            None,
        ),
        (
            "免费加料券",
            "任意饮品免费加一份小料",
            "gift",
            0,
            0,
            None,
            Some("加料"),
            0,
            true,
            30,
            None,
        ),
        (
            "生日礼",
            "生日月专享：满 60 元立减 30 元",
            "amount",
            3000,
            0,
            None,
            None,
            6000,
            false,
            31,
            None,
        ),
        (
            "会员日券",
            "会员日当天满 50 元立减 8 元",
            "amount",
            800,
            0,
            None,
            None,
            5000,
            false,
            1,
            None,
        ),
        (
            "回归礼",
            "好久不见！满 40 元立减 15 元",
            "amount",
            1500,
            0,
            None,
            None,
            4000,
            false,
            30,
            None,
        ),
        (
            "满30减5",
            "积分商城兑换：满 30 元立减 5 元",
            "amount",
            500,
            0,
            None,
            None,
            3000,
            false,
            30,
            None,
        ),
    ]
}

/// A demo campaign: kind, name, (tier, birthday window, member day, lapse days, claim
/// token, cap) as its kind needs, and its pack as `(template name, quantity)`.
struct DevCampaign {
    kind: &'static str,
    name: &'static str,
    tier_code: Option<&'static str>,
    birthday_window: Option<&'static str>,
    member_day: Option<&'static str>,
    lapse_days: Option<i64>,
    claim_token: Option<&'static str>,
    total_cap: Option<i64>,
    pack: &'static [(&'static str, i64)],
}

fn dev_campaigns() -> Vec<DevCampaign> {
    let c = |kind, name, pack| DevCampaign {
        kind,
        name,
        tier_code: None,
        birthday_window: None,
        member_day: None,
        lapse_days: None,
        claim_token: None,
        total_cap: None,
        pack,
    };
    vec![
        c("signup", "新人礼包", &[("新人礼", 1), ("免费加料券", 1)]),
        DevCampaign {
            tier_code: Some("silver"),
            ..c("upgrade", "银卡升级礼", &[("满100减20", 1), ("9折券", 1)])
        },
        DevCampaign {
            tier_code: Some("gold"),
            ..c("upgrade", "金卡升级礼", &[("满100减20", 2), ("9折券", 1)])
        },
        DevCampaign {
            birthday_window: Some("month"),
            ..c("birthday", "生日月礼遇", &[("生日礼", 1)])
        },
        DevCampaign {
            member_day: Some("monthday:18"),
            ..c("member_day", "每月 18 日会员日", &[("会员日券", 1)])
        },
        DevCampaign {
            lapse_days: Some(90),
            ..c("winback", "回归礼", &[("回归礼", 1)])
        },
        DevCampaign {
            claim_token: Some(DEV_CLAIM_TOKEN),
            total_cap: Some(500),
            ..c("claim", "扫码领券", &[("满100减20", 1)])
        },
    ]
}

/// Demo coupons: templates, the campaigns that issue them (sign-up, upgrades, birthday,
/// member day, win-back, a claim link) and a mall item that issues one. Only into a
/// program without templates (a fresh database, or one from before coupons existed),
/// so whatever the brand has set up since is left alone and a restart adds nothing.
pub(super) async fn dev_coupons(db: &Db, now: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    // Instances starting together must not both seed (SQLite's write transaction
    // already excludes the other writer).
    if db.backend() == Backend::Postgres {
        sqlx::query("LOCK TABLE coupon_templates IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM coupon_templates")
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 {
        tx.commit().await?;
        return Ok(());
    }
    let mut ids: Vec<(&str, i64)> = Vec::new();
    for (name, description, kind, off, pct, cap, gift, min, stackable, days, per_member) in
        dev_templates()
    {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO coupon_templates (name, description, kind, amount_off_cents, \
                    percent_off, cap_cents, gift_name, min_spend_cents, stackable, valid_days, \
                    per_member_limit, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(name)
        .bind(description)
        .bind(kind)
        .bind(off)
        .bind(pct)
        .bind(cap)
        .bind(gift)
        .bind(min)
        .bind(i64::from(stackable))
        .bind(days)
        .bind(per_member)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        ids.push((name, id));
    }
    let id_of = |name: &str| {
        ids.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| *id)
            .ok_or(DbError::Corrupt("dev campaign names a missing template"))
    };
    let tier_codes: Vec<String> = sqlx::query_scalar("SELECT code FROM tiers")
        .fetch_all(&mut *tx)
        .await?;
    for c in dev_campaigns() {
        // Edited tiers may lack `silver` / `gold`: that upgrade gift is left out.
        if c.tier_code
            .is_some_and(|t| !tier_codes.iter().any(|code| code == t))
        {
            continue;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO campaigns (kind, name, tier_code, birthday_window, member_day, \
                    lapse_days, claim_token, total_cap, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'seed', $9) RETURNING id",
        )
        .bind(c.kind)
        .bind(c.name)
        .bind(c.tier_code)
        .bind(c.birthday_window)
        .bind(c.member_day)
        .bind(c.lapse_days)
        .bind(c.claim_token)
        .bind(c.total_cap)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for (template, quantity) in c.pack {
            sqlx::query(
                "INSERT INTO campaign_coupons (campaign_id, template_id, quantity) \
                 VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(id_of(template)?)
            .bind(*quantity)
            .execute(&mut *tx)
            .await?;
        }
    }
    let mut voucher = item(
        "满30减5券",
        "voucher",
        "优惠券",
        80,
        0,
        1000,
        None,
        None,
        "coupon",
        "兑换后券直接放入卡包：单笔满 30 元立减 5 元，30 天内有效",
        55,
    );
    voucher.coupon_template_id = Some(id_of("满30减5")?);
    mall::insert_if_missing(&mut tx, &voucher, now).await?;
    tx.commit().await?;
    Ok(())
}
