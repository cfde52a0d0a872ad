//! Choosing a nickname: a server function sets the session cookie that binds it, so the server
//! (not this form) decides who the reader is. Works without JavaScript (the form posts and the
//! page comes back); with JavaScript the answer shows in place and the room reconnects.

use crate::api::{url_error, SetNickname};
use crate::names::Nickname;
use crate::session::use_session;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn NicknameForm(
    field_id: &'static str,
    label: &'static str,
    /// The room the reader is in, where the nickname must be free.
    room: Option<String>,
) -> impl IntoView {
    let session = use_session();
    let action = ServerAction::<SetNickname>::new();
    let from_url = url_error(SetNickname::PATH);
    Effect::new(move |_| {
        if let Some(Ok(name)) = action.value().get() {
            session.nickname.set(Some(name));
        }
    });
    let hint = move || match action.value().get() {
        Some(Err(err)) => Some(crate::api::error_text(&err)),
        Some(Ok(_)) => None,
        None => from_url.get(),
    };
    let hint_id = format!("{field_id}-hint");
    view! {
        <ActionForm action attr:class="nickname">
            {room.map(|room| view! { <input type="hidden" name="room" value=room/> })}
            <label for=field_id>{label}</label>
            <div class="field-row">
                <input
                    id=field_id
                    name="nickname"
                    type="text"
                    required
                    autocomplete="nickname"
                    autocapitalize="none"
                    spellcheck="false"
                    maxlength=Nickname::MAX_LEN
                    aria-describedby=hint_id.clone()
                    value=move || session.nickname.get().unwrap_or_default()
                />
                <button type="submit" disabled=move || action.pending().get()>
                    {move || if session.nickname.get().is_some() { "Change" } else { "Start chatting" }}
                </button>
            </div>
            <p class="hint" id=hint_id role="alert">{hint}</p>
        </ActionForm>
    }
}
