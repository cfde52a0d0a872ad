//! Benchmark: how long reading one server event from its JSON takes (what the page, chat-cli and
//! the server's Tornado dialect do with every event). Not a test: it prints figures for
//! docs/BENCHMARKS.md.
//!
//!   cargo run --release -p app --example read_events
//!
//! The events are a mix of what a room sends most: a message with a reply and reactions, a short
//! message, a typing list and an acknowledgement.

use app::protocol::ServerEvent;
use std::time::Instant;

const EVENTS: [&str; 4] = [
    r#"{"type":"message","id":12345,"epoch":1733616000000,"room":"lobby","author":"alice","text":"see you at the meeting at noon, bring the slides","at":1733616000123,"client_id":"c-8f2a9d","reactions":[{"emoji":"👍","by":["bob","carol"]}],"reply":{"id":12340,"author":"bob","excerpt":"when is the meeting?"}}"#,
    r#"{"type":"message","id":12346,"epoch":1733616000000,"room":"lobby","author":"bob","text":"ok","at":1733616000200}"#,
    r#"{"type":"typing","room":"lobby","names":["alice","bob"]}"#,
    r#"{"type":"ack","client_id":"c-8f2a9d","id":12345}"#,
];

const READS: usize = 1_000_000;

fn main() {
    for event in EVENTS {
        if let Err(err) = ServerEvent::from_json(event) {
            eprintln!("{event}: {err}");
            std::process::exit(1);
        }
    }
    for _ in 0..5 {
        let start = Instant::now();
        let read = (0..READS).filter(|i| ServerEvent::from_json(EVENTS[i % EVENTS.len()]).is_ok()).count();
        let elapsed = start.elapsed();
        println!("{:.0} ns an event ({read} read)", elapsed.as_nanos() as f64 / READS as f64);
    }
}
