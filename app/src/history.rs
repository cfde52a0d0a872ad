//! The room's recent history for the page's first render. On the server it is read from the
//! room's log (through the [`Backend`](crate::api::Backend) the server provides), so the page shows
//! the conversation before any wasm runs, and without JavaScript at all; the browser hydrates
//! from the rendered data and resumes the WebSocket after its last message.

use crate::names::RoomName;
use crate::protocol::ServerEvent;
use leptos::prelude::*;

/// The room's recent messages, fetched once per page.
pub fn recent_history(room: RoomName) -> Resource<Vec<ServerEvent>> {
    #[cfg(feature = "ssr")]
    let source = use_context::<crate::api::BackendContext>();
    Resource::new(
        move || room.clone(),
        move |room| {
            #[cfg(feature = "ssr")]
            {
                let source = source.clone();
                async move {
                    match source {
                        Some(source) => source.0.recent_history(room).await,
                        None => Vec::new(),
                    }
                }
            }
            // Only reached when the page was not rendered by the server with this room (a
            // client-side navigation): the same page over HTTP.
            #[cfg(not(feature = "ssr"))]
            {
                fetch(room)
            }
        },
    )
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn fetch(room: RoomName) -> impl std::future::Future<Output = Vec<ServerEvent>> + Send {
    send_wrapper::SendWrapper::new(async move {
        let url = format!("/api/rooms/{room}/messages?limit=50");
        match gloo_net::http::Request::get(&url).send().await {
            Ok(response) if response.ok() => {
                response.json::<crate::protocol::HistoryPage>().await.map(|p| p.messages).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    })
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn fetch(_room: RoomName) -> impl std::future::Future<Output = Vec<ServerEvent>> + Send {
    std::future::ready(Vec::new())
}
