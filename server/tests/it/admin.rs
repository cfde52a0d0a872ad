//! `server admin …`: the operator acts on a running server through its socket in the data
//! directory, with the power of every room's owner.

use crate::helpers::*;
use app::protocol::ServerEvent;
use std::path::Path;
use std::process::Stdio;

/// Runs `server --data-dir <data> admin <args>`: whether it succeeded, and what it printed.
pub async fn admin(data: &Path, args: &[&str]) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--data-dir")
        .arg(data)
        .arg("admin")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("run server admin");
    let printed =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), printed)
}

#[tokio::test]
async fn the_operator_runs_every_room_from_the_command_line() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().expect("temp dir");
    let (ok, said) = admin(data.path(), &["rooms"]).await;
    assert!(!ok && said.contains("is it running"), "{said}");

    let addr = free_addr();
    let _server = start_server(addr, data.path());
    wait_until_up(addr).await;
    let socket = std::fs::metadata(data.path().join("admin.sock")).expect("the admin socket");
    assert_eq!(socket.permissions().mode() & 0o777, 0o600, "the owner's alone");

    let url = |path: &str| format!("ws://{addr}{path}");
    let (mut watcher, _) = connect(&url("/chat/yard?name=wat"), Some(app::protocol::SUBPROTOCOL)).await;
    let (mut guest, _) = connect(&url("/chat/yard?name=gus"), None).await;
    send_text(&mut guest, "buy now").await;
    let mut spam = 0;
    while spam == 0 {
        if let ServerEvent::Message { id, .. } = next_event(&mut watcher).await {
            spam = id;
        }
    }

    let (ok, said) = admin(data.path(), &["delete", "yard", &spam.to_string()]).await;
    assert!(ok, "{said}");
    let (ok, said) = admin(data.path(), &["topic", "yard", "no ads"]).await;
    assert!(ok && said.contains("operator set the topic: no ads"), "{said}");
    let (ok, said) = admin(data.path(), &["ban", "yard", "gus", "--reason", "spam"]).await;
    assert!(ok && said.contains("operator banned gus: spam"), "{said}");
    let close = skip_to_close_within(&mut guest, PATIENCE).await;
    assert!(close.reason.contains("banned from #yard"), "{close:?}");
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match next_event(&mut watcher).await {
            ServerEvent::Deleted { target, .. } => seen.push(format!("deleted {target}")),
            ServerEvent::Rules { rules, .. } => seen.push(format!("topic {}", rules.topic)),
            ServerEvent::Moderated { action: app::protocol::Action::Ban { .. }, .. } => {
                seen.push("ban".into())
            }
            _ => {}
        }
    }
    assert_eq!(seen, [format!("deleted {spam}"), "topic no ads".into(), "ban".into()]);

    // What the operator reads: the room, the rooms, the audit.
    let (ok, said) = admin(data.path(), &["room", "yard"]).await;
    assert!(ok && said.contains("topic: no ads") && said.contains("Ban of gus"), "{said}");
    let (ok, said) = admin(data.path(), &["rooms"]).await;
    assert!(ok && said.contains("#yard\t1 here"), "{said}");
    let (ok, said) = admin(data.path(), &["audit", "yard"]).await;
    let lines: Vec<&str> = said.lines().collect();
    assert!(ok && lines.len() == 3, "{said}");
    assert!(lines[0].ends_with(&format!("operator deleted message {spam}")), "{said}");
    assert!(lines[2].ends_with("operator banned gus: spam"), "{said}");

    // Roles are for accounts; a refusal says why and fails the command.
    let (ok, said) = admin(data.path(), &["grant", "yard", "wat", "moderator"]).await;
    assert!(!ok && said.contains("not a registered nickname"), "{said}");
    let (ok, said) = admin(data.path(), &["pardon", "yard", "gus"]).await;
    assert!(ok, "{said}");
    let (_back, _) = connect(&url("/chat/yard?name=gus"), None).await;
}
