//! Turning a fitted model into readable topics.
//!
//! Given X ≈ W·H (W documents × k, H k × terms), this module computes what a reader needs:
//!
//! - **document weights**: each row of W normalized to sum 1, θ(d, t) = W(d,t) / Σ_t' W(d,t');
//!   an all-zero row (a document without terms) stays all zeros and has no dominant topic;
//! - **prevalence** of topic t: Σ_d θ(d, t) / Σ_d Σ_t' θ(d, t'), the share of the normalized
//!   document weights that falls on t (documents with all-zero rows contribute nothing);
//! - **term distributions**: p(w | t) = H(t,w) / Σ_w' H(t,w') and the corpus term share
//!   p(w) = Σ_d X(d,w) / Σ_d Σ_w' X(d,w');
//! - **relevance** ([`mod@relevance`]; Sievert & Shirley 2014, pyLDAvis):
//!   relevance(w | t) = λ·ln p(w|t) + (1 − λ)·ln(p(w|t) / p(w)); λ = 1 ranks by weight,
//!   λ = 0 by lift;
//! - **top terms** (surface forms shown, stems kept), a **label** (the three best words),
//!   **top documents** with a text snippet;
//! - **topic similarity** ([`similarity`]): cosine between rows of H, Jensen-Shannon divergence between the
//!   normalized rows, and a 2-D classical multidimensional scaling of the Jensen-Shannon
//!   distances √JSD for an intertopic map;
//! - **quality** ([`quality`]): coherence of the top words (UMass, NPMI, sliding-window NPMI),
//!   topic diversity, agreement of dominant topics with document labels, and the stability of
//!   topics across restarts.
//!
//! Topic ids are the model's row order of H; nothing here re-sorts topics. Every number is
//! finite: zero rows, zero topics and zero columns are handled explicitly.

use std::cmp::Ordering;
use std::path::PathBuf;

use crate::matrix::Matrix;
use ndarray::{Array2, ArrayView1, ArrayView2};

use rayon::prelude::*;

use crate::corpus::{Document, Texts};
use crate::nmf::wfile::WFile;
use crate::nmf::NmfModel;
use crate::vectorize::DocTermMatrix;
use crate::{Error, Result};

pub mod quality;
pub mod relevance;
pub mod similarity;

use relevance::share_or_floor;
pub use relevance::{rank_terms, relevance, relevance_candidates};
pub use similarity::{
    classical_mds, cosine_similarity, intertopic_map, js_divergence, js_divergence_matrix,
};

/// Separator between the words of a topic label.
pub const LABEL_SEPARATOR: &str = " · ";
/// Number of words in a topic label.
pub const LABEL_WORDS: usize = 3;
/// Characters of a document's text kept in a snippet (before the ellipsis).
pub const SNIPPET_CHARS: usize = 200;
/// The λ grid used by [`relevance_candidates`]: λ = i / `LAMBDA_STEPS` for i = 0..=LAMBDA_STEPS
/// (steps of 0.05, the report's slider).
pub const LAMBDA_STEPS: usize = 20;

/// What to extract per topic.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicOptions {
    /// Terms listed per topic.
    pub top_terms: usize,
    /// Documents listed per topic.
    pub top_documents: usize,
    /// λ of the relevance ranking of the listed terms (1 = plain weight), in [0, 1].
    pub relevance_lambda: f64,
}

impl Default for TopicOptions {
    fn default() -> Self {
        TopicOptions {
            top_terms: 10,
            top_documents: 10,
            relevance_lambda: 1.0,
        }
    }
}

/// One term of a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicTerm {
    /// Column of the term in X and H.
    pub index: usize,
    /// The surface form shown to readers.
    pub term: String,
    /// The analyzed form (stem).
    pub stem: String,
    /// The raw weight H(t, w).
    pub weight: f64,
    /// p(w | t), the weight normalized over the topic's row.
    pub probability: f64,
    /// relevance(w | t) at the options' λ.
    pub relevance: f64,
}

/// One of the documents most about a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicDocument {
    /// Row of the document in X and W.
    pub index: usize,
    /// Document id.
    pub id: String,
    /// Normalized weight θ(d, t).
    pub weight: f64,
    /// The beginning of the document's text, when texts are available (see [`snippet`]).
    pub snippet: Option<String>,
    /// The file the document came from, when known.
    pub path: Option<PathBuf>,
}

/// A readable topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    /// The topic's id: its row in H.
    pub id: usize,
    /// Its best [`LABEL_WORDS`] words joined by [`LABEL_SEPARATOR`] (`(empty topic)` when the
    /// row of H is all zeros).
    pub label: String,
    /// Share of the normalized document weights on this topic, in [0, 1].
    pub prevalence: f64,
    /// Top terms by relevance at the options' λ (by weight when λ = 1).
    pub terms: Vec<TopicTerm>,
    /// Documents with the largest normalized weight on this topic (ties: larger raw weight,
    /// then row order); only documents with a positive weight.
    pub documents: Vec<TopicDocument>,
}

/// Everything derived from a model for the outputs.
#[derive(Debug, Clone)]
pub struct TopicSet {
    /// One entry per topic, in the model's order.
    pub topics: Vec<Topic>,
    /// θ: W with rows normalized to sum 1 (all-zero rows stay zero), documents × k; in memory,
    /// or read from W on disk a block of rows at a time.
    pub doc_weights: DocWeights,
    /// Each document's topic with the largest normalized weight (lowest id on ties), `None`
    /// for an all-zero row.
    pub dominant: Vec<Option<usize>>,
    /// p(w | t): H with rows normalized to sum 1, k × terms.
    pub term_given_topic: Array2<f64>,
    /// p(w): the corpus term share (column sums of X normalized).
    pub term_share: Vec<f64>,
    /// λ used for the terms of [`TopicSet::topics`].
    pub lambda: f64,
}

impl TopicSet {
    /// Derives the topics of `model` fitted on `dtm`. `documents`, when given, must be in the
    /// matrix's row order; the texts of each topic's top documents give snippets and their
    /// paths links (only those documents are fetched). They are ignored if their number
    /// differs from the matrix's rows, or if the top documents cannot be read again.
    ///
    /// Errors ([`Error::Input`]): W or H whose shape does not match the matrix, or a λ outside
    /// [0, 1].
    pub fn from_model(
        dtm: &DocTermMatrix,
        model: &NmfModel,
        documents: Option<&dyn Texts>,
        opts: &TopicOptions,
    ) -> Result<TopicSet> {
        TopicSet::check(dtm, model, opts)?;
        let doc_weights = normalize_rows(model.w.view());
        let top = top_candidates(model.w.view(), Some(&doc_weights), opts.top_documents, 0);
        TopicSet::assemble_in_memory(dtm, model, doc_weights, top, documents, opts)
    }

    /// The shapes of `model` against `dtm`, and λ.
    fn check(dtm: &DocTermMatrix, model: &NmfModel, opts: &TopicOptions) -> Result<()> {
        TopicSet::check_shapes(dtm, model.w.dim(), &model.h, opts)
    }

    /// [`TopicSet::check`] with W's shape given apart (W on disk).
    fn check_shapes(
        dtm: &DocTermMatrix,
        (w_rows, w_cols): (usize, usize),
        h: &Array2<f64>,
        opts: &TopicOptions,
    ) -> Result<()> {
        let (n, m) = (dtm.documents.len(), dtm.terms.len());
        if w_rows != n {
            return Err(Error::input(format!(
                "the model's W has {w_rows} rows but there are {n} documents"
            )));
        }
        if h.ncols() != m {
            return Err(Error::input(format!(
                "the model's H has {} columns but there are {m} terms",
                h.ncols()
            )));
        }
        if w_cols != h.nrows() {
            return Err(Error::input(format!(
                "the model's W has {w_cols} columns but H has {} rows",
                h.nrows()
            )));
        }
        let lambda = opts.relevance_lambda;
        if !(0.0..=1.0).contains(&lambda) {
            return Err(Error::input(format!(
                "--relevance-lambda must be in [0, 1], got {lambda}"
            )));
        }
        Ok(())
    }

    /// [`TopicSet::from_model`], taking W out of `model` (left 0 × k): W's rows become the
    /// document weights in place, so the two are never held together (n × k values fewer at
    /// the peak of writing the outputs). The same topic set, bit for bit.
    ///
    /// Errors: those of [`TopicSet::from_model`], and a NaN or infinite value in W, named by
    /// its row and document (the normalized weights would turn it into zeros).
    pub fn from_model_taking_w(
        dtm: &DocTermMatrix,
        model: &mut NmfModel,
        documents: Option<&dyn Texts>,
        opts: &TopicOptions,
    ) -> Result<TopicSet> {
        TopicSet::check(dtm, model, opts)?;
        if let Some(((i, t), v)) = model.w.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(non_finite_w(dtm, i, t, *v));
        }
        let top = top_candidates(model.w.view(), None, opts.top_documents, 0);
        let k = model.w.ncols();
        let mut doc_weights = std::mem::replace(&mut model.w, Array2::zeros((0, k)));
        normalize_rows_in_place(&mut doc_weights);
        TopicSet::assemble_in_memory(dtm, model, doc_weights, top, documents, opts)
    }

    /// [`TopicSet::from_model`] for a model whose W is on disk (`model.w` is 0 × k; `w` holds
    /// it, [`crate::nmf::stream::fit_streamed_on_disk`]): one pass over W's rows gives the
    /// dominant topics, the prevalences and the top documents, and the document weights stay
    /// on disk, normalized as they are read ([`DocWeights::Disk`]). The same topic set as from
    /// W in memory, bit for bit.
    ///
    /// Errors: those of [`TopicSet::from_model`] (W's shape is the file's), a NaN or infinite
    /// value of W (naming its row and document), and reading the file.
    pub fn from_model_on_disk(
        dtm: &DocTermMatrix,
        model: &NmfModel,
        w: WFile,
        documents: Option<&dyn Texts>,
        opts: &TopicOptions,
    ) -> Result<TopicSet> {
        let (n, k) = w.shape();
        if model.w.nrows() != 0 || model.w.ncols() != k {
            return Err(Error::input(format!(
                "the model's W is {} × {} where 0 × {k} was expected (W on disk)",
                model.w.nrows(),
                model.w.ncols()
            )));
        }
        TopicSet::check_shapes(dtm, (n, k), &model.h, opts)?;
        let keep = opts.top_documents;
        let mut top: Vec<Vec<Candidate>> = vec![Vec::new(); k];
        let mut dominant = Vec::with_capacity(n);
        let mut sums = vec![0.0; k];
        w.for_each_block(DISK_BLOCK_ROWS, &mut |first, raw| {
            let raw = ArrayView2::from_shape((raw.len() / k.max(1), k), raw)
                .map_err(|e| Error::Runtime(format!("internal error: W: {e}")))?;
            if let Some(((i, t), v)) = raw.indexed_iter().find(|(_, v)| !v.is_finite()) {
                return Err(non_finite_w(dtm, first + i, t, *v));
            }
            for (t, list) in top_candidates(raw, None, keep, first)
                .into_iter()
                .enumerate()
            {
                top[t].extend(list);
                keep_best(&mut top[t], keep);
            }
            let mut theta = raw.to_owned();
            normalize_rows_in_place(&mut theta);
            dominant.extend(theta.rows().into_iter().map(dominant_topic));
            add_topic_sums(&mut sums, theta.view());
            Ok(())
        })?;
        let prevalences = share_of_sums(sums);
        let doc_weights = DocWeights::Disk(std::sync::Arc::new(w));
        TopicSet::assemble(
            dtm,
            model,
            doc_weights,
            dominant,
            prevalences,
            top,
            documents,
            opts,
        )
    }

    /// [`TopicSet::assemble`] with the document weights in memory.
    fn assemble_in_memory(
        dtm: &DocTermMatrix,
        model: &NmfModel,
        doc_weights: Array2<f64>,
        top: Vec<Vec<Candidate>>,
        documents: Option<&dyn Texts>,
        opts: &TopicOptions,
    ) -> Result<TopicSet> {
        let dominant: Vec<Option<usize>> = doc_weights
            .rows()
            .into_iter()
            .map(|row| dominant_topic(row))
            .collect();
        let prevalences = prevalence(doc_weights.view());
        TopicSet::assemble(
            dtm,
            model,
            DocWeights::Memory(doc_weights),
            dominant,
            prevalences,
            top,
            documents,
            opts,
        )
    }

    /// The rest of [`TopicSet::from_model`] once the document weights, dominant topics,
    /// prevalences and top documents (with their θ) are known.
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        dtm: &DocTermMatrix,
        model: &NmfModel,
        doc_weights: DocWeights,
        dominant: Vec<Option<usize>>,
        prevalences: Vec<f64>,
        top: Vec<Vec<Candidate>>,
        documents: Option<&dyn Texts>,
        opts: &TopicOptions,
    ) -> Result<TopicSet> {
        let n = dtm.documents.len();
        let lambda = opts.relevance_lambda;
        let k = model.h.nrows();
        let term_given_topic = normalize_rows(model.h.view());
        let term_share = dtm.term_share();
        // The texts of the top documents only, fetched at once.
        let mut rows: Vec<usize> = top.iter().flatten().map(|c| c.0).collect();
        rows.sort_unstable();
        rows.dedup();
        let fetched: Option<Vec<Document>> = documents
            .filter(|d| d.count() == n)
            .and_then(|d| d.fetch(&rows).ok());
        let text_of = |d: usize| -> Option<&Document> {
            let f = fetched.as_ref()?;
            rows.binary_search(&d).ok().map(|i| &f[i])
        };

        let mut topics = Vec::with_capacity(k);
        for t in 0..k {
            let p_row = term_given_topic.row(t);
            let ranked = rank_terms(p_row, &term_share, lambda, opts.top_terms);
            let terms: Vec<TopicTerm> = ranked
                .iter()
                .map(|&w| {
                    let term = &dtm.terms[w];
                    TopicTerm {
                        index: w,
                        term: term.surface.clone(),
                        stem: term.stem.clone(),
                        weight: finite(model.h[[t, w]]),
                        probability: p_row[w],
                        relevance: relevance(p_row[w], share_or_floor(&term_share, w), lambda),
                    }
                })
                .collect();
            let label = topic_label(terms.iter().map(|t| t.term.as_str()));
            let documents = top[t]
                .iter()
                .map(|&(d, theta, _)| TopicDocument {
                    index: d,
                    id: dtm.documents[d].id.clone(),
                    weight: theta,
                    snippet: text_of(d).map(|doc| snippet(&doc.text, SNIPPET_CHARS)),
                    path: text_of(d).and_then(|doc| doc.path.clone()),
                })
                .collect();
            topics.push(Topic {
                id: t,
                label,
                prevalence: prevalences[t],
                terms,
                documents,
            });
        }
        Ok(TopicSet {
            topics,
            doc_weights,
            dominant,
            term_given_topic,
            term_share,
            lambda,
        })
    }

    /// Number of topics.
    pub fn k(&self) -> usize {
        self.topics.len()
    }
}

/// θ, the document weights (W's rows normalized to sum 1, all-zero rows left zero): held in
/// memory, or W kept on disk ([`WFile`]) with each row normalized as it is read, by the same
/// operations (the same bits).
#[derive(Debug, Clone)]
pub enum DocWeights {
    /// θ, documents × k.
    Memory(Array2<f64>),
    /// W on disk.
    Disk(std::sync::Arc<WFile>),
}

impl DocWeights {
    /// Documents.
    pub fn nrows(&self) -> usize {
        match self {
            DocWeights::Memory(a) => a.nrows(),
            DocWeights::Disk(w) => w.shape().0,
        }
    }

    /// Topics.
    pub fn ncols(&self) -> usize {
        match self {
            DocWeights::Memory(a) => a.ncols(),
            DocWeights::Disk(w) => w.shape().1,
        }
    }

    /// θ of the rows `rows` (a view of the matrix in memory).
    ///
    /// Errors: rows beyond the matrix; reading the file.
    pub fn block(
        &self,
        rows: std::ops::Range<usize>,
    ) -> Result<ndarray::CowArray<'_, f64, ndarray::Ix2>> {
        if rows.start > rows.end || rows.end > self.nrows() {
            return Err(Error::Runtime(format!(
                "internal error: rows {rows:?} of the document weights of {} documents",
                self.nrows()
            )));
        }
        match self {
            DocWeights::Memory(a) => Ok(a.slice(ndarray::s![rows, ..]).into()),
            DocWeights::Disk(w) => {
                let k = w.shape().1;
                let mut raw = vec![0.0; rows.len() * k];
                w.read_rows(rows.start, &mut raw)?;
                let mut theta = Array2::from_shape_vec((rows.len(), k), raw)
                    .map_err(|e| Error::Runtime(format!("internal error: θ: {e}")))?;
                normalize_rows_in_place(&mut theta);
                Ok(theta.into())
            }
        }
    }

    /// The first NaN or infinite weight in row order, as (row, topic, value). Weights read
    /// from disk are always finite: each row is normalized as it is read, non-finite values
    /// set to 0 ([`TopicSet::from_model_on_disk`] refuses a W that holds any), so the file is
    /// not read again for this.
    pub fn first_non_finite(&self) -> Option<(usize, usize, f64)> {
        match self {
            DocWeights::Memory(a) => a
                .indexed_iter()
                .find(|(_, v)| !v.is_finite())
                .map(|((i, t), &v)| (i, t, v)),
            DocWeights::Disk(_) => None,
        }
    }
}

/// The error for a NaN or infinite value `v` in W's row `i`, topic `t`, naming the document.
fn non_finite_w(dtm: &DocTermMatrix, i: usize, t: usize, v: f64) -> Error {
    Error::Runtime(format!(
        "the fit produced {} value in W[{i}, {t}] (row {i}, document {}, topic {t}): no output \
         was written (are the values of the matrix extreme?)",
        if v.is_nan() { "a NaN" } else { "an infinite" },
        dtm.documents.get(i).map_or("?", |d| d.id.as_str())
    ))
}

/// `x` when finite, otherwise 0 (a guard for values that come from outside this module).
pub fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Rows scaled to sum 1: a(i,j) / Σ_j a(i,j). Rows summing to 0 (or to a non-finite value)
/// become all zeros. Negative entries are treated as 0.
pub fn normalize_rows(a: ArrayView2<f64>) -> Array2<f64> {
    let mut out = Array2::zeros(a.raw_dim());
    // One writer per row, each row summed in order: the same bits with any number of threads.
    out.axis_iter_mut(ndarray::Axis(0))
        .into_par_iter()
        .zip(a.axis_iter(ndarray::Axis(0)).into_par_iter())
        .for_each(|(mut out, row)| {
            if let Some(o) = out.as_slice_mut() {
                normalize_row(row, o);
            } else {
                let mut o = vec![0.0; row.len()];
                normalize_row(row, &mut o);
                out.iter_mut().zip(o).for_each(|(a, b)| *a = b);
            }
        });
    out
}

/// [`normalize_rows`] for one row, into `out` (all zeros for a row summing to 0 or to a
/// non-finite value).
fn normalize_row(row: ArrayView1<f64>, out: &mut [f64]) {
    let sum: f64 = row.iter().map(|&v| clean_weight(v)).sum();
    if sum > 0.0 && sum.is_finite() {
        for (o, &v) in out.iter_mut().zip(row.iter()) {
            *o = clean_weight(v) / sum;
        }
    } else {
        out.fill(0.0);
    }
}

/// [`normalize_rows`] in place: each row of `a` becomes its normalized weights.
fn normalize_rows_in_place(a: &mut Array2<f64>) {
    a.axis_iter_mut(ndarray::Axis(0))
        .into_par_iter()
        .for_each(|mut row| {
            // The operations of `normalize_row`, in place.
            let sum: f64 = row.iter().map(|&v| clean_weight(v)).sum();
            if sum > 0.0 && sum.is_finite() {
                row.mapv_inplace(|v| clean_weight(v) / sum);
            } else {
                row.fill(0.0);
            }
        });
}

pub(crate) fn clean_weight(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        v
    } else {
        0.0
    }
}

/// Index of the largest entry (the lowest index on ties), `None` when no entry is positive.
pub fn dominant_topic(row: ArrayView1<f64>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (t, &v) in row.iter().enumerate() {
        if v > 0.0 && best.is_none_or(|(_, b)| v > b) {
            best = Some((t, v));
        }
    }
    best.map(|(t, _)| t)
}

/// Prevalence of each topic from row-normalized document weights θ:
/// prevalence(t) = Σ_d θ(d,t) / Σ_d Σ_t' θ(d,t'). All zeros when every row is zero.
pub fn prevalence(theta: ArrayView2<f64>) -> Vec<f64> {
    let mut sums = vec![0.0; theta.ncols()];
    add_topic_sums(&mut sums, theta);
    share_of_sums(sums)
}

/// Adds Σ_d θ(d, t) over the rows of `theta` to `sums`, row by row in order ([`prevalence`]'s
/// sums; blocks of rows added in order give the whole matrix's bits).
fn add_topic_sums(sums: &mut [f64], theta: ArrayView2<f64>) {
    for row in theta.rows() {
        for (s, &v) in sums.iter_mut().zip(row) {
            *s += clean_weight(v);
        }
    }
}

/// Column sums scaled to sum 1 (all zeros when they sum to 0): the term share of
/// [`term_share`] from the sums of its columns.
pub fn share_of_sums(mut sums: Vec<f64>) -> Vec<f64> {
    let total: f64 = sums.iter().sum();
    if total > 0.0 {
        sums.iter_mut().for_each(|s| *s /= total);
    }
    sums
}

/// The corpus term share p(w) = Σ_d X(d,w) / Σ_{d,w'} X(d,w') for the `m` columns of `x`
/// (CSR or CSC). All zeros when X is all zeros.
pub fn term_share(x: &Matrix, m: usize) -> Vec<f64> {
    let mut sums = vec![0.0; m];
    if x.is_csr() {
        // The entries in storage order (row by row), as the iterator gives them.
        for (&v, &col) in x.data().iter().zip(x.indices()) {
            let col = col as usize;
            if col < m {
                sums[col] += clean_weight(v);
            }
        }
    } else {
        for (&v, (_, col)) in x.iter() {
            let col = col as usize;
            if col < m {
                sums[col] += clean_weight(v);
            }
        }
    }
    share_of_sums(sums)
}

/// A topic label: the first [`LABEL_WORDS`] words joined by [`LABEL_SEPARATOR`], or
/// `(empty topic)` when there are none.
pub fn topic_label<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let words: Vec<&str> = words.into_iter().take(LABEL_WORDS).collect();
    if words.is_empty() {
        "(empty topic)".to_string()
    } else {
        words.join(LABEL_SEPARATOR)
    }
}

/// The documents with the largest θ(d, t) > 0 for topic `t`, at most `n`, ordered by θ
/// descending, then raw W(d, t) descending, then row.
#[cfg(test)]
fn top_documents(theta: &Array2<f64>, w: ArrayView2<f64>, t: usize, n: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let mut docs: Vec<(usize, f64, f64)> = (0..theta.nrows())
        .filter(|&d| theta[[d, t]] > 0.0)
        .map(|d| (d, theta[[d, t]], clean_weight(w[[d, t]])))
        .collect();
    let cmp = |a: &(usize, f64, f64), b: &(usize, f64, f64)| -> Ordering {
        b.1.total_cmp(&a.1)
            .then(b.2.total_cmp(&a.2))
            .then(a.0.cmp(&b.0))
    };
    if docs.len() > n {
        docs.select_nth_unstable_by(n - 1, cmp);
        docs.truncate(n);
    }
    docs.sort_unstable_by(cmp);
    docs.into_iter().map(|(d, _, _)| d).collect()
}

/// A top-document candidate: (row, θ(d, t), clean W(d, t)).
type Candidate = (usize, f64, f64);

/// The order of top documents: larger θ first, then larger raw weight, then row order.
fn candidate_order(a: &Candidate, b: &Candidate) -> Ordering {
    b.1.total_cmp(&a.1)
        .then(b.2.total_cmp(&a.2))
        .then(a.0.cmp(&b.0))
}

/// Keeps the `n` first candidates of `list` in [`candidate_order`], sorted.
fn keep_best(list: &mut Vec<Candidate>, n: usize) {
    list.sort_unstable_by(candidate_order);
    list.truncate(n);
}

/// The `n` top documents of every topic among the rows of `w` (raw W; the first is row
/// `first` of the whole matrix), with their θ (`theta_all`, when given, is θ of these rows,
/// else each row is normalized as it is read): for each topic the documents with a positive
/// θ in [`candidate_order`]. The lists of consecutive row ranges merged with [`keep_best`]
/// are the lists of the whole.
fn top_candidates(
    w: ArrayView2<f64>,
    theta_all: Option<&Array2<f64>>,
    n: usize,
    first: usize,
) -> Vec<Vec<Candidate>> {
    let k = w.ncols();
    if n == 0 {
        return vec![Vec::new(); k];
    }
    let keep = |list: &mut Vec<Candidate>| {
        if list.len() > n {
            keep_best(list, n);
        }
    };
    const ROWS: usize = 4096;
    let per_block: Vec<Vec<Vec<Candidate>>> = (0..w.nrows().div_ceil(ROWS))
        .into_par_iter()
        .map(|b| {
            let mut lists: Vec<Vec<Candidate>> = vec![Vec::with_capacity(2 * n + 1); k];
            let mut theta = vec![0.0; k];
            for d in b * ROWS..((b + 1) * ROWS).min(w.nrows()) {
                match theta_all {
                    Some(t) => theta.iter_mut().zip(t.row(d)).for_each(|(a, b)| *a = *b),
                    None => normalize_row(w.row(d), &mut theta),
                }
                for (t, list) in lists.iter_mut().enumerate() {
                    let v = theta[t];
                    if v > 0.0 {
                        list.push((first + d, v, clean_weight(w[[d, t]])));
                        if list.len() >= 2 * n {
                            keep(list);
                        }
                    }
                }
            }
            lists.iter_mut().for_each(&keep);
            lists
        })
        .collect();
    (0..k)
        .map(|t| {
            let mut all: Vec<Candidate> = per_block
                .iter()
                .flat_map(|l| l[t].iter().copied())
                .collect();
            keep_best(&mut all, n);
            all
        })
        .collect()
}

/// Rows of W read at a time from disk ([`TopicSet::from_model_on_disk`]).
const DISK_BLOCK_ROWS: usize = 65_536;

/// The first `max_chars` characters of `text` with every run of whitespace collapsed to one
/// space, followed by "…" when the text was longer. Cuts at a character boundary.
pub fn snippet(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            if count == max_chars {
                out.push('…');
                return out;
            }
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count == max_chars {
                if out.ends_with(' ') {
                    out.pop();
                }
                out.push('…');
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalized_in_place_are_the_same_bits() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut w = Array2::from_shape_fn((300, 7), |_| rng.random_range(-0.1..1.0f64));
        w[[3, 2]] = f64::NAN;
        w.row_mut(5).fill(0.0);
        let theta = normalize_rows(w.view());
        normalize_rows_in_place(&mut w);
        let bits = |a: &Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&theta), bits(&w));
    }

    #[test]
    fn top_documents_of_all_topics_in_one_pass_match_one_topic_at_a_time() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        // Rows across several blocks, many ties (weights from a few values), zeros.
        let (n, k) = (10_000, 4);
        let w = Array2::from_shape_fn((n, k), |_| f64::from(rng.random_range(0..6u8)) * 0.5);
        let theta = normalize_rows(w.view());
        for top in [0, 1, 3, 10, 50] {
            let ids = |c: Vec<Vec<Candidate>>| -> Vec<Vec<usize>> {
                c.into_iter()
                    .map(|l| l.into_iter().map(|c| c.0).collect())
                    .collect()
            };
            let all = ids(top_candidates(w.view(), None, top, 0));
            assert_eq!(all, ids(top_candidates(w.view(), Some(&theta), top, 0)));
            for t in 0..k {
                assert_eq!(
                    all[t],
                    top_documents(&theta, w.view(), t, top),
                    "topic {t}, {top}"
                );
            }
        }
    }

    use super::*;
    use crate::matrix::Triplets;
    use crate::nmf::Metrics;
    use crate::vectorize::{DocInfo, Term};
    use ndarray::array;

    fn dtm(x: Array2<f64>, words: &[&str]) -> DocTermMatrix {
        let mut tri = Triplets::new((x.nrows(), x.ncols()));
        for ((i, j), &v) in x.indexed_iter() {
            if v != 0.0 {
                tri.add_triplet(i, j, v);
            }
        }
        DocTermMatrix {
            x: tri.to_csr(),
            terms: words
                .iter()
                .map(|w| Term {
                    stem: w.to_string(),
                    surface: format!("{w}s"),
                    df: 1,
                })
                .collect(),
            documents: (0..x.nrows())
                .map(|i| DocInfo {
                    id: format!("d{i}"),
                    label: None,
                })
                .collect(),
            idf: None,
            streamed: None,
        }
    }

    fn model(w: Array2<f64>, h: Array2<f64>) -> NmfModel {
        NmfModel {
            w,
            h,
            history: vec![],
            iterations: 0,
            converged: true,
            seconds: 0.0,
            seconds_per_iteration: 0.0,
            metrics: Metrics::default(),
            ..NmfModel::default()
        }
    }

    #[test]
    fn normalization_and_dominant_topic() {
        let w = array![[1.0, 3.0], [0.0, 0.0], [2.0, 2.0]];
        let n = normalize_rows(w.view());
        assert_eq!(n, array![[0.25, 0.75], [0.0, 0.0], [0.5, 0.5]]);
        assert_eq!(dominant_topic(n.row(0)), Some(1));
        assert_eq!(dominant_topic(n.row(1)), None);
        assert_eq!(
            dominant_topic(n.row(2)),
            Some(0),
            "ties go to the lowest id"
        );
    }

    #[test]
    fn prevalence_ignores_empty_documents() {
        let theta = array![[0.25, 0.75], [0.0, 0.0], [0.5, 0.5], [1.0, 0.0]];
        let p = prevalence(theta.view());
        assert!((p[0] - 1.75 / 3.0).abs() < 1e-12);
        assert!((p[1] - 1.25 / 3.0).abs() < 1e-12);
        assert_eq!(
            prevalence(Array2::<f64>::zeros((3, 2)).view()),
            vec![0.0, 0.0]
        );
    }

    #[test]
    fn snippets_collapse_whitespace_and_cut_on_chars() {
        assert_eq!(snippet("  a \n\t b  ", 10), "a b");
        assert_eq!(snippet("héllo wörld", 5), "héllo…");
        assert_eq!(snippet("héllo wörld", 6), "héllo…");
        assert_eq!(snippet("héllo wörld", 7), "héllo w…");
        assert_eq!(snippet("abc", 3), "abc");
        assert_eq!(snippet("", 3), "");
    }

    #[test]
    fn topic_set_from_model() {
        // two clear topics: terms 0-1 (docs 0,1) and 2-3 (doc 2); doc 3 empty; topic 2 empty
        let x = array![
            [2.0, 1.0, 0.0, 0.0],
            [1.0, 2.0, 0.0, 0.0],
            [0.0, 0.0, 3.0, 1.0],
            [0.0, 0.0, 0.0, 0.0]
        ];
        let d = dtm(x, &["apple", "pear", "car", "bus"]);
        let w = array![
            [1.0, 0.0, 0.0],
            [0.9, 0.1, 0.0],
            [0.0, 2.0, 0.0],
            [0.0, 0.0, 0.0]
        ];
        let h = array![
            [1.5, 1.5, 0.0, 0.1],
            [0.0, 0.0, 1.5, 0.5],
            [0.0, 0.0, 0.0, 0.0]
        ];
        let texts: Vec<Document> = (0..4)
            .map(|i| Document {
                id: format!("d{i}"),
                label: None,
                text: format!("text   of\ndocument {i}"),
                path: None,
            })
            .collect();
        let set = TopicSet::from_model(
            &d,
            &model(w, h),
            Some(&texts),
            &TopicOptions {
                top_terms: 2,
                top_documents: 5,
                relevance_lambda: 1.0,
            },
        )
        .unwrap();
        assert_eq!(set.k(), 3);
        assert_eq!(set.dominant, vec![Some(0), Some(0), Some(1), None]);
        let t0 = &set.topics[0];
        assert_eq!(t0.label, "apples · pears");
        assert_eq!(t0.terms[0].stem, "apple");
        assert_eq!(
            t0.documents.iter().map(|d| d.index).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert_eq!(
            t0.documents[0].snippet.as_deref(),
            Some("text of document 0")
        );
        assert!((set.topics[0].prevalence - 1.9 / 3.0).abs() < 1e-12);
        let t2 = &set.topics[2];
        assert_eq!(t2.label, "(empty topic)");
        assert!(t2.terms.is_empty() && t2.documents.is_empty());
        assert_eq!(t2.prevalence, 0.0);
        assert_eq!(set.doc_weights.first_non_finite(), None);
        let map = intertopic_map(set.term_given_topic.view());
        assert!(map.iter().flatten().all(|v| v.is_finite()));
        let total: f64 = set.term_share.iter().sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn shape_mismatch_is_an_input_error() {
        let d = dtm(array![[1.0, 0.0]], &["a", "b"]);
        let m = model(array![[1.0]], array![[1.0, 0.0, 0.0]]);
        let err = TopicSet::from_model(&d, &m, None, &TopicOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{err}");
        let m = model(array![[1.0]], array![[1.0, 0.0]]);
        let opts = TopicOptions {
            relevance_lambda: 1.5,
            ..TopicOptions::default()
        };
        assert!(TopicSet::from_model(&d, &m, None, &opts).is_err());
    }

    #[test]
    fn taking_w_gives_the_topic_set_of_w_in_memory() {
        let (n, m, k) = (300, 5, 3);
        let w = Array2::from_shape_fn((n, k), |(i, t)| {
            if i % 31 == 0 {
                0.0
            } else {
                ((i * 7 + t * 3) % 11) as f64 * 0.125
            }
        });
        let h = Array2::from_shape_fn((k, m), |(t, j)| ((t + 2 * j) % 5) as f64 + 0.5);
        let x = Array2::from_shape_fn((n, m), |(i, j)| ((i + j) % 3) as f64);
        let d = dtm(x, &["a", "b", "c", "d", "e"]);
        let opts = TopicOptions {
            top_documents: 4,
            ..TopicOptions::default()
        };
        let memory = TopicSet::from_model(&d, &model(w.clone(), h.clone()), None, &opts).unwrap();
        let mut taken = model(w.clone(), h.clone());
        let set = TopicSet::from_model_taking_w(&d, &mut taken, None, &opts).unwrap();
        assert_eq!(taken.w.dim(), (0, k));
        assert_eq!(set.topics, memory.topics);
        assert_eq!(set.dominant, memory.dominant);
        let bits = |s: &TopicSet| {
            s.doc_weights
                .block(0..n)
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&set), bits(&memory));
        // A NaN in W, which the normalized weights would turn into zeros, is an error.
        let mut bad = w;
        bad[[7, 2]] = f64::NAN;
        let mut nan = model(bad, h);
        let e = TopicSet::from_model_taking_w(&d, &mut nan, None, &opts)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a NaN value in W[7, 2] (row 7, document d7, topic 2)"),
            "{e}"
        );
    }

    #[test]
    fn w_on_disk_gives_the_topic_set_of_w_in_memory() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        // More rows than a disk block, ties, empty rows.
        let (n, m, k) = (DISK_BLOCK_ROWS + 3001, 6, 3);
        let w = Array2::from_shape_fn((n, k), |(i, _)| {
            if i % 97 == 0 {
                0.0
            } else {
                f64::from(rng.random_range(0..5u8)) * 0.25
            }
        });
        let h = Array2::from_shape_fn((k, m), |(t, j)| ((t + 2 * j) % 5) as f64 + 0.5);
        let x = Array2::from_shape_fn((n, m), |(i, j)| ((i + j) % 3) as f64);
        let words = ["a", "b", "c", "d", "e", "f"];
        let d = dtm(x, &words);
        let opts = TopicOptions {
            top_documents: 7,
            ..TopicOptions::default()
        };
        let memory = TopicSet::from_model(&d, &model(w.clone(), h.clone()), None, &opts).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = WFile::zeros_in(dir.path(), n, k).unwrap();
        file.write_rows(0, w.as_slice().unwrap()).unwrap();
        let on_disk = model(Array2::zeros((0, k)), h.clone());
        let disk = TopicSet::from_model_on_disk(&d, &on_disk, file, None, &opts).unwrap();
        assert_eq!(disk.topics, memory.topics);
        assert_eq!(disk.dominant, memory.dominant);
        assert_eq!(disk.term_given_topic, memory.term_given_topic);
        assert!(matches!(disk.doc_weights, DocWeights::Disk(_)));
        for rows in [0..n, 5..9, n - 1..n, 0..0] {
            let (a, b) = (
                disk.doc_weights.block(rows.clone()).unwrap(),
                memory.doc_weights.block(rows.clone()).unwrap(),
            );
            assert_eq!(a.dim(), b.dim());
            assert!(
                a.iter()
                    .zip(b.iter())
                    .all(|(u, v)| u.to_bits() == v.to_bits()),
                "rows {rows:?}"
            );
        }
        assert!(disk.doc_weights.block(n - 1..n + 1).is_err());
        assert_eq!(disk.doc_weights.first_non_finite(), None);

        // A NaN in W is an error naming the row and the document; so is a W of another shape.
        let file = WFile::zeros_in(dir.path(), n, k).unwrap();
        file.write_rows(68_000, &[0.5, f64::NAN, 1.0]).unwrap();
        let e = TopicSet::from_model_on_disk(&d, &on_disk, file, None, &opts).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("W[68000, 1] (row 68000, document d68000, topic 1): no output"),
            "{e}"
        );
        let file = WFile::zeros_in(dir.path(), n - 1, k).unwrap();
        assert!(TopicSet::from_model_on_disk(&d, &on_disk, file, None, &opts).is_err());
    }
}
