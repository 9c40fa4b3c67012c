//! The walk over the items of the other two signals, with the same rules as spans (see
//! [`super::span`]): a log record's body (a string, or any nesting of arrays and key-value
//! lists), attributes, event name and severity text; a metric's description, metadata, and
//! every data point's attributes and exemplars' attributes.
//!
//! Metric names and units are not scanned: they name the series (`gen_ai.client.token.usage`,
//! `{token}`), and a rule matching one would split or merge time series downstream. A data
//! point gets no `redaction.*` summary attributes for the same reason: attributes are a
//! series' identity, so a summary attribute would start a new series.

use super::span::{Fate, Walk, WalkError};
use super::{ScrubReport, Scrubber};
use crate::otlp::num::*;
use crate::otlp::{edit_decoded, view, Edits, Msg, RewriteError};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;

impl Scrubber {
    /// Scrubs every string of an encoded log record and, per `summary`, sets the
    /// `redaction.*` attributes as on spans. Attributes starting at an offset in `skip`
    /// (sorted; removed by the fingerprint stage) are left alone. A body that a rule drops is
    /// removed (the record stays).
    pub fn scrub_log_record_encoded(
        &self,
        r: Msg<'_>,
        skip: &[usize],
        edits: &mut Edits,
        rep: &mut ScrubReport,
    ) -> Result<(), WalkError> {
        if !self.enabled {
            return Ok(());
        }
        self.with_summary(r, LOG_ATTRIBUTES, edits, rep, |w, slots| {
            for f in r.fields() {
                let f = f?;
                match f.num {
                    LOG_EVENT_NAME | LOG_SEVERITY_TEXT => {
                        self.scrub_field(&r, &f, w)?;
                    }
                    LOG_BODY => {
                        let Some(av) = f.msg() else { continue };
                        // A key-value list body's entries may have been removed by the fingerprint
                        // stage (`hash_only`): walked as attributes are, skipping those.
                        if let Some(list) = view::any_member(av)?
                            .filter(|m| m.num == AV_KVLIST)
                            .and_then(|m| m.msg())
                        {
                            self.scrub_attrs(list, LIST_VALUES, w, 1, skip)?;
                            continue;
                        }
                        let cp = w.edits.checkpoint();
                        // The body is a level-1 value, as an attribute's value is.
                        if let Fate::Drop = self.scrub_value(av, w, 0)? {
                            w.rep.dropped_attributes += 1;
                            w.edits.truncate(cp);
                            w.edits.delete(&r, f.range());
                        }
                    }
                    LOG_ATTRIBUTES => self.scrub_kv(r, f, w, 0, skip, Some(slots))?,
                    _ => {}
                }
            }
            Ok(())
        })
    }

    /// Scrubs an encoded metric: its description and metadata, and each data point's
    /// attributes and its exemplars' filtered attributes. Names, units and values are left as
    /// they are (see the module docs).
    pub fn scrub_metric_encoded(
        &self,
        m: Msg<'_>,
        edits: &mut Edits,
        rep: &mut ScrubReport,
    ) -> Result<(), WalkError> {
        if !self.enabled {
            return Ok(());
        }
        let mut w = Walk::new(rep, edits, None);
        for f in m.fields() {
            let f = f?;
            match f.num {
                METRIC_DESCRIPTION => {
                    self.scrub_field(&m, &f, &mut w)?;
                }
                METRIC_METADATA => self.scrub_kv(m, f, &mut w, 0, &[], None)?,
                METRIC_GAUGE | METRIC_SUM | METRIC_HISTOGRAM | METRIC_EXP_HISTOGRAM
                | METRIC_SUMMARY => {
                    let Some(data) = f.msg() else { continue };
                    for p in view::each(data, DATA_POINTS) {
                        let Some(p) = p?.msg() else { continue };
                        self.scrub_data_point(p, point_fields(f.num), &mut w)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn scrub_data_point(
        &self,
        p: Msg<'_>,
        (attrs, exemplars): (u32, Option<u32>),
        w: &mut Walk<'_, '_>,
    ) -> Result<(), WalkError> {
        self.scrub_attrs(p, attrs, w, 0, &[])?;
        if let Some(num) = exemplars {
            for e in view::each(p, num) {
                let Some(e) = e?.msg() else { continue };
                self.scrub_attrs(e, EX_ATTRIBUTES, w, 0, &[])?;
            }
        }
        Ok(())
    }

    /// Scrubs a decoded log record (see [`Scrubber::scrub_log_record_encoded`]). On error the
    /// record is unchanged, so it must not be forwarded or printed (fail closed).
    pub fn scrub_log_record(
        &self,
        r: &mut LogRecord,
        rep: &mut ScrubReport,
    ) -> Result<(), RewriteError> {
        edit_decoded(r, |m, e| self.scrub_log_record_encoded(m, &[], e, rep))
    }

    /// Scrubs a decoded metric (see [`Scrubber::scrub_metric_encoded`]); errors as for
    /// [`Scrubber::scrub_log_record`].
    pub fn scrub_metric(&self, m: &mut Metric, rep: &mut ScrubReport) -> Result<(), RewriteError> {
        edit_decoded(m, |msg, e| self.scrub_metric_encoded(msg, e, rep))
    }
}

/// The attributes' and exemplars' field numbers of the data points of a metric's data field
/// `num` (summary points have no exemplars).
fn point_fields(num: u32) -> (u32, Option<u32>) {
    match num {
        METRIC_HISTOGRAM => (HDP_ATTRIBUTES, Some(HDP_EXEMPLARS)),
        METRIC_EXP_HISTOGRAM => (EDP_ATTRIBUTES, Some(EDP_EXEMPLARS)),
        METRIC_SUMMARY => (SDP_ATTRIBUTES, None),
        _ => (NDP_ATTRIBUTES, Some(NDP_EXEMPLARS)),
    }
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
