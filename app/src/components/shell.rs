//! The sidebar beside every page: rooms, joining a room, the reader's nickname, the theme.

use super::{
    join_room::JoinRoomForm,
    nickname::NicknameForm,
    room_list::RoomList,
    search::{room_of_path, SidebarSearch},
    theme::ThemeToggle,
};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Sidebar() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    // The room being shown, where a new nickname must be free.
    let room = move || location.pathname.with(|path| room_of_path(path)).map(|room| room.to_string());
    view! {
        <nav class="sidebar" aria-label="Rooms and settings">
            <a class="brand" href="/">"Chat"</a>
            <SidebarSearch/>
            <RoomList/>
            <JoinRoomForm field_id="join-room"/>
            // Shown once the reader has a nickname; a first visit chooses one in the room.
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let session = session.resolve().await;
                    view! {
                        <Show when=move || session.nickname.get().is_some()>
                            <section class="you" aria-labelledby="you-heading">
                                <h2 id="you-heading">"You"</h2>
                                {move || view! { <NicknameForm field_id="nickname" label="Nickname" room=room()/> }}
                            </section>
                        </Show>
                    }
                })}
            </Suspense>
            <a class="account-link" href="/account">"Account"</a>
            <ThemeToggle/>
        </nav>
    }
}
