use leptos::prelude::*;

/// `375` -> `"37.5%"`, in integers: float formatting would add ~10 KB to the bundle.
pub fn percent(permille: i64) -> String {
    let p = permille.clamp(0, 1000);
    format!("{}.{}%", p / 10, p % 10)
}

/// A progress bar for a value in permille (0..=1000), named for screen readers by the
/// element `labelledby` (the line that says what it measures).
#[component]
pub fn ProgressBar(
    #[prop(into)] permille: Signal<i64>,
    labelledby: &'static str,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div
            id=id
            class="progress"
            role="progressbar"
            aria-labelledby=labelledby
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=move || (permille.get().clamp(0, 1000) / 10).to_string()
        >
            <div class="progress-fill" style:width=move || percent(permille.get())></div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_is_clamped_with_one_decimal() {
        assert_eq!(percent(375), "37.5%");
        assert_eq!(percent(-3), "0.0%");
        assert_eq!(percent(2000), "100.0%");
    }
}
