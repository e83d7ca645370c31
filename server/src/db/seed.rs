//! Data every database needs (default tiers) and the `--dev` demo data.

use member_core::dto::{DowngradeRules, GrowthRules, TierBenefit, TierDef, TierProgram};
use member_core::tiers::TierRule;

use super::mall::{self, ItemFields};
use super::{staff, tier_program, tiers, Backend, Db, DbError};

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
    dev_mall_items(db, now).await?;
    dev_coupons(db, now).await?;
    dev_signup(db, now).await
}

/// Sign-up asks for birthday and city (both optional); a referral gives the inviter 200
/// points and the friend 100 after the friend's first purchase, five a day.
async fn dev_signup(db: &Db, now: i64) -> Result<(), DbError> {
    let mut s = super::signup_links::default_settings();
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

#[allow(clippy::too_many_arguments)]
fn item(
    name: &str,
    kind: &str,
    category: &str,
    points_price: i64,
    cash_cents: i64,
    stock: i64,
    per_member_limit: Option<i64>,
    min_tier_code: Option<&str>,
    image: &str,
    description: &str,
    sort: i64,
) -> ItemFields {
    ItemFields {
        name: name.into(),
        description: description.into(),
        category: category.into(),
        kind: kind.into(),
        image_url: Some(format!("/mall/img/{image}.svg")),
        points_price,
        cash_cents,
        stock,
        per_member_limit,
        min_tier_code: min_tier_code.map(Into::into),
        available_from: None,
        available_until: None,
        hidden: false,
        sort,
        coupon_template_id: None,
    }
}

/// Demo mall: cheap items (10–50 分) first so a new member finds something at once,
/// then dearer ones, a points + cash item, a 金卡-only item and a one-per-member item.
fn dev_items() -> Vec<ItemFields> {
    vec![
        item(
            "加料券",
            "voucher",
            "饮品券",
            10,
            0,
            5000,
            None,
            None,
            "topping",
            "任意饮品免费加一份小料（珍珠、椰果或奶盖）",
            10,
        ),
        item(
            "贴纸套装",
            "goods",
            "周边",
            20,
            0,
            1000,
            None,
            None,
            "stickers",
            "品牌插画贴纸一套 6 张，门店领取",
            20,
        ),
        item(
            "中杯咖啡券",
            "partner",
            "合作伙伴",
            30,
            0,
            2000,
            None,
            None,
            "coffee",
            "合作品牌「山角咖啡」任意中杯饮品一杯，全国门店可用",
            30,
        ),
        item(
            "满50减5券",
            "voucher",
            "优惠券",
            40,
            0,
            3000,
            None,
            None,
            "coupon",
            "单笔消费满 50 元立减 5 元，兑换后 30 天内有效",
            40,
        ),
        item(
            "帆布袋",
            "goods",
            "周边",
            50,
            0,
            300,
            None,
            None,
            "tote",
            "加厚帆布托特包，门店领取",
            50,
        ),
        item(
            "限量联名马克杯",
            "goods",
            "周边",
            200,
            0,
            8,
            Some(1),
            None,
            "mug",
            "联名款陶瓷马克杯 350 ml，限量发售，每人限兑 1 个",
            60,
        ),
        item(
            "蓝牙耳机",
            "goods",
            "数码",
            300,
            1990,
            50,
            None,
            None,
            "earbuds",
            "300 分 + ¥19.90，领取时在门店支付现金部分",
            70,
        ),
        item(
            "电影票（2D 单人）",
            "partner",
            "合作伙伴",
            600,
            0,
            200,
            None,
            None,
            "movie",
            "合作影城 2D 电影单人票兑换码，节假日通用",
            80,
        ),
        item(
            "保温杯",
            "goods",
            "周边",
            800,
            0,
            120,
            None,
            None,
            "tumbler",
            "不锈钢保温杯 450 ml，门店领取",
            90,
        ),
        item(
            "手冲咖啡礼盒",
            "goods",
            "会员专享",
            1200,
            0,
            30,
            None,
            Some("gold"),
            "giftbox",
            "金卡及以上会员专享：精品咖啡豆 2 袋 + 滤杯套装",
            100,
        ),
        item(
            "年度会员礼包",
            "goods",
            "会员专享",
            2000,
            0,
            20,
            None,
            None,
            "gift",
            "年度限定礼包：保温杯、帆布袋与三张饮品券",
            110,
        ),
    ]
}

async fn dev_mall_items(db: &Db, now: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    // Instances starting together must not both insert the items (SQLite's write
    // transaction already excludes the other writer).
    if db.backend() == Backend::Postgres {
        sqlx::query("LOCK TABLE mall_items IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    // Only into an empty mall: items the brand has renamed or hidden stay as they are.
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mall_items")
        .fetch_one(&mut *tx)
        .await?;
    if existing == 0 {
        let tier_codes: Vec<String> = sqlx::query_scalar("SELECT code FROM tiers")
            .fetch_all(&mut *tx)
            .await?;
        for mut fields in dev_items() {
            // A program whose tiers were edited may have no `gold`: the item is then open
            // to all rather than stopping the start on the foreign key.
            if fields
                .min_tier_code
                .as_ref()
                .is_some_and(|c| !tier_codes.contains(c))
            {
                fields.min_tier_code = None;
            }
            mall::insert_if_missing(&mut tx, &fields, now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

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
async fn dev_coupons(db: &Db, now: i64) -> Result<(), DbError> {
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
