//! The walk's second half at the till: the cashier hands over the mall order and finds a
//! member by phone; the store manager's screens (the 退款 tab, a refund from form to
//! result, taking back a handed-over order); the documents a member agrees to at sign-up.

use crate::*;

/// The member the walk signs up.
pub(crate) const PHONE: &str = "13900005555";
pub(crate) const NAME: &str = "韩梅梅";

pub(crate) async fn cashier_and_manager(
    base: &str,
    staff: &Client,
    check: &mut Checker,
    order_code: &str,
) -> Res {
    // The order scanned earlier, handed over now.
    find(staff, "#tab-checkout").await?.click().await?;
    scan(staff, order_code).await?;
    find(staff, "#collect-order").await?.click().await?;
    wait_text(staff, "#order-status", |t| t == "已领取").await?;
    check.both(staff, "staff mall order, handed over").await?;

    // A member without a phone to hand: found by number, shown masked.
    find(staff, "#tab-checkout").await?.click().await?;
    find(staff, "#find-member").await?.click().await?;
    find(staff, "#find-input").await?.send_keys(PHONE).await?;
    check.both(staff, "staff find member").await?;
    find(staff, "#find-submit").await?.click().await?;
    wait_text(staff, "#found-name", |t| t == NAME).await?;
    wait_text(staff, "#found-phone", |t| t == "139****5555").await?;
    check.both(staff, "staff find member, found").await?;

    // --- the store manager ---------------------------------------------------------------
    find(staff, "#staff-logout").await?.click().await?;
    find(staff, "#username").await?;
    staff_sign_in_as(base, staff, "manager", "manager-dev-pass").await?;
    check.both(staff, "manager checkout").await?;
    find(staff, "#tab-refunds").await?.click().await?;
    let row = "#purchase-list [data-order-ref=\"E2E-S1\"]";
    wait_text(staff, row, |t| t.contains("¥600.00")).await?;
    check.both(staff, "manager refunds").await?;
    find(staff, row).await?.click().await?;
    wait_text(staff, "#refund-left", |t| t == "¥600.00").await?;
    let amount = find(staff, "#refund-amount").await?;
    amount.clear().await?;
    amount.send_keys("100").await?;
    find(staff, "#refund-reason")
        .await?
        .send_keys("退回一件")
        .await?;
    wait_text(staff, "#confirm-refund", |t| t.contains("¥100.00")).await?;
    check.both(staff, "manager refund form").await?;
    find(staff, "#confirm-refund").await?.click().await?;
    wait_text(staff, "#refund-done", |t| t.contains("¥100.00")).await?;
    check.both(staff, "manager refund done").await?;

    // Taking back the handed-over order: the form asks for the reason first.
    staff
        .goto(&format!("{base}/staff/orders/{order_code}"))
        .await?;
    wait_visible(staff, "#cancel-order", WAIT).await?;
    check.both(staff, "manager handed-over order").await?;
    find(staff, "#cancel-order").await?.click().await?;
    wait_visible(staff, "#cancel-form", WAIT).await?;
    check.both(staff, "manager take-back form").await?;
    Ok(())
}

/// 《隐私政策》 and 《会员章程》 as served, in Chinese and (by `?lang=en`) in English.
pub(crate) async fn documents(base: &str, c: &Client, check: &mut Checker) -> Res {
    for (path, screen) in [
        ("/privacy", "privacy policy"),
        ("/terms", "membership terms"),
    ] {
        for query in ["", "?lang=en"] {
            c.goto(&format!("{base}{path}{query}")).await?;
            find(c, "h1").await?;
            check.here(c, screen).await?;
        }
    }
    Ok(())
}
