//! `chat-cli tail` and `send` against a real server on loopback, across the server's restart.

mod common;

use common::{cli, free_addr, send, serve, PATIENCE};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStdout;

/// The next line `tail` prints.
async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("tail printed nothing in time")
        .expect("tail's output")
        .expect("tail still runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_prints_a_room_live_and_resumes_after_the_server_restarts() {
    let data = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let server = serve(addr, data.path()).await;

    let (ok, said) = send(addr, "ann", "den", "hello world").await;
    assert!(ok, "{said}");
    assert_eq!(said.trim(), "1", "the stored message's number");

    let mut tail =
        cli(addr, &["--name", "watcher", "tail", "den"]).stdout(Stdio::piped()).spawn().expect("tail");
    let mut lines = BufReader::new(tail.stdout.take().expect("stdout")).lines();
    let first = next_line(&mut lines).await;
    assert!(first.ends_with("ann: hello world  #1"), "history first: {first}");
    // Live: what arrives after it joined (its own arrival may come first).
    let (ok, said) = send(addr, "bob", "den", "second").await;
    assert!(ok, "{said}");
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("bob: second")) {
        seen.push(next_line(&mut lines).await);
    }

    // The server goes away and comes back: tail connects again and resumes after #2.
    server.stop().await;
    let server = serve(addr, data.path()).await;
    let (ok, said) = send(addr, "ann", "den", "third").await;
    assert!(ok, "{said}");
    let mut after = Vec::new();
    while !after.iter().any(|l: &String| l.contains("ann: third")) {
        after.push(next_line(&mut lines).await);
    }
    assert!(
        after.iter().all(|l| !l.contains("hello world") && !l.contains("second")),
        "nothing twice: {after:?}"
    );

    // What cannot be sent is refused with the reason, and a failure code.
    let (ok, said) = send(addr, "ann", "no room/here", "x").await;
    assert!(!ok && said.contains("bad room name"), "{said}");
    // A token the server does not know is refused at once, not tried again for half a minute.
    let refused =
        tokio::time::timeout(PATIENCE, cli(addr, &["--token", "not-a-token", "send", "den", "x"]).output())
            .await
            .expect("refused at once")
            .expect("chat-cli runs");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("Authorization"), "{said}");
    drop(tail);
    server.stop().await;
}

/// TLS in front of the server at `plain`, as a proxy would put it: the certificate's authority
/// (in PEM) for clients to trust, and the address to reach it at.
async fn behind_tls(plain: std::net::SocketAddr) -> (String, std::net::SocketAddr) {
    let issued = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(issued.signing_key.serialize_der().into());
    #[allow(deprecated)] // the provider the client uses (see src/tls.rs)
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![issued.cert.der().clone()], key)
        .expect("the server's certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port for TLS");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A handshake the client refuses ends here: nothing reaches the server.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut server) = tokio::net::TcpStream::connect(plain).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
            });
        }
    });
    (issued.cert.pem(), addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_server_is_reached_over_tls_and_only_with_a_certificate_it_trusts() {
    let data = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let server = serve(addr, data.path()).await;
    let (authority, tls_addr) = behind_tls(addr).await;
    let trusted = data.path().join("authority.pem");
    std::fs::write(&trusted, authority).expect("writing the authority");
    let send_over_tls = |trust: &std::path::Path, text: &str| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat-cli"));
        command
            .arg("--server")
            .arg(format!("https://localhost:{}", tls_addr.port()))
            .args(["--name", "ann", "send", "den", text])
            .env("SSL_CERT_FILE", trust)
            .env_remove("SSL_CERT_DIR")
            .kill_on_drop(true);
        command.output()
    };

    let sent = send_over_tls(&trusted, "over tls").await.expect("chat-cli runs");
    let said = String::from_utf8_lossy(&sent.stderr);
    assert!(sent.status.success(), "{said}");
    assert_eq!(String::from_utf8_lossy(&sent.stdout).trim(), "1");

    // Against the system's authorities (here: none that signed this certificate) it refuses,
    // and posts nothing; the certificate problem is what it says.
    let system = std::path::Path::new("/etc/ssl/certs/ca-certificates.crt");
    let refused = tokio::time::timeout(PATIENCE, send_over_tls(system, "must not arrive"))
        .await
        .expect("it gives up at once, as trying again cannot help")
        .expect("chat-cli runs");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("certificate"), "{said}");

    let (ok, said) = send(addr, "bob", "den", "plain").await;
    assert!(ok, "{said}");
    assert_eq!(said.trim(), "2", "the refused message was never posted");
    server.stop().await;
}
