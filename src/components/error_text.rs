use leptos::prelude::*;

use crate::i18n::{errors, I18n, Lang};

/// `.error` with the localized text for an error code; renders nothing when there is none.
/// One shared component keeps every screen's error line to a single compiled view.
/// `texts`: the code-to-text mapping, `errors::error_text` unless given (the mall and
/// staff screens pass `errors::mall_error_text`).
#[component]
pub fn ErrorText(
    error: RwSignal<Option<String>>,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] texts: Option<fn(Lang, &str) -> &'static str>,
) -> impl IntoView {
    let i18n = I18n::get();
    let texts = texts.unwrap_or(errors::error_text);
    let class = if class.is_empty() {
        "error".to_string()
    } else {
        format!("error {class}")
    };
    move || {
        error.get().map(|code| {
            view! {
                <p class=class.clone() role="alert">
                    {texts(i18n.lang(), &code)}
                </p>
            }
        })
    }
}
