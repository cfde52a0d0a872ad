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
    let link = RoomLink::new(room);
    view! {
        <Title text=title/>
        <main class="page room">
            <header class="room-header">
                <h1>{heading}</h1>
                <ConnectionStatus link/>
                <NicknameForm link/>
            </header>
            <MessageLog link/>
            <Composer link/>
        </main>
    }
}
