//! The CSV outputs (header row, RFC 4180 quoting by the csv crate):
//!
//! - `doc_topics.csv`: `id,label,dominant_topic,topic_0,…,topic_{k-1}`, one row per document in
//!   row order (the output of `transform` adds `words,known_words`, see [`write_transformed`]); weights are the rows of W normalized to sum 1; an empty document keeps all
//!   zeros and an empty `dominant_topic`; a missing label is an empty field.
//! - `topic_terms.csv`: `topic,rank,term,stem,weight`, for each topic in the model's order its
//!   top terms, rank from 1. The rows follow the relevance order at `--relevance-lambda` (the
//!   order of the weights at the default λ = 1); the `weight` column is always the raw H[t, w].
//!
//! Weights are written with at most 6 significant digits, in the shortest form that reads back
//! to the rounded value (`0.25`, `1.09628e-12`; see [`fmt_weight`]). A NaN or infinite weight
//! is an error naming the document, and nothing is written.

use std::path::Path;

use super::write_atomic;
use ndarray::ArrayView2;

use super::numbers::{check_transformed, fmt_weight};
use crate::topics::{dominant_topic, normalize_rows, TopicSet};
use crate::vectorize::{Coverage, DocInfo, DocTermMatrix};
use crate::{Error, Result};

fn csv_error(path: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        other => Error::Runtime(format!("{}: {other:?}", path.display())),
    }
}

/// Writes `doc_topics.csv` atomically.
pub fn write_doc_topics(path: &Path, dtm: &DocTermMatrix, set: &TopicSet) -> Result<()> {
    write_doc_weights(
        path,
        &dtm.documents,
        set.doc_weights.view(),
        &set.dominant,
        None,
    )
}

/// Writes the rows of `transform`: W normalized per row (an all-zero row stays zero with no
/// dominant topic), in the layout of `doc_topics.csv` followed by two columns from
/// `coverage`: `words` (the document's words kept by the analyzer) and `known_words` (those the
/// model's vocabulary knows).
pub fn write_transformed(
    path: &Path,
    documents: &[DocInfo],
    w: ArrayView2<f64>,
    coverage: &[Coverage],
) -> Result<()> {
    check_transformed(w, |i| {
        documents
            .get(i)
            .map_or_else(|| format!("row {i}"), |d| d.id.clone())
    })?;
    let weights = normalize_rows(w);
    let dominant: Vec<Option<usize>> = weights.rows().into_iter().map(dominant_topic).collect();
    write_doc_weights(path, documents, weights.view(), &dominant, Some(coverage))
}

/// Writes `id,label,dominant_topic,topic_0,…` rows of already normalized weights.
fn write_doc_weights(
    path: &Path,
    documents: &[DocInfo],
    weights: ArrayView2<f64>,
    dominant: &[Option<usize>],
    coverage: Option<&[Coverage]>,
) -> Result<()> {
    write_atomic(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        let k = weights.ncols();
        let mut header = vec![
            "id".to_string(),
            "label".to_string(),
            "dominant_topic".to_string(),
        ];
        header.extend((0..k).map(|t| format!("topic_{t}")));
        if coverage.is_some() {
            header.extend(["words".to_string(), "known_words".to_string()]);
        }
        out.write_record(&header).map_err(|e| csv_error(path, e))?;
        let mut record: Vec<String> = Vec::with_capacity(k + 3);
        for (i, doc) in documents.iter().enumerate() {
            record.clear();
            record.push(doc.id.clone());
            record.push(doc.label.clone().unwrap_or_default());
            record.push(dominant[i].map(|t| t.to_string()).unwrap_or_default());
            record.extend(weights.row(i).iter().map(|&v| fmt_weight(v)));
            if let Some(c) = coverage.and_then(|c| c.get(i)) {
                record.push(c.words.to_string());
                record.push(c.known.to_string());
            }
            out.write_record(&record).map_err(|e| csv_error(path, e))?;
        }
        out.flush().map_err(|e| Error::io(path, e))
    })
}

/// Writes `topic_terms.csv` atomically.
pub fn write_topic_terms(path: &Path, set: &TopicSet) -> Result<()> {
    write_atomic(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(["topic", "rank", "term", "stem", "weight"])
            .map_err(|e| csv_error(path, e))?;
        for topic in &set.topics {
            for (rank, term) in topic.terms.iter().enumerate() {
                out.write_record([
                    topic.id.to_string(),
                    (rank + 1).to_string(),
                    term.term.clone(),
                    term.stem.clone(),
                    fmt_weight(term.weight),
                ])
                .map_err(|e| csv_error(path, e))?;
            }
        }
        out.flush().map_err(|e| Error::io(path, e))
    })
}
