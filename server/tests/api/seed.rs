//! The `--dev` seed (the harness starts every server with it): running it again, or
//! from two instances at once, adds nothing; its coupon demo works end to end.

use member_server::ops::store::seed::{self, DEV_CLAIM_TOKEN};
use reqwest::StatusCode;

use crate::common::{json_ok, phone, TestApp};
use crate::mall::grant;

both_backends!(dev_seed_is_idempotent, dev_seed_coupons_work);

const COUNTS: [&str; 9] = [
    "SELECT COUNT(*) FROM coupon_templates",
    "SELECT COUNT(*) FROM campaigns",
    "SELECT COUNT(*) FROM campaign_coupons",
    "SELECT COUNT(*) FROM mall_items",
    "SELECT COUNT(*) FROM tiers",
    "SELECT COUNT(*) FROM stores",
    "SELECT COUNT(*) FROM staff_users",
    "SELECT COUNT(*) FROM coupons",
    "SELECT COUNT(*) FROM audit_log",
];

async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in COUNTS {
        out.push(app.db.scalar_i64(sql).await);
    }
    out
}

async fn dev_seed_is_idempotent(app: TestApp) {
    let first = counts(&app).await;
    assert_eq!(
        &first[..4],
        &[8, 7, 10, 12],
        "templates, campaigns, packs, items"
    );
    // Again, then twice at once from two "instances" (two connections).
    let a = member_server::db::Db::connect(&app.database_url)
        .await
        .expect("connect");
    let b = member_server::db::Db::connect(&app.database_url)
        .await
        .expect("connect");
    seed::dev(&a, app.now()).await.expect("seed again");
    assert_eq!(counts(&app).await, first);
    let (ra, rb) = tokio::join!(seed::dev(&a, app.now()), seed::dev(&b, app.now()));
    ra.expect("seed a");
    rb.expect("seed b");
    assert_eq!(counts(&app).await, first);
    a.close().await;
    b.close().await;
}

async fn dev_seed_coupons_work(app: TestApp) {
    // Sign-up: the welcome pack.
    let m = app.sign_up(&phone(80), "新会员").await;
    let names = |sql: String| {
        let app = app.clone();
        async move {
            let n = app
                .db
                .scalar_i64(&format!("SELECT COUNT(*) FROM ({sql}) x"))
                .await;
            n
        }
    };
    let member_id = app
        .db
        .scalar_i64(&format!(
            "SELECT id FROM members WHERE member_no = '{}'",
            m.me.member_no
        ))
        .await;
    let of = |name: &str| {
        format!(
            "SELECT c.id FROM coupons c JOIN coupon_templates t ON t.id = c.template_id \
             WHERE c.member_id = {member_id} AND c.source = 'signup' AND t.name = '{name}'"
        )
    };
    assert_eq!(names(of("新人礼")).await, 1);
    assert_eq!(names(of("免费加料券")).await, 1);
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM coupons WHERE member_id = {member_id}"
            ))
            .await,
        2
    );

    // The claim link with its fixed token, capped at 500.
    let v = json_ok(
        app.client()
            .get(&format!("/api/v1/claims/{DEV_CLAIM_TOKEN}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["open"], true, "{v}");
    assert_eq!(v["remaining"], 500, "{v}");
    assert!(
        DEV_CLAIM_TOKEN.len() == 16
            && DEV_CLAIM_TOKEN
                .chars()
                .all(|c| "23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(c)),
        "the token fits the claim token format"
    );

    // The campaigns the demo promises, each with its pack.
    for (kind, extra) in [
        ("signup", "1 = 1"),
        ("upgrade", "tier_code = 'silver'"),
        ("upgrade", "tier_code = 'gold'"),
        ("birthday", "birthday_window = 'month'"),
        ("member_day", "member_day = 'monthday:18'"),
        ("winback", "lapse_days = 90"),
        ("claim", "total_cap = 500"),
    ] {
        assert_eq!(
            app.db
                .scalar_i64(&format!(
                    "SELECT COUNT(*) FROM campaigns c WHERE kind = '{kind}' AND {extra} \
                     AND active = 1 AND EXISTS (SELECT 1 FROM campaign_coupons p \
                                                WHERE p.campaign_id = c.id)"
                ))
                .await,
            1,
            "{kind} {extra}"
        );
    }

    // The mall's coupon item puts a 满30减5 in the wallet.
    let item = app
        .db
        .scalar_i64(
            "SELECT i.id FROM mall_items i JOIN coupon_templates t ON t.id = i.coupon_template_id \
             WHERE i.name = '满30减5券' AND t.name = '满30减5' AND i.points_price = 80",
        )
        .await;
    grant(&app, &m, 100).await;
    let r = crate::mall::redeemed(&m.client, item, 1).await;
    assert_eq!(r.status, "collected");
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM coupons c JOIN coupon_templates t ON t.id = c.template_id \
                 WHERE c.source_ref = '{}' AND t.name = '满30减5'",
                r.order_code
            ))
            .await,
        1
    );
}
