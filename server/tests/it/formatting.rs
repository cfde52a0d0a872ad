//! The formatting subset through a real server: the server reads a message's Markdown and sends
//! its tree with the message (live, in history, to a client that resumes, through the JSON API),
//! again with an edit; plain text carries none; plain clients read the text as written.

use crate::helpers::*;
use app::markup::{Block, Inline, Markup};
use app::protocol::ServerEvent;

/// The next message event: `(id, markup)`.
async fn next_markup(ws: &mut Ws) -> (u64, Option<Markup>) {
    loop {
        if let ServerEvent::Message { id, markup, .. } = next_event(ws).await {
            return (id, markup);
        }
    }
}

fn t(text: &str) -> Inline {
    Inline::Text(text.to_owned())
}

#[tokio::test]
async fn formatting_is_read_by_the_server_and_sent_with_the_message() {
    let server = spawn_unthrottled().await;
    let (mut ann, ready) = server.json("/chat/fmt?name=ann").await;
    let ServerEvent::Ready { epoch, .. } = ready else { panic!("{ready:?}") };
    let mut old = server.plain("/chat/fmt?name=old").await;
    say_json(&mut ann, "a1", "plain @bob https://x.org/a_b").await;
    say_json(&mut ann, "a2", "**bold** and `code`\n> quoted").await;
    let bold = vec![
        Block::Paragraph(vec![Inline::Strong(vec![t("bold")]), t(" and "), Inline::Code("code".into())]),
        Block::Quote(vec![Block::Paragraph(vec![t("quoted")])]),
    ];
    let (mut bob, _) = server.json("/chat/fmt?name=bob").await;
    assert_eq!(next_markup(&mut bob).await, (1, None), "plain text carries none");
    assert_eq!(next_markup(&mut bob).await, (2, Some(bold.clone())), "in history");
    // Plain clients read it as written.
    let mut said = Vec::new();
    while said.len() < 3 {
        let line = next_text(&mut old).await;
        if line.starts_with("ann:") {
            said.push(line);
        }
    }
    assert_eq!(said, ["ann:plain @bob https://x.org/a_b", "ann:**bold** and `code`", "ann:> quoted"]);

    // An edit is read again; a client that resumes gets the new tree.
    let edit = serde_json::json!({"type": "edit", "target": 1, "text": "now *formatted*"});
    send_text(&mut ann, &edit.to_string()).await;
    let edited = loop {
        if let ServerEvent::Edited { markup, .. } = next_event(&mut bob).await {
            break markup;
        }
    };
    let formatted = vec![Block::Paragraph(vec![t("now "), Inline::Emphasis(vec![t("formatted")])])];
    assert_eq!(edited, Some(formatted.clone()));
    let (mut cat, _) = server.json(&format!("/chat/fmt?name=cat&after=0&epoch={epoch}")).await;
    assert_eq!(next_markup(&mut cat).await, (1, Some(formatted)));

    // The JSON API says the same.
    let (status, body) = http_get(server.addr, "/api/rooms/fmt/messages").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""markup":[{"p":[{"t":"now "},{"i":[{"t":"formatted"}]}]}]"#), "{body}");
    assert_eq!(body.matches(r#""markup""#).count(), 2, "{body}");
    server.stop().await;
}
