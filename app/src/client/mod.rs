//! Browser-only code: the WebSocket that carries the JSON dialect, and the little the page keeps
//! in the browser's storage.

pub mod notify;
pub mod socket;
pub mod storage;

/// The WebSocket URL of `room` on the server that served this page (same host, `wss:` when the
/// page came over https), with `query` as its query string.
pub fn room_url(room: &str, query: &[(&str, String)]) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    let host = location.host().ok()?;
    let mut url = format!("{scheme}://{host}/chat/{room}");
    for (i, (key, value)) in query.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(key);
        url.push('=');
        url.push_str(&String::from(js_sys::encode_uri_component(value)));
    }
    Some(url)
}

/// A fresh id for a message this page sends: random, so that ids from several tabs or visits
/// never collide.
pub fn new_client_id() -> crate::names::ClientId {
    let word = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
    crate::names::ClientId::from_random([word(), word(), word()])
}
