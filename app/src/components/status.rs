//! The visible connection state, with a way back in when the connection is lost.

use crate::connection::{ConnState, RoomLink};
use leptos::prelude::*;

#[component]
pub fn ConnectionStatus(link: RoomLink) -> impl IntoView {
    let state = link.state;
    let label = move || match state.get() {
        ConnState::Idle => "Choose a nickname to join".to_owned(),
        ConnState::Connecting => "Connecting…".to_owned(),
        ConnState::Connected => format!("Connected as {}", link.me.get()),
        ConnState::Lost => match link.close_reason.get() {
            Some(reason) => format!("Not connected: {reason}"),
            None => "Connection lost: reconnecting…".to_owned(),
        },
    };
    let reconnect = move |_| link.reconnect_now();
    view! {
        <div class="status" data-state=move || state.get().as_str()>
            <span class="status-dot" aria-hidden="true"></span>
            <span class="status-text" role="status">{label}</span>
            <Show when=move || state.get() == ConnState::Lost>
                <button type="button" class="reconnect" on:click=reconnect>"Reconnect now"</button>
            </Show>
        </div>
    }
}
