//! Points history: the member's ledger, newest first, a page at a time.

use leptos::{prelude::*, task::spawn_local};
use member_core::dto::LedgerItem;

use crate::api;
use crate::clock::{last_day_before, local_time};
use crate::components::error_text::ErrorText;
use crate::components::lang_toggle::LangToggle;
use crate::components::offline::Offline;
use crate::i18n::{errors, fill, member::M, tier_name, I18n, Lang};
use member_core::money::Cents;

/// A `refund` row takes earned points back (a returned purchase) or, positive, gives
/// spent points back (a cancelled mall order).
fn kind_key(kind: &str, points: i64) -> M {
    match kind {
        "earn" => M::KindEarn,
        "redeem" => M::KindRedeem,
        "expire" => M::KindExpire,
        "refund" if points > 0 => M::KindReturned,
        "refund" => M::KindRefund,
        "import" => M::KindImport,
        "referral" => M::KindReferral,
        _ => M::KindAdjust,
    }
}

fn yuan(cents: i64) -> String {
    Cents::paid(cents).map_or_else(|_| cents.to_string(), Cents::to_yuan_string)
}

/// Older rows were written as "中文 / English"; the member's half of it.
fn half(lang: Lang, reason: &str) -> String {
    match reason.split_once(" / ") {
        Some((zh, en)) => lang.pick_owned(zh, en),
        None => reason.to_string(),
    }
}

/// A ledger row in the member's words: what it was, and the details (store, amounts,
/// item, the staff's note). Rows from before the facts were recorded show their kind and
/// the reason as written.
pub fn describe(lang: Lang, item: &LedgerItem) -> (String, String) {
    use crate::i18n::Text;
    let t = |k: M| k.text(lang);
    let Some(e) = item.event.as_ref() else {
        let detail = [
            item.store_name.clone().unwrap_or_default(),
            half(lang, &item.reason),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
        return (t(kind_key(&item.kind, item.points)).to_string(), detail);
    };
    let item_times = || {
        e.item.as_ref().map(|i| {
            fill(
                t(M::ItemTimes),
                &[("item", i), ("n", &e.quantity.unwrap_or(1).to_string())],
            )
        })
    };
    let (key, parts): (M, Vec<Option<String>>) = match e.kind.as_str() {
        "purchase" => {
            let paid = e.amount_cents.map(|a| match e.discount_cents {
                Some(d) if d > 0 => fill(
                    t(M::PaidWithDiscount),
                    &[("amount", &yuan(a)), ("discount", &yuan(d))],
                ),
                _ => fill(t(M::Paid), &[("amount", &yuan(a))]),
            });
            (M::KindPurchase, vec![e.store.clone(), paid])
        }
        "refund" => (M::KindRefund, vec![e.store.clone(), e.note.clone()]),
        "refund_settle" => (M::KindSettle, vec![]),
        "redeem" => (M::KindRedeem, vec![item_times()]),
        "redeem_cancel" => (M::KindReturned, vec![item_times()]),
        "expire" => (
            M::KindExpire,
            vec![e
                .valid_through
                .as_ref()
                .map(|d| fill(t(M::ValidThrough), &[("date", d)]))],
        ),
        "referral_reward" => (M::KindReferralReward, vec![]),
        "referral_welcome" => (M::KindReferralWelcome, vec![]),
        "import" => (M::KindImport, vec![]),
        "upgrade" => (
            M::KindUpgrade,
            vec![e.tier.as_ref().map(|r| {
                fill(
                    t(M::UpgradedTo),
                    &[("tier", &tier_name(lang, &r.code, &r.name))],
                )
            })],
        ),
        "adjust" => (M::KindAdjust, vec![e.store.clone(), e.note.clone()]),
        // A kind this version does not know yet: what the row's own kind says.
        _ => (kind_key(&item.kind, item.points), vec![]),
    };
    let detail = parts
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    (t(key).to_string(), detail)
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    let i18n = I18n::get();
    let items = RwSignal::new(Vec::<LedgerItem>::new());
    let next = RwSignal::new(None::<String>);
    let loading = RwSignal::new(true);
    let loaded_once = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let load = move |cursor: Option<String>| {
        loading.set(true);
        error.set(None);
        spawn_local(async move {
            match api::points_history(cursor.as_deref()).await {
                Ok(page) => {
                    items.update(|v| v.extend(page.items));
                    next.set(page.next);
                    loaded_once.set(true);
                }
                Err(e) if e.is_unauthenticated() => crate::screens::mall::to_sign_in(),
                Err(e) => error.set(Some(e.code().to_string())),
            }
            loading.set(false);
        });
    };
    load(None);

    let load_more = { move |_| load(next.get_untracked()) };
    let offline = Memo::new(move |_| error.with(|e| e.as_deref() == Some(errors::NETWORK)));
    // Any other failure keeps its own line (the offline state says it all otherwise).
    let other_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        other_error.set(error.get().filter(|e| e != errors::NETWORK));
    });

    view! {
        <div class="page history-page">
            <header class="brand-bar">
                <a href="/" class="back-link">
                    {move || format!("‹ {}", i18n.t(M::BackToCard))}
                </a>
                <LangToggle />
            </header>
            <main class="panel">
                <h1>{i18n.tr(M::HistoryTitle)}</h1>
                <ul class="ledger">
                    {move || {
                        items
                            .get()
                            .into_iter()
                            .map(|item| {
                                let positive = item.points >= 0;
                                let amount = if positive {
                                    format!("+{}", item.points)
                                } else {
                                    item.points.to_string()
                                };
                                let (title, detail) = describe(i18n.lang(), &item);
                                let expiry = item
                                    .expires_at
                                    .filter(|_| item.kind == "earn")
                                    .map(|at| {
                                        fill(i18n.t(M::ValidThrough), &[("date", &last_day_before(&at))])
                                    });
                                view! {
                                    <li class="ledger-row">
                                        <div>
                                            <div class="ledger-kind">{title}</div>
                                            <div class="subtle small">{detail}</div>
                                            <div class="subtle small">
                                                {local_time(&item.at)}
                                                {expiry.map(|e| format!(" · {e}"))}
                                            </div>
                                        </div>
                                        <div class=if positive {
                                            "ledger-points plus"
                                        } else {
                                            "ledger-points minus"
                                        }>{amount}</div>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
                <p class="empty" hidden=move || !(loaded_once.get() && items.with(Vec::is_empty))>
                    {i18n.tr(M::HistoryEmpty)}
                </p>
                {move || {
                    offline
                        .get()
                        .then(|| view! { <Offline on_retry=Callback::new(move |_| load(next.get_untracked())) /> })
                }}
                <ErrorText error=other_error />
                <p class="subtle center" hidden=move || !loading.get()>
                    {i18n.tr(M::Loading)}
                </p>
                // After a failure the same button tries that page again.
                <button
                    id="history-more"
                    type="button"
                    class="button secondary block"
                    hidden=move || {
                        loading.get() || offline.get()
                            || (next.with(Option::is_none) && error.with(Option::is_none))
                    }
                    on:click=load_more
                >
                    {move || {
                        if error.with(Option::is_some) { i18n.t(M::Retry) } else { i18n.t(M::LoadMore) }
                    }}
                </button>
            </main>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use member_core::dto::{LedgerEvent, TierRef};

    use super::*;

    fn row(kind: &str, points: i64, reason: &str, event: Option<LedgerEvent>) -> LedgerItem {
        LedgerItem {
            kind: kind.into(),
            points,
            reason: reason.into(),
            at: "2026-12-07T05:20:07Z".into(),
            store_name: Some("旗舰店".into()),
            expires_at: None,
            event,
        }
    }

    fn ev(kind: &str) -> LedgerEvent {
        LedgerEvent::of(kind)
    }

    #[test]
    fn facts_in_each_language() {
        let purchase = row(
            "earn",
            90,
            "消费 ¥90.00（优惠 ¥10.00）",
            Some(LedgerEvent {
                store: Some("旗舰店".into()),
                amount_cents: Some(9000),
                discount_cents: Some(1000),
                ..ev("purchase")
            }),
        );
        assert_eq!(
            describe(Lang::En, &purchase),
            ("Purchase".into(), "旗舰店 · Paid ¥90.00, ¥10.00 off".into())
        );
        assert_eq!(
            describe(Lang::ZhCn, &purchase),
            ("消费".into(), "旗舰店 · 实付 ¥90.00，优惠 ¥10.00".into())
        );
        let redeem = row(
            "redeem",
            -30,
            "兑换 帆布袋 ×1",
            Some(LedgerEvent {
                item: Some("帆布袋".into()),
                quantity: Some(1),
                ..ev("redeem")
            }),
        );
        assert_eq!(
            describe(Lang::En, &redeem),
            ("Redeemed".into(), "帆布袋 ×1".into())
        );
        let upgrade = row(
            "earn",
            100,
            "升级礼 银卡",
            Some(LedgerEvent {
                tier: Some(TierRef {
                    code: "silver".into(),
                    name: "银卡".into(),
                }),
                ..ev("upgrade")
            }),
        );
        assert_eq!(
            describe(Lang::En, &upgrade),
            ("Upgrade gift".into(), "Reached Silver".into())
        );
    }

    #[test]
    fn rows_without_facts_show_kind_and_reason() {
        let old = row(
            "referral",
            100,
            "邀请好友奖励 / Reward for inviting a friend",
            None,
        );
        assert_eq!(
            describe(Lang::En, &old),
            (
                "Referral reward".into(),
                "旗舰店 · Reward for inviting a friend".into()
            )
        );
        assert_eq!(describe(Lang::ZhCn, &old).1, "旗舰店 · 邀请好友奖励");
    }
}
