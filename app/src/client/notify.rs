//! The browser's notifications: a mention while the page is hidden shows one, if the reader
//! allowed them. The text goes to the system as text.

use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{Notification, NotificationOptions, NotificationPermission};

/// Characters of the message shown in a notification, at most.
const BODY_CHARS: usize = 180;

/// The reader's answer so far: `None` where the browser has no notifications at all.
pub fn permission() -> Option<NotificationPermission> {
    let window: JsValue = web_sys::window()?.into();
    let present = js_sys::Reflect::has(&window, &JsValue::from_str("Notification")).unwrap_or(false);
    present.then(Notification::permission)
}

/// Asks the reader (the browser shows its own prompt; only a click may ask) and gives the answer.
pub async fn request() -> Option<NotificationPermission> {
    let promise = Notification::request_permission().ok()?;
    // The answer itself is read again below: an old browser resolves with nothing.
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    permission()
}

/// Shows that `author` mentioned the reader in `room`; a click brings the page forward with the
/// message in view. Nothing when the reader has not allowed it.
pub fn mention(room: &str, author: &str, text: &str, line_id: &str) {
    if permission() != Some(NotificationPermission::Granted) {
        return;
    }
    let options = NotificationOptions::new();
    let mut body: String = text.chars().take(BODY_CHARS).collect();
    if text.chars().nth(BODY_CHARS).is_some() {
        body.push('…');
    }
    options.set_body(&body);
    // One per message: shown again (a resume), it replaces itself.
    options.set_tag(&format!("{room}/{line_id}"));
    let Ok(notification) =
        Notification::new_with_options(&format!("{author} mentioned you in #{room}"), &options)
    else {
        return;
    };
    let line_id = line_id.to_owned();
    let shown = notification.clone();
    let on_click = Closure::once_into_js(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.focus();
            let line = window
                .document()
                .and_then(|d| d.get_element_by_id(&line_id))
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(line) = line {
                line.scroll_into_view();
                let _ = line.focus();
            }
        }
        shown.close();
    });
    notification.set_onclick(on_click.dyn_ref());
}
