//! Why the server closes a WebSocket connection: a close code, and the reason sent with it.
//! Every refusal carries its code, so the code a client gets is decided where the rule is.

use app::protocol::close;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (close {code})")]
pub struct Refusal {
    pub code: u16,
    pub reason: String,
}

impl Refusal {
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Self { code, reason: reason.into() }
    }

    /// A frame that breaks RFC 6455 (1002).
    pub fn protocol(reason: impl Into<String>) -> Self {
        Self::new(close::PROTOCOL, reason)
    }

    /// A kind of data the endpoint does not take (1003).
    pub fn unsupported(reason: impl Into<String>) -> Self {
        Self::new(close::UNSUPPORTED, reason)
    }

    /// Data that is not what its type may hold (1007).
    pub fn invalid(reason: impl Into<String>) -> Self {
        Self::new(close::INVALID, reason)
    }

    /// A rule of this server broken: a name, a flood, a limit (1008).
    pub fn policy(reason: impl Into<String>) -> Self {
        Self::new(close::POLICY, reason)
    }

    /// A message too big to take (1009).
    pub fn too_big(reason: impl Into<String>) -> Self {
        Self::new(close::SIZE, reason)
    }

    /// Not now: the client may try again later (1013).
    pub fn try_again(reason: impl Into<String>) -> Self {
        Self::new(close::TRY_AGAIN, reason)
    }

    /// The server is going away (1001).
    pub fn away(reason: impl Into<String>) -> Self {
        Self::new(close::AWAY, reason)
    }
}
