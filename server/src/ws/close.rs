//! Close codes (RFC 6455, 7.4.1, and IANA's registry of them): one spelling for the whole server.

/// The purpose of the connection is fulfilled (`quit`).
pub const NORMAL: u16 = 1000;
/// The server is going away (shutting down).
pub const AWAY: u16 = 1001;
/// A frame that breaks the protocol.
pub const PROTOCOL: u16 = 1002;
/// A kind of data this endpoint does not take (binary frames in the plain dialect).
pub const UNSUPPORTED: u16 = 1003;
/// Data that does not fit the message's type (text that is not UTF-8, or not chat text).
pub const INVALID: u16 = 1007;
/// A policy was broken (a name, a flood, too many connections).
pub const POLICY: u16 = 1008;
/// A message too big to take.
pub const SIZE: u16 = 1009;
/// Try again later: the service cannot do it now.
pub const TRY_AGAIN: u16 = 1013;
