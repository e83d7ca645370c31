use leptos::prelude::*;

use crate::i18n::{errors, I18n};

/// `.error` with the localized text for an error code; renders nothing when there is none.
/// One shared component keeps every screen's error line to a single compiled view.
#[component]
pub fn ErrorText(
    error: RwSignal<Option<String>>,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let i18n = I18n::get();
    let class = if class.is_empty() {
        "error".to_string()
    } else {
        format!("error {class}")
    };
    move || {
        error.get().map(|code| {
            view! {
                <p class=class.clone() role="alert">
                    {errors::error_text(i18n.lang(), &code)}
                </p>
            }
        })
    }
}
