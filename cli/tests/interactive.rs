//! `chat-cli join` as a person uses it: in a pseudo-terminal, keys typed into it and the screen
//! read back through a terminal emulator, against a real server stopped and started under it.

mod common;

use common::{free_addr, send, serve, PATIENCE};
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the program made the terminal do besides drawing: what a message could try to make it do.
#[derive(Default)]
struct Obeyed {
    titles: usize,
    bells: usize,
}

impl vt100::Callbacks for Obeyed {
    fn set_window_title(&mut self, _: &mut vt100::Screen, _: &[u8]) {
        self.titles += 1;
    }

    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bells += 1;
    }
}

/// `chat-cli` running in a pseudo-terminal, and the screen it has drawn so far.
struct Term {
    screen: Arc<Mutex<vt100::Parser<Obeyed>>>,
    keys: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
}

const ROWS: NonZeroU16 = NonZeroU16::new(30).expect("rows");
const COLS: NonZeroU16 = NonZeroU16::new(110).expect("columns");

impl Term {
    fn start(addr: SocketAddr, args: &[&str]) -> Term {
        let pty = native_pty_system()
            .openpty(PtySize { rows: ROWS.get(), cols: COLS.get(), pixel_width: 0, pixel_height: 0 })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_chat-cli"));
        command.arg("--server");
        command.arg(format!("http://{addr}"));
        command.args(args);
        command.env("TERM", "xterm-256color");
        let child = pty.slave.spawn_command(command).expect("chat-cli starts");
        drop(pty.slave);
        let mut output = pty.master.try_clone_reader().expect("the terminal's output");
        let keys = pty.master.take_writer().expect("the terminal's input");
        let screen =
            Arc::new(Mutex::new(vt100::Parser::new_with_callbacks(ROWS, COLS, 0, Obeyed::default())));
        let drawn = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n @ 1..) = output.read(&mut buf) {
                drawn.lock().expect("the screen").process(&buf[..n]);
            }
        });
        Term { screen, keys, child, _master: pty.master }
    }

    fn contents(&self) -> String {
        self.screen.lock().expect("the screen").screen().contents()
    }

    fn typed(&mut self, text: &str) {
        self.keys.write_all(text.as_bytes()).and_then(|()| self.keys.flush()).expect("typing");
    }

    /// Waits until the screen shows what `shows` looks for; fails with the screen as it is.
    async fn until(&self, what: &str, shows: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let contents = self.contents();
            if shows(&contents) {
                return contents;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("the screen never showed {what}:\n{contents}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_chats_full_screen_through_a_restart_of_the_server() {
    let data = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let server = serve(addr, data.path()).await;
    let (ok, said) = send(addr, "bob", "den", "before you came").await;
    assert!(ok, "{said}");

    let mut ann = Term::start(addr, &["--name", "ann", "join", "den"]);
    ann.until("the room, connected, with its history and ann among its members", |s| {
        s.contains("connected as ann") && s.contains("bob: before you came  #1") && s.contains("1 here")
    })
    .await;
    assert!(ann.screen.lock().expect("the screen").screen().alternate_screen(), "full screen");

    // What ann types is posted; what others post appears.
    ann.typed("hello from a terminal\r");
    ann.until("ann's message, stored as #2", |s| s.contains("ann: hello from a terminal  #2")).await;
    let (ok, said) = send(addr, "bob", "den", "hi ann").await;
    assert!(ok, "{said}");
    ann.until("bob's message", |s| s.contains("bob: hi ann  #3")).await;

    // Text from the network cannot reorder the screen (a bidirectional override) or break out of
    // its line: both are shown as what they are. (The server refuses escape sequences outright.)
    let (ok, said) = send(addr, "bob", "den", "x\u{202E}gnp.exe\nsecond line").await;
    assert!(ok, "{said}");
    let shown =
        ann.until("the override as text", |s| s.contains("bob: x<U+202E>gnp.exe ⏎ second line  #4")).await;
    assert!(shown.contains("ann: hello from a terminal"), "nothing cleared:\n{shown}");
    let obeyed = ann.screen.lock().expect("the screen").callbacks().titles;
    assert_eq!(obeyed, 0, "no window title set");

    // An edit, by the number shown after the message.
    ann.typed("/edit 2 hello, edited\r");
    ann.until("the edit", |s| s.contains("ann: hello, edited (edited)  #2")).await;

    // The server goes away: the screen says so, and what ann types waits in the outbox.
    server.stop().await;
    ann.until("that it is offline", |s| s.contains("offline (")).await;
    ann.typed("typed while offline\r");
    ann.until("the message waiting", |s| {
        s.contains("ann: typed while offline  (waiting to be sent)") && s.contains("1 waiting to be sent")
    })
    .await;

    // It comes back: the message is stored, once, and shown with its number.
    let server = serve(addr, data.path()).await;
    let back = ann
        .until("the waiting message stored", |s| {
            s.contains("ann: typed while offline  #") && !s.contains("waiting to be sent")
        })
        .await;
    assert_eq!(back.matches("typed while offline").count(), 1, "once:\n{back}");
    assert_eq!(back.matches("hi ann").count(), 1, "the history is not shown twice on resume:\n{back}");

    // Ctrl-C leaves, giving the terminal back as it was.
    ann.typed("\u{3}");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = ann.child.try_wait().expect("chat-cli's status") {
            break status;
        }
        assert!(tokio::time::Instant::now() < deadline, "chat-cli did not quit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!ann.screen.lock().expect("the screen").screen().alternate_screen(), "the terminal restored");
    server.stop().await;
}
