//! "alice is typing…" under the log. Always present (empty when nobody types), so the composer
//! does not jump.

use crate::connection::RoomLink;
use leptos::prelude::*;

#[component]
pub fn TypingIndicator(link: RoomLink) -> impl IntoView {
    let line = move || link.me.with(|me| link.roster.with(|r| r.typing_line(me)));
    view! { <p class="typing">{line}</p> }
}
