//! The member's profile: name, birthday (for the birthday gift; it can change once a
//! year, so the screen says when it is locked) and marketing consent.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use member_core::civil;
use member_core::dto::{ProfileUpdate, ProfileView};

use super::WalletBar;
use crate::api;
use crate::clock;
use crate::components::error_text::ErrorText;
use crate::i18n::{coupons::day_text, errors, fill, wallet::W, I18n, Lang};
use crate::screens::mall::{code_of, MallScreen, Tab};

/// What the date input can show: only a full `YYYY-MM-DD` (a birthday without a year
/// is shown as text beside it).
fn date_input_value(birthday: Option<&str>) -> String {
    birthday
        .filter(|b| b.len() == 10)
        .map(str::to_string)
        .unwrap_or_default()
}

/// `12-31` or `1990-12-31` as `12月31日` / `Dec 31`.
fn birthday_text(lang: Lang, birthday: &str) -> String {
    let mut parts = birthday.rsplitn(3, '-');
    let (Some(d), Some(m)) = (parts.next(), parts.next()) else {
        return birthday.to_string();
    };
    match (m.parse::<u32>(), d.parse::<u32>()) {
        (Ok(month), Ok(day)) => day_text(
            lang,
            civil::Date {
                year: 0,
                month,
                day,
            },
            0,
        ),
        _ => birthday.to_string(),
    }
}

/// Only what changed: the server locks the birthday for a year once set, so an
/// unchanged birthday must not be sent as a change.
fn update_of(before: &ProfileView, name: &str, birthday: &str, marketing: bool) -> ProfileUpdate {
    let name = name.trim();
    let birthday = birthday.trim();
    ProfileUpdate {
        name: (!name.is_empty() && name != before.name).then(|| name.to_string()),
        birthday: (!birthday.is_empty() && Some(birthday) != before.birthday.as_deref())
            .then(|| birthday.to_string()),
        marketing_consent: (marketing != before.marketing_consent).then_some(marketing),
    }
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let i18n = I18n::get();
    let profile = RwSignal::new(None::<ProfileView>);
    let name = RwSignal::new(String::new());
    let birthday = RwSignal::new(String::new());
    let marketing = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let load_error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let saved = RwSignal::new(false);

    let show = move |p: ProfileView| {
        name.set(p.name.clone());
        birthday.set(date_input_value(p.birthday.as_deref()));
        marketing.set(p.marketing_consent);
        profile.set(Some(p));
    };
    spawn_local(async move {
        match api::profile().await {
            Ok(p) => show(p),
            Err(e) => load_error.set(code_of(e)),
        }
    });

    let now = clock::device_unix();
    let locked_until = move || {
        profile.with(|p| {
            p.as_ref()?
                .birthday_locked_until
                .as_deref()
                .and_then(clock::unix_of)
                .filter(|t| *t > now)
        })
    };
    let birthday_note = move || {
        let lang = i18n.lang();
        let mut lines = vec![i18n.t(W::BirthdayOnce).to_string()];
        if let Some(t) = locked_until() {
            let year = civil::local_date(now).year;
            let date = day_text(lang, civil::local_date(t), year);
            lines.push(fill(i18n.t(W::BirthdayLocked), &[("date", &date)]));
        }
        let no_year = profile.with(|p| {
            p.as_ref()
                .and_then(|p| p.birthday.clone())
                .filter(|b| b.len() != 10)
        });
        if let Some(b) = no_year {
            lines.push(fill(
                i18n.t(W::BirthdayCurrent),
                &[("date", &birthday_text(lang, &b))],
            ));
        }
        lines.join(" · ")
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let Some(before) = profile.get_untracked() else {
            return;
        };
        let body = update_of(
            &before,
            &name.get_untracked(),
            &birthday.get_untracked(),
            marketing.get_untracked(),
        );
        error.set(None);
        saved.set(false);
        saving.set(true);
        spawn_local(async move {
            match api::update_profile(&body).await {
                Ok(p) => {
                    show(p);
                    saved.set(true);
                }
                Err(e) => error.set(code_of(e)),
            }
            saving.set(false);
        });
    };

    let edited = move || saved.set(false);

    view! {
        <div class="page mall-page profile-page">
            <WalletBar title=W::ProfileTitle back=Some(MallScreen::Wallet(Tab::Usable)) />
            <main class="panel">
                <p class="subtle center" hidden=move || profile.with(Option::is_some) || load_error.with(Option::is_some)>
                    {i18n.tr(W::Loading)}
                </p>
                <form class="form" on:submit=submit novalidate hidden=move || profile.with(Option::is_none)>
                    <div class="field">
                        <span class="field-label">{i18n.tr(W::Phone)}</span>
                        <span id="profile-phone">
                            {move || profile.with(|p| p.as_ref().map(|p| p.phone_masked.clone()))}
                        </span>
                    </div>
                    <label class="field">
                        <span class="field-label">{i18n.tr(W::Name)}</span>
                        <input
                            id="profile-name"
                            type="text"
                            autocomplete="name"
                            maxlength="40"
                            prop:value=name
                            on:input:target=move |ev| {
                                edited();
                                name.set(ev.target().value());
                            }
                        />
                    </label>
                    <label class="field">
                        <span class="field-label">{i18n.tr(W::Birthday)}</span>
                        <input
                            id="profile-birthday"
                            type="date"
                            min="1900-01-01"
                            prop:value=birthday
                            disabled=move || locked_until().is_some()
                            on:input:target=move |ev| {
                                edited();
                                birthday.set(ev.target().value());
                            }
                        />
                        <span id="birthday-note" class="field-note">{birthday_note}</span>
                    </label>
                    <label class="check">
                        <input
                            id="profile-marketing"
                            type="checkbox"
                            prop:checked=marketing
                            on:change:target=move |ev| {
                                edited();
                                marketing.set(ev.target().checked());
                            }
                        />
                        <span>{i18n.tr(W::Marketing)}</span>
                    </label>
                    <ErrorText error=error texts=errors::mall_error_text />
                    <p id="profile-saved" class="notice" role="status" hidden=move || !saved.get()>
                        {i18n.tr(W::SavedOk)}
                    </p>
                    <button id="profile-save" type="submit" class="button primary block" disabled=move || saving.get()>
                        {move || if saving.get() { i18n.t(W::Saving) } else { i18n.t(W::Save) }}
                    </button>
                </form>
                <ErrorText error=load_error texts=errors::mall_error_text />
            </main>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn before() -> ProfileView {
        ProfileView {
            name: "韩梅梅".into(),
            phone_masked: "138****5678".into(),
            birthday: Some("1990-12-31".into()),
            birthday_locked_until: None,
            marketing_consent: false,
        }
    }

    #[test]
    fn only_changes_are_sent() {
        let same = update_of(&before(), " 韩梅梅 ", "1990-12-31", false);
        assert_eq!(
            same,
            ProfileUpdate {
                name: None,
                birthday: None,
                marketing_consent: None
            }
        );
        let changed = update_of(&before(), "李雷", "1991-01-02", true);
        assert_eq!(changed.name.as_deref(), Some("李雷"));
        assert_eq!(changed.birthday.as_deref(), Some("1991-01-02"));
        assert_eq!(changed.marketing_consent, Some(true));
        // An emptied field is not a change (the server would refuse an empty name).
        assert_eq!(update_of(&before(), "", "", false).name, None);
    }

    #[test]
    fn birthdays_without_a_year_read_as_month_and_day() {
        assert_eq!(date_input_value(Some("12-31")), "");
        assert_eq!(date_input_value(Some("1990-12-31")), "1990-12-31");
        assert_eq!(birthday_text(Lang::ZhCn, "12-31"), "12月31日");
        assert_eq!(birthday_text(Lang::En, "1990-02-05"), "Feb 5");
    }
}
