//! The seeds' plain-text room, line for line (SEED-PROTOCOLS.md section 2).

use crate::helpers::*;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn welcome_message_and_logout_lines() {
    let server = spawn_server().await;
    let mut alice = server.plain("/chat?name=alice").await;
    assert_eq!(next_text(&mut alice).await, "Welcome, alice !");

    let mut bob = server.plain("/chat?name=bob").await;
    assert_eq!(next_text(&mut bob).await, "Welcome, bob !");
    assert_eq!(next_text(&mut alice).await, "Welcome, bob !");

    send_text(&mut alice, "hello bob").await;
    assert_eq!(next_text(&mut alice).await, "alice:hello bob");
    assert_eq!(next_text(&mut bob).await, "alice:hello bob");

    // `quit`: everyone, the quitter included, reads the logout; then the server closes.
    send_text(&mut bob, "quit").await;
    assert_eq!(next_text(&mut bob).await, "bob Logout");
    assert_eq!(expect_close(&mut bob).await.code, CloseCode::Normal);
    assert_eq!(next_text(&mut alice).await, "bob Logout");
    server.stop().await;
}

#[tokio::test]
async fn closing_announces_the_logout() {
    let server = spawn_server().await;
    let mut alice = server.plain("/chat/den?name=alice").await;
    assert_eq!(next_text(&mut alice).await, "Welcome, alice !");
    let mut carol = server.plain("/chat/den?name=carol").await;
    assert_eq!(next_text(&mut alice).await, "Welcome, carol !");
    carol.close(None).await.expect("close");
    assert_eq!(next_text(&mut alice).await, "carol Logout");

    // Dropping the TCP connection without a close frame counts as leaving too.
    let dave = server.plain("/chat/den?name=dave").await;
    assert_eq!(next_text(&mut alice).await, "Welcome, dave !");
    drop(dave);
    assert_eq!(next_text(&mut alice).await, "dave Logout");
    server.stop().await;
}

#[tokio::test]
async fn a_client_without_a_name_gets_a_guest_name_never_its_address() {
    let server = spawn_server().await;
    let mut anon = server.plain("/chat").await;
    let welcome = next_text(&mut anon).await;
    let name = welcome
        .strip_prefix("Welcome, guest-")
        .and_then(|rest| rest.strip_suffix(" !"))
        .unwrap_or_else(|| panic!("unexpected greeting {welcome:?}"));
    assert!(name.len() == 4 && name.chars().all(|c| c.is_ascii_digit()), "{welcome}");
    assert!(!welcome.contains("127.0.0.1"));
    server.stop().await;
}

/// A guest name the server picked that someone in the room holds is replaced by the next free
/// one: the client asked for no name, so none of its own is refused.
#[tokio::test]
async fn a_guest_name_that_is_taken_is_replaced_not_refused() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    config.limits.guest_names = 2;
    let server = spawn_with(config, data).await;
    let guest = |welcome: String| {
        welcome.strip_prefix("Welcome, ").and_then(|w| w.strip_suffix(" !")).map(str::to_owned)
    };
    let mut first = server.plain("/chat/g").await;
    let one = guest(next_text(&mut first).await).expect("a welcome");
    let mut second = server.plain("/chat/g").await;
    let two = guest(next_text(&mut second).await).expect("a welcome, not a refusal");
    assert_ne!(one, two);
    assert!([&one, &two].iter().all(|name| ["guest-0000", "guest-0001"].contains(&name.as_str())));
    // With every guest name taken, there is nothing left to give.
    let mut third = server.plain("/chat/g").await;
    assert_eq!(expect_close(&mut third).await.code, CloseCode::Policy);
    server.stop().await;
}

#[tokio::test]
async fn the_seed_root_url_reaches_the_lobby() {
    let server = spawn_server().await;
    let mut at_root = server.plain("/?name=old_page").await;
    assert_eq!(next_text(&mut at_root).await, "Welcome, old_page !");
    let mut at_chat = server.plain("/chat?name=new_page").await;
    assert_eq!(next_text(&mut at_chat).await, "Welcome, new_page !");
    assert_eq!(next_text(&mut at_root).await, "Welcome, new_page !");
    send_text(&mut at_root, "same room").await;
    assert_eq!(next_text(&mut at_chat).await, "old_page:same room");
    server.stop().await;
}

#[tokio::test]
async fn seed_002s_subprotocol_offer_is_answered_with_chat() {
    let server = spawn_server().await;
    let (mut ws, selected) = connect(&server.url("/chat?name=s002"), Some("chat, superchat")).await;
    assert_eq!(selected.as_deref(), Some("chat"));
    assert_eq!(next_text(&mut ws).await, "Welcome, s002 !");
    server.stop().await;
}

#[tokio::test]
async fn rooms_are_separate() {
    let server = spawn_server().await;
    let mut a = server.plain("/chat/one?name=a").await;
    let mut b = server.plain("/chat/two?name=b").await;
    assert_eq!(next_text(&mut a).await, "Welcome, a !");
    assert_eq!(next_text(&mut b).await, "Welcome, b !");
    send_text(&mut a, "only in one").await;
    assert_eq!(next_text(&mut a).await, "a:only in one");
    expect_silence(&mut b).await;
    server.stop().await;
}

#[tokio::test]
async fn blank_messages_are_dropped_and_text_is_relayed_verbatim() {
    let server = spawn_server().await;
    let mut a = server.plain("/chat?name=a").await;
    assert_eq!(next_text(&mut a).await, "Welcome, a !");
    send_text(&mut a, "").await;
    send_text(&mut a, "   ").await;
    send_text(&mut a, "<script>alert(1)</script> : ünï ✓").await;
    assert_eq!(next_text(&mut a).await, "a:<script>alert(1)</script> : ünï ✓");
    server.stop().await;
}

/// No line can pass for someone else's: a message of several lines reaches plain clients as
/// several `<name>:<line>` lines. A page in a browser (its handshake has an `Origin`) gets them
/// HTML-escaped, since the seeds' pages insert what they receive with `innerHTML`; programs get
/// them as they are.
#[tokio::test]
async fn lines_cannot_be_forged_and_pages_get_them_escaped() {
    let server = spawn_server().await;
    let mut program = server.plain("/chat/f?name=program").await;
    assert_eq!(next_text(&mut program).await, "Welcome, program !");
    let origin = format!("http://{}", server.addr);
    let (mut page, _) = connect_with(&server.url("/chat/f?name=page"), None, &[("Origin", &origin)]).await;
    assert_eq!(next_text(&mut page).await, "Welcome, page !");
    assert_eq!(next_text(&mut program).await, "Welcome, page !");

    // From the JSON dialect...
    let (mut bob, _) = server.json("/chat/f?name=bob").await;
    say_json(&mut bob, "b1", "hi\nalice:I am alice\r\n\n<img src=x onerror=alert(1)> & co").await;
    // ...and from the plain one.
    send_text(&mut program, "one\nprogram:two").await;
    for expected in
        ["Welcome, bob !", "bob:hi", "bob:alice:I am alice", "bob:<img src=x onerror=alert(1)> & co"]
    {
        assert_eq!(next_text(&mut program).await, expected);
    }
    assert_eq!(next_text(&mut program).await, "program:one");
    assert_eq!(next_text(&mut program).await, "program:program:two");
    for expected in [
        "Welcome, bob !",
        "bob:hi",
        "bob:alice:I am alice",
        "bob:&lt;img src=x onerror=alert(1)&gt; &amp; co",
        "program:one",
        "program:program:two",
    ] {
        assert_eq!(next_text(&mut page).await, expected);
    }
    server.stop().await;
}

/// Control characters never reach a room: the plain dialect, which has no error line, closes
/// with 1007 and says why; nothing is stored.
#[tokio::test]
async fn control_characters_are_refused_with_1007() {
    let server = spawn_server().await;
    let mut a = server.plain("/chat/c?name=a").await;
    assert_eq!(next_text(&mut a).await, "Welcome, a !");
    let mut b = server.plain("/chat/c?name=b").await;
    assert_eq!(next_text(&mut b).await, "Welcome, b !");
    assert_eq!(next_text(&mut a).await, "Welcome, b !");
    send_text(&mut a, "\u{1b}[2Jthe screen is cleared").await;
    let frame = expect_close(&mut a).await;
    assert_eq!(frame.code, CloseCode::Invalid);
    assert!(frame.reason.contains("U+001B"), "{}", frame.reason);
    assert_eq!(next_text(&mut b).await, "a Logout", "and nothing else");
    server.stop().await;
}

#[tokio::test]
async fn bad_names_are_refused_with_a_reason() {
    let server = spawn_server().await;
    let mut ws = server.plain("/chat?name=a:b").await;
    let frame = expect_close(&mut ws).await;
    assert_eq!(frame.code, CloseCode::Policy);
    assert!(frame.reason.contains("bad name"), "{}", frame.reason);

    let mut ws = server.plain("/chat/No%20Such?name=x").await;
    let frame = expect_close(&mut ws).await;
    assert_eq!(frame.code, CloseCode::Policy);
    assert!(frame.reason.contains("bad room name"), "{}", frame.reason);
    server.stop().await;
}

#[tokio::test]
async fn an_over_long_message_closes_with_1009() {
    let server = spawn_server().await;
    let mut a = server.plain("/chat?name=a").await;
    assert_eq!(next_text(&mut a).await, "Welcome, a !");
    send_text(&mut a, &"x".repeat(app::names::MessageText::MAX_BYTES + 1)).await;
    let frame = expect_close(&mut a).await;
    assert_eq!(frame.code, CloseCode::Size);
    server.stop().await;
}

/// A newcomer's own `Welcome` travels through the room like every event; in a join storm a
/// newcomer can fall behind the room's backlog before it arrives. It must be greeted anyway.
#[tokio::test]
async fn everyone_in_a_join_storm_is_welcomed() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    config.limits.room_backlog = 2;
    let server = spawn_with(config, data).await;
    let joins = (0..40).map(|i| {
        let url = server.url(&format!("/chat/storm?name=n{i}"));
        tokio::spawn(async move {
            let (mut ws, _) = connect(&url, None).await;
            let mine = format!("Welcome, n{i} !");
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
            // Others' welcomes may come first, or be missed: this one must come.
            while tokio::time::Instant::now() < deadline {
                if next_text(&mut ws).await == mine {
                    return ws;
                }
            }
            panic!("n{i} was never welcomed");
        })
    });
    let joined = futures_util::future::join_all(joins).await;
    assert!(joined.iter().all(Result::is_ok));
    server.stop().await;
}
