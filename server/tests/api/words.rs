//! What the member reads, as facts the app words in the member's language: the points
//! history's events (no order references anywhere a member looks), the SMS in the
//! member's language, the sign-up documents, a voucher order that says where it went,
//! and the keep line that knows a tier was just won.

use member_core::dto::{LedgerItem, MallOrder, OutboxMessage, PointsHistory};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, idem, json_ok, phone, TestApp};
use crate::ledger::{adjust, buy, manager, refund};
use crate::mall::{grant, new_item, redeemed};
use crate::tier_job::{job, sign_in};
use crate::wallet::{buy_with, give, quiet_campaigns, template, Tpl};

both_backends!(
    history_gives_facts_and_no_order_refs,
    otp_sms_in_the_members_language,
    sign_up_documents_are_served_in_both_languages,
    voucher_orders_say_they_went_to_the_wallet,
    keep_line_knows_a_tier_was_just_won,
);

const REF: &str = "POS-20261207052007-377fe4";

fn event_of<'a>(items: &'a [LedgerItem], kind: &str) -> &'a member_core::dto::LedgerEvent {
    items
        .iter()
        .filter_map(|i| i.event.as_ref())
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {items:?}"))
}

async fn history_gives_facts_and_no_order_refs(app: TestApp) {
    quiet_campaigns(&app).await;
    let m = app.sign_up(&phone(1), "韩梅梅").await;
    let no = m.me.member_no.clone();
    let till = app.staff_login().await;
    let tpl = template(&app, &Tpl::default()).await;
    let coupon = give(&app, &no, tpl, 1).await;
    let [code, ..] = m.three_codes().await;
    json_ok(
        buy_with(&till, &code, 10_000, REF, &idem(), &coupon).await,
        StatusCode::OK,
    )
    .await;
    buy(&app, &till, &m, 5_000, "POS-RETURN-42").await;
    let mgr = manager(&app, "S001").await;
    json_ok(
        refund(&mgr, "POS-RETURN-42", "尺码不合适", &idem()).await,
        StatusCode::OK,
    )
    .await;
    let admin = app.admin_login().await;
    json_ok(
        adjust(&admin, &no, 50, "补偿", &idem()).await,
        StatusCode::OK,
    )
    .await;
    grant(&app, &m, 100).await;
    let admin = app.admin_login().await;
    let item = new_item(&admin, "帆布袋", 30, 10, json!({})).await;
    redeemed(&m.client, item, 2).await;

    let raw = m.points_history().await;
    let text = raw.to_string();
    assert!(
        !text.contains(REF),
        "an order ref reached the member: {text}"
    );
    assert!(
        !text.contains("POS-RETURN-42"),
        "an order ref reached the member: {text}"
    );
    let page: PointsHistory = serde_json::from_value(raw).unwrap();

    let purchase = page
        .items
        .iter()
        .filter_map(|i| i.event.as_ref())
        .filter(|e| e.kind == "purchase")
        .find(|e| e.discount_cents.is_some())
        .expect("the purchase with a coupon");
    assert_eq!(purchase.store.as_deref(), Some("旗舰店"));
    assert_eq!(purchase.amount_cents, Some(9_000));
    assert_eq!(purchase.discount_cents, Some(1_000));
    let plain = page
        .items
        .iter()
        .filter_map(|i| i.event.as_ref())
        .filter(|e| e.kind == "purchase")
        .find(|e| e.amount_cents == Some(5_000))
        .expect("the purchase without coupons");
    assert_eq!(plain.discount_cents, None);
    let redeem = event_of(&page.items, "redeem");
    assert_eq!(
        (redeem.item.as_deref(), redeem.quantity),
        (Some("帆布袋"), Some(2))
    );
    assert_eq!(
        event_of(&page.items, "adjust").note.as_deref(),
        Some("补偿")
    );
    assert_eq!(
        event_of(&page.items, "refund").note.as_deref(),
        Some("尺码不合适")
    );
    // A row without facts (as written before they were recorded) still reads.
    let old = page
        .items
        .iter()
        .find(|i| i.reason == "测试赠送")
        .expect("the row without facts");
    assert_eq!((old.kind.as_str(), old.event.is_none()), ("adjust", true));
    // The audit text stays as it was written.
    let reason: String = match &app.db {
        crate::common::Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT reason FROM points_ledger WHERE kind = 'refund'")
                .fetch_one(p)
                .await
        }
        crate::common::Db::Pg(p) => {
            sqlx::query_scalar("SELECT reason FROM points_ledger WHERE kind = 'refund'")
                .fetch_one(p)
                .await
        }
    }
    .unwrap();
    assert!(reason.contains("POS-RETURN-42"), "{reason}");

    let growth = json_ok(m.client.get("/api/v1/me/growth").await, StatusCode::OK).await;
    let growth = growth.to_string();
    assert!(
        !growth.contains(REF) && !growth.contains("POS-RETURN-42"),
        "{growth}"
    );
}

async fn outbox_text(app: &TestApp, phone_no: &str) -> String {
    let msgs: Vec<OutboxMessage> = app
        .client()
        .get("/api/v1/dev/outbox")
        .await
        .json()
        .await
        .unwrap();
    let to = format!("+86{phone_no}");
    msgs.iter()
        .rev()
        .find(|m| m.to == to)
        .map(|m| m.text.clone())
        .unwrap_or_else(|| panic!("no message to {to}"))
}

async fn otp_sms_in_the_members_language(app: TestApp) {
    let c = app.client();
    let (en, zh, none) = (phone(11), phone(12), phone(13));
    let sent = |p: String, lang: Value| {
        let c = c.clone();
        async move {
            let mut body = json!({ "phone": p });
            if !lang.is_null() {
                body["lang"] = lang;
            }
            c.post("/api/v1/auth/otp", &body).await
        }
    };
    assert_eq!(
        sent(en.clone(), json!("en")).await.status(),
        StatusCode::ACCEPTED
    );
    let text = outbox_text(&app, &en).await;
    let code = app.otp_for(&en).await;
    assert!(text.starts_with("[Member Center] Your code is"), "{text}");
    assert!(text.contains(&code));
    assert!(
        !text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{text}"
    );

    assert_eq!(
        sent(zh.clone(), json!("zh-CN")).await.status(),
        StatusCode::ACCEPTED
    );
    assert!(outbox_text(&app, &zh)
        .await
        .starts_with("【会员中心】验证码"));
    assert_eq!(
        sent(none.clone(), Value::Null).await.status(),
        StatusCode::ACCEPTED
    );
    assert!(outbox_text(&app, &none)
        .await
        .starts_with("【会员中心】验证码"));

    assert_error(
        sent(phone(14), json!("fr")).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
}

async fn sign_up_documents_are_served_in_both_languages(app: TestApp) {
    let c = app.client();
    for (path, zh, en) in [
        ("/privacy", "隐私政策", "Privacy Policy"),
        ("/terms", "会员章程", "Membership Terms"),
    ] {
        for (query, title, lang) in [("", zh, "zh-CN"), ("?lang=en", en, "en")] {
            let resp = c.get(&format!("{path}{query}")).await;
            assert_eq!(resp.status(), StatusCode::OK, "{path}{query}");
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            assert!(ct.starts_with("text/html"), "{path}{query}: {ct}");
            let body = resp.text().await.unwrap();
            assert!(body.contains(&format!("<html lang=\"{lang}\">")), "{body}");
            assert!(body.contains(&format!("<h1>{title}</h1>")), "{body}");
        }
    }
}

async fn voucher_orders_say_they_went_to_the_wallet(app: TestApp) {
    let admin = app.admin_login().await;
    let tpl = template(&app, &Tpl::default()).await;
    let voucher = new_item(
        &admin,
        "满10减1券",
        10,
        10,
        json!({ "kind": "voucher", "coupon_template_id": tpl }),
    )
    .await;
    let goods = new_item(&admin, "贴纸", 10, 10, json!({})).await;
    let m = app.sign_up(&phone(21), "李雷").await;
    grant(&app, &m, 100).await;

    let v = redeemed(&m.client, voucher, 1).await;
    assert_eq!(
        (v.status.as_str(), v.delivery.as_str()),
        ("collected", "wallet")
    );
    let g = redeemed(&m.client, goods, 1).await;
    assert_eq!(
        (g.status.as_str(), g.delivery.as_str()),
        ("pending", "store")
    );
    let order = |code: String| {
        let c = m.client.clone();
        async move {
            let v = json_ok(
                c.get(&format!("/api/v1/me/mall/orders/{code}")).await,
                StatusCode::OK,
            )
            .await;
            serde_json::from_value::<MallOrder>(v).unwrap()
        }
    };
    let vo = order(v.order_code).await;
    assert_eq!(vo.delivery, "wallet");
    assert_eq!(vo.collected_store_name, None);
    assert_eq!(order(g.order_code).await.delivery, "store");
}

async fn keep_line_knows_a_tier_was_just_won(app: TestApp) {
    let till = app.staff_login().await;
    let m = app.sign_up(&phone(31), "升级").await;
    buy(&app, &till, &m, 60_000, "K-1").await;
    let keep = m.me().await.keep.expect("keep line after the upgrade");
    assert_eq!(keep.tier.code, "silver");
    assert!(keep.upgraded, "the period began with the upgrade");
    // Growth within the period keeps silver; the evaluation at its end starts a new one.
    buy(&app, &till, &m, 50_000, "K-2").await;
    assert!(m.me().await.keep.unwrap().upgraded);
    app.advance_clock(400 * 86_400);
    sign_in(&app, &m).await;
    job(&app, app.now()).await;
    let keep = m.me().await.keep.expect("keep line in the next period");
    assert_eq!(keep.tier.code, "silver");
    assert!(!keep.upgraded, "a kept tier was not just won");
}
