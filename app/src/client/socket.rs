//! The one owner of the browser's `WebSocket` and of the closures installed as its handlers.
//! Dropping a [`ChatSocket`] detaches the handlers and closes the socket, so a component that
//! goes away (or reconnects) leaks neither closures nor connections.

use crate::protocol::{ClientMessage, ServerEvent, SUBPROTOCOL};
use std::rc::Rc;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

/// What the owner of a socket hears from it.
/// The connection counts as open once the server's `ready` event arrives, not on the socket's
/// `open`, so there is no handler for that.
pub struct Handlers {
    pub on_event: Box<dyn Fn(ServerEvent)>,
    /// An undecodable frame: a server speaking another dialect, or a bug.
    pub on_garbage: Box<dyn Fn(String)>,
    /// The connection ended; `code` and `reason` come from the close frame (1006 when there was
    /// none: the network went away).
    pub on_close: Box<dyn Fn(u16, String)>,
}

pub struct ChatSocket {
    ws: WebSocket,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl ChatSocket {
    pub fn connect(url: &str, handlers: Handlers) -> Result<Self, JsValue> {
        let ws = WebSocket::new_with_str(url, SUBPROTOCOL)?;
        let handlers = Rc::new(handlers);

        let h = Rc::clone(&handlers);
        let on_message =
            Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| match ev.data().as_string() {
                Some(text) => match ServerEvent::from_json(&text) {
                    Ok(event) => (h.on_event)(event),
                    Err(err) => (h.on_garbage)(format!("unreadable message from the server: {err}")),
                },
                None => (h.on_garbage)("the server sent a binary frame".to_owned()),
            });

        let h = Rc::clone(&handlers);
        let on_close =
            Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| (h.on_close)(ev.code(), ev.reason()));

        // An error is always followed by a close event, which carries what the page needs to
        // know; the handler exists so the browser does not log it as unhandled.
        let on_error = Closure::<dyn FnMut(Event)>::new(|_: Event| {});

        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));

        Ok(Self { ws, _on_message: on_message, _on_close: on_close, _on_error: on_error })
    }

    pub fn is_open(&self) -> bool {
        self.ws.ready_state() == WebSocket::OPEN
    }

    pub fn send(&self, message: &ClientMessage) -> Result<(), JsValue> {
        self.ws.send_with_str(&message.to_json())
    }
}

impl Drop for ChatSocket {
    fn drop(&mut self) {
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let state = self.ws.ready_state();
        if state == WebSocket::CONNECTING || state == WebSocket::OPEN {
            // Nothing useful can be done if closing fails: the socket is being abandoned anyway.
            let _ = self.ws.close_with_code_and_reason(crate::protocol::close::NORMAL, "page left the room");
        }
    }
}
