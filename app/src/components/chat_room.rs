//! One room: its header, its log, who is typing, the composer (or, on a first visit, the
//! nickname to choose), and its members.

use super::{
    composer::Composer, member_list::MemberList, message_log::MessageLog, nickname::NicknameForm,
    notifications::MentionNotifications, room_settings::RoomSettings, status::ConnectionStatus,
    typing::TypingIndicator,
};
use crate::connection::RoomLink;
use crate::names::RoomName;
use crate::session::use_session;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ChatRoom(room: RoomName) -> impl IntoView {
    let session = use_session();
    let heading = format!("#{room}");
    let history = crate::history::recent_history(room.clone());
    let room = StoredValue::new(room);
    view! {
        <main class="room" id="main">
            // Waits for the history and the session, so the server's HTML holds the conversation
            // and the right form, with or without JavaScript.
            <Suspense fallback=move || view! { <h1>{heading.clone()}</h1> }>
                {move || Suspend::new(async move {
                    let messages = history.await;
                    let session = session.resolve().await;
                    let room = room.get_value();
                    let link = RoomLink::new(room.clone(), session.nickname.into());
                    link.seed(&messages);
                    view! { <RoomView room link/> }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn RoomView(room: RoomName, link: RoomLink) -> impl IntoView {
    let session = use_session();
    let base = format!("#{room} · Chat");
    // What arrived while the page was hidden: "(3)", or "(@1 · 3)" when one of them calls the
    // reader by name.
    let title = move || match (link.unread.get(), link.mentioned.get()) {
        (0, _) => base.clone(),
        (unread, 0) => format!("({unread}) {base}"),
        (unread, mentioned) => format!("(@{mentioned} · {unread}) {base}"),
    };
    view! {
        <Title text=title/>
        <header class="room-header">
            <h1>{format!("#{room}")}</h1>
            {move || {
                let topic = link.rules.with(|r| r.topic.clone());
                (!topic.is_empty()).then(|| view! { <p class="topic">{topic}</p> })
            }}
            <RoomSettings link/>
            <MentionNotifications/>
            <ConnectionStatus link/>
        </header>
        <div class="room-body">
            <section class="conversation" aria-label="Conversation">
                <MessageLog link/>
                <TypingIndicator link/>
                <Show
                    when=move || session.nickname.get().is_some()
                    fallback=move || view! {
                        <div class="first-visit">
                            <NicknameForm
                                field_id="first-nickname"
                                label="Choose a nickname to start chatting"
                                room=Some(link.room.get_value().to_string())
                            />
                        </div>
                    }
                >
                    <Composer link/>
                </Show>
            </section>
            <MemberList link/>
        </div>
        // New messages by others, read out by screen readers.
        <div class="visually-hidden" aria-live="polite" aria-atomic="true">{move || link.announcement.get()}</div>
    }
}
