//! Vocabulary and weighting: from documents to a document-term matrix (CSR).
//!
//! Columns are in sorted term order. Weighting follows scikit-learn's `TfidfTransformer`.
//!
//! The pipeline, for `n` documents:
//!
//! 1. **Counting** (`count`): every document is analyzed once, in parallel; each distinct token
//!    is stemmed once; rows hold `(term, count)` pairs sorted by term.
//! 2. **Vocabulary** ([`vectorize`]): `df(t)` is the number of documents containing term `t`.
//!    With `min = min_df` (a count) or `min_df × n` (a fraction), and `max` likewise, a term is
//!    kept when `min <= df(t) <= max` (scikit-learn's `CountVectorizer`); then `max_features`
//!    keeps the terms with the highest corpus count (ties: the term that sorts first). Columns
//!    are the kept terms in byte order (Python's `sorted`).
//! 3. **Weighting** (`TfidfTransformer`): for a count `c` of column `j` in a row,
//!    `tf = c` (`tf`, `tfidf`) or `1` (`binary`); with `sublinear_tf`, `tf = 1 + ln(tf)`;
//!    with `tfidf`, `w = tf × idf(j)` where `idf(j) = ln((1 + n) / (1 + df(j))) + 1`
//!    (`smooth_idf`) or `ln(n / df(j)) + 1`. Then each row is divided by its norm:
//!    `l2: sqrt(Σ w²)`, `l1: Σ |w|` (rows that are all zero stay zero).
//!
//! The result is the same with any number of threads: every row has a single writer and
//! the vocabulary depends only on integer counts and sorted strings.
//!
//! [`vectorize`] takes documents held in memory. For inputs read from disk, [`count_source`]
//! and [`vectorize_source`] count the documents block by block as they are read, never holding
//! every text, and [`Vocabulary::learn`] + [`RowStreamer`] give the rows in a second pass
//! without the matrix ever being whole (see [`stream`] for both and their memory bounds).
//! [`hashing`] replaces the vocabulary by hashed columns (`--hash-features`).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::matrix::{Idx, Matrix};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::atomic::StagedDir;
use crate::corpus::Document;
use crate::text::Analyzer;
use crate::{Error, Result};

mod count;
pub mod hashing;
pub mod stream;
mod tsv;
pub(crate) use tsv::unescape;

pub use hashing::HashFeatures;

use count::{count, ChunkRows, Counts};
pub use stream::{
    count_source, vectorize_source, CountedCorpus, RowBlock, RowStreamer, TextRows, Vocabulary,
};
pub use tsv::{read_documents_tsv, read_terms_tsv, write_documents_tsv, write_terms_tsv};

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

impl DfBound {
    /// Parses the value of a command-line option such as `--min-df`, naming `option` in the
    /// error.
    ///
    /// As in scikit-learn, an integer is a document count and a number with a decimal point or
    /// exponent a fraction of the documents: `"1"` is `Count(1)` (one document) while `"1.0"` is
    /// `Fraction(1.0)` (every document). Errors ([`Error::Input`]): a count of 0, a negative
    /// value, a fraction outside (0, 1], NaN, anything that is not a number.
    pub fn parse_option(option: &str, s: &str) -> Result<Self> {
        let t = s.trim();
        let bound = if let Ok(n) = t.parse::<usize>() {
            Some(DfBound::Count(n))
        } else {
            t.parse::<f64>().ok().map(DfBound::Fraction)
        };
        match bound {
            Some(b) if b.is_valid() => Ok(b),
            _ => Err(Error::input(format!(
                "invalid value '{s}' for {option}: expected a document count (an integer of at \
                 least 1) or a share of the documents (a fraction in (0, 1], such as 0.95)"
            ))),
        }
    }

    /// Whether the bound is usable: a count of at least 1, or a finite fraction in (0, 1].
    pub fn is_valid(&self) -> bool {
        match *self {
            DfBound::Count(n) => n >= 1,
            DfBound::Fraction(f) => f > 0.0 && f <= 1.0,
        }
    }

    /// The bound as a number of documents out of `n_docs`, as scikit-learn computes it: the
    /// count itself, or `fraction × n_docs` (not rounded; document frequencies are compared
    /// with it as real numbers).
    pub fn doc_count(&self, n_docs: usize) -> f64 {
        match *self {
            DfBound::Count(n) => n as f64,
            DfBound::Fraction(f) => f * n_docs as f64,
        }
    }
}

impl std::fmt::Display for DfBound {
    /// Writes the bound as it would be typed: `5`, `0.95`, `1.0`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DfBound::Count(n) => write!(f, "{n}"),
            DfBound::Fraction(x) => write!(f, "{x:?}"),
        }
    }
}

impl FromStr for DfBound {
    type Err = Error;
    /// See [`DfBound::parse_option`]; the error names no option.
    fn from_str(s: &str) -> Result<Self> {
        DfBound::parse_option("a document-frequency bound", s)
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
    /// Feature hashing of the terms instead of a vocabulary (`--hash-features N`, see
    /// [`hashing`]); `None`: every distinct term is a column candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<HashFeatures>,
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
            hash: None,
        }
    }
}

impl VectorizeOptions {
    /// Checks the option values (what the command line cannot rule out by parsing alone).
    ///
    /// Errors ([`Error::Input`], naming the option): an invalid `min_df` or `max_df` (see
    /// [`DfBound::is_valid`]), `max_features` of 0.
    pub fn check(&self) -> Result<()> {
        for (name, b) in [("--min-df", self.min_df), ("--max-df", self.max_df)] {
            if !b.is_valid() {
                return Err(Error::input(format!(
                    "invalid value '{b}' for {name}: expected a document count of at least 1 or \
                     a fraction in (0, 1]"
                )));
            }
        }
        if self.max_features == Some(0) {
            return Err(Error::input("--max-features must be at least 1"));
        }
        if let Some(h) = self.hash {
            h.check()?;
        }
        Ok(())
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

/// One row of the matrix: a document's id and label.
pub use crate::corpus::DocInfo;

/// A weighted document-term matrix with its row and column descriptions.
#[derive(Debug, Clone)]
pub struct DocTermMatrix {
    /// Documents × terms, CSR, non-negative.
    pub x: Matrix,
    /// Column descriptions, in column order (sorted by term).
    pub terms: Vec<Term>,
    /// Row descriptions, in row order.
    pub documents: Vec<DocInfo>,
    /// The idf of each column when the weighting used one.
    pub idf: Option<Vec<f64>>,
    /// `Some` when `x` does not hold the matrix: a fit that streamed its matrix from the
    /// inputs ([`crate::nmf::stream`], `fit --stream`) keeps no entry (`x` is all zeros, of the
    /// matrix's shape) and records here what the outputs need of the whole matrix.
    pub streamed: Option<StreamedTotals>,
}

/// What the outputs need of a matrix that was streamed, not held: gathered in the fit's last
/// pass over the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedTotals {
    /// Stored entries of the whole matrix.
    pub nnz: usize,
    /// Σ_d X(d, w) of each column w, summed in row order.
    pub column_sums: Vec<f64>,
    /// The document co-occurrence of the topics' top words
    /// ([`crate::topics::quality::coherence_words`]), counted in the same pass: the coherence
    /// measures' counts, without the matrix.
    pub coherence_counts: Option<crate::topics::quality::CoOccurrence>,
}

impl DocTermMatrix {
    /// Stored entries of the matrix (of the whole matrix when it was streamed).
    pub fn nnz(&self) -> usize {
        match &self.streamed {
            Some(t) => t.nnz,
            None => self.x.nnz(),
        }
    }

    /// The corpus term share p(w) of each column ([`crate::topics::term_share`]), from the
    /// whole matrix's column sums when it was streamed.
    pub fn term_share(&self) -> Vec<f64> {
        match &self.streamed {
            Some(t) => crate::topics::share_of_sums(t.column_sums.clone()),
            None => crate::topics::term_share(&self.x, self.terms.len()),
        }
    }

    /// The names of the files [`DocTermMatrix::write_to_dir`] writes.
    pub const FILES: [&'static str; 3] = ["matrix.mtx", "terms.tsv", "documents.tsv"];

    /// Writes `matrix.mtx`, `terms.tsv` and `documents.tsv` into `dir` (created if missing),
    /// as `nmf-topics vectorize` does, and returns the three paths. The three files are
    /// written into a staging folder and moved into place together ([`StagedDir`]), so an
    /// interrupted run leaves the folder's previous files as they were.
    pub fn write_to_dir(&self, dir: &Path) -> Result<[PathBuf; 3]> {
        if self.streamed.is_some() {
            return Err(Error::input(
                "a streamed matrix was not held, so it cannot be written (use vectorize)",
            ));
        }
        let staged = StagedDir::new(dir)?;
        self.write_files_into(staged.path())?;
        staged.commit(&Self::FILES)?;
        Ok(Self::FILES.map(|name| dir.join(name)))
    }

    /// Writes the three files of [`DocTermMatrix::write_to_dir`] straight into an existing
    /// folder (a staging folder of the caller's), each under its final name.
    pub fn write_files_into(&self, dir: &Path) -> Result<()> {
        let paths = Self::FILES.map(|name| dir.join(name));
        // The two small files are written while the matrix is formatted.
        let (matrix, (terms, documents)) = rayon::join(
            || crate::mtx::write_coordinate(&paths[0], &self.x),
            || {
                (
                    write_terms_tsv(&paths[1], &self.terms),
                    write_documents_tsv(&paths[2], &self.documents),
                )
            },
        );
        matrix?;
        terms?;
        documents
    }

    /// A matrix read from a Matrix Market file (`fit --matrix`), with its columns described by
    /// a `terms.tsv` and its rows by a `documents.tsv` when given. Without a terms file the
    /// columns are named `term_0`, `term_1`, … with their document frequencies counted from
    /// the matrix ([`column_document_frequencies`]); without a documents file the rows are
    /// `row_0`, `row_1`, … without labels. There is no idf.
    ///
    /// Errors ([`Error::Input`], naming the files): a malformed file, a terms file whose length
    /// differs from the matrix's columns, a documents file whose length differs from its rows.
    pub fn from_matrix_market(
        matrix: &Path,
        terms: Option<&Path>,
        documents: Option<&Path>,
    ) -> Result<DocTermMatrix> {
        let x = crate::mtx::read_sparse(matrix)?;
        let terms = match terms {
            Some(p) => {
                let t = read_terms_tsv(p)?;
                if t.len() != x.cols() {
                    return Err(Error::input(format!(
                        "{}: {} terms, but {} has {} columns",
                        p.display(),
                        t.len(),
                        matrix.display(),
                        x.cols()
                    )));
                }
                t
            }
            None => column_document_frequencies(&x)
                .into_iter()
                .enumerate()
                .map(|(j, df)| Term {
                    stem: format!("term_{j}"),
                    surface: format!("term_{j}"),
                    df,
                })
                .collect(),
        };
        let documents = match documents {
            Some(p) => {
                let d = read_documents_tsv(p)?;
                if d.len() != x.rows() {
                    return Err(Error::input(format!(
                        "{}: {} documents, but {} has {} rows",
                        p.display(),
                        d.len(),
                        matrix.display(),
                        x.rows()
                    )));
                }
                d
            }
            None => (0..x.rows())
                .map(|i| DocInfo {
                    id: format!("row_{i}"),
                    label: None,
                })
                .collect(),
        };
        Ok(DocTermMatrix {
            x,
            terms,
            documents,
            idf: None,
            streamed: None,
        })
    }

    /// The `n` terms in the most documents, most frequent first (ties: in column order),
    /// for summaries.
    pub fn top_terms_by_df(&self, n: usize) -> Vec<&Term> {
        let mut order: Vec<&Term> = self.terms.iter().collect();
        order.sort_by_key(|t| std::cmp::Reverse(t.df));
        order.truncate(n);
        order
    }

    /// Share of the cells that are stored: `nnz / (rows × columns)` (0 for an empty shape).
    pub fn density(&self) -> f64 {
        let cells = self.x.rows() as f64 * self.x.cols() as f64;
        if cells == 0.0 {
            0.0
        } else {
            self.nnz() as f64 / cells
        }
    }
}

/// The document frequency of every column of `x`: the number of rows with a stored entry in
/// it (explicit zeros count as stored; the Matrix Market reader drops them).
pub fn column_document_frequencies(x: &Matrix) -> Vec<usize> {
    let mut df = vec![0usize; x.cols()];
    if x.is_csr() {
        for &j in x.indices() {
            df[j as usize] += 1;
        }
    } else {
        for (_, (_, j)) in x.iter() {
            df[j as usize] += 1;
        }
    }
    df
}

/// Counts reported after vectorizing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VectorizeSummary {
    /// Distinct terms before the document-frequency and max-features filters.
    pub terms_before_filters: usize,
    /// Documents left without any term.
    pub empty_documents: usize,
}

/// Marks a term rank that has no column.
const NO_COLUMN: u32 = u32::MAX;

/// "1 document", "3 documents".
fn documents(n: usize) -> String {
    if n == 1 {
        "1 document".to_string()
    } else {
        format!("{n} documents")
    }
}

/// Analyzes the documents and builds the weighted matrix.
///
/// Rows are the documents in input order (a document without any kept term is an empty row),
/// columns the kept terms in byte order; see the [module documentation](self) for the
/// vocabulary filters and the weighting formulas. The analysis runs in parallel on the
/// current rayon pool; the result does not depend on its number of threads.
///
/// Errors ([`Error::Input`], exit code 2): invalid options ([`VectorizeOptions::check`]);
/// options that leave no term, with a message naming the filter that emptied the vocabulary
/// (the analysis itself, `--min-df`, `--max-df`); `max_df` standing for fewer documents than
/// `min_df`.
pub fn vectorize(
    docs: &[Document],
    analyzer: &Analyzer,
    opts: &VectorizeOptions,
) -> Result<(DocTermMatrix, VectorizeSummary)> {
    opts.check()?;
    let counts = count(docs, analyzer);
    let documents = docs
        .par_iter()
        .map(|d| DocInfo {
            id: d.id.clone(),
            label: d.label.as_deref().map(Into::into),
        })
        .collect();
    from_counts(counts, documents, opts)
}

/// The columns kept by the vocabulary rules, in rank (= byte) order, or the error naming the
/// filter that emptied the vocabulary (see [`vectorize`]).
fn kept_ranks(counts: &Counts, opts: &VectorizeOptions) -> Result<Vec<u32>> {
    kept_indices(&counts.df, &counts.totals, counts.n_docs, opts)
}

/// The indices (term ranks, or hash buckets) of `df` kept by the vocabulary rules, in
/// increasing order: `totals` decides `max_features`; an index without any document is never
/// kept.
fn kept_indices(
    df: &[usize],
    totals: &[u64],
    n_docs: usize,
    opts: &VectorizeOptions,
) -> Result<Vec<u32>> {
    let n_terms = df.iter().filter(|&&d| d > 0).count();
    if n_terms == 0 {
        return Err(Error::input(
            "no terms left after analysis: every word is a stopword or too short",
        ));
    }

    // Document-frequency filters, as scikit-learn's CountVectorizer.
    let min_count = opts.min_df.doc_count(n_docs);
    let max_count = opts.max_df.doc_count(n_docs);
    if max_count < min_count {
        return Err(Error::input(format!(
            "--max-df {} corresponds to fewer documents ({max_count}) than --min-df {} ({min_count})",
            opts.max_df, opts.min_df
        )));
    }
    let after_min: Vec<u32> = (0..df.len() as u32)
        .filter(|&t| df[t as usize] > 0 && df[t as usize] as f64 >= min_count)
        .collect();
    if after_min.is_empty() {
        let most = df.iter().copied().max().unwrap_or(0);
        return Err(Error::input(format!(
            "--min-df {} keeps no term (the most frequent term is in {} of {})",
            opts.min_df,
            documents(most),
            n_docs
        )));
    }
    let mut kept: Vec<u32> = after_min
        .iter()
        .copied()
        .filter(|&t| df[t as usize] as f64 <= max_count)
        .collect();
    if kept.is_empty() {
        let rarest = after_min.iter().map(|&t| df[t as usize]).min().unwrap_or(0);
        return Err(Error::input(format!(
            "--max-df {} keeps no term (the rarest term{} is in {} of {})",
            opts.max_df,
            if after_min.len() < n_terms {
                " left by --min-df"
            } else {
                ""
            },
            documents(rarest),
            n_docs
        )));
    }
    if let Some(limit) = opts.max_features {
        if kept.len() > limit {
            // Highest corpus count first; ties: the term that sorts first (lower rank).
            kept.sort_by(|&a, &b| totals[b as usize].cmp(&totals[a as usize]).then(a.cmp(&b)));
            kept.truncate(limit);
            kept.sort_unstable();
        }
    }
    Ok(kept)
}

/// How term ranks map to the columns of the matrix.
pub(crate) struct Columns {
    /// The column of each term rank ([`NO_COLUMN`]: dropped).
    of_rank: Vec<u32>,
    /// With alternate signs: the ranks whose counts are subtracted.
    negative: Option<Vec<bool>>,
    /// `of_rank` increases on kept ranks, so rows stay sorted without a sort.
    monotone: bool,
    /// Several ranks may share a column (hashing): their counts are summed per row, the
    /// absolute value kept, a zero dropped.
    merge: bool,
}

impl Columns {
    /// The entries `(column, count)` of one counted row, sorted by column, into `out`.
    fn map_row(
        &self,
        row: &[(u32, u32)],
        out: &mut Vec<(usize, u32)>,
        signed: &mut Vec<(usize, i64)>,
    ) {
        out.clear();
        if !self.merge {
            out.extend(
                row.iter()
                    .filter(|e| self.of_rank[e.0 as usize] != NO_COLUMN)
                    .map(|e| (self.of_rank[e.0 as usize] as usize, e.1)),
            );
            if !self.monotone {
                out.sort_unstable_by_key(|e| e.0);
            }
            return;
        }
        signed.clear();
        for &(r, c) in row {
            let col = self.of_rank[r as usize];
            if col == NO_COLUMN {
                continue;
            }
            let neg = self.negative.as_ref().is_some_and(|n| n[r as usize]);
            let c = i64::from(c);
            signed.push((col as usize, if neg { -c } else { c }));
        }
        signed.sort_unstable_by_key(|e| e.0);
        let mut k = 0;
        while k < signed.len() {
            let (col, mut sum) = signed[k];
            k += 1;
            while k < signed.len() && signed[k].0 == col {
                sum += signed[k].1;
                k += 1;
            }
            if sum != 0 {
                out.push((col, u32::try_from(sum.unsigned_abs()).unwrap_or(u32::MAX)));
            }
        }
    }
}

/// The vocabulary of counted documents: the kept terms with their document frequencies, the
/// idf, and the map from term rank to column.
fn vocabulary_of(counts: &Counts, opts: &VectorizeOptions) -> Result<(Vocabulary, Columns)> {
    if let Some(h) = opts.hash {
        return hashed_vocabulary(counts, opts, h);
    }
    let kept = kept_ranks(counts, opts)?;
    let mut col_of_rank = vec![NO_COLUMN; counts.terms.len()];
    for (col, &t) in kept.iter().enumerate() {
        col_of_rank[t as usize] = col as u32;
    }
    let terms: Vec<Term> = kept
        .iter()
        .map(|&t| Term {
            stem: counts.terms[t as usize].clone(),
            surface: counts.surfaces[t as usize].clone(),
            df: counts.df[t as usize],
        })
        .collect();
    let vocabulary = Vocabulary::new(terms, counts.n_docs, opts, counts.terms.len())?;
    let columns = Columns {
        of_rank: col_of_rank,
        negative: None,
        monotone: true,
        merge: false,
    };
    Ok((vocabulary, columns))
}

/// [`vocabulary_of`] with feature hashing (see [`hashing`]): document frequencies and totals
/// per bucket (from the rows, or counted without rows), the rules applied to the buckets, each
/// kept bucket described by its most frequent terms.
fn hashed_vocabulary(
    counts: &Counts,
    opts: &VectorizeOptions,
    h: HashFeatures,
) -> Result<(Vocabulary, Columns)> {
    let n = h.features;
    let hashed: Vec<(u32, bool)> = counts.terms.par_iter().map(|t| h.bucket(t)).collect();
    let mut all = Columns {
        of_rank: hashed.iter().map(|b| b.0).collect(),
        negative: h
            .alternate_sign
            .then(|| hashed.iter().map(|b| b.1).collect()),
        monotone: false,
        merge: true,
    };
    let (df, totals) = match &counts.buckets {
        Some(b) => (b.df.clone(), b.totals.clone()),
        None => bucket_counts(counts, &all, n),
    };
    let kept = kept_indices(&df, &totals, counts.n_docs, opts)?;
    let mut col_of_bucket = vec![NO_COLUMN; n];
    for (col, &b) in kept.iter().enumerate() {
        col_of_bucket[b as usize] = col as u32;
    }
    // The two most frequent terms of each kept bucket (ties: the term that sorts first).
    let mut best: Vec<[Option<u32>; 2]> = vec![[None, None]; kept.len()];
    for (rank, &(b, _)) in hashed.iter().enumerate() {
        let col = col_of_bucket[b as usize];
        if col == NO_COLUMN {
            continue;
        }
        let r = rank as u32;
        let slot = &mut best[col as usize];
        let better =
            |x: Option<u32>| x.is_none_or(|x| counts.totals[rank] > counts.totals[x as usize]);
        if better(slot[0]) {
            slot[1] = slot[0];
            slot[0] = Some(r);
        } else if better(slot[1]) {
            slot[1] = Some(r);
        }
    }
    let terms: Vec<Term> = kept
        .iter()
        .zip(&best)
        .map(|(&b, top)| {
            let first = top[0].unwrap_or(0) as usize;
            let mut surface = counts.surfaces[first].clone();
            // A second term when it is at least half as frequent as the first.
            if let Some(second) =
                top[1].filter(|&s| 2 * counts.totals[s as usize] >= counts.totals[first])
            {
                surface.push('/');
                surface.push_str(&counts.surfaces[second as usize]);
            }
            Term {
                stem: counts.terms[first].clone(),
                surface,
                df: df[b as usize],
            }
        })
        .collect();
    let before = df.iter().filter(|&&d| d > 0).count();
    let vocabulary = Vocabulary::new(terms, counts.n_docs, opts, before)?;
    for c in &mut all.of_rank {
        *c = col_of_bucket[*c as usize];
    }
    Ok((vocabulary, all))
}

/// Documents and total (absolute) counts per bucket, from the counted rows.
fn bucket_counts(counts: &Counts, all: &Columns, n: usize) -> (Vec<usize>, Vec<u64>) {
    counts
        .chunks
        .par_iter()
        .fold(
            || (vec![0usize; n], vec![0u64; n], Vec::new(), Vec::new()),
            |(mut df, mut tot, mut out, mut signed), chunk| {
                let mut at = 0usize;
                for &len in &chunk.row_len {
                    all.map_row(&chunk.entries[at..at + len as usize], &mut out, &mut signed);
                    at += len as usize;
                    for &(b, c) in &out {
                        df[b] += 1;
                        tot[b] += u64::from(c);
                    }
                }
                (df, tot, out, signed)
            },
        )
        .map(|(df, tot, _, _)| (df, tot))
        .reduce(
            || (vec![0usize; n], vec![0u64; n]),
            |(mut a, mut b), (c, d)| {
                for (x, y) in a.iter_mut().zip(c) {
                    *x += y;
                }
                for (x, y) in b.iter_mut().zip(d) {
                    *x += y;
                }
                (a, b)
            },
        )
}

/// The matrix of counted documents (with their rows kept), see [`vectorize`].
fn from_counts(
    counts: Counts,
    documents: Vec<DocInfo>,
    opts: &VectorizeOptions,
) -> Result<(DocTermMatrix, VectorizeSummary)> {
    let (vocabulary, columns) = vocabulary_of(&counts, opts)?;
    let nnz: usize = vocabulary.terms.iter().map(|t| t.df).sum();
    let x = build_matrix(
        counts,
        &columns,
        vocabulary.terms.len(),
        vocabulary.idf.as_deref(),
        opts,
        Some(nnz),
    )?;
    let empty_documents = x
        .indptr()
        .raw_storage()
        .windows(2)
        .filter(|w| w[0] == w[1])
        .count();
    let summary = VectorizeSummary {
        terms_before_filters: vocabulary.terms_before_filters,
        empty_documents,
    };
    Ok((
        DocTermMatrix {
            x,
            terms: vocabulary.terms,
            documents,
            idf: vocabulary.idf,
            streamed: None,
        },
        summary,
    ))
}

/// scikit-learn's idf: `ln((1 + n) / (1 + df)) + 1` when `smooth`, else `ln(n / df) + 1`.
pub fn idf_value(n_docs: usize, df: usize, smooth: bool) -> f64 {
    let s = usize::from(smooth);
    ((n_docs + s) as f64 / (df + s) as f64).ln() + 1.0
}

/// Weights one row in place: `counts` holds the raw counts of the row's columns `cols`, and
/// `out` receives the weights (see the module documentation for the formulas).
fn weigh_row(
    cols: &[Idx],
    counts: &[u32],
    idf: Option<&[f64]>,
    opts: &VectorizeOptions,
    out: &mut [f64],
) {
    for ((w, &c), &col) in out.iter_mut().zip(counts).zip(cols) {
        let mut tf = match opts.weighting {
            Weighting::Binary => 1.0,
            Weighting::Tf | Weighting::Tfidf => f64::from(c),
        };
        if opts.sublinear_tf {
            tf = tf.ln() + 1.0;
        }
        if let (Weighting::Tfidf, Some(idf)) = (opts.weighting, idf) {
            tf *= idf[col as usize];
        }
        *w = tf;
    }
    let norm = match opts.norm {
        Norm::None => return,
        Norm::L2 => out.iter().fold(0.0, |s, &w| s + w * w).sqrt(),
        Norm::L1 => out.iter().fold(0.0, |s, &w| s + w.abs()),
    };
    if norm != 0.0 {
        for w in out.iter_mut() {
            *w /= norm;
        }
    }
}

/// Builds the weighted CSR matrix from counted rows. `col_of_rank` maps a term rank to its
/// column ([`NO_COLUMN`]: dropped); `monotone` says the map is increasing on kept ranks, so
/// rows stay sorted without a sort; `nnz`, when known, sizes the arrays at once.
///
/// The counted rows are consumed a group of chunks at a time (each group's chunks weighted in
/// parallel, then appended in order and freed), so the rows and the matrix are not both held
/// whole: the peak is the matrix plus what is left of the rows.
fn build_matrix(
    counts: Counts,
    columns: &Columns,
    n_cols: usize,
    idf: Option<&[f64]>,
    opts: &VectorizeOptions,
    nnz: Option<usize>,
) -> Result<Matrix> {
    let n_docs = counts.n_docs;
    let mut indptr = Vec::with_capacity(n_docs + 1);
    indptr.push(0usize);
    let mut indices: Vec<Idx> = Vec::with_capacity(nnz.unwrap_or(0));
    let mut data: Vec<f64> = Vec::with_capacity(nnz.unwrap_or(0));
    weigh_groups(
        counts,
        columns,
        idf,
        opts,
        &mut |lens: Vec<usize>, ind: Vec<Idx>, dat: Vec<f64>| {
            for n in lens {
                indptr.push(indptr[indptr.len() - 1] + n);
            }
            indices.extend_from_slice(&ind);
            data.extend_from_slice(&dat);
            Ok(())
        },
    )?;
    Matrix::try_new((n_docs, n_cols), indptr, indices, data)
        .map_err(|(_, _, _, e)| Error::Runtime(format!("internal error building the matrix: {e}")))
}

/// Weighs counted rows a group of chunks at a time (each group's chunks in parallel), handing
/// each chunk's rows to `f` in document order as `(entries per row, columns, weights)`, and
/// freeing the chunk's counts.
fn weigh_groups(
    counts: Counts,
    columns: &Columns,
    idf: Option<&[f64]>,
    opts: &VectorizeOptions,
    f: &mut dyn FnMut(Vec<usize>, Vec<Idx>, Vec<f64>) -> Result<()>,
) -> Result<()> {
    let group = 4 * rayon::current_num_threads().max(1);
    let mut chunks = counts.chunks.into_iter();
    loop {
        let batch: Vec<ChunkRows> = chunks.by_ref().take(group).collect();
        if batch.is_empty() {
            return Ok(());
        }
        let parts: Vec<(Vec<usize>, Vec<Idx>, Vec<f64>)> = batch
            .into_par_iter()
            .map(|chunk| weigh_chunk(chunk, columns, idf, opts))
            .collect();
        for (lens, ind, dat) in parts {
            f(lens, ind, dat)?;
        }
        // The group's counted rows are freed: hand them back to the system now, so that the
        // peak is the matrix plus the rows not yet weighted, not plus the rows already freed.
        crate::memory::release_freed();
    }
}

/// One chunk of counted rows as weighted CSR pieces: the kept entries per row, the columns and
/// the weights.
fn weigh_chunk(
    chunk: ChunkRows,
    columns: &Columns,
    idf: Option<&[f64]>,
    opts: &VectorizeOptions,
) -> (Vec<usize>, Vec<Idx>, Vec<f64>) {
    let mut lens = Vec::with_capacity(chunk.row_len.len());
    let mut ind: Vec<Idx> = Vec::with_capacity(chunk.entries.len());
    let mut cnt: Vec<u32> = Vec::new();
    let mut row_buf: Vec<(usize, u32)> = Vec::new();
    let mut signed: Vec<(usize, i64)> = Vec::new();
    let mut at = 0usize;
    for &len in &chunk.row_len {
        let row = &chunk.entries[at..at + len as usize];
        at += len as usize;
        columns.map_row(row, &mut row_buf, &mut signed);
        lens.push(row_buf.len());
        for &(col, c) in &row_buf {
            ind.push(col as Idx);
            cnt.push(c);
        }
    }
    drop(chunk);
    let mut dat = vec![0.0f64; ind.len()];
    let mut out = 0usize;
    for &k in &lens {
        weigh_row(
            &ind[out..out + k],
            &cnt[out..out + k],
            idf,
            opts,
            &mut dat[out..out + k],
        );
        out += k;
    }
    (lens, ind, dat)
}

/// How many of a document's words a fixed vocabulary knows (see [`transform_matrix`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Coverage {
    /// Words of the document kept by the analyzer (stopwords, numbers and short tokens
    /// removed), counted with repetition.
    pub words: usize,
    /// Those of them whose term is in the vocabulary.
    pub known: usize,
}

impl Coverage {
    /// `known / words`, or 1 for a document without words.
    pub fn share(&self) -> f64 {
        if self.words == 0 {
            1.0
        } else {
            self.known as f64 / self.words as f64
        }
    }
}

/// Weights new documents against a fixed vocabulary (for `transform`): unknown terms are
/// ignored; `idf` is used when the weighting is tf-idf.
///
/// The documents are analyzed exactly as in [`vectorize`]; a term is matched to a column by
/// its stem ([`Term::stem`]). Errors ([`Error::Input`]): invalid options, tf-idf weighting
/// without `idf`, an `idf` whose length differs from the vocabulary's, a vocabulary with a
/// repeated term.
pub fn vectorize_with_vocabulary(
    docs: &[Document],
    analyzer: &Analyzer,
    terms: &[Term],
    idf: Option<&[f64]>,
    opts: &VectorizeOptions,
) -> Result<Matrix> {
    transform_matrix(docs, analyzer, terms, idf, opts).map(|(x, _)| x)
}

/// [`vectorize_with_vocabulary`], also returning for each document how many of its words the
/// vocabulary knows (single words only: an n-gram is not a word of its own).
pub fn transform_matrix(
    docs: &[Document],
    analyzer: &Analyzer,
    terms: &[Term],
    idf: Option<&[f64]>,
    opts: &VectorizeOptions,
) -> Result<(Matrix, Vec<Coverage>)> {
    opts.check()?;
    if opts.weighting == Weighting::Tfidf {
        match idf {
            None => {
                return Err(Error::input(
                    "tf-idf weighting needs the idf of the vocabulary, and none was given",
                ))
            }
            Some(v) if v.len() != terms.len() => {
                return Err(Error::input(format!(
                    "the idf has {} values for a vocabulary of {} terms",
                    v.len(),
                    terms.len()
                )))
            }
            Some(_) => {}
        }
    }
    // The vocabulary's lookup: by stem, or by hash (see [`hashing`]).
    let vocabulary = Vocabulary::new(terms.to_vec(), 0, opts, terms.len())?;
    let counts = count(docs, analyzer);
    let signed: Vec<Option<(usize, bool)>> = counts
        .terms
        .iter()
        .map(|t| vocabulary.signed_column(t))
        .collect();
    let col_of_rank: Vec<u32> = signed
        .iter()
        .map(|c| c.map_or(NO_COLUMN, |c| c.0 as u32))
        .collect();
    let monotone = col_of_rank
        .iter()
        .filter(|&&c| c != NO_COLUMN)
        .collect::<Vec<_>>()
        .windows(2)
        .all(|w| w[0] < w[1]);
    let columns = Columns {
        negative: opts
            .hash
            .is_some_and(|h| h.alternate_sign)
            .then(|| signed.iter().map(|c| c.is_some_and(|c| c.1)).collect()),
        monotone,
        merge: opts.hash.is_some(),
        of_rank: col_of_rank,
    };
    let col_of_rank = &columns.of_rank;
    let single_word: Vec<bool> = counts.terms.iter().map(|t| !t.contains(' ')).collect();
    let mut coverage = Vec::with_capacity(counts.n_docs);
    for chunk in &counts.chunks {
        let mut at = 0;
        for &len in &chunk.row_len {
            let mut c = Coverage::default();
            for &(rank, n) in &chunk.entries[at..at + len as usize] {
                if single_word[rank as usize] {
                    c.words += n as usize;
                    if col_of_rank[rank as usize] != NO_COLUMN {
                        c.known += n as usize;
                    }
                }
            }
            at += len as usize;
            coverage.push(c);
        }
    }
    let x = build_matrix(counts, &columns, terms.len(), idf, opts, None)?;
    Ok((x, coverage))
}

#[cfg(test)]
mod tests;
