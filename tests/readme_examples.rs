//! The `curl` examples of README.md and docs/*.md work as written against a running service: each
//! is run as its command line says (URL, method, headers, body: the page's JSON block above it,
//! plain or piped through `gzip -c`), must be answered 200, and spans it posts arrive at the next
//! stage scrubbed. A curl line this test cannot read fails it, so a new example gets run too.

mod common;
mod doc_pages;

use common::*;
use std::io::Write;

/// One `curl` line of a shell block, with the page's last ```json block before it (what "save
/// the JSON above as span.json" refers to).
struct Example {
    page: String,
    line: String,
    json: Option<String>,
}

fn examples() -> Vec<Example> {
    let mut out = Vec::new();
    for (page, text) in doc_pages::pages() {
        let mut fence: Option<String> = None;
        let mut block = String::new();
        let mut json = None;
        let mut joined = String::new();
        for l in text.lines() {
            if let Some(lang) = l.trim_start().strip_prefix("```") {
                match fence.take() {
                    None => fence = Some(lang.trim().to_string()),
                    Some(lang) if lang == "json" => json = Some(std::mem::take(&mut block)),
                    Some(_) => block.clear(),
                }
                continue;
            }
            match fence.as_deref() {
                Some("json") => {
                    block.push_str(l);
                    block.push('\n');
                }
                Some("sh" | "bash" | "console" | "shell") => {
                    if let Some(head) = l.strip_suffix('\\') {
                        joined.push_str(head);
                        continue;
                    }
                    joined.push_str(l);
                    let line = std::mem::take(&mut joined);
                    let code = line.split(" #").next().unwrap_or("").trim().to_string();
                    if !code.starts_with('#') && code.split_whitespace().any(|w| w == "curl") {
                        out.push(Example {
                            page: page.clone(),
                            line: code,
                            json: json.clone(),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Shell words, with '…' and "…" quoting (enough for the examples' headers).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// What one example sends.
#[derive(Debug)]
struct Request {
    port: u16,
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads `[gzip -c FILE |] curl [-s] [-S] [-sS] [-f] [-H 'k: v']… [--data-binary @FILE|@-] URL`.
fn request(ex: &Example) -> Result<Request, String> {
    let (gzip, curl) = match ex.line.split_once('|') {
        Some((pipe, curl)) => {
            let w = words(pipe);
            match w.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                ["gzip", "-c", _] => (true, curl),
                _ => return Err(format!("unknown pipe `{pipe}`")),
            }
        }
        None => (false, ex.line.as_str()),
    };
    let w = words(curl);
    if w.first().map(String::as_str) != Some("curl") {
        return Err("not a curl command".into());
    }
    let json = || {
        ex.json
            .clone()
            .ok_or("posts a file, but no ```json block precedes it")
    };
    let (mut headers, mut body, mut url) = (Vec::new(), None, None);
    let mut it = w[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-s" | "-S" | "-sS" | "-f" | "-fsS" => {}
            "-H" => {
                let h = it.next().ok_or("-H without a value")?;
                let (k, v) = h.split_once(':').ok_or("a header without `:`")?;
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
            "--data-binary" => {
                let src = it.next().ok_or("--data-binary without a value")?;
                let plain = json()?.into_bytes();
                body = Some(match (src.as_str(), gzip) {
                    ("@-", true) => {
                        let mut gz = flate2::write::GzEncoder::new(
                            Vec::new(),
                            flate2::Compression::default(),
                        );
                        gz.write_all(&plain).unwrap();
                        gz.finish().unwrap()
                    }
                    (f, false) if f.starts_with('@') && f.ends_with(".json") => plain,
                    (f, _) => return Err(format!("unknown body `{f}`")),
                });
            }
            u if u.starts_with("http://127.0.0.1:") => url = Some(u.to_string()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if gzip && body.is_none() {
        return Err("gzip output is not sent".into());
    }
    let url = url.ok_or("no http://127.0.0.1:PORT/… URL")?;
    let rest = &url["http://127.0.0.1:".len()..];
    let (port, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    Ok(Request {
        port: port.parse().map_err(|_| format!("port in {url}"))?,
        method: if body.is_some() { "POST" } else { "GET" },
        path: if path.is_empty() { "/" } else { path }.to_string(),
        headers,
        body: body.unwrap_or_default(),
    })
}

/// Span names and e-mail addresses in an OTLP/JSON request.
fn names_and_addresses(json: &str) -> (Vec<String>, Vec<String>) {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut names = Vec::new();
    for rs in v["resourceSpans"].as_array().unwrap() {
        for ss in rs["scopeSpans"].as_array().unwrap() {
            for s in ss["spans"].as_array().unwrap() {
                names.push(s["name"].as_str().unwrap().to_string());
            }
        }
    }
    let addresses = json
        .split(|c: char| !(c.is_ascii_alphanumeric() || ".@_-".contains(c)))
        .filter(|w| w.contains('@') && w.rsplit('@').next().unwrap().contains('.'))
        .map(str::to_string)
        .collect();
    (names, addresses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_curl_example_is_accepted_as_written() {
    let examples = examples();
    let reqs: Vec<(&Example, Request)> = examples
        .iter()
        .map(|ex| match request(ex) {
            Ok(r) => (ex, r),
            Err(e) => panic!("{}: `{}`: {e} (teach this test the form)", ex.page, ex.line),
        })
        .collect();
    // The README's "sending one span by hand" posts its JSON plain, then gzipped.
    let readme_posts: Vec<_> = reqs
        .iter()
        .filter(|(ex, r)| ex.page == "README.md" && r.path == "/v1/traces")
        .collect();
    assert_eq!(readme_posts.len(), 2, "the README's curl example");
    assert!(readme_posts[1].0.line.starts_with("gzip -c span.json |"));
    for (_, r) in &readme_posts {
        assert!(r
            .headers
            .contains(&("content-type".into(), "application/json".into())));
    }
    assert!(readme_posts[1]
        .1
        .headers
        .contains(&("content-encoding".into(), "gzip".into())));

    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "").await;
    let mut spans = 0;
    let mut names = Vec::new();
    let mut addresses = Vec::new();
    for (ex, r) in &reqs {
        let addr = match r.port {
            4318 => svc.http,
            8888 => svc.admin,
            p => panic!("{}: `{}`: port {p} is not a default port", ex.page, ex.line),
        };
        let headers: Vec<(&str, &str)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, _, answer) = http_request(addr, r.method, &r.path, &headers, &r.body)
            .await
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert_eq!(status, 200, "{}: `{}`: {answer}", ex.page, ex.line);
        if r.path == "/v1/traces" {
            // An empty ExportTraceServiceResponse, as the README says.
            assert_eq!(answer.trim(), "{}", "{}: `{}`", ex.page, ex.line);
            let (n, a) = names_and_addresses(ex.json.as_deref().unwrap());
            spans += n.len();
            names.extend(n);
            addresses.extend(a);
        }
    }
    assert!(
        !addresses.is_empty(),
        "the examples carry an address to scrub"
    );
    down.wait_spans(spans, 20).await;
    let got = format!("{:?}", down.received.lock().unwrap());
    for n in &names {
        assert!(got.contains(n.as_str()), "span `{n}` did not arrive: {got}");
    }
    for a in &addresses {
        assert!(!got.contains(a.as_str()), "`{a}` was not scrubbed");
    }
    svc.stop().await;
}

/// The reader itself: quoting, the gzip pipe, and forms it must refuse.
#[test]
fn curl_lines_are_read_as_the_shell_reads_them() {
    let ex = |line: &str| Example {
        page: "t".into(),
        line: line.into(),
        json: Some("{}".into()),
    };
    let r = request(&ex(
        "gzip -c span.json | curl -sS http://127.0.0.1:4318/v1/traces -H 'content-type: application/json' -H 'content-encoding: gzip' --data-binary @-",
    ))
    .unwrap();
    assert_eq!(
        (r.port, r.method, r.path.as_str()),
        (4318, "POST", "/v1/traces")
    );
    assert_eq!(r.headers.len(), 2);
    assert_eq!(&r.body[..2], &[0x1f, 0x8b], "gzipped");
    let r = request(&ex("curl -s http://127.0.0.1:8888/metrics")).unwrap();
    assert_eq!(
        (r.port, r.method, r.path.as_str()),
        (8888, "GET", "/metrics")
    );
    assert!(request(&ex("curl -X DELETE http://127.0.0.1:8888/")).is_err());
    assert!(request(&ex(
        "xz -c span.json | curl --data-binary @- http://127.0.0.1:4318/"
    ))
    .is_err());
    assert_eq!(words("a 'b c' \"d\""), ["a", "b c", "d"]);
}
