//! The routed pages: the lobby at `/`, any room at `/r/{room}`, and `/join?room=` (where the
//! join form goes without JavaScript).

use super::{chat_room::ChatRoom, join_room::bad_room_name, join_room::JoinRoomForm, room_list::room_href};
use crate::names::RoomName;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_params_map, use_query_map};

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
            Err(err) => {
                #[cfg(feature = "ssr")]
                if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                    response.set_status(http::StatusCode::NOT_FOUND);
                }
                view! {
                <main class="room" id="main">
                    <h1>"No such room"</h1>
                    <p class="error" role="alert">{bad_room_name(&err)}</p>
                    <p><a href="/">"Go to the lobby"</a></p>
                </main>
                }
                .into_any()
            }
        }
    }
}

#[component]
pub fn JoinPage() -> impl IntoView {
    let query = use_query_map();
    move || {
        let raw = query.read().get("room").unwrap_or_default();
        match RoomName::parse(raw.trim()) {
            Ok(room) => view! { <Redirect path=room_href(&room)/> }.into_any(),
            Err(err) => view! {
                <main class="room" id="main">
                    <h1>"Join a room"</h1>
                    <JoinRoomForm field_id="join-page" initial_error=bad_room_name(&err)/>
                </main>
            }
            .into_any(),
        }
    }
}
