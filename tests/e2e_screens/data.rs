//! Data for the walk, made through the admin and till APIs (coupons to tick, a till
//! session, a fresh card code).

use crate::*;

pub(crate) async fn till_client(base: &str) -> Res<reqwest::Client> {
    let till = reqwest::Client::builder().cookie_store(true).build()?;
    till.post(format!("{base}/api/v1/staff/login"))
        .json(&json!({ "username": "cashier", "password": "cashier-dev-pass" }))
        .send()
        .await?
        .error_for_status()?;
    Ok(till)
}

/// `n` stackable ¥5-off templates, one coupon of each for `member_no`.
pub(crate) async fn issue_coupons(
    base: &str,
    admin: &reqwest::Client,
    member_no: &str,
    n: usize,
) -> Res {
    for i in 1..=n {
        let template: Value = admin
            .post(format!("{base}/api/v1/admin/coupon-templates"))
            .json(&json!({
                "name": format!("叠加券 {i}"),
                "benefit": { "kind": "amount", "amount_off_cents": 500 },
                "stackable": true,
                "valid_days": 30,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        admin
            .post(format!("{base}/api/v1/admin/coupons/issue"))
            .header("Idempotency-Key", format!("e2e-screens-{member_no}-{i}"))
            .json(&json!({
                "template_id": template["id"],
                "member_nos": [member_no],
                "reason": "e2e screens",
            }))
            .send()
            .await?
            .error_for_status()?;
    }
    Ok(())
}

/// Ticks the `n` coupons `issue_coupons` gave (the dev seed's welcome gifts stay
/// unticked: they do not stack), each with one tap, then retypes the amount: the rows must
/// stay the same elements, ticked, while the fresh preview comes in — a row drawn anew
/// under the cashier's thumb swallows the tap.
pub(crate) async fn tick_stacking(staff: &Client, n: usize) -> Res {
    let deadline = Instant::now() + WAIT;
    let ours = loop {
        let mut ours = Vec::new();
        for row in staff
            .find_all(Locator::Css("#coupon-list .checkout-coupon"))
            .await?
        {
            if row.text().await.unwrap_or_default().contains("叠加券") {
                ours.push(row);
            }
        }
        if ours.len() == n {
            break ours;
        }
        if Instant::now() > deadline {
            return Err(format!("{} of the member's {n} coupons listed", ours.len()).into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for row in &ours {
        let tick = row.find(Locator::Css(".coupon-check")).await?;
        // Clear of the sticky Record purchase bar, where a thumb would tap it; marked, so
        // a row drawn anew is told from the one tapped.
        staff
            .execute(
                "arguments[0].scrollIntoView({ block: 'center' }); arguments[1].e2eTapped = true;",
                vec![serde_json::to_value(&tick)?, serde_json::to_value(row)?],
            )
            .await?;
        tick.click().await?;
    }
    let amount = find(staff, "#amount").await?;
    // "100" becomes "10" and "100" again: two previews, the same basket.
    amount.send_keys("\u{e003}").await?;
    amount.send_keys("0").await?;
    // The debounced preview of the retyped amount goes out and answers.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let kept: Value = staff
        .execute(
            "return [...document.querySelectorAll('#coupon-list .checkout-coupon')] \
               .filter(r => r.e2eTapped).map(r => r.classList.contains('ticked') \
               && r.querySelector('.coupon-check').checked);",
            vec![],
        )
        .await?;
    let kept = kept.as_array().cloned().unwrap_or_default();
    if kept.len() != n || kept.iter().any(|k| k != &json!(true)) {
        return Err(format!(
            "after one tap each and a fresh preview, {} of the {n} tapped coupon rows are still \
             on screen ({kept:?}: ticked and checked); {} rows ticked in all",
            kept.len(),
            ours_len(staff).await
        )
        .into());
    }
    Ok(())
}

pub(crate) async fn ours_len(staff: &Client) -> usize {
    staff
        .find_all(Locator::Css("#coupon-list .checkout-coupon.ticked"))
        .await
        .map_or(0, |v| v.len())
}

pub(crate) async fn card_code_of(member: &Client) -> Res<String> {
    Ok(digits(&find(member, "#card-code").await?.text().await?))
}

pub(crate) async fn staff_sign_in_as(base: &str, staff: &Client, user: &str, pass: &str) -> Res {
    staff.goto(&format!("{base}/staff/")).await?;
    type_staff_sign_in(staff, user, pass).await?;
    find(staff, "#scan-input").await?;
    Ok(())
}
