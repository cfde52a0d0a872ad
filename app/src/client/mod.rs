//! Browser-only code: the WebSocket that carries the JSON dialect, and the little the page keeps
//! in the browser's storage.

pub mod socket;
pub mod storage;

/// The WebSocket URL of `room` on the server that served this page: same host, and `wss:` when
/// the page came over https.
pub fn room_url(room: &str, nickname: Option<&str>) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    let host = location.host().ok()?;
    let mut url = format!("{scheme}://{host}/chat/{room}");
    if let Some(name) = nickname {
        url.push_str("?name=");
        url.push_str(&String::from(js_sys::encode_uri_component(name)));
    }
    Some(url)
}
