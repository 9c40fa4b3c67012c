//! The README's "sending one span by hand" example works as written: its JSON, posted as the
//! README's two `curl` lines post it (plain, then gzip, with their headers), is accepted by a
//! running service and arrives at the next stage scrubbed.

mod common;

use common::*;
use std::io::Write;

/// The first ```json block after the example's heading, and the curl lines after it.
fn example() -> (String, Vec<String>) {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let at = readme
        .find("**Sending one span by hand.**")
        .expect("the README's curl example");
    let rest = &readme[at..];
    let start = rest.find("```json\n").expect("its JSON block") + "```json\n".len();
    let end = start + rest[start..].find("```").unwrap();
    let json = rest[start..end].to_string();
    let curls = rest[end..]
        .lines()
        .take_while(|l| !l.starts_with("Each answers"))
        .filter(|l| l.contains("curl "))
        .map(str::to_string)
        .collect();
    (json, curls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_curl_example_is_accepted_plain_and_gzipped() {
    let (json, curls) = example();
    serde_json::from_str::<serde_json::Value>(&json).expect("the README's JSON parses");
    assert_eq!(curls.len(), 2, "{curls:?}");
    for c in &curls {
        assert!(c.contains("http://127.0.0.1:4318/v1/traces"), "{c}");
        assert!(c.contains("-H 'content-type: application/json'"), "{c}");
    }
    assert!(
        curls[1].starts_with("gzip -c span.json |")
            && curls[1].contains("-H 'content-encoding: gzip'")
    );

    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "").await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json.as_bytes()).unwrap();
    let gzipped = gz.finish().unwrap();
    for (headers, body) in [
        (
            vec![("content-type", "application/json")],
            json.as_bytes().to_vec(),
        ),
        (
            vec![
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            gzipped,
        ),
    ] {
        let (status, _, answer) = http_request(svc.http, "POST", "/v1/traces", &headers, &body)
            .await
            .unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
        serde_json::from_slice::<serde_json::Value>(&answer).expect("a JSON answer");
    }
    down.wait_spans(2, 20).await;
    let got = format!("{:?}", down.received.lock().unwrap());
    assert!(got.contains("execute_tool lookup"), "{got}");
    assert!(
        !got.contains("jane.roe@example.org"),
        "the address was not scrubbed"
    );
    svc.stop().await;
}
