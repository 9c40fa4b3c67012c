//! A batch as Kafka records: one `ExportTraceServiceRequest` per trace, split to fit
//! `max_message_bytes`.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use std::collections::HashMap;

/// One Kafka record to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Lowercase hex trace id; `None` for spans without one.
    pub key: Option<String>,
    pub value: Vec<u8>,
}

/// Why a batch cannot become records.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("a span of {size} bytes exceeds exporters.kafka.max_message_bytes ({max})")]
pub struct SpanTooLarge {
    pub size: usize,
    pub max: usize,
}

/// Splits a batch into one request per trace id (in first-seen order), keeping each span under
/// its resource and scope; a trace whose request exceeds `max` bytes is cut into several.
pub fn records_by_trace(
    batch: &ExportTraceServiceRequest,
    max: usize,
) -> Result<Vec<Record>, SpanTooLarge> {
    // Per trace: the request being built and which (resource, scope) of the batch its last
    // ResourceSpans/ScopeSpans came from, so consecutive spans share them.
    struct Building {
        key: Option<String>,
        req: ExportTraceServiceRequest,
        at: (usize, usize),
    }
    let mut order: Vec<Building> = Vec::new();
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    for (ri, rs) in batch.resource_spans.iter().enumerate() {
        for (si, ss) in rs.scope_spans.iter().enumerate() {
            for span in &ss.spans {
                let i = *index.entry(span.trace_id.as_slice()).or_insert_with(|| {
                    order.push(Building {
                        key: (!span.trace_id.is_empty()).then(|| hex::encode(&span.trace_id)),
                        req: ExportTraceServiceRequest::default(),
                        at: (usize::MAX, usize::MAX),
                    });
                    order.len() - 1
                });
                let b = &mut order[i];
                push_span(&mut b.req, &mut b.at, (ri, si), rs, ss, span.clone());
            }
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for b in order {
        split_to_fit(b.key, b.req, max, &mut out)?;
    }
    Ok(out)
}

fn push_span(
    req: &mut ExportTraceServiceRequest,
    at: &mut (usize, usize),
    here: (usize, usize),
    rs: &ResourceSpans,
    ss: &ScopeSpans,
    span: Span,
) {
    if at.0 != here.0 {
        req.resource_spans.push(ResourceSpans {
            resource: rs.resource.clone(),
            scope_spans: Vec::new(),
            schema_url: rs.schema_url.clone(),
        });
        *at = (here.0, usize::MAX);
    }
    let Some(r) = req.resource_spans.last_mut() else {
        return;
    };
    if at.1 != here.1 {
        r.scope_spans.push(ScopeSpans {
            scope: ss.scope.clone(),
            spans: Vec::new(),
            schema_url: ss.schema_url.clone(),
        });
        at.1 = here.1;
    }
    if let Some(s) = r.scope_spans.last_mut() {
        s.spans.push(span);
    }
}

/// Encodes `req` as one record if it fits, else halves its spans until every part fits.
fn split_to_fit(
    key: Option<String>,
    req: ExportTraceServiceRequest,
    max: usize,
    out: &mut Vec<Record>,
) -> Result<(), SpanTooLarge> {
    let size = req.encoded_len();
    if size <= max {
        out.push(Record {
            key,
            value: req.encode_to_vec(),
        });
        return Ok(());
    }
    let spans: Vec<(usize, usize, usize)> = req
        .resource_spans
        .iter()
        .enumerate()
        .flat_map(|(ri, rs)| {
            rs.scope_spans
                .iter()
                .enumerate()
                .flat_map(move |(si, ss)| (0..ss.spans.len()).map(move |k| (ri, si, k)))
        })
        .collect();
    if spans.len() <= 1 {
        return Err(SpanTooLarge { size, max });
    }
    let (first, second) = spans.split_at(spans.len() / 2);
    for part in [first, second] {
        let mut sub = ExportTraceServiceRequest::default();
        let mut at = (usize::MAX, usize::MAX);
        for &(ri, si, k) in part {
            let rs = &req.resource_spans[ri];
            let ss = &rs.scope_spans[si];
            push_span(&mut sub, &mut at, (ri, si), rs, ss, ss.spans[k].clone());
        }
        split_to_fit(key.clone(), sub, max, out)?;
    }
    Ok(())
}
