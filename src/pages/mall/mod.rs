//! The points-mall screens, and the rules they share: whether an item can be redeemed
//! now (`member_core::mall::check`, the server's own rule), how much of it, and which
//! items a filter shows.

pub mod item;
pub mod list;
pub mod order;
pub mod orders;

use leptos::prelude::*;
use member_core::dto::MallItem;
use member_core::mall::{self, ItemTerms, Redeemer, Refusal, MAX_QUANTITY};

use crate::clock;
use crate::components::lang_toggle::LangToggle;
use crate::i18n::{fill, mall::Ml, tier_name, I18n, Lang, Text};
use crate::nav::Link;
use crate::screens::mall::MallScreen;

/// The low-threshold quick filter: items for at most this many points.
pub const LOW_PRICE_MAX: i64 = 50;
/// At or below this many units left, an item says how few.
pub const LOW_STOCK: i64 = 5;

/// When an item is on sale, in unix seconds (from its RFC 3339 bounds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<i64>,
    pub until: Option<i64>,
}

impl Window {
    pub fn of(item: &MallItem) -> Self {
        Self {
            from: item.available_from.as_deref().and_then(clock::unix_of),
            until: item.available_until.as_deref().and_then(clock::unix_of),
        }
    }
}

/// Why the member cannot redeem `quantity` of `item` now, if they cannot. `points`: the
/// balance, `None` while unknown (then the balance is not held against them). The
/// server decides tiers; `locked` is its answer for this member.
pub fn refusal(
    item: &MallItem,
    window: Window,
    points: Option<i64>,
    quantity: i64,
    now: i64,
) -> Option<Refusal> {
    let terms = ItemTerms {
        points_price: item.points_price,
        stock: item.stock,
        per_member_limit: item.per_member_limit,
        min_tier_rank: item.locked.then_some(1),
        available_from: window.from,
        available_until: window.until,
        hidden: false,
    };
    let who = Redeemer {
        points: points.unwrap_or(i64::MAX),
        tier_rank: 0,
        already: item.redeemed_by_me,
    };
    mall::check(&terms, &who, quantity, now).err()
}

/// The most the quantity stepper offers: bounded by stock, the member's remaining limit
/// and what the balance pays for; at least 1 (the refusal then says why not).
pub fn max_quantity(item: &MallItem, points: Option<i64>) -> i64 {
    let mut most = MAX_QUANTITY.min(item.stock);
    if let Some(limit) = item.per_member_limit {
        most = most.min(limit - item.redeemed_by_me);
    }
    if let (Some(p), true) = (points, item.points_price > 0) {
        most = most.min(p / item.points_price);
    }
    most.max(1)
}

/// The refusal in words, for an item card or the redeem button.
pub fn refusal_text(lang: Lang, item: &MallItem, refusal: Refusal) -> String {
    match refusal {
        Refusal::OutOfStock => Ml::SoldOut.text(lang).to_string(),
        Refusal::InsufficientPoints => Ml::NotEnough.text(lang).to_string(),
        Refusal::LimitReached => Ml::LimitReached.text(lang).to_string(),
        Refusal::TierLocked => tier_only(lang, item),
        Refusal::Unavailable | Refusal::InvalidQuantity => Ml::Unavailable.text(lang).to_string(),
    }
}

/// "金卡及以上可兑".
pub fn tier_only(lang: Lang, item: &MallItem) -> String {
    let tier = item
        .required_tier
        .as_ref()
        .map(|t| tier_name(lang, &t.code, &t.name))
        .unwrap_or_default();
    fill(Ml::TierOnly.text(lang), &[("tier", &tier)])
}

/// "30 积分", and "+ ¥12.00" for points + cash items.
pub fn price_text(lang: Lang, points: i64, cash_cents: i64) -> String {
    let points = fill(Ml::PricePoints.text(lang), &[("n", &points.to_string())]);
    match crate::i18n::mall::cash(cash_cents) {
        Some(cash) => format!("{points} + {cash}"),
        None => points,
    }
}

/// The quick filters above the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chip {
    All,
    Low,
    Category(String),
}

/// Categories in the order the brand sorted the items, each once.
pub fn categories(items: &[MallItem]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let c = item.category.trim();
        if !c.is_empty() && !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
    }
    out
}

/// The items a filter shows, in the brand's order or cheapest first. `can_redeem`: the
/// "I can afford" toggle (redeemable now, one unit).
pub fn shown(
    items: &[MallItem],
    chip: &Chip,
    cheapest_first: bool,
    can_redeem: Option<&dyn Fn(&MallItem) -> bool>,
) -> Vec<MallItem> {
    let mut out: Vec<MallItem> = items
        .iter()
        .filter(|i| match chip {
            Chip::All => true,
            Chip::Low => i.points_price <= LOW_PRICE_MAX,
            Chip::Category(c) => i.category.trim() == c,
        })
        .filter(|i| can_redeem.is_none_or(|ok| ok(i)))
        .cloned()
        .collect();
    if cheapest_first {
        // Stable: equal prices keep the brand's order.
        out.sort_by_key(|i| i.points_price);
    }
    out
}

/// The item's picture, or a neutral tile with its first character.
#[component]
pub fn Thumb(image_url: Option<String>, name: String) -> impl IntoView {
    match image_url.filter(|u| !u.trim().is_empty()) {
        Some(url) => view! {
            <img class="mall-thumb" src=url alt="" loading="lazy" />
        }
        .into_any(),
        None => {
            let initial = name.chars().next().map(String::from).unwrap_or_default();
            view! {
                <div class="mall-thumb placeholder" aria-hidden="true">{initial}</div>
            }
            .into_any()
        }
    }
}

/// The bar at the top of every mall screen: back (to the card from the list, else to
/// the list), the screen's title, the language toggle.
#[component]
pub fn MallBar(title: Ml, #[prop(optional)] back_to_list: bool) -> impl IntoView {
    let i18n = I18n::get();
    let back = if back_to_list {
        view! {
            <Link to=MallScreen::List class="back-link">
                {move || format!("‹ {}", i18n.t(Ml::BackToMall))}
            </Link>
        }
        .into_any()
    } else {
        // The card is the member app: a page load, not a screen of this one.
        view! {
            <a href="/" class="back-link" id="back-to-card">
                {move || format!("‹ {}", i18n.t(Ml::BackToCard))}
            </a>
        }
        .into_any()
    };
    view! {
        <header class="brand-bar">
            {back}
            <h1 class="brand mall-title">{i18n.tr(title)}</h1>
            <LangToggle />
        </header>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use member_core::dto::TierRef;

    pub fn item(id: i64, price: i64, stock: i64) -> MallItem {
        MallItem {
            id,
            name: format!("item {id}"),
            description: String::new(),
            category: "饮品券".into(),
            kind: "voucher".into(),
            image_url: None,
            points_price: price,
            cash_cents: 0,
            stock,
            per_member_limit: None,
            redeemed_by_me: 0,
            required_tier: None,
            locked: false,
            available_from: None,
            available_until: None,
            coupon_template_id: None,
        }
    }

    #[test]
    fn refusals_follow_the_shared_rule() {
        let w = Window::default();
        let coffee = item(1, 30, 10);
        assert_eq!(refusal(&coffee, w, Some(30), 1, 0), None);
        assert_eq!(
            refusal(&coffee, w, Some(29), 1, 0),
            Some(Refusal::InsufficientPoints)
        );
        // Balance unknown yet: not held against the member.
        assert_eq!(refusal(&coffee, w, None, 1, 0), None);
        assert_eq!(
            refusal(&item(2, 10, 0), w, Some(100), 1, 0),
            Some(Refusal::OutOfStock)
        );
        let mut gold = item(3, 10, 5);
        gold.locked = true;
        gold.required_tier = Some(TierRef {
            code: "gold".into(),
            name: "金卡".into(),
        });
        assert_eq!(
            refusal(&gold, w, Some(100), 1, 0),
            Some(Refusal::TierLocked)
        );
        assert_eq!(tier_only(Lang::ZhCn, &gold), "金卡及以上可兑");
        let mut once = item(4, 10, 5);
        once.per_member_limit = Some(1);
        once.redeemed_by_me = 1;
        assert_eq!(
            refusal(&once, w, Some(100), 1, 0),
            Some(Refusal::LimitReached)
        );
        let later = Window {
            from: Some(100),
            until: None,
        };
        assert_eq!(
            refusal(&coffee, later, Some(100), 1, 50),
            Some(Refusal::Unavailable)
        );
    }

    #[test]
    fn stepper_is_bounded_by_stock_limit_and_points() {
        let mut it = item(1, 30, 4);
        assert_eq!(max_quantity(&it, None), 4);
        assert_eq!(max_quantity(&it, Some(95)), 3);
        it.per_member_limit = Some(3);
        it.redeemed_by_me = 1;
        assert_eq!(max_quantity(&it, Some(1000)), 2);
        assert_eq!(max_quantity(&it, Some(0)), 1);
        assert_eq!(max_quantity(&item(2, 0, 500), Some(0)), MAX_QUANTITY);
    }

    #[test]
    fn filters_and_sorting() {
        let mut bag = item(3, 50, 9);
        bag.category = "周边".into();
        let items = vec![item(1, 300, 1), item(2, 10, 1), bag];
        assert_eq!(
            categories(&items),
            vec!["饮品券".to_string(), "周边".into()]
        );
        let ids = |v: Vec<MallItem>| v.iter().map(|i| i.id).collect::<Vec<_>>();
        assert_eq!(ids(shown(&items, &Chip::All, false, None)), vec![1, 2, 3]);
        assert_eq!(ids(shown(&items, &Chip::Low, false, None)), vec![2, 3]);
        assert_eq!(ids(shown(&items, &Chip::All, true, None)), vec![2, 3, 1]);
        assert_eq!(
            ids(shown(&items, &Chip::Category("周边".into()), false, None)),
            vec![3]
        );
        let cheap = |i: &MallItem| i.points_price <= 10;
        assert_eq!(ids(shown(&items, &Chip::All, false, Some(&cheap))), vec![2]);
    }

    #[test]
    fn prices_read_naturally() {
        assert_eq!(price_text(Lang::ZhCn, 30, 0), "30 积分");
        assert_eq!(price_text(Lang::ZhCn, 200, 1990), "200 积分 + ¥19.90");
        assert_eq!(price_text(Lang::En, 200, 1990), "200 pts + ¥19.90");
    }
}
