//! Judging topics: coherence of their top words, diversity, agreement with document labels,
//! and stability across restarts.
//!
//! - [`coherence`]: UMass and NPMI from document co-occurrence in the fitted matrix, NPMI from
//!   sliding windows over the analyzed texts (gensim's `c_npmi`), topic diversity, and
//!   [`score_word_lists`] for scoring any word lists (another tool's topics) on the same matrix;
//! - [`agreement`]: purity, entropy, NMI and the adjusted Rand index of the dominant topics
//!   against labels;
//! - [`mod@stability`]: Hungarian matching of topics between fits, stability, consensus and
//!   Brunet's cophenetic correlation.
//!
//! [`evaluate`] computes everything a single fit gets in `topics.json` and the report.
//! Formulas are in the documentation of each submodule.
//!
//! Cost: one pass over the stored entries of X for the document co-occurrence of the distinct
//! top words (at most k·N of them), and, with texts, one pass over the stored tokens of the
//! [`TokenStreams`] (built once by re-analyzing the texts, about as long as the analysis part
//! of vectorizing); the pair counts are a dense r × r table of the r distinct top words.

pub mod agreement;
pub mod coherence;
pub mod stability;

use crate::matrix::Matrix;
use ndarray::ArrayView2;
use serde::Serialize;

pub use agreement::{
    adjusted_rand_index, entropy, label_agreement, normalized_mutual_information, purity,
    LabelAgreement,
};
pub use coherence::{
    coherence_from_counts, mean_defined, score_word_lists, top_columns, topic_diversity,
    window_npmi, CoOccurrence, Coherence, TokenStreams, DEFAULT_TOP_N, DEFAULT_WINDOW,
    DIVERSITY_TOP_N, EPSILON,
};
pub use stability::{
    consensus_cophenetic, consensus_sample, cophenetic_correlation, cross_cosine, match_topics,
    max_weight_assignment, stability, Stability, TopicMatching, CONSENSUS_MAX_DOCUMENTS,
};

use crate::Result;

/// How many words the measures look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualityOptions {
    /// Top words per topic for the coherence measures (default [`DEFAULT_TOP_N`] = 10).
    pub top_n: usize,
    /// Top words per topic for the diversity (default [`DIVERSITY_TOP_N`] = 25).
    pub diversity_top_n: usize,
    /// Sliding window of the window NPMI, in token positions (default [`DEFAULT_WINDOW`] = 10).
    pub window: usize,
}

impl Default for QualityOptions {
    fn default() -> Self {
        QualityOptions {
            top_n: DEFAULT_TOP_N,
            diversity_top_n: DIVERSITY_TOP_N,
            window: DEFAULT_WINDOW,
        }
    }
}

/// The quality measures of one fit.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FitQuality {
    /// Words per topic scored by the coherence measures.
    pub top_n: usize,
    /// Per topic: UMass of its top words by document co-occurrence.
    pub umass: Vec<Option<f64>>,
    /// Per topic: NPMI by document co-occurrence.
    pub npmi: Vec<Option<f64>>,
    /// Per topic: NPMI by sliding windows over the texts (gensim's `c_npmi`), when fitted from
    /// text.
    pub c_npmi: Option<Vec<Option<f64>>>,
    /// Mean UMass over the topics.
    pub mean_umass: Option<f64>,
    /// Mean NPMI over the topics.
    pub mean_npmi: Option<f64>,
    /// Mean window NPMI over the topics.
    pub mean_c_npmi: Option<f64>,
    /// The window of `c_npmi`, in token positions.
    pub window: usize,
    /// The documents `c_npmi` was measured on (all, or an evenly spaced sample of a large
    /// corpus: see [`crate::report::fit_quality`]); `None` without `c_npmi`.
    pub c_npmi_documents: Option<usize>,
    /// Topic diversity of the top `diversity_top_n` words.
    pub diversity: Option<f64>,
    /// Words per topic of the diversity.
    pub diversity_top_n: usize,
    /// Agreement with the labels, when documents have labels.
    pub labels: Option<LabelAgreement>,
}

/// All quality measures of a fit with topic matrix `h` on the matrix `x` it was fitted on:
/// coherence of each topic's top `opts.top_n` words by weight (UMass and NPMI from document
/// co-occurrence, and window NPMI when `streams` are given), diversity, and, when `labels` are
/// given (one per document, in row order), the agreement of the `dominant` topics with them.
///
/// Errors ([`crate::Error::Input`]): `h` with a number of columns other than `x`'s; a window of 0.
pub fn evaluate(
    x: &Matrix,
    h: ArrayView2<'_, f64>,
    dominant: &[Option<usize>],
    labels: Option<&[Option<&str>]>,
    streams: Option<&TokenStreams>,
    opts: &QualityOptions,
) -> Result<FitQuality> {
    if h.ncols() != x.cols() {
        return Err(crate::Error::input(format!(
            "H has {} columns but the matrix has {}",
            h.ncols(),
            x.cols()
        )));
    }
    let (lists, cut) = word_lists(h, opts);
    let co = CoOccurrence::from_documents(x, &cut)?;
    scored(
        &co,
        &lists,
        &cut,
        h.ncols(),
        dominant,
        labels,
        streams,
        opts,
    )
}

/// Each topic's top columns by weight in `h`: as many as the coherence and the diversity use,
/// and their first `opts.top_n` (the coherence's words).
fn word_lists(h: ArrayView2<'_, f64>, opts: &QualityOptions) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let lists = top_columns(h, opts.top_n.max(opts.diversity_top_n));
    let cut = lists
        .iter()
        .map(|l| l[..l.len().min(opts.top_n)].to_vec())
        .collect();
    (lists, cut)
}

/// The words whose document co-occurrence [`evaluate`] counts: each topic's top `opts.top_n`
/// columns by weight in `h`.
pub fn coherence_words(h: ArrayView2<'_, f64>, opts: &QualityOptions) -> Vec<Vec<usize>> {
    word_lists(h, opts).1
}

/// [`evaluate`] with the document co-occurrence of the [`coherence_words`] counted already
/// (for a matrix read in blocks and not held: [`CoOccurrence::add_documents`]).
///
/// Errors ([`crate::Error::Input`]): counts that miss some of the words; a window of 0.
pub fn evaluate_counted(
    co: &CoOccurrence,
    h: ArrayView2<'_, f64>,
    dominant: &[Option<usize>],
    labels: Option<&[Option<&str>]>,
    streams: Option<&TokenStreams>,
    opts: &QualityOptions,
) -> Result<FitQuality> {
    let (lists, cut) = word_lists(h, opts);
    if !co.counts_words(&cut) {
        return Err(crate::Error::input(
            "the co-occurrence counts are not those of the topics' top words",
        ));
    }
    scored(co, &lists, &cut, h.ncols(), dominant, labels, streams, opts)
}

/// The measures of [`evaluate`] from the counts of the coherence's words `cut` and the longer
/// `lists` of the diversity, for `m` columns.
#[allow(clippy::too_many_arguments)]
fn scored(
    co: &CoOccurrence,
    lists: &[Vec<usize>],
    cut: &[Vec<usize>],
    m: usize,
    dominant: &[Option<usize>],
    labels: Option<&[Option<&str>]>,
    streams: Option<&TokenStreams>,
    opts: &QualityOptions,
) -> Result<FitQuality> {
    let coh = coherence_from_counts(co, cut, opts.top_n);
    let (c_npmi, mean_c_npmi, c_npmi_documents) = match streams {
        Some(s) if s.vocabulary() == m => {
            let (per, mean) = window_npmi(s, cut, opts.top_n, opts.window)?;
            (Some(per), mean, Some(s.documents()))
        }
        _ => (None, None, None),
    };
    Ok(FitQuality {
        top_n: opts.top_n,
        umass: coh.umass,
        npmi: coh.npmi,
        c_npmi,
        mean_umass: coh.mean_umass,
        mean_npmi: coh.mean_npmi,
        mean_c_npmi,
        window: opts.window,
        c_npmi_documents,
        diversity: topic_diversity(lists, opts.diversity_top_n),
        diversity_top_n: opts.diversity_top_n,
        labels: labels.and_then(|l| label_agreement(dominant, l)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Triplets;
    use ndarray::array;

    #[test]
    fn evaluate_a_small_fit() {
        // documents 0-1 about words {0, 1}, documents 2-3 about {2, 3}
        let mut t = Triplets::new((4, 4));
        for (i, j) in [
            (0, 0),
            (0, 1),
            (1, 0),
            (1, 1),
            (2, 2),
            (2, 3),
            (3, 2),
            (3, 3),
        ] {
            t.add_triplet(i, j, 1.0);
        }
        let x = t.to_csr();
        let h = array![[1.0, 0.5, 0.0, 0.0], [0.0, 0.0, 0.7, 0.9]];
        let dominant = [Some(0), Some(0), Some(1), Some(1)];
        let labels = [Some("a"), Some("a"), Some("b"), Some("a")];
        let q = evaluate(
            &x,
            h.view(),
            &dominant,
            Some(&labels),
            None,
            &QualityOptions::default(),
        )
        .unwrap();
        // each topic's two words always occur together, in half the documents:
        // NPMI = ln((1/2)/(1/4)) / −ln(1/2) = 1, UMass = ln((1/2)/(1/2)) = 0
        for t in 0..2 {
            assert!((q.npmi[t].unwrap() - 1.0).abs() < 1e-9);
            assert!(q.umass[t].unwrap().abs() < 1e-9);
        }
        assert_eq!(q.diversity, Some(1.0));
        assert!(q.c_npmi.is_none());
        let g = q.labels.unwrap();
        assert_eq!(g.purity, 0.75);
        let bad = array![[1.0, 0.5, 0.0]];
        assert!(evaluate(
            &x,
            bad.view(),
            &dominant,
            None,
            None,
            &QualityOptions::default()
        )
        .is_err());
    }
}
