//! Coupons that an upgrade gives (its pack once), and the same-day refund that gives the
//! used coupons back.

use member_core::dto::PurchaseResult;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{idem, json_ok, phone, TestApp};
use crate::ledger::{manager, refund};
use crate::wallet::{
    buy_with, coupon_status, give, ids, quiet_campaigns, template, wallet, Tpl, DAY,
};

use crate::checkout::*;

both_backends!(upgrade_gift_pack_once, same_day_refund_restores_coupons,);

/// An upgrade campaign for `tier` giving `quantity` of a new template named `name`.
async fn upgrade_campaign(app: &TestApp, tier: &str, name: &str, quantity: i64) -> i64 {
    let t = template(
        app,
        &Tpl {
            name,
            off: 500,
            ..Tpl::default()
        },
    )
    .await;
    let campaign = app
        .db
        .scalar_i64(&format!(
            "INSERT INTO campaigns (kind, name, active, tier_code, created_by, created_at) \
             VALUES ('upgrade', '{name}', 1, '{tier}', 'test', 0) RETURNING id"
        ))
        .await;
    app.db
        .execute(&format!(
            "INSERT INTO campaign_coupons (campaign_id, template_id, quantity) \
             VALUES ({campaign}, {t}, {quantity})"
        ))
        .await;
    campaign
}

async fn upgrade_gift_pack_once(app: TestApp) {
    quiet_campaigns(&app).await;
    upgrade_campaign(&app, "silver", "银卡升级礼", 2).await;
    upgrade_campaign(&app, "gold", "金卡升级礼", 1).await;
    let m = app.sign_up(&phone(9), "郑一").await;
    let till = app.staff_login().await;
    let [c1, c2, _] = m.three_codes().await;
    let key = idem();
    let first = json_ok(
        buy_with(&till, &c1, 60_000, "U-1", &key, &[]).await,
        StatusCode::OK,
    )
    .await;
    let r: PurchaseResult = serde_json::from_value(first.clone()).unwrap();
    assert!(r.upgraded);
    assert_eq!(r.tier.code, "silver");
    assert_eq!(r.gift_pack, ["银卡升级礼", "银卡升级礼"]);
    // The replay answers the same pack and issues nothing more.
    let again = json_ok(
        buy_with(&till, &c1, 60_000, "U-1", &key, &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again, first);
    let w = wallet(&m.client, "?status=usable").await;
    assert_eq!(w.len(), 2);
    assert!(w
        .iter()
        .all(|c| c.source == "upgrade" && c.name == "银卡升级礼"));
    assert_eq!(m.me().await.coupons_new, 2);
    // A purchase without an upgrade gets no pack.
    let r = purchased(buy_with(&till, &c2, 1_000, "U-2", &idem(), &[]).await).await;
    assert!(!r.upgraded);
    assert!(r.gift_pack.is_empty());

    // Straight from normal to gold: both tiers' packs, once each.
    let n = app.sign_up(&phone(10), "王二").await;
    let code = n.card_code().await;
    let r = purchased(buy_with(&till, &code, 250_000, "U-3", &idem(), &[]).await).await;
    assert_eq!(r.tier.code, "gold");
    let mut pack = r.gift_pack.clone();
    pack.sort();
    assert_eq!(pack, ["金卡升级礼", "银卡升级礼", "银卡升级礼"]);
    assert_eq!(wallet(&n.client, "").await.len(), 3);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM campaign_grants").await,
        3,
        "silver for both members, gold for the second"
    );
    // The pack coupons work in the next purchase.
    let pack_coupon = wallet(&n.client, "?status=usable").await[0].id;
    app.advance_clock(60);
    let code = n.card_code().await;
    let r = purchased(buy_with(&till, &code, 1_000, "U-4", &idem(), &[pack_coupon]).await).await;
    assert_eq!(r.discount_cents, 500);
}

async fn same_day_refund_restores_coupons(app: TestApp) {
    quiet_campaigns(&app).await;
    let m = app.sign_up(&phone(11), "冯二").await;
    let no = m.me.member_no.clone();
    let t = template(
        &app,
        &Tpl {
            name: "立减10元",
            off: 1000,
            stackable: true,
            ..Tpl::default()
        },
    )
    .await;
    let g = template(
        &app,
        &Tpl {
            name: "加料券",
            kind: "gift",
            off: 0,
            gift: Some("加料"),
            stackable: true,
            ..Tpl::default()
        },
    )
    .await;
    let c = give(&app, &no, t, 1).await[0];
    let gift = give(&app, &no, g, 1).await[0];
    let expires = count(
        &app,
        &format!("SELECT expires_at FROM coupons WHERE id = {c}"),
    )
    .await;
    let till = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    let [c1, c2, _] = m.three_codes().await;
    purchased(buy_with(&till, &c1, 5_000, "D-1", &idem(), &[c, gift]).await).await;
    assert_eq!(m.me().await.coupons_usable, 0);

    // Undone the same day: both coupons go back, as they were.
    let key = idem();
    let r = json_ok(refund(&boss, "D-1", "顾客退货", &key).await, StatusCode::OK).await;
    assert_eq!(r["coupons_restored"], 2, "{r}");
    assert_eq!(r["points_clawed_back"], 40, "{r}");
    let again = json_ok(refund(&boss, "D-1", "顾客退货", &key).await, StatusCode::OK).await;
    assert_eq!(again, r);
    for id in [c, gift] {
        assert_eq!(
            count(
                &app,
                &format!(
                    "SELECT COUNT(*) FROM coupons WHERE id = {id} AND status = 'issued' \
                     AND used_at IS NULL AND used_purchase_id IS NULL AND used_store_id IS NULL \
                     AND discount_cents IS NULL"
                )
            )
            .await,
            1
        );
    }
    assert_eq!(
        count(
            &app,
            &format!("SELECT expires_at FROM coupons WHERE id = {c}")
        )
        .await,
        expires
    );
    let usable = wallet(&m.client, "?status=usable").await;
    assert_eq!(ids(&usable).len(), 2);
    assert_eq!(m.me().await.coupons_usable, 2);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'purchase.refund' \
             AND detail LIKE '%coupons_restored=2%'"
        )
        .await,
        1
    );
    // Usable again in a new purchase.
    let r = purchased(buy_with(&till, &c2, 5_000, "D-2", &idem(), &[c]).await).await;
    assert_eq!(r.discount_cents, 1000);

    // Refunded the next day: the coupon stays used.
    app.advance_clock(DAY);
    let boss = manager(&app, "S001").await;
    let r = json_ok(
        refund(&boss, "D-2", "顾客退货", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["coupons_restored"], 0, "{r}");
    assert_eq!(coupon_status(&app, c).await, "used");
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM coupons WHERE id = {c} AND used_purchase_id = \
                 (SELECT id FROM purchases WHERE order_ref = 'D-2')"
            )
        )
        .await,
        1
    );
    // A purchase without coupons refunds with nothing to restore.
    let till = app.staff_login().await;
    let code = m.card_code().await;
    purchased(buy_with(&till, &code, 1_000, "D-3", &idem(), &[]).await).await;
    let r: Value = json_ok(refund(&boss, "D-3", "x", &idem()).await, StatusCode::OK).await;
    assert_eq!(r["coupons_restored"], 0);
}
