//! A batch as Kafka records, split to fit `max_message_bytes`:
//! - traces: one `ExportTraceServiceRequest` per trace, keyed by the trace id;
//! - logs: one `ExportLogsServiceRequest` per trace id of the log records, keyed by it; the
//!   records without a trace id together, without a key;
//! - metrics: the `ExportMetricsServiceRequest` as one record, without a key.
//!
//! Every item keeps its resource and scope. The three requests share one shape (request →
//! resource → scope → items), which [`Shape`] names, so one splitter serves them all.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{metric, Metric, ResourceMetrics, ScopeMetrics};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use std::collections::HashMap;

/// One Kafka record to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Lowercase hex trace id; `None` for spans and log records without one, and for metrics.
    pub key: Option<String>,
    pub value: Vec<u8>,
}

/// Why a batch cannot become records: one item (a span, a log record, a metric data point)
/// alone is over the limit.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("a {item} of {size} bytes exceeds exporters.kafka.max_message_bytes ({max})")]
pub struct ItemTooLarge {
    /// `span`, `log record` or `metric data point`.
    pub item: &'static str,
    pub size: usize,
    pub max: usize,
}

/// The name this error had when only spans were split.
pub type SpanTooLarge = ItemTooLarge;

/// An export request as resources of scopes of items.
pub trait Shape: Message + Default {
    type Res;
    type Scope;
    type Item: Clone;
    /// What one item is called in errors.
    const ITEM: &'static str;
    fn resources(&self) -> &[Self::Res];
    fn scopes(r: &Self::Res) -> &[Self::Scope];
    fn items(s: &Self::Scope) -> &[Self::Item];
    /// Appends a copy of `r` without its scopes.
    fn push_resource(&mut self, r: &Self::Res);
    /// Appends a copy of `s` without its items to the last resource.
    fn push_scope(&mut self, s: &Self::Scope);
    /// Appends `item` to the last scope of the last resource.
    fn push_item(&mut self, item: Self::Item);
    /// An item that alone is over the limit, in two halves, when it can be cut (a metric's
    /// data points); `None` when it is one indivisible thing.
    fn halve(_item: &Self::Item) -> Option<(Self::Item, Self::Item)> {
        None
    }
}

impl Shape for ExportTraceServiceRequest {
    type Res = ResourceSpans;
    type Scope = ScopeSpans;
    type Item = Span;
    const ITEM: &'static str = "span";
    fn resources(&self) -> &[ResourceSpans] {
        &self.resource_spans
    }
    fn scopes(r: &ResourceSpans) -> &[ScopeSpans] {
        &r.scope_spans
    }
    fn items(s: &ScopeSpans) -> &[Span] {
        &s.spans
    }
    fn push_resource(&mut self, r: &ResourceSpans) {
        self.resource_spans.push(ResourceSpans {
            resource: r.resource.clone(),
            scope_spans: Vec::new(),
            schema_url: r.schema_url.clone(),
        });
    }
    fn push_scope(&mut self, s: &ScopeSpans) {
        if let Some(r) = self.resource_spans.last_mut() {
            r.scope_spans.push(ScopeSpans {
                scope: s.scope.clone(),
                spans: Vec::new(),
                schema_url: s.schema_url.clone(),
            });
        }
    }
    fn push_item(&mut self, item: Span) {
        if let Some(s) = self
            .resource_spans
            .last_mut()
            .and_then(|r| r.scope_spans.last_mut())
        {
            s.spans.push(item);
        }
    }
}

impl Shape for ExportLogsServiceRequest {
    type Res = ResourceLogs;
    type Scope = ScopeLogs;
    type Item = LogRecord;
    const ITEM: &'static str = "log record";
    fn resources(&self) -> &[ResourceLogs] {
        &self.resource_logs
    }
    fn scopes(r: &ResourceLogs) -> &[ScopeLogs] {
        &r.scope_logs
    }
    fn items(s: &ScopeLogs) -> &[LogRecord] {
        &s.log_records
    }
    fn push_resource(&mut self, r: &ResourceLogs) {
        self.resource_logs.push(ResourceLogs {
            resource: r.resource.clone(),
            scope_logs: Vec::new(),
            schema_url: r.schema_url.clone(),
        });
    }
    fn push_scope(&mut self, s: &ScopeLogs) {
        if let Some(r) = self.resource_logs.last_mut() {
            r.scope_logs.push(ScopeLogs {
                scope: s.scope.clone(),
                log_records: Vec::new(),
                schema_url: s.schema_url.clone(),
            });
        }
    }
    fn push_item(&mut self, item: LogRecord) {
        if let Some(s) = self
            .resource_logs
            .last_mut()
            .and_then(|r| r.scope_logs.last_mut())
        {
            s.log_records.push(item);
        }
    }
}

impl Shape for ExportMetricsServiceRequest {
    type Res = ResourceMetrics;
    type Scope = ScopeMetrics;
    type Item = Metric;
    const ITEM: &'static str = "metric data point";
    fn resources(&self) -> &[ResourceMetrics] {
        &self.resource_metrics
    }
    fn scopes(r: &ResourceMetrics) -> &[ScopeMetrics] {
        &r.scope_metrics
    }
    fn items(s: &ScopeMetrics) -> &[Metric] {
        &s.metrics
    }
    fn push_resource(&mut self, r: &ResourceMetrics) {
        self.resource_metrics.push(ResourceMetrics {
            resource: r.resource.clone(),
            scope_metrics: Vec::new(),
            schema_url: r.schema_url.clone(),
        });
    }
    fn push_scope(&mut self, s: &ScopeMetrics) {
        if let Some(r) = self.resource_metrics.last_mut() {
            r.scope_metrics.push(ScopeMetrics {
                scope: s.scope.clone(),
                metrics: Vec::new(),
                schema_url: s.schema_url.clone(),
            });
        }
    }
    fn push_item(&mut self, item: Metric) {
        if let Some(s) = self
            .resource_metrics
            .last_mut()
            .and_then(|r| r.scope_metrics.last_mut())
        {
            s.metrics.push(item);
        }
    }
    /// A metric with more than one data point: two copies of it (name, unit, description,
    /// metadata, temporality), each with half the points.
    fn halve(m: &Metric) -> Option<(Metric, Metric)> {
        use metric::Data;
        fn cut<T: Clone>(v: &[T]) -> Option<(Vec<T>, Vec<T>)> {
            (v.len() > 1).then(|| {
                let (a, b) = v.split_at(v.len() / 2);
                (a.to_vec(), b.to_vec())
            })
        }
        let (a, b) = match m.data.as_ref()? {
            Data::Gauge(g) => {
                let (x, y) = cut(&g.data_points)?;
                let (mut a, mut b) = (g.clone(), g.clone());
                (a.data_points, b.data_points) = (x, y);
                (Data::Gauge(a), Data::Gauge(b))
            }
            Data::Sum(g) => {
                let (x, y) = cut(&g.data_points)?;
                let (mut a, mut b) = (g.clone(), g.clone());
                (a.data_points, b.data_points) = (x, y);
                (Data::Sum(a), Data::Sum(b))
            }
            Data::Histogram(g) => {
                let (x, y) = cut(&g.data_points)?;
                let (mut a, mut b) = (g.clone(), g.clone());
                (a.data_points, b.data_points) = (x, y);
                (Data::Histogram(a), Data::Histogram(b))
            }
            Data::ExponentialHistogram(g) => {
                let (x, y) = cut(&g.data_points)?;
                let (mut a, mut b) = (g.clone(), g.clone());
                (a.data_points, b.data_points) = (x, y);
                (Data::ExponentialHistogram(a), Data::ExponentialHistogram(b))
            }
            Data::Summary(g) => {
                let (x, y) = cut(&g.data_points)?;
                let (mut a, mut b) = (g.clone(), g.clone());
                (a.data_points, b.data_points) = (x, y);
                (Data::Summary(a), Data::Summary(b))
            }
        };
        let with = |d: Data| Metric {
            data: Some(d),
            ..m.clone()
        };
        Some((with(a), with(b)))
    }
}

/// Where an item sits in its request: (resource, scope, item) indices.
type Pos = (usize, usize, usize);

/// Builds a request item by item, opening a resource or scope only when the item's differs
/// from the previous one's, so consecutive items share them.
struct Builder<R> {
    req: R,
    at: (usize, usize),
}

impl<R: Shape> Builder<R> {
    fn new() -> Self {
        Builder {
            req: R::default(),
            at: (usize::MAX, usize::MAX),
        }
    }

    fn push(&mut self, from: &R, (ri, si): (usize, usize), item: R::Item) {
        let res = &from.resources()[ri];
        if self.at.0 != ri {
            self.req.push_resource(res);
            self.at = (ri, usize::MAX);
        }
        if self.at.1 != si {
            self.req.push_scope(&R::scopes(res)[si]);
            self.at.1 = si;
        }
        self.req.push_item(item);
    }
}

/// Splits a batch into one request per key (in first-seen order), keeping each item under its
/// resource and scope; a request over `max` bytes is cut into several with the same key.
/// `key_of` gives an item's key bytes (empty: no key), hex-encoded into the record key.
pub fn records_by_key<R: Shape>(
    batch: &R,
    key_of: impl Fn(&R::Item) -> &[u8],
    max: usize,
) -> Result<Vec<Record>, ItemTooLarge> {
    let mut order: Vec<(Option<String>, Builder<R>)> = Vec::new();
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    for (ri, res) in batch.resources().iter().enumerate() {
        for (si, scope) in R::scopes(res).iter().enumerate() {
            for item in R::items(scope) {
                let k = key_of(item);
                let i = *index.entry(k).or_insert_with(|| {
                    order.push(((!k.is_empty()).then(|| hex::encode(k)), Builder::new()));
                    order.len() - 1
                });
                order[i].1.push(batch, (ri, si), item.clone());
            }
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for (key, b) in order {
        split_to_fit(key, b.req, max, &mut out)?;
    }
    Ok(out)
}

/// Splits a batch into one request per trace id (in first-seen order), keeping each span under
/// its resource and scope; a trace whose request exceeds `max` bytes is cut into several.
pub fn records_by_trace(
    batch: &ExportTraceServiceRequest,
    max: usize,
) -> Result<Vec<Record>, ItemTooLarge> {
    records_by_key(batch, |s: &Span| s.trace_id.as_slice(), max)
}

/// Splits a logs batch into one request per trace id of its records (in first-seen order);
/// the records without a trace id (empty or all zeros) go together into requests without a
/// key.
pub fn records_by_log_trace(
    batch: &ExportLogsServiceRequest,
    max: usize,
) -> Result<Vec<Record>, ItemTooLarge> {
    // An all-zero trace id is OTLP's "no trace" as well as the empty one.
    records_by_key(
        batch,
        |l: &LogRecord| {
            let t = l.trace_id.as_slice();
            if t.iter().all(|b| *b == 0) {
                &[]
            } else {
                t
            }
        },
        max,
    )
}

/// A metrics batch as records without a key: the whole request when it fits, else cut by
/// metrics and, for a metric over the limit alone, by its data points.
pub fn metric_records(
    batch: &ExportMetricsServiceRequest,
    max: usize,
) -> Result<Vec<Record>, ItemTooLarge> {
    records_by_key(batch, |_: &Metric| &[], max)
}

/// Encodes `req` as one record if it fits, else halves its items until every part fits.
fn split_to_fit<R: Shape>(
    key: Option<String>,
    req: R,
    max: usize,
    out: &mut Vec<Record>,
) -> Result<(), ItemTooLarge> {
    let size = req.encoded_len();
    if size <= max {
        out.push(Record {
            key,
            value: req.encode_to_vec(),
        });
        return Ok(());
    }
    let items: Vec<Pos> = req
        .resources()
        .iter()
        .enumerate()
        .flat_map(|(ri, res)| {
            R::scopes(res)
                .iter()
                .enumerate()
                .flat_map(move |(si, s)| (0..R::items(s).len()).map(move |k| (ri, si, k)))
        })
        .collect();
    let item = |&(ri, si, k): &Pos| &R::items(&R::scopes(&req.resources()[ri])[si])[k];
    if let [only] = items.as_slice() {
        // One item over the limit: cut it if it can be cut (a metric's data points).
        let Some((a, b)) = R::halve(item(only)) else {
            return Err(ItemTooLarge {
                item: R::ITEM,
                size,
                max,
            });
        };
        for half in [a, b] {
            let mut sub = Builder::<R>::new();
            sub.push(&req, (only.0, only.1), half);
            split_to_fit(key.clone(), sub.req, max, out)?;
        }
        return Ok(());
    }
    if items.is_empty() {
        // Only resources and scopes, and still over the limit: nothing to cut.
        return Err(ItemTooLarge {
            item: R::ITEM,
            size,
            max,
        });
    }
    let (first, second) = items.split_at(items.len() / 2);
    for part in [first, second] {
        let mut sub = Builder::<R>::new();
        for p in part {
            sub.push(&req, (p.0, p.1), item(p).clone());
        }
        split_to_fit(key.clone(), sub.req, max, out)?;
    }
    Ok(())
}
