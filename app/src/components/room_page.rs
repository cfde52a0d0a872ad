//! The two routed pages: the lobby at `/` and any room at `/r/{room}`.

use super::chat_room::ChatRoom;
use crate::names::RoomName;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn LobbyPage() -> impl IntoView {
    view! { <ChatRoom room=RoomName::lobby()/> }
}

#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    move || {
        let raw = params.read().get("room").unwrap_or_default();
        match RoomName::parse(&raw) {
            Ok(room) => view! { <ChatRoom room/> }.into_any(),
            Err(err) => view! {
                <main class="page">
                    <p class="error" role="alert">"There is no room by that name: " {err.to_string()} "."</p>
                    <p><a href="/">"Go to the lobby"</a></p>
                </main>
            }
            .into_any(),
        }
    }
}
