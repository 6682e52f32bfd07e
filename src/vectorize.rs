//! Vocabulary and weighting: from documents to a document-term matrix (CSR).
//!
//! Columns are in sorted term order. Weighting follows scikit-learn's `TfidfTransformer`.

use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sprs::CsMat;

use crate::corpus::Document;
use crate::text::Analyzer;
use crate::{Error, Result};

/// A document-frequency bound, as scikit-learn reads `min_df` / `max_df`: an integer is a
/// document count, a fraction in (0, 1] a share of the documents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DfBound {
    /// A number of documents.
    Count(usize),
    /// A share of the documents, in (0, 1].
    Fraction(f64),
}

impl FromStr for DfBound {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if let Ok(n) = s.parse::<usize>() {
            return Ok(DfBound::Count(n));
        }
        match s.parse::<f64>() {
            Ok(f) if f > 0.0 && f <= 1.0 => Ok(DfBound::Fraction(f)),
            _ => Err(Error::input(format!(
                "invalid document-frequency bound '{s}': expected a count or a fraction in (0, 1]"
            ))),
        }
    }
}

/// How term counts become weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Weighting {
    /// Term count × inverse document frequency.
    #[default]
    Tfidf,
    /// Raw term count.
    Tf,
    /// 1 where the term occurs.
    Binary,
}

/// Per-document normalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    /// Unit Euclidean norm per row.
    #[default]
    L2,
    /// Unit sum of absolute values per row.
    L1,
    /// No normalization.
    None,
}

/// Vocabulary and weighting options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorizeOptions {
    /// Drop terms in fewer documents than this.
    pub min_df: DfBound,
    /// Drop terms in more documents than this.
    pub max_df: DfBound,
    /// Keep only the terms with the highest total count (ties broken by term).
    pub max_features: Option<usize>,
    /// Weighting scheme.
    pub weighting: Weighting,
    /// Replace tf by 1 + ln(tf).
    pub sublinear_tf: bool,
    /// Row normalization.
    pub norm: Norm,
    /// idf = ln((1+n)/(1+df)) + 1 when true, ln(n/df) + 1 when false.
    pub smooth_idf: bool,
}

impl Default for VectorizeOptions {
    fn default() -> Self {
        VectorizeOptions {
            min_df: DfBound::Count(1),
            max_df: DfBound::Fraction(1.0),
            max_features: None,
            weighting: Weighting::Tfidf,
            sublinear_tf: false,
            norm: Norm::L2,
            smooth_idf: true,
        }
    }
}

/// One column of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    /// The term as analyzed (a stem, or stems joined by spaces for n-grams).
    pub stem: String,
    /// Its most frequent surface form (ties: alphabetically first).
    pub surface: String,
    /// Number of documents containing it.
    pub df: usize,
}

/// One row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocInfo {
    /// Document id.
    pub id: String,
    /// Document label, if any.
    pub label: Option<String>,
}

/// A weighted document-term matrix with its row and column descriptions.
#[derive(Debug, Clone)]
pub struct DocTermMatrix {
    /// Documents × terms, CSR, non-negative.
    pub x: CsMat<f64>,
    /// Column descriptions, in column order (sorted by term).
    pub terms: Vec<Term>,
    /// Row descriptions, in row order.
    pub documents: Vec<DocInfo>,
    /// The idf of each column when the weighting used one.
    pub idf: Option<Vec<f64>>,
}

/// Counts reported after vectorizing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VectorizeSummary {
    /// Distinct terms before the document-frequency and max-features filters.
    pub terms_before_filters: usize,
    /// Documents left without any term.
    pub empty_documents: usize,
}

/// Analyzes the documents and builds the weighted matrix.
///
/// Errors (exit code 2): options that leave no term (the message names the filter).
pub fn vectorize(
    docs: &[Document],
    analyzer: &Analyzer,
    opts: &VectorizeOptions,
) -> Result<(DocTermMatrix, VectorizeSummary)> {
    let _ = (docs, analyzer, opts);
    Err(Error::Runtime("vectorize: not implemented yet".into()))
}

/// Weights new documents against a fixed vocabulary (for `transform`): unknown terms are
/// ignored; `idf` is used when the weighting is tf-idf.
pub fn vectorize_with_vocabulary(
    docs: &[Document],
    analyzer: &Analyzer,
    terms: &[Term],
    idf: Option<&[f64]>,
    opts: &VectorizeOptions,
) -> Result<CsMat<f64>> {
    let _ = (docs, analyzer, terms, idf, opts);
    Err(Error::Runtime(
        "vectorize_with_vocabulary: not implemented yet".into(),
    ))
}

/// Writes `terms.tsv`: header `term\tsurface\tdf`, one row per column.
pub fn write_terms_tsv(path: &Path, terms: &[Term]) -> Result<()> {
    let _ = (path, terms);
    Ok(())
}

/// Reads `terms.tsv` as written by [`write_terms_tsv`].
pub fn read_terms_tsv(path: &Path) -> Result<Vec<Term>> {
    let _ = path;
    Ok(Vec::new())
}

/// Writes `documents.tsv`: header `id\tlabel`, one row per matrix row; tabs, newlines and
/// backslashes inside fields escaped as `\t`, `\n` and `\\`.
pub fn write_documents_tsv(path: &Path, docs: &[DocInfo]) -> Result<()> {
    let _ = (path, docs);
    Ok(())
}

/// Reads `documents.tsv` as written by [`write_documents_tsv`].
pub fn read_documents_tsv(path: &Path) -> Result<Vec<DocInfo>> {
    let _ = path;
    Ok(Vec::new())
}
