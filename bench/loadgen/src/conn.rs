//! One client connection: it joins its room, counts and times every benchmark message it
//! receives, sends at the rate it is told if it is a sender, and drops and rejoins on a storm.

use crate::dialect::{classify, welcome, Dialect, Incoming, Line};
use crate::plan::Member;
use crate::stats::Stats;
use crate::ws;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::MissedTickBehavior;

/// What every connection of a worker is told to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phase {
    /// Messages per second for each sender; 0 while idle.
    pub per_sender: f64,
    /// Raised by a storm: every connection drops and rejoins under a new name.
    pub generation: u32,
    pub quit: bool,
}

/// What connections of one worker share.
#[derive(Debug)]
pub struct Context {
    pub target: SocketAddr,
    pub source: Ipv4Addr,
    pub dialect: Dialect,
    pub message_bytes: usize,
    /// Bounds the handshakes in progress while the room fills (a storm ignores it: "at once").
    pub connecting: Semaphore,
    pub stats: Stats,
}

/// How long a connection and its handshake may take.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(60);
const INITIAL_BUFFER: usize = 4096;

enum Outcome {
    Storm(u32),
    Quit,
}

/// Runs `member` until told to quit or until its connection fails.
pub async fn run(member: Member, context: Rc<Context>, mut phase: watch::Receiver<Phase>) {
    let mut generation = phase.borrow().generation;
    let mut dropped_at: Option<Instant> = None;
    loop {
        let name = match generation {
            0 => member.name.clone(),
            g => format!("{}.{g}", member.name),
        };
        let joined = match dropped_at {
            // A storm rejoins all at once.
            Some(_) => join(&context, &member.room, &name).await,
            None => match context.connecting.acquire().await {
                Ok(_permit) => join(&context, &member.room, &name).await,
                Err(_) => return,
            },
        };
        let (stream, buffer) = match joined {
            Ok(joined) => joined,
            Err(err) => return context.stats.fail(format!("joining as {name}: {err}")),
        };
        let session = Session {
            context: &context,
            member: &member,
            welcome: welcome(&name),
            dropped_at,
            stream,
            buffer,
            filled: 0,
        };
        match session.run(&mut phase, generation).await {
            Ok(Outcome::Storm(next)) => {
                generation = next;
                dropped_at = Some(Instant::now());
            }
            Ok(Outcome::Quit) => return,
            Err(err) => return context.stats.fail(format!("{name}: {err}")),
        }
    }
}

/// Connects from the worker's source address and completes the handshake; returns the stream
/// and whatever frames came with the response.
async fn join(context: &Context, room: &str, name: &str) -> anyhow::Result<(TcpStream, Vec<u8>)> {
    let attempt = async {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(context.source.into(), 0))?;
        let mut stream = socket.connect(context.target).await?;
        stream.set_nodelay(true)?;
        let request = ws::handshake_request(&context.target.to_string(), &context.dialect.path(room, name));
        stream.write_all(request.as_bytes()).await?;
        let mut buffer = vec![0; INITIAL_BUFFER];
        let mut filled = 0;
        loop {
            if filled == buffer.len() {
                anyhow::bail!("no end to the response head in {filled} bytes");
            }
            let n = stream.read(&mut buffer[filled..]).await?;
            if n == 0 {
                anyhow::bail!("the server closed the connection during the handshake");
            }
            filled += n;
            if let Some(end) = ws::response_head_end(&buffer[..filled]) {
                if !ws::is_switching_protocols(&buffer[..end]) {
                    let status = String::from_utf8_lossy(&buffer[..end.min(80)]).into_owned();
                    anyhow::bail!("refused: {}", status.lines().next().unwrap_or_default());
                }
                let rest = buffer[end..filled].to_vec();
                return Ok((stream, rest));
            }
        }
    };
    tokio::time::timeout(HANDSHAKE_DEADLINE, attempt)
        .await
        .map_err(|_| anyhow::anyhow!("no handshake within {HANDSHAKE_DEADLINE:?}"))?
}

struct Session<'a> {
    context: &'a Context,
    member: &'a Member,
    welcome: Vec<u8>,
    /// When the connection was dropped by a storm, until the welcome on the new one.
    dropped_at: Option<Instant>,
    stream: TcpStream,
    /// Received bytes not yet parsed are `buffer[..filled]`.
    buffer: Vec<u8>,
    filled: usize,
}

impl Session<'_> {
    async fn run(mut self, phase: &mut watch::Receiver<Phase>, generation: u32) -> anyhow::Result<Outcome> {
        let leftover = std::mem::take(&mut self.buffer);
        self.filled = leftover.len();
        self.buffer = leftover;
        self.buffer.resize(self.filled.max(INITIAL_BUFFER), 0);
        let mut out = Vec::new();
        self.consume(&mut out)?;
        let mut ticker = self.ticker(phase.borrow().per_sender);
        let mut line = String::new();
        let mut sequence = 0u64;
        loop {
            if !out.is_empty() {
                self.stream.write_all(&out).await?;
                out.clear();
            }
            tokio::select! {
                biased;
                changed = phase.changed() => {
                    if changed.is_err() {
                        return Ok(Outcome::Quit);
                    }
                    let now = *phase.borrow_and_update();
                    if now.quit {
                        return Ok(Outcome::Quit);
                    }
                    if now.generation != generation {
                        // Dropped without a close handshake: the server sees the connection end.
                        return Ok(Outcome::Storm(now.generation));
                    }
                    ticker = self.ticker(now.per_sender);
                }
                read = self.stream.read(&mut self.buffer[self.filled..]) => {
                    let n = read?;
                    if n == 0 {
                        anyhow::bail!("the server closed the connection");
                    }
                    self.filled += n;
                    self.consume(&mut out)?;
                }
                _ = tick(&mut ticker) => {
                    sequence += 1;
                    let sent_at = now_ns();
                    let body = format!("{sent_at} {sequence} ");
                    let padded = format!("{body}{}", "x".repeat(self.context.message_bytes.saturating_sub(body.len())));
                    self.context.dialect.wrap(&padded, &mut line);
                    ws::encode(ws::OP_TEXT, line.as_bytes(), &mut out);
                    self.context.stats.sent(&self.member.room);
                }
            }
        }
    }

    fn ticker(&self, per_sender: f64) -> Option<tokio::time::Interval> {
        if !self.member.sender || per_sender <= 0.0 {
            return None;
        }
        // Senders start at random points of their period, so that they do not all send at once.
        let period = Duration::from_secs_f64(1.0 / per_sender);
        let start = tokio::time::Instant::now() + period.mul_f64(fastrand::f64());
        let mut ticker = tokio::time::interval_at(start, period);
        // Behind schedule, a sender catches up: the offered rate is the rate asked for.
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        Some(ticker)
    }

    /// Handles every complete frame in the buffer; answers go to `out`.
    fn consume(&mut self, out: &mut Vec<u8>) -> anyhow::Result<()> {
        let received_at = now_ns();
        let mut start = 0;
        let stats = &self.context.stats;
        while let Some((frame, used)) =
            ws::parse(&self.buffer[start..self.filled]).map_err(|e| anyhow::anyhow!("{e}"))?
        {
            match frame.opcode {
                ws::OP_TEXT => match self.context.dialect.unwrap(frame.payload) {
                    Incoming::Line(line) => match classify(line, &self.welcome) {
                        Line::Timed(sent_at) => {
                            stats.delivered(received_at, received_at.saturating_sub(sent_at) / 1000)
                        }
                        Line::Welcome => {
                            stats.welcomed();
                            if let Some(dropped) = self.dropped_at.take() {
                                stats.rejoined(dropped.elapsed());
                            }
                        }
                        Line::Other => {}
                    },
                    Incoming::Answer(text) => ws::encode(ws::OP_TEXT, text.as_bytes(), out),
                    Incoming::Ignore => {}
                },
                ws::OP_PING => ws::encode(ws::OP_PONG, frame.payload, out),
                ws::OP_CLOSE => {
                    let code = frame.payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                    let reason = String::from_utf8_lossy(frame.payload.get(2..).unwrap_or_default());
                    anyhow::bail!("closed by the server: {code:?} {reason}");
                }
                _ => {}
            }
            start += used;
        }
        self.buffer.copy_within(start..self.filled, 0);
        self.filled -= start;
        if self.filled == self.buffer.len() {
            // A frame larger than the buffer: make room for it (parse bounds its size).
            let larger = self.buffer.len() * 2;
            self.buffer.resize(larger, 0);
        }
        Ok(())
    }
}

async fn tick(ticker: &mut Option<tokio::time::Interval>) {
    match ticker {
        Some(ticker) => {
            ticker.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Wall-clock time in nanoseconds: senders and receivers are different processes on one machine,
/// so they share this clock.
pub fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}
