//! The `--dev` mall: goods for pickup and coupon items, with stock and limits to try.

use crate::mall::store::mall;

use crate::db::{Backend, Db, DbError};
use crate::mall::store::mall::ItemFields;

#[allow(clippy::too_many_arguments)]
pub(super) fn item(
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

pub(super) async fn dev_mall_items(db: &Db, now: i64) -> Result<(), DbError> {
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
