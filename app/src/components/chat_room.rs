//! One room: its header (name, connection state, nickname), its log and the composer.

use super::{composer::Composer, message_log::MessageLog, nickname::NicknameForm, status::ConnectionStatus};
use crate::connection::RoomLink;
use crate::names::RoomName;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ChatRoom(room: RoomName) -> impl IntoView {
    let title = format!("#{room} · Chat");
    let heading = format!("#{room}");
    let history = crate::history::recent_history(room.clone());
    let link = RoomLink::new(room);
    view! {
        <Title text=title/>
        <main class="page room">
            <header class="room-header">
                <h1>{heading}</h1>
                <ConnectionStatus link/>
                <NicknameForm link/>
            </header>
            // The log waits for the history, so the server's HTML holds the conversation.
            <Suspense fallback=|| view! { <ol class="log" aria-busy="true" aria-label="Messages"></ol> }>
                {move || Suspend::new(async move {
                    let messages = history.await;
                    link.seed(&messages);
                    view! { <MessageLog link/> }
                })}
            </Suspense>
            <Composer link/>
        </main>
    }
}
