//! The member's screens while the balance is on its way and while the network is gone.

use crate::*;

/// Runs before the mall's own script: keeps every text `#mall-points` shows, in order.
const WATCH_MALL_POINTS_JS: &str = r#"
window.__mallPoints = [];
new MutationObserver(() => {
  const el = document.getElementById('mall-points');
  if (!el) return;
  const t = el.textContent.trim();
  const seen = window.__mallPoints;
  if (seen[seen.length - 1] !== t) seen.push(t);
}).observe(document, { subtree: true, childList: true, characterData: true });
"#;

/// Opens the mall and proves "我的积分" never said 0 (or "—") before the member's
/// balance arrived: it says 加载中… and then the balance, nothing else.
pub(crate) async fn mall_opens_without_a_false_zero(base: &str, c: &Client, balance: &str) -> Res {
    let added = cdp(
        c,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": WATCH_MALL_POINTS_JS }),
    )
    .await?;
    c.goto(&format!("{base}/mall/")).await?;
    find(c, "#mall-list .mall-item").await?;
    let settled = wait_text(c, "#mall-points", |t| t == balance).await;
    let seen = c
        .execute("return window.__mallPoints || null;", vec![])
        .await?;
    if let Some(id) = added["identifier"].as_str() {
        cdp(
            c,
            "Page.removeScriptToEvaluateOnNewDocument",
            json!({ "identifier": id }),
        )
        .await?;
    }
    settled?;
    let seen: Vec<String> = serde_json::from_value(seen)?;
    let before = &seen[..seen.len().saturating_sub(1)];
    if seen.last().map(String::as_str) != Some(balance) || before.iter().any(|t| t != "加载中…")
    {
        return Err(format!(
            "the mall's points showed {seen:?} on the way to {balance} (only 加载中… may come first)"
        )
        .into());
    }
    Ok(())
}

/// With the network gone: the card keeps its code and says it is offline; the history
/// and the mall say so and offer to retry. Back online, retrying brings the page.
pub(crate) async fn offline_states(base: &str, c: &Client, check: &mut Checker) -> Res {
    // The shells come from the service worker's cache once it has taken control.
    wait_controlled(c, &format!("{base}/points")).await?;
    wait_controlled(c, &format!("{base}/mall/")).await?;
    set_offline(c, true).await?;
    let walked = offline_walk(base, c, check).await;
    set_offline(c, false).await?;
    walked?;
    find(c, "#offline-retry").await?.click().await?;
    find(c, "#mall-list .mall-item").await?;
    Ok(())
}

async fn offline_walk(base: &str, c: &Client, check: &mut Checker) -> Res {
    c.goto(&format!("{base}/")).await?;
    find(c, "#card-qr svg").await?;
    wait_visible(c, ".notice.offline", WAIT).await?;
    check.both(c, "card, offline").await?;
    c.goto(&format!("{base}/points")).await?;
    wait_visible(c, "#offline", WAIT).await?;
    check.both(c, "points history, offline").await?;
    c.goto(&format!("{base}/mall/")).await?;
    wait_visible(c, "#offline", WAIT).await?;
    check.both(c, "mall, offline").await
}
