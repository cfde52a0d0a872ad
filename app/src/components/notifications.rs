//! The offer to be notified of mentions: the browser asks the reader only after a click on it.
//! Shown while the reader has not answered; once they allow, the page says so; once they refuse,
//! it says where to change that. Nothing without JavaScript or without the browser's support.

use leptos::prelude::*;

/// The reader's answer, as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Answer {
    /// No notifications here (no script yet, or none in this browser).
    Unsupported,
    NotAsked,
    Allowed,
    Refused,
}

#[cfg(feature = "hydrate")]
fn current() -> Answer {
    use web_sys::NotificationPermission as P;
    match crate::client::notify::permission() {
        None => Answer::Unsupported,
        Some(P::Granted) => Answer::Allowed,
        Some(P::Denied) => Answer::Refused,
        Some(_) => Answer::NotAsked,
    }
}

#[component]
pub fn MentionNotifications() -> impl IntoView {
    let answer = RwSignal::new(Answer::Unsupported);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| answer.set(current()));
    let ask = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let _ = crate::client::notify::request().await;
            answer.set(current());
        });
    };
    move || match answer.get() {
        Answer::Unsupported => ().into_any(),
        Answer::NotAsked => view! {
            <button type="button" class="notify-offer" on:click=ask>"Notify me of mentions"</button>
        }
        .into_any(),
        Answer::Allowed => view! { <span class="notify-state muted">"Mentions notify you"</span> }.into_any(),
        Answer::Refused => view! {
            <span class="notify-state muted" title="The browser's site settings can allow them">
                "Notifications are blocked"
            </span>
        }
        .into_any(),
    }
}
