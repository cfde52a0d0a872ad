//! Light and dark themes. The page follows the system's `prefers-color-scheme` until the reader
//! chooses; the choice is kept in `localStorage` and set as `data-theme` on the document, which
//! the stylesheet reads.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
const THEME_KEY: &str = "chat.theme";

#[component]
pub fn ThemeToggle() -> impl IntoView {
    // Unknown until hydrated: the server cannot know the reader's system setting.
    let dark = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let system_dark = window()
            .match_media("(prefers-color-scheme: dark)")
            .ok()
            .flatten()
            .is_some_and(|query| query.matches());
        let chosen = crate::client::storage::load(THEME_KEY);
        let is_dark = chosen.as_deref().map_or(system_dark, |theme| theme == "dark");
        apply(chosen.as_deref());
        dark.set(is_dark);
    });
    let toggle = move |_| {
        let now_dark = !dark.get_untracked();
        dark.set(now_dark);
        #[cfg(feature = "hydrate")]
        {
            let theme = if now_dark { "dark" } else { "light" };
            crate::client::storage::save(THEME_KEY, theme);
            apply(Some(theme));
        }
    };
    view! {
        <button type="button" class="theme-toggle" aria-pressed=move || dark.get().to_string() on:click=toggle>
            "Dark theme"
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn apply(theme: Option<&str>) {
    if let Some(root) = document().document_element() {
        let _ = match theme {
            Some(theme) => root.set_attribute("data-theme", theme),
            None => root.remove_attribute("data-theme"),
        };
    }
}
