//! How a connection's messages are put on the wire, fixed by its handshake.

/// RFC 6455 frames, or the hixie drafts' (see [`super::hixie`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    #[default]
    Rfc6455,
    /// Draft 75 or 76: text only, no ping, no close status.
    Hixie,
}

impl Framing {
    /// Whether the connection can be pinged: a hixie one cannot, and is kept alive by TCP.
    pub fn has_ping(self) -> bool {
        self == Self::Rfc6455
    }
}
