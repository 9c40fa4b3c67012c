//! One frame of `spanward top`, laid out for 80×24 and larger.

use super::model::{History, Status};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};
use ratatui::Frame;

/// What the screen shows: the readings and whether the last one failed.
pub struct App {
    pub endpoint: String,
    pub interval: std::time::Duration,
    pub history: History,
    /// The last reading's error while readings fail: the title's word and the message.
    pub error: Option<(&'static str, String)>,
    /// When a reading last succeeded (local clock, `HH:MM:SS`).
    pub last_ok: Option<String>,
}

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn rate(r: Option<f64>) -> String {
    match r {
        None => "–".into(),
        Some(r) if r >= 100.0 => count(r.round() as u64),
        Some(r) => format!("{r:.1}"),
    }
}

pub fn bytes(n: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

pub fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1}ms", s * 1000.0)
    } else if s < 120.0 {
        format!("{s:.1}s")
    } else {
        let m = (s / 60.0) as u64;
        if m < 120 {
            format!("{m}m{:02}s", s as u64 % 60)
        } else {
            format!("{}h{:02}m", m / 60, m % 60)
        }
    }
}

fn pct(r: f64) -> String {
    format!("{:.1}%", r * 100.0)
}

const DIM: Style = Style::new().fg(Color::DarkGray);
const BOLD: Style = Style::new().add_modifier(Modifier::BOLD);

fn block(title: &str) -> Block<'_> {
    Block::bordered().title(Span::styled(format!(" {title} "), BOLD))
}

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    let sinks = app
        .history
        .current
        .as_ref()
        .map_or(1, |s| s.sinks.len().clamp(1, 3)) as u16;
    let [title, top, middle, bottom, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Min(4),
        Constraint::Length(sinks + 2),
        Constraint::Length(1),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(title_line(app)), title);
    let empty = Status::default();
    let s = app.history.current.as_ref().unwrap_or(&empty);
    let [traces, queue] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    draw_traces(f, traces, app, s);
    draw_queue(f, queue, app, s);
    let [reasons, redactions] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(middle);
    draw_reasons(f, reasons, app, s);
    draw_redactions(f, redactions, app, s);
    draw_sinks(f, bottom, app, s);
    f.render_widget(Paragraph::new(footer_line(app, s)), footer);
}

fn title_line(app: &App) -> Line<'static> {
    let mut spans = vec![
        Span::styled("spanward top", BOLD),
        Span::raw(format!(" {} ", app.endpoint)),
    ];
    match (&app.error, &app.history.current) {
        (Some((word, _)), _) => {
            spans.push(Span::styled(
                *word,
                Style::new()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::raw(format!(
                " retrying every {}",
                humantime::format_duration(app.interval)
            )));
        }
        (None, None) => spans.push(Span::raw("connecting…")),
        (None, Some(s)) => {
            let degraded = s.sinks.iter().any(|k| k.state != "ok");
            let (word, color) = match (s.ready, degraded) {
                (false, _) => ("NOT READY", Color::Red),
                (true, true) => ("DEGRADED", Color::Yellow),
                (true, false) => ("ready", Color::Green),
            };
            spans.push(Span::styled(
                word,
                Style::new().fg(color).add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::raw(format!(
                " v{} up {} {}",
                s.version,
                secs(s.uptime_seconds),
                app.last_ok.as_deref().unwrap_or("")
            )));
        }
    }
    spans.push(Span::styled("  q quit", DIM));
    Line::from(spans)
}

fn draw_traces(f: &mut Frame, area: Rect, app: &App, s: &Status) {
    let h = &app.history;
    let t = s.traces();
    let kept = match h.rate(|x| x.sampling.accepted_spans) {
        Some(a) if a > 0.0 => {
            let out = h.rate(|x| x.sampling.sampled_out_spans).unwrap_or(0.0);
            format!("kept {}", pct(1.0 - out / a))
        }
        _ => match s.sampling.kept_ratio {
            Some(r) => format!("kept {} all", pct(r)),
            None => "kept –".into(),
        },
    };
    let lines = vec![
        Line::from(format!(
            "in  {:>9}/s  total {}",
            rate(h.rate(|x| x.traces().accepted)),
            count(t.accepted)
        )),
        Line::from(format!(
            "out {:>9}/s  total {}",
            rate(h.rate(|x| x.traces().delivered)),
            count(t.delivered)
        )),
        Line::from(format!("{kept}  in process {}", count(t.in_process))),
    ];
    f.render_widget(Paragraph::new(lines).block(block("traces: spans")), area);
}

fn draw_queue(f: &mut Frame, area: Rect, app: &App, s: &Status) {
    let q = &s.queue;
    let b = block("queue");
    let inner = b.inner(area);
    f.render_widget(b, area);
    let [text, spark] =
        Layout::vertical([Constraint::Length(2), Constraint::Length(1)]).areas(inner);
    let ratio = |n: u64, m: u64| if m == 0 { 0.0 } else { n as f64 / m as f64 };
    let lines = vec![
        Line::from(format!(
            "spans {}/{} {}",
            count(q.spans),
            count(q.max_spans),
            pct(ratio(q.spans, q.max_spans))
        )),
        Line::from(format!(
            "bytes {}/{} {}",
            bytes(q.bytes),
            bytes(q.max_bytes),
            pct(ratio(q.bytes, q.max_bytes))
        )),
    ];
    f.render_widget(Paragraph::new(lines), text);
    let w = spark.width as usize;
    let data: Vec<u64> = app
        .history
        .fill
        .iter()
        .skip(app.history.fill.len().saturating_sub(w))
        .copied()
        .collect();
    f.render_widget(
        Sparkline::default()
            .data(&data)
            .max(1000)
            .style(Style::new().fg(Color::Cyan)),
        spark,
    );
}

fn draw_reasons(f: &mut Frame, area: Rect, app: &App, s: &Status) {
    type Pick = fn(&Status) -> &std::collections::BTreeMap<String, u64>;
    let h = &app.history;
    let mut lines = Vec::new();
    let mut row = |label: String, n: u64, r: Option<f64>, style: Style| {
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<24}"), style),
            Span::raw(format!("{:>7}{:>7}", count(n), rate(r))),
        ]));
    };
    let warn = Style::new().fg(Color::Yellow);
    let spans: [(&str, Pick); 2] = [
        ("refused", |x| &x.refused_spans),
        ("dropped", |x| &x.dropped_spans),
    ];
    for (what, pick) in spans {
        for (reason, n) in pick(s).iter().filter(|(_, n)| **n > 0) {
            let r = h.rate(|x| pick(x).get(reason).copied().unwrap_or(0));
            let style = if reason == "sampled" {
                Style::new()
            } else {
                warn
            };
            row(format!("{what} {reason}"), *n, r, style);
        }
    }
    // Requests refused before their spans could be counted (undecodable, too large, no token).
    let requests: Pick = |x| &x.refused_requests;
    for (reason, n) in requests(s)
        .iter()
        .filter(|(reason, n)| **n > 0 && s.refused_spans.get(*reason).copied().unwrap_or(0) == 0)
    {
        let r = h.rate(|x| requests(x).get(reason).copied().unwrap_or(0));
        row(format!("{reason} requests"), *n, r, warn);
    }
    if lines.is_empty() {
        lines.push(Line::styled("nothing refused or dropped", DIM));
    }
    f.render_widget(
        Paragraph::new(lines).block(block("refused/dropped spans  total  /s")),
        area,
    );
}

fn draw_redactions(f: &mut Frame, area: Rect, app: &App, s: &Status) {
    let h = &app.history;
    let rows = area.height.saturating_sub(2).min(10) as usize;
    let mut lines: Vec<Line> = s
        .redactions
        .iter()
        .take(rows)
        .map(|t| {
            let r = h.rate(|x| {
                x.redactions
                    .iter()
                    .find(|y| y.r#type == t.r#type)
                    .map_or(0, |y| y.count)
            });
            let name: String = t.r#type.chars().take(18).collect();
            Line::from(format!("{name:<18} {:>9} {:>7}", count(t.count), rate(r)))
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled("no redactions yet", DIM));
    }
    f.render_widget(
        Paragraph::new(lines).block(block("redactions top 10  total  /s")),
        area,
    );
}

fn draw_sinks(f: &mut Frame, area: Rect, app: &App, s: &Status) {
    let h = &app.history;
    let mut lines: Vec<Line> = s
        .sinks
        .iter()
        .take(3)
        .map(|k| {
            let (mean, p99) = h.sink_latency(&k.name);
            let color = match k.state.as_str() {
                "ok" => Color::Green,
                "retrying" => Color::Yellow,
                _ => Color::Red,
            };
            let lat = match (mean, p99) {
                (Some(m), Some(p)) => format!("avg {} p99≤{}", secs(m), secs(p)),
                (Some(m), None) => format!("avg {}", secs(m)),
                _ => "no writes".into(),
            };
            let mut spans = vec![
                Span::styled(format!("{:<6}", k.name), BOLD),
                Span::styled(format!("{:<9}", k.state), Style::new().fg(color)),
                Span::raw(format!(
                    "sent {} {}/s failed {}  {lat}",
                    count(k.sent_spans),
                    rate(h.rate(|x| {
                        x.sinks
                            .iter()
                            .find(|y| y.name == k.name)
                            .map_or(0, |y| y.sent_spans)
                    })),
                    count(k.failed_spans),
                )),
            ];
            if let Some(p) = &k.problem {
                spans.push(Span::styled(
                    format!("  {p}"),
                    Style::new().fg(Color::Yellow),
                ));
            }
            Line::from(spans)
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled("no sink reported", DIM));
    }
    f.render_widget(Paragraph::new(lines).block(block("sinks")), area);
}

/// `52428800` → `50.0M`.
fn short_bytes(n: u64) -> String {
    let b = bytes(n);
    match b.split_once(' ') {
        Some((v, u)) if u != "B" => format!("{v}{}", &u[..1]),
        _ => b.replace(' ', ""),
    }
}

fn footer_line(app: &App, s: &Status) -> Line<'static> {
    if let Some((_, e)) = &app.error {
        let since = app
            .last_ok
            .as_ref()
            .map(|t| format!("; figures from {t}"))
            .unwrap_or_else(|| "; no figures yet".into());
        return Line::styled(format!("{e}{since}"), Style::new().fg(Color::Red));
    }
    let p = &s.process;
    let cpu = app
        .history
        .rate_f(|x| x.process.cpu_seconds)
        .map_or("–".into(), |c| format!("{:.0}%", c * 100.0));
    let mem = match (
        p.rss_bytes,
        p.memory_soft_limit_bytes,
        p.memory_hard_limit_bytes,
    ) {
        (Some(r), Some(soft), Some(hard)) => format!(
            "RSS {} (limits {}/{}: {})",
            short_bytes(r),
            short_bytes(soft),
            short_bytes(hard),
            p.memory_limiter
        ),
        (Some(r), _, _) => format!("RSS {} (no limit)", short_bytes(r)),
        _ => "RSS –".into(),
    };
    let log = match &s.log {
        None => "log off".to_string(),
        Some(l) => match (&l.checkpoint, l.checkpoint_age_seconds) {
            (Some(c), Some(age)) => format!("log: {} rec, cp {} ago", count(c.size), secs(age)),
            _ => "log: no checkpoint yet".into(),
        },
    };
    Line::from(vec![
        Span::raw(format!("CPU {cpu}  {mem}  ")),
        Span::styled(log, DIM),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::model::{Checkpoint, LogView, Process, SinkView, TypeCount};
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn screen(app: &App) -> String {
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| draw(f, app)).unwrap();
        let buf = t.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    fn status(ms: u64, accepted: u64) -> Status {
        let mut s = Status {
            version: "0.1.0".into(),
            time_unix_ms: ms,
            uptime_seconds: 75.0,
            ready: true,
            ..Default::default()
        };
        s.signals.insert(
            "traces".into(),
            super::super::model::Signal {
                accepted,
                delivered: accepted - 10,
                ..Default::default()
            },
        );
        s.refused_spans.insert("queue_full".into(), accepted / 10);
        s.dropped_spans.insert("sampled".into(), 0);
        s.refused_requests
            .insert("queue_full".into(), accepted / 100);
        s.refused_requests.insert("malformed".into(), 4);
        s.queue.max_spans = 1000;
        s.queue.spans = 250;
        s.queue.max_bytes = 1 << 20;
        s.redactions = (0..12)
            .map(|i| TypeCount {
                r#type: format!("type_{i:02}"),
                count: 1000 - i,
            })
            .collect();
        s.sinks = vec![
            SinkView {
                name: "file".into(),
                state: "ok".into(),
                sent_spans: accepted,
                writes: 10,
                write_seconds_sum: 0.02,
                ..Default::default()
            },
            SinkView {
                name: "otlp".into(),
                state: "retrying".into(),
                problem: Some("next stage http://127.0.0.1:9 not answering".into()),
                ..Default::default()
            },
        ];
        s.process = Process {
            cpu_seconds: Some(ms as f64 / 4000.0),
            rss_bytes: Some(50 << 20),
            memory_soft_limit_bytes: Some(800 << 20),
            memory_hard_limit_bytes: Some(900 << 20),
            memory_limiter: "below".into(),
        };
        s.log = Some(LogView {
            checkpoint_interval_seconds: 10.0,
            checkpoint: Some(Checkpoint {
                origin: "o".into(),
                size: 1234,
                root: "r".into(),
            }),
            checkpoint_age_seconds: Some(3.0),
        });
        s
    }

    #[test]
    fn everything_fits_80_by_24() {
        let mut app = App {
            endpoint: "127.0.0.1:8888".into(),
            interval: std::time::Duration::from_secs(1),
            history: History::default(),
            error: None,
            last_ok: Some("12:00:01".into()),
        };
        app.history.push(status(1_000, 1_000));
        app.history.push(status(2_000, 3_000));
        let text = screen(&app);
        for want in [
            "spanward top 127.0.0.1:8888 DEGRADED",
            "in      2,000/s  total 3,000",
            "refused queue_full",
            "type_00",
            "type_09",
            "spans 250/1,000 25.0%",
            "file  ok",
            "otlp  retrying",
            "next stage http://127.0.0.1:9",
            "refused queue_full          300    200",
            "CPU 25%",
            "RSS 50.0M (limits 800.0M/900.0M: below)",
            "log: 1,234 rec, cp 3.0s ago",
        ] {
            assert!(text.contains(want), "{want:?} not on screen:\n{text}");
        }
        assert!(!text.contains("type_10"), "top 10 only:\n{text}");
        assert!(
            text.contains("malformed requests            4    0.0"),
            "{text}"
        );
        assert!(
            !text.contains("queue_full requests"),
            "counted as spans already:\n{text}"
        );
        app.error = Some(("UNREACHABLE", "connection refused".into()));
        let text = screen(&app);
        assert!(
            text.contains("spanward top 127.0.0.1:8888 UNREACHABLE retrying every 1s"),
            "{text}"
        );
        assert!(
            text.contains("connection refused; figures from 12:00:01"),
            "{text}"
        );
        for line in text.lines() {
            assert!(line.trim_end().chars().count() <= 80, "{line:?}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(rate(Some(12.345)), "12.3");
        assert_eq!(rate(Some(12345.6)), "12,346");
        assert_eq!(rate(None), "–");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
        assert_eq!(secs(0.0123), "12.3ms");
        assert_eq!(secs(300.0), "5m00s");
    }
}
