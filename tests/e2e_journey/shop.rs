//! The member's shopping journeys: the points mall, a welcome coupon used at the till, a
//! claim link claimed once.

use crate::*;

/// The points mall, with the member's 600 points from the purchase above.
pub(crate) async fn mall_journey(base: &str, member: &Client, staff: &Client) -> Res {
    const BALANCE: i64 = 600;

    // --- the member opens the mall from the card ----------------------------------------
    member.goto(&format!("{base}/")).await?;
    find(member, "#mall-link").await?.click().await?;
    find(member, "#mall-list .mall-item").await?;
    wait_text(member, "#mall-points", |t| t == BALANCE.to_string()).await?;

    // Low-threshold items exist, and the quick filter shows only them.
    find(member, "#chip-low").await?.click().await?;
    let low = wait_prices(member, |p| !p.is_empty() && p.iter().all(|p| *p <= 50)).await?;
    eprintln!("low-threshold items: {low:?}");
    find(member, "#chip-all").await?.click().await?;
    let all = wait_prices(member, |p| p.len() > low.len()).await?;
    // "I can afford" leaves out what 600 points cannot buy.
    find(member, "#affordable-toggle").await?.click().await?;
    wait_prices(member, |p| !p.is_empty() && p.iter().all(|p| *p <= BALANCE)).await?;
    find(member, "#affordable-toggle").await?.click().await?;
    wait_prices(member, |p| p.len() == all.len()).await?;
    screenshot(member, "mall.png").await?;

    // --- redeem a low-threshold item (the 30-point coffee voucher if there is one) -------
    let open = "#mall-list .mall-item:not(.locked):not(.sold-out):not(.unavailable)";
    let mut pick = None;
    for el in member.find_all(Locator::Css(open)).await? {
        let price: i64 = el.attr("data-points").await?.unwrap_or_default().parse()?;
        if price <= 50 && pick.as_ref().is_none_or(|(p, _)| *p != 30) {
            pick = Some((price, el));
        }
    }
    let (price, item) = pick.ok_or("no redeemable item at 50 points or less")?;
    item.find(Locator::Css(".mall-item-link"))
        .await?
        .click()
        .await?;
    wait_text(member, "#item-name", |t| !t.is_empty()).await?;
    find(member, "#redeem").await?.click().await?;
    wait_text(member, "#confirm-text", |t| {
        t.contains(&format!("{price} 积分"))
    })
    .await?;
    screenshot(member, "mall-confirm.png").await?;
    let confirm = find(member, "#confirm-redeem").await?;
    confirm.click().await?;
    // A double tap must not redeem twice: the button is disabled while the first runs
    // (and the Idempotency-Key would make a resend one redemption anyway).
    let _ = confirm.click().await;
    let shown = wait_text(member, "#order-code", |t| normalize_order_code(t).is_some()).await?;
    let code = normalize_order_code(&shown).ok_or("order code")?;
    wait_text(member, "#order-status", |t| t == "待领取").await?;
    wait_text(member, "#redeem-success", |t| t.contains("兑换成功")).await?;
    find(member, "#order-qr svg").await?;
    screenshot(member, "mall-order.png").await?;

    // --- the staff scan the order code at the checkout (scanner gun: code + Enter) -------
    staff.goto(&format!("{base}/staff/")).await?;
    scan(staff, &code).await?;
    wait_text(staff, "#order-member", |t| t.contains(NAME)).await?;
    wait_text(staff, "#order-status", |t| t == "待领取").await?;
    wait_text(staff, "#order-points", |t| t == price.to_string()).await?;
    screenshot(staff, "staff-order.png").await?;
    find(staff, "#collect-order").await?.click().await?;
    wait_text(staff, "#order-status", |t| t == "已领取").await?;
    wait_visible(staff, "#order-notice", WAIT).await?;
    // Typed by hand, in lower case with the space it is shown with: the same order, and
    // it cannot be handed over twice.
    let input = find(staff, "#order-lookup-input").await?;
    input.clear().await?;
    let typed = format_order_code(&code).to_lowercase();
    input.send_keys(&format!("{typed}{ENTER}")).await?;
    wait_text(staff, "#order-status", |t| t == "已领取").await?;
    if find(staff, "#collect-order").await?.is_displayed().await? {
        return Err("a collected order still offers to be collected".into());
    }

    // --- the member sees it collected, and the points spent ------------------------------
    member.goto(&format!("{base}/mall/orders")).await?;
    wait_text(member, "#order-list .order-row .status", |t| t == "已领取").await?;
    // A direct load of the order page (server fallback to the mall's index.html).
    member.goto(&format!("{base}/mall/orders/{code}")).await?;
    wait_text(member, "#order-status", |t| t == "已领取").await?;
    member.goto(&format!("{base}/")).await?;
    let left = (BALANCE - price).to_string();
    wait_text(member, "#points", |t| t == left).await?;
    member.goto(&format!("{base}/points")).await?;
    let spent = format!("-{price}");
    wait_text(member, ".ledger", |t| {
        t.contains("积分兑换") && t.contains(&spent)
    })
    .await?;
    Ok(())
}

/// The brand's welcome coupon for this journey: ¥10 off from ¥50, through a signup
/// campaign (the dev seed's own welcome gifts come too).
pub(crate) const WELCOME: &str = "E2E 满50减10";

pub(crate) async fn coupon_journey(base: &str, member: &Client, staff: &Client) -> Res {
    const PHONE: &str = "13900001111";
    const NAME: &str = "李雷";

    // --- the brand sets up a welcome coupon -------------------------------------------
    let admin = admin_client(base).await?;
    let template: serde_json::Value = admin
        .post(format!("{base}/api/v1/admin/coupon-templates"))
        .json(&serde_json::json!({
            "name": WELCOME,
            "description": "新会员首单立减",
            "benefit": { "kind": "amount", "amount_off_cents": 1000 },
            "min_spend_cents": 5000,
            "valid_days": 30,
            "per_member_limit": 1,
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let template_id = template["id"].as_i64().ok_or("template id")?;
    admin
        .post(format!("{base}/api/v1/admin/campaigns"))
        .json(&serde_json::json!({
            "kind": "signup",
            "name": "E2E 新人礼",
            "coupons": [{ "template_id": template_id, "quantity": 1 }],
        }))
        .send()
        .await?
        .error_for_status()?;

    // --- a new member signs up and finds it on the card ---------------------------------
    sign_up(base, member, PHONE, NAME).await?;
    find(member, "#card-qr svg").await?;
    wait_text(member, "#coupons-count", |t| {
        t.parse::<i64>().is_ok_and(|n| n >= 1)
    })
    .await?;
    wait_visible(member, "#coupons-link", WAIT).await?;
    if !find(member, "#coupons-new").await?.is_displayed().await? {
        return Err("the card shows no red dot for the new coupons".into());
    }

    // --- the wallet ---------------------------------------------------------------------
    find(member, "#coupons-link").await?.click().await?;
    let row = "#coupon-list .coupon[data-status=\"usable\"]";
    wait_text(member, "#coupon-list", |t| t.contains(WELCOME)).await?;
    let mut welcome = None;
    for el in member.find_all(Locator::Css(row)).await? {
        if el.text().await?.contains(WELCOME) {
            welcome = Some(el);
        }
    }
    let welcome = welcome.ok_or("the welcome coupon is not on the usable tab")?;
    let coupon_id = welcome.attr("data-coupon-id").await?.ok_or("coupon id")?;
    let text = welcome.text().await?;
    for shown in ["¥10", "满50可用", "有效期至", "新"] {
        if !text.contains(shown) {
            return Err(format!("the wallet's coupon says {text:?}, without {shown:?}").into());
        }
    }
    wait_text(member, "#tab-usable", |t| t.contains("可用")).await?;
    screenshot(member, "wallet.png").await?;

    // Its detail: the rules and the code, as text and QR, for the cashier.
    welcome
        .find(Locator::Css(".coupon-link"))
        .await?
        .click()
        .await?;
    wait_text(member, "#coupon-rules", |t| {
        t.contains("满50可用") && t.contains("新人礼")
    })
    .await?;
    find(member, "#coupon-qr svg").await?;
    let shown = wait_text(member, "#coupon-code", |t| {
        member_core::coupons::normalize_code(t).is_some()
    })
    .await?;
    let coupon_code = member_core::coupons::normalize_code(&shown).ok_or("coupon code")?;
    screenshot(member, "coupon.png").await?;

    // Seen in the wallet: the card's red dot is gone.
    member.goto(&format!("{base}/")).await?;
    find(member, "#card-qr svg").await?;
    let deadline = Instant::now() + WAIT;
    while find(member, "#coupons-new").await?.is_displayed().await? {
        if Instant::now() > deadline {
            return Err("the red dot stays after the wallet was opened".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // --- the cashier: the member's coupons, ticked by scanning the coupon's code --------
    staff.goto(&format!("{base}/staff/")).await?;
    type_staff_sign_in(staff, "cashier", "cashier-dev-pass").await?;
    let code = digits(&find(member, "#card-code").await?.text().await?);
    scan(staff, &code).await?;
    wait_text(staff, "#member-name", |t| t.contains(NAME)).await?;
    let amount = find(staff, "#amount").await?;
    amount.clear().await?;
    amount.send_keys("40").await?;
    let mine = format!("#coupon-list .checkout-coupon[data-coupon-id=\"{coupon_id}\"]");
    // ¥40 is below the coupon's ¥50 minimum: greyed with the reason.
    wait_text(staff, &mine, |t| t.contains("未满¥50")).await?;
    let amount = find(staff, "#amount").await?;
    amount.clear().await?;
    amount.send_keys("120").await?;
    wait_text(staff, "#basket-amount", |t| t == "¥120.00").await?;
    scan(staff, &coupon_code).await?;
    wait_text(staff, "#payable-amount", |t| t == "¥110.00").await?;
    wait_text(staff, "#discount-amount", |t| t == "-¥10.00").await?;
    let ticked = find(staff, &format!("{mine} .coupon-check")).await?;
    if ticked.prop("checked").await?.as_deref() != Some("true") {
        return Err("scanning the coupon code did not tick it".into());
    }
    // The member is still on screen (the coupon code did not replace them).
    wait_text(staff, "#member-name", |t| t.contains(NAME)).await?;
    // The coupons and the totals, rather than the scan box, in the picture.
    staff
        .execute(
            "document.getElementById('coupon-list').scrollIntoView({ block: 'start' });",
            vec![],
        )
        .await?;
    screenshot(staff, "staff-coupons.png").await?;
    find(staff, "#record-purchase").await?.click().await?;
    wait_text(staff, "#purchase-result", |t| t.contains("记账成功")).await?;
    wait_text(staff, "#result-discount", |t| t == "-¥10.00").await?;
    wait_text(staff, "#result-payable", |t| t == "¥110.00").await?;
    wait_text(staff, "#result-coupons", |t| t.contains(WELCOME)).await?;

    // --- the member's wallet: used, where and for how much ------------------------------
    member.goto(&format!("{base}/coupons/")).await?;
    wait_text(member, "#tab-used", |t| t.contains('1')).await?;
    find(member, "#tab-used").await?.click().await?;
    let used = format!("#coupon-list .coupon[data-coupon-id=\"{coupon_id}\"]");
    wait_text(member, &used, |t| {
        t.contains(WELCOME) && t.contains("优惠 ¥10")
    })
    .await?;
    let status = find(member, &used).await?.attr("data-status").await?;
    if status.as_deref() != Some("used") {
        return Err(format!("the used coupon's status is {status:?}").into());
    }
    member.goto(&format!("{base}/coupons/{coupon_id}")).await?;
    wait_text(member, "#coupon-status", |t| t == "已使用").await?;

    // --- the profile: a birthday, then locked for a year ---------------------------------
    member.goto(&format!("{base}/profile")).await?;
    wait_text(member, "#profile-phone", |t| t.contains("****")).await?;
    let name = find(member, "#profile-name").await?;
    if name.prop("value").await?.as_deref() != Some(NAME) {
        return Err("the profile does not show the member's name".into());
    }
    wait_text(member, "#birthday-note", |t| {
        t.contains("生日一年只能修改一次")
    })
    .await?;
    // Typed into a date input the way the browser's own field takes it (zh-CN: y-m-d).
    member
        .execute(
            "const i = document.getElementById('profile-birthday');\
             i.value = '1990-06-15';\
             i.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![],
        )
        .await?;
    find(member, "#profile-save").await?.click().await?;
    wait_visible(member, "#profile-saved", WAIT).await?;
    wait_text(member, "#birthday-note", |t| t.contains("后可再修改")).await?;
    let locked = find(member, "#profile-birthday").await?;
    if locked.prop("disabled").await?.as_deref() != Some("true") {
        return Err("the birthday can still be changed right after it was set".into());
    }
    screenshot(member, "profile.png").await?;

    claim_journey(base, &admin, member, staff).await
}

/// A claim link: a visitor (the staff's browser has no member session) sees the offer
/// and a sign-in that comes back here; the member claims it, once.
pub(crate) async fn claim_journey(
    base: &str,
    admin: &reqwest::Client,
    member: &Client,
    visitor: &Client,
) -> Res {
    const CLAIMED: &str = "E2E 9折券";
    let template: serde_json::Value = admin
        .post(format!("{base}/api/v1/admin/coupon-templates"))
        .json(&serde_json::json!({
            "name": CLAIMED,
            "benefit": { "kind": "percent", "percent_off": 10, "cap_cents": 3000 },
            "stackable": true,
            "valid_days": 14,
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let template_id = template["id"].as_i64().ok_or("template id")?;
    let campaign: serde_json::Value = admin
        .post(format!("{base}/api/v1/admin/campaigns"))
        .json(&serde_json::json!({
            "kind": "claim",
            "name": "E2E 扫码领券",
            "coupons": [{ "template_id": template_id, "quantity": 1 }],
            "total_cap": 100,
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let path = campaign["claim_path"]
        .as_str()
        .ok_or("the claim campaign has no claim_path")?
        .to_string();

    visitor.goto(&format!("{base}{path}")).await?;
    wait_text(visitor, "#claim-name", |t| t == "E2E 扫码领券").await?;
    wait_text(visitor, "#claim-coupons", |t| t.contains(CLAIMED)).await?;
    let login = find(visitor, "#claim-login").await?;
    let href = login.attr("href").await?.unwrap_or_default();
    if !href.starts_with("/login?next=") {
        return Err(format!("the sign-in link is {href:?}").into());
    }

    member.goto(&format!("{base}{path}")).await?;
    wait_text(member, "#claim-coupons", |t| t.contains("9折")).await?;
    find(member, "#claim-button").await?.click().await?;
    wait_text(member, "#claim-done", |t| t.contains("领取成功")).await?;
    // Once per member: the link now says so, and the wallet has the coupon.
    member.refresh().await?;
    wait_text(member, "#claim-done", |t| t.contains("已领取过")).await?;
    find(member, "#view-wallet").await?.click().await?;
    wait_text(member, "#coupon-list", |t| t.contains(CLAIMED)).await?;
    Ok(())
}

/// Waits until the listed items' prices (`data-points`) satisfy `ok`; returns them.
pub(crate) async fn wait_prices(c: &Client, ok: impl Fn(&[i64]) -> bool) -> Res<Vec<i64>> {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut prices = Vec::new();
        for el in c.find_all(Locator::Css("#mall-list .mall-item")).await? {
            if let Ok(Some(p)) = el.attr("data-points").await {
                prices.push(p.parse()?);
            }
        }
        if ok(&prices) {
            return Ok(prices);
        }
        if Instant::now() > deadline {
            return Err(format!("mall list prices {prices:?} never as expected").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
