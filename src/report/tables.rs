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
use rayon::prelude::*;

use super::numbers::{check_transformed, fmt_weight};
use crate::topics::{dominant_topic, normalize_rows, DocWeights, TopicSet};
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
    write_doc_weights(path, &dtm.documents, &set.doc_weights, &set.dominant, None)
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
    write_doc_weights(
        path,
        documents,
        &DocWeights::Memory(weights),
        &dominant,
        Some(coverage),
    )
}

/// Rows of doc_topics.csv formatted per parallel block.
const CSV_BLOCK_ROWS: usize = 4096;

/// Writes `id,label,dominant_topic,topic_0,…` rows of already normalized weights. The rows are
/// formatted in parallel blocks (each by its own CSV writer into a buffer) and written in
/// order, so the bytes do not depend on the number of threads.
fn write_doc_weights(
    path: &Path,
    documents: &[DocInfo],
    weights: &DocWeights,
    dominant: &[Option<usize>],
    coverage: Option<&[Coverage]>,
) -> Result<()> {
    write_atomic(path, |w| {
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
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(&header).map_err(|e| csv_error(path, e))?;
        let head = out
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))?;
        w.write_all(&head).map_err(|e| Error::io(path, e))?;
        let format_block = |b: usize| -> Result<Vec<u8>> {
            let rows = b * CSV_BLOCK_ROWS..((b + 1) * CSV_BLOCK_ROWS).min(documents.len());
            let theta = weights.block(rows.clone())?;
            let first = rows.start;
            let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * (12 * k + 32)));
            let mut field = String::new();
            let mut floats = ryu::Buffer::new();
            let mut ints = itoa::Buffer::new();
            for i in rows {
                let doc = &documents[i];
                let e = |e| csv_error(path, e);
                out.write_field(&doc.id).map_err(e)?;
                out.write_field(doc.label.as_deref().unwrap_or_default())
                    .map_err(e)?;
                match dominant[i] {
                    Some(t) => out.write_field(ints.format(t)).map_err(e)?,
                    None => out.write_field("").map_err(e)?,
                }
                for &v in theta.row(i - first) {
                    field.clear();
                    super::numbers::push_weight(&mut field, v, &mut floats);
                    out.write_field(&field).map_err(e)?;
                }
                if let Some(c) = coverage.and_then(|c| c.get(i)) {
                    out.write_field(ints.format(c.words)).map_err(e)?;
                    out.write_field(ints.format(c.known)).map_err(e)?;
                }
                out.write_record(None::<&[u8]>).map_err(e)?;
            }
            out.into_inner()
                .map_err(|e| Error::io(path, e.into_error()))
        };
        let n_blocks = documents.len().div_ceil(CSV_BLOCK_ROWS);
        let mut b = 0;
        while b < n_blocks {
            let end = (b + super::blocks_in_flight()).min(n_blocks);
            let parts: Vec<Result<Vec<u8>>> = (b..end).into_par_iter().map(format_block).collect();
            for part in parts {
                w.write_all(&part?).map_err(|e| Error::io(path, e))?;
            }
            b = end;
        }
        w.flush().map_err(|e| Error::io(path, e))
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
