//! Who a request comes from, as the listener saw it.

use crate::identity::AddressKey;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};

/// The client address of a request. Unknown, it counts as one address with every other unknown
/// one.
pub(super) fn address_of(request: &Parts) -> AddressKey {
    let ip =
        request.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    AddressKey::from(ip)
}
