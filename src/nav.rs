//! A minimal client-side router: a signal holding the current screen, kept in step with
//! the address bar through the History API.
//!
//! Each app has a handful of fixed screens, so this replaces `leptos_router`, which cost
//! the member bundle about a quarter of its size budget.

use leptos::{ev, prelude::*};

/// The screens of one app and their paths. A screen may carry a value (the mall's item
/// id, an order code), so paths are built rather than fixed strings.
pub trait Screens: Copy + PartialEq + Send + Sync + 'static {
    fn from_path(path: &str) -> Self;
    fn path(self) -> String;
}

/// The current screen, shared through context.
pub struct Nav<S: Screens> {
    current: RwSignal<S>,
}

impl<S: Screens> Clone for Nav<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: Screens> Copy for Nav<S> {}

fn pathname() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default()
}

impl<S: Screens> Nav<S> {
    /// Starts at the screen the address bar names and follows back/forward.
    pub fn provide() -> Self {
        let nav = Self {
            current: RwSignal::new(S::from_path(&pathname())),
        };
        let listener = window_event_listener(ev::popstate, move |_| {
            nav.current.set(S::from_path(&pathname()));
        });
        on_cleanup(move || listener.remove());
        provide_context(nav);
        nav
    }

    pub fn get() -> Self {
        use_context::<Self>().unwrap_or_else(Self::provide)
    }

    /// Reactive.
    pub fn current(self) -> S {
        self.current.get()
    }

    /// Opens a screen as a new history entry.
    pub fn go(self, to: S) {
        self.change(to, false);
    }

    /// Opens a screen in place of the current entry (redirects: back must not return).
    pub fn replace(self, to: S) {
        self.change(to, true);
    }

    fn change(self, to: S, replace: bool) {
        if let Some(window) = web_sys::window() {
            if let Ok(history) = window.history() {
                let state = wasm_bindgen::JsValue::NULL;
                let path = to.path();
                let _ = if replace {
                    history.replace_state_with_url(&state, "", Some(&path))
                } else {
                    history.push_state_with_url(&state, "", Some(&path))
                };
            }
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
        self.current.set(to);
    }
}

/// An in-app link: a real `<a href>` (so it can be opened in a new tab) that switches
/// screens without a page load on a plain click.
#[component]
pub fn Link<S: Screens>(
    to: S,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] id: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let nav = Nav::<S>::get();
    view! {
        <a
            href=to.path()
            class=class
            id=id
            on:click=move |ev: ev::MouseEvent| {
                let modified = ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key();
                if !modified && ev.button() == 0 {
                    ev.prevent_default();
                    nav.go(to);
                }
            }
        >
            {children()}
        </a>
    }
}
