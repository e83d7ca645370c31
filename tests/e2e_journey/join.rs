//! Joining and growing: the tier screens after an upgrade, and a poster scan that signs
//! up with its welcome gift.

use crate::*;

/// The tier screens: an upgrade puts a keep line on the card and a message in the inbox
/// (the bell's count), the benefits page highlights the member's tier, a check-in adds
/// growth, and the growth history shows both.
pub(crate) async fn tier_journey(base: &str, member: &Client) -> Res {
    sign_up(base, member, "13900002222", "韩梅梅").await?;
    find(member, "#card-qr svg").await?;
    if find(member, "#keep-line").await?.is_displayed().await? {
        return Err("a new member has a keep line".into());
    }

    // The cashier records 600 yuan (through the API, with the code the card shows).
    let till = reqwest::Client::builder().cookie_store(true).build()?;
    till.post(format!("{base}/api/v1/staff/login"))
        .json(&serde_json::json!({ "username": "cashier", "password": "cashier-dev-pass" }))
        .send()
        .await?
        .error_for_status()?;
    let code = digits(&find(member, "#card-code").await?.text().await?);
    let result: serde_json::Value = till
        .post(format!("{base}/api/v1/staff/purchases"))
        .header("Idempotency-Key", "e2e-tier-upgrade")
        .json(&serde_json::json!({ "code": code, "amount_cents": 60_000, "order_ref": "E2E-T1" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    if result["tier"]["code"] != "silver" {
        return Err(format!("600 yuan should upgrade to silver: {result}").into());
    }

    // The card: keep line and one unread message.
    member.refresh().await?;
    let keep = wait_text(member, "#keep-line", |t| t.contains("已升级为")).await?;
    if !(keep.contains("银卡") && keep.contains("500")) {
        return Err(format!("keep line says {keep:?}").into());
    }
    wait_text(member, "#inbox-unread", |t| t == "1").await?;
    screenshot(member, "card-keep.png").await?;

    // The inbox says why; opening it reads it.
    find(member, "#inbox-link").await?.click().await?;
    wait_text(member, "#inbox-list", |t| t.contains("恭喜升级为银卡")).await?;
    screenshot(member, "inbox.png").await?;
    member.goto(&format!("{base}/")).await?;
    find(member, "#card-qr svg").await?;
    let deadline = Instant::now() + WAIT;
    while find(member, "#inbox-unread").await?.is_displayed().await? {
        if Instant::now() > deadline {
            return Err("the bell still counts a read message".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Benefits side by side, the member's tier highlighted; a check-in.
    find(member, "#tiers-link").await?.click().await?;
    wait_text(member, "#tier-cols .tier-col.current", |t| {
        t.contains("银卡")
    })
    .await?;
    let cols = member
        .find_all(Locator::Css("#tier-cols .tier-col"))
        .await?;
    if cols.len() != 4 {
        return Err(format!("{} tiers compared, not 4", cols.len()).into());
    }
    wait_text(member, "#tier-cols", |t| {
        t.contains("95折") && t.contains("生日月 2 倍积分")
    })
    .await?;
    wait_text(member, "#tier-keep", |t| t.contains("500")).await?;
    find(member, "#check-in").await?.click().await?;
    wait_text(member, "#check-in-result", |t| t.contains("+1")).await?;
    wait_text(member, "#tier-growth", |t| t.contains("601")).await?;
    screenshot(member, "tiers.png").await?;

    // The growth history: the check-in and the purchase.
    find(member, "#growth-link").await?.click().await?;
    let list = wait_text(member, "#growth-list", |t| t.contains("每日签到")).await?;
    // The purchase reads as one; its order reference is for staff, not the member.
    if !(list.contains("+600") && list.contains("+1") && list.contains("消费"))
        || list.contains("E2E-T1")
    {
        return Err(format!("growth history says {list:?}").into());
    }
    screenshot(member, "growth.png").await?;
    Ok(())
}

/// In-store sign-up: the brand prints a poster code with a welcome gift for the flagship
/// store; a customer scans it, sees the store and the gift, joins with phone + code +
/// consent, lands on the card with the gift in the wallet, and the report counts the
/// store. Then the new member opens their own invite page.
pub(crate) async fn signup_journey(base: &str, member: &Client) -> Res {
    const GIFT: &str = "扫码立减10元";
    let admin = admin_client(base).await?;
    let template: serde_json::Value = admin
        .post(format!("{base}/api/v1/admin/coupon-templates"))
        .json(&serde_json::json!({
            "name": GIFT,
            "benefit": { "kind": "amount", "amount_off_cents": 1000 },
            "valid_days": 30,
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let campaign: serde_json::Value = admin
        .post(format!("{base}/api/v1/admin/campaigns"))
        .json(&serde_json::json!({
            "kind": "claim", "name": "门店海报新人礼",
            "coupons": [{ "template_id": template["id"], "quantity": 1 }],
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let link: serde_json::Value = admin
        .post(format!("{base}/api/v1/admin/signup-links"))
        .json(&serde_json::json!({
            "store_code": "S001", "channel": "poster", "campaign_id": campaign["id"],
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let path = link["path"].as_str().ok_or("link path")?;

    // The scan: the welcome page names the store and shows the gift.
    member.goto(&format!("{base}{path}")).await?;
    wait_text(member, "#join-store", |t| t.contains("旗舰店")).await?;
    wait_text(member, "#join-gift", |t| t.contains(GIFT)).await?;
    // The same page in English, then back.
    find(member, "#lang-toggle").await?.click().await?;
    wait_text(member, "#join-brand", |t| t.starts_with("Welcome to")).await?;
    wait_text(member, "#join-gift", |t| t.contains("Welcome gift")).await?;
    screenshot(member, "join-en.png").await?;
    find(member, "#lang-toggle").await?.click().await?;
    wait_text(member, "#join-brand", |t| t.starts_with("欢迎加入")).await?;
    let phone = "13900003333";
    find(member, "#join-phone").await?.send_keys(phone).await?;
    find(member, "#join-send-code").await?.click().await?;
    let otp = otp_from_outbox(base, phone).await?;
    find(member, "#join-otp").await?.send_keys(&otp).await?;
    find(member, "#join-name").await?.send_keys("李雷").await?;
    find(member, "#join-city").await?.send_keys("杭州").await?;
    find(member, "#join-privacy").await?.click().await?;
    screenshot(member, "join.png").await?;
    find(member, "#join-submit").await?.click().await?;

    // The card, with the gift in the wallet.
    find(member, "#card-qr svg").await?;
    find(member, "#coupons-link").await?.click().await?;
    wait_text(member, "#coupon-list", |t| t.contains(GIFT)).await?;

    // The report counts the sign-up for the store.
    let report: serde_json::Value = admin
        .get(format!("{base}/api/v1/admin/reports/signups?by=store"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let s001 = report["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["key"] == "S001"))
        .ok_or_else(|| format!("no S001 row in {report}"))?;
    if s001["signups"] != 1 {
        return Err(format!("S001 should count one sign-up: {report}").into());
    }

    // Scanning again as a member goes straight to the card.
    member.goto(&format!("{base}{path}")).await?;
    find(member, "#card-qr svg").await?;

    // The invite page: a code, a QR code, the reward.
    find(member, "#invite-link").await?.click().await?;
    let code = wait_text(member, "#invite-code", |t| t.len() == 8).await?;
    find(member, "#invite-qr svg").await?;
    wait_text(member, "#invite-reward", |t| t.contains("积分")).await?;
    screenshot(member, "invite.png").await?;
    find(member, "#lang-toggle").await?.click().await?;
    wait_text(member, "#invite-reward", |t| {
        t.contains("you get 200 points") && t.contains("your friend gets 100 points")
    })
    .await?;
    screenshot(member, "invite-en.png").await?;
    let friend_welcome: serde_json::Value =
        reqwest::get(format!("{base}/api/v1/signup/welcome?ref={code}"))
            .await?
            .error_for_status()?
            .json()
            .await?;
    if friend_welcome["referrer"] != "李*" {
        return Err(format!("a friend's welcome shows {friend_welcome}").into());
    }
    Ok(())
}
