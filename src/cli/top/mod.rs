//! `spanward top`: a terminal dashboard of a running instance, read from its admin endpoint's
//! `GET /api/v1/status` every second. While the endpoint does not answer it says so on its top
//! line, keeps the last figures and keeps trying. `q` (or Esc, Ctrl-C) quits.

pub mod fetch;
pub mod model;
pub mod view;

use clap::Args;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// The environment variable `top` reads a bearer token from when `--token-file` is not given.
pub const TOKEN_ENV: &str = "SPANWARD_ADMIN_TOKEN";

#[derive(Debug, Args)]
pub struct TopArgs {
    /// The admin endpoint: `host:port` or `http://host:port[/prefix]`.
    #[arg(long, default_value = "127.0.0.1:8888")]
    pub endpoint: String,
    /// File whose first line is the admin bearer token (as `load --token-file`); without it,
    /// the token is read from SPANWARD_ADMIN_TOKEN, if set.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// How often to read the figures.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub interval: Duration,
}

/// A reading, or why it failed.
type Reading = Result<model::Status, fetch::FetchError>;

/// Wall-clock time as `HH:MM:SSZ` (UTC: no time-zone database is read).
fn clock() -> String {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{:02}:{:02}:{:02}Z", (s / 3600) % 24, (s / 60) % 60, s % 60)
}

pub fn run(args: TopArgs) -> anyhow::Result<ExitCode> {
    let url = fetch::status_url(&args.endpoint)?;
    let token = fetch::token(args.token_file.as_deref(), std::env::var(TOKEN_ENV).ok())?;
    let interval = args.interval.max(Duration::from_millis(100));
    let fetcher = fetch::Fetcher::new(url, token, interval.max(Duration::from_secs(2)))?;
    let (tx, rx) = mpsc::channel::<Reading>();
    let stop = Arc::new(AtomicBool::new(false));
    // Not joined at exit: a reading in flight ends with the process instead of delaying `q`.
    let _reader = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("spanward-top-fetch".into())
            .spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    let started = Instant::now();
                    if tx.send(fetcher.fetch()).is_err() {
                        return;
                    }
                    let next = started + interval;
                    while Instant::now() < next && !stop.load(Ordering::Acquire) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            })?
    };
    let mut app = view::App {
        endpoint: args.endpoint.clone(),
        interval,
        history: model::History::default(),
        error: None,
        last_ok: None,
    };
    let mut terminal = ratatui::init();
    let result = (|| -> std::io::Result<()> {
        loop {
            while let Ok(r) = rx.try_recv() {
                match r {
                    Ok(s) => {
                        app.history.push(s);
                        app.error = None;
                        app.last_ok = Some(clock());
                    }
                    Err(e) => app.error = Some((e.label(), e.to_string())),
                }
            }
            terminal.draw(|f| view::draw(f, &app))?;
            if event::poll(Duration::from_millis(100))? {
                if let Event::Key(k) = event::read()? {
                    let ctrl_c =
                        k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
                    if k.kind == KeyEventKind::Press
                        && (matches!(k.code, KeyCode::Char('q') | KeyCode::Esc) || ctrl_c)
                    {
                        return Ok(());
                    }
                }
            }
        }
    })();
    ratatui::restore();
    stop.store(true, Ordering::Release);
    drop(rx);
    result?;
    Ok(ExitCode::SUCCESS)
}
