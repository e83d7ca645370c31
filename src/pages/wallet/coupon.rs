//! One coupon: its rules (minimum spend, stacking, stores, validity, why the member has
//! it), its status, and its code as large grouped text and a QR for the cashier.

use leptos::{prelude::*, task::spawn_local};
use member_core::civil;
use member_core::coupons::format_code;
use member_core::dto::{codes, CouponView};

use super::{Ticket, WalletBar};
use crate::api;
use crate::clock;
use crate::components::error_text::ErrorText;
use crate::components::qr::qr_svg;
use crate::i18n::{coupons, errors, fill, wallet::W, I18n};
use crate::screens::mall::{code_of, MallScreen, Tab};

#[component]
pub fn CouponPage(id: i64) -> impl IntoView {
    let i18n = I18n::get();
    let coupon = RwSignal::new(None::<CouponView>);
    let error = RwSignal::new(None::<String>);
    let missing = RwSignal::new(false);

    spawn_local(async move {
        match api::my_coupon(id).await {
            Ok(c) => coupon.set(Some(c)),
            Err(e) => match code_of(e) {
                Some(c) if c == codes::NOT_FOUND => missing.set(true),
                other => error.set(other),
            },
        }
    });

    let now = clock::device_unix();
    let detail = move || {
        let c = coupon.get()?;
        let lang = i18n.lang();
        let year = civil::local_date(now).year;
        let open = matches!(c.status.as_str(), "usable" | "upcoming");
        let mut rules = vec![
            coupons::min_spend(lang, c.min_spend_cents),
            i18n.t(if c.stackable {
                W::Stackable
            } else {
                W::NotStackable
            })
            .to_string(),
        ];
        rules.push(if c.store_names.is_empty() && c.store_codes.is_empty() {
            i18n.t(W::AllStores).to_string()
        } else {
            let names = if c.store_names.is_empty() {
                &c.store_codes
            } else {
                &c.store_names
            };
            fill(i18n.t(W::Stores), &[("stores", &names.join("、"))])
        });
        rules.push(fill(
            i18n.t(W::Window),
            &[
                (
                    "from",
                    &coupons::day_text(lang, civil::local_date(c.valid_from_ts), year),
                ),
                (
                    "to",
                    &coupons::day_text(lang, coupons::last_day(c.expires_ts), year),
                ),
            ],
        ));
        rules.push(fill(
            i18n.t(W::Source),
            &[("source", coupons::source_text(lang, &c.source))],
        ));
        if let Some(at) = c.used_at.as_deref() {
            let time = clock::local_time(at);
            rules.push(match c.used_store_name.as_deref() {
                Some(store) => fill(i18n.t(W::UsedAtStore), &[("time", &time), ("store", store)]),
                None => fill(i18n.t(W::UsedAt), &[("time", &time)]),
            });
        }
        if let Some(d) = c.discount_cents.filter(|d| *d > 0) {
            rules.push(fill(i18n.t(W::Saved), &[("amount", &coupons::yuan(d))]));
        }
        let description = c.description.trim().to_string();
        let qr = open.then(|| qr_svg(&c.code, i18n.t(W::Code)));
        let mark = (c.status == "usable")
            .then(|| coupons::expiry_mark(lang, c.expires_ts, now))
            .flatten();
        Some(view! {
            <Ticket benefit=c.benefit.clone() min_spend_cents=c.min_spend_cents dim=!open>
                <div class="coupon-name">
                    <span id="coupon-name">{c.name.clone()}</span>
                </div>
                <div class="coupon-valid small subtle">
                    {coupons::validity_text(lang, c.valid_from_ts, c.expires_ts, now)}
                </div>
                <div class="coupon-tags">
                    <span id="coupon-status" class=format!("tag coupon-status status-{}", c.status)>
                        {coupons::status_text(lang, &c.status)}
                    </span>
                    {mark.map(|m| view! { <span class="tag warn">{m}</span> })}
                </div>
            </Ticket>
            <section class="panel coupon-code-box">
                <div class="subtle">{i18n.t(W::Code)}</div>
                {qr.map(|svg| view! { <div id="coupon-qr" class="qr coupon-qr" inner_html=svg></div> })}
                <div id="coupon-code" class=if open { "order-code" } else { "order-code closed" }>
                    {format_code(&c.code)}
                </div>
                <p class="show-hint" hidden=!open>{i18n.t(W::ShowCashier)}</p>
            </section>
            <section class="panel">
                <h2>{i18n.t(W::Rules)}</h2>
                <p class="subtle" hidden=description.is_empty()>{description.clone()}</p>
                <ul id="coupon-rules" class="terms">
                    {rules.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                </ul>
            </section>
        })
    };

    view! {
        <div class="page mall-page coupon-page">
            <WalletBar title=W::DetailTitle back=Some(MallScreen::Wallet(Tab::Usable)) />
            <main class="coupon-detail">
                <ErrorText error=error texts=errors::mall_error_text />
                <p class="empty" hidden=move || !missing.get()>{i18n.tr(W::NotFound)}</p>
                <p
                    class="subtle center pad"
                    hidden=move || coupon.with(Option::is_some) || error.with(Option::is_some) || missing.get()
                >
                    {i18n.tr(W::Loading)}
                </p>
                {detail}
            </main>
        </div>
    }
}
