//! From samples to the table's rows: the median of each subject's runs, and the ratios between
//! subjects that the table and the targets are made of.

use std::collections::BTreeMap;

use super::measure::CaseResults;
use super::subjects::Subject;
use super::workloads::{Case, Metric, RowId};

/// The middle sample (the upper one of the two middles for an even count).
pub(super) fn median(samples: &[f64]) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied()
}

/// One line of the table: a metric's median per subject.
pub(super) struct Row {
    pub(super) id: RowId,
    pub(super) medians: BTreeMap<Subject, f64>,
}

impl Row {
    pub(super) fn label(&self) -> String {
        self.id.label()
    }

    pub(super) fn metric(&self) -> Metric {
        self.id.metric()
    }

    /// ours / other, as a plain quotient of the medians.
    pub(super) fn ratio(&self, other: Subject) -> Option<f64> {
        Some(self.medians.get(&Subject::Ours)? / self.medians.get(&other)?)
    }

    /// How many times better ours is than `other` (above 1: ours is better).
    pub(super) fn advantage(&self, other: Subject) -> Option<f64> {
        let ratio = self.ratio(other)?;
        Some(if self.metric().higher_is_better {
            ratio
        } else {
            1.0 / ratio
        })
    }
}

pub(super) fn rows(cases: &[Case], results: &[CaseResults]) -> Vec<Row> {
    cases
        .iter()
        .zip(results)
        .flat_map(|(case, results)| {
            case.rows.iter().zip(results).map(|(id, samples)| Row {
                id: *id,
                medians: samples
                    .iter()
                    .filter_map(|(subject, samples)| Some((*subject, median(samples)?)))
                    .collect(),
            })
        })
        .collect()
}
