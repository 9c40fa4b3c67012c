//! The OpenTelemetry Python SDK (a real client, installed into a venv by the test command) sends
//! GenAI spans over gRPC and OTLP/HTTP; they arrive downstream intact and in the file sink.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_genai_spans_arrive_intact() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "").await;
    let t_grpc = emit_genai("grpc", format!("http://{}", svc.grpc), "g", &[]).await;
    let t_http = emit_genai("http", format!("http://{}/v1/traces", svc.http), "h", &[]).await;
    down.wait_spans(6, 30).await;
    let spans = down.spans();
    for tid in [&t_grpc, &t_http] {
        let of_trace: Vec<_> = spans
            .iter()
            .filter(|s| hex::encode(&s.trace_id) == *tid)
            .collect();
        assert_eq!(of_trace.len(), 3, "trace {tid}");
        let tool = of_trace
            .iter()
            .find(|s| s.name == "execute_tool refund")
            .unwrap();
        let args: serde_json::Value =
            serde_json::from_str(&str_attr(tool, "gen_ai.tool.call.arguments").unwrap()).unwrap();
        assert_eq!(args["card"], "0000");
        assert!(str_attr(tool, "gen_ai.tool.call.result").is_some());
        let chat = of_trace.iter().find(|s| s.name == "chat gpt-4o").unwrap();
        assert!(str_attr(chat, "gen_ai.input.messages")
            .unwrap()
            .contains("refund card"));
        assert!(str_attr(chat, "gen_ai.output.messages").is_some());
        assert_eq!(chat.events.len(), 1);
    }
    let dir = svc.stop().await;
    let stored = file_sink_requests(dir.path());
    assert_eq!(spanward::pipeline::count_spans_all(&stored), 6);
    let stored_spans: Vec<_> = stored
        .iter()
        .flat_map(|r| r.resource_spans.iter())
        .flat_map(|r| r.scope_spans.iter())
        .flat_map(|s| s.spans.iter())
        .collect();
    let mut a: Vec<_> = stored_spans.iter().map(|s| s.span_id.clone()).collect();
    let mut b: Vec<_> = spans.iter().map(|s| s.span_id.clone()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}
