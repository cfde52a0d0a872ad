//! What the unit tests share: names, and sockets with a real peer.

use app::names::Nickname;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};

/// A nickname the test knows to be valid.
pub fn nick(name: &str) -> Nickname {
    Nickname::parse(name).expect("a valid test nickname")
}

/// A connected pair of loopback streams: the server's end and the client's.
pub async fn loopback() -> (Arc<TcpStream>, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind on loopback");
    let client = TcpStream::connect(listener.local_addr().expect("local address")).await.expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    (Arc::new(server), client)
}
