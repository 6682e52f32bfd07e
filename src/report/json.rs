//! `topics.json`, schema version 1 (DESIGN.md).
//!
//! ```text
//! { "version": 1,
//!   "corpus":  { "documents", "terms", "nnz", "inputs" },
//!   "params":  { "k", "loss", "solver", the solver's own ("shuffle", "inner_sweeps", "als_variant", "online",
//!                "graph": { "kind", "neighbours", "weight", "file", "lambda", "lambda_scaled",
//!                "edges", "mean_degree", "isolated", "links", "seconds" }, "theta", "pg"),
//!                "init", "alpha_w", "alpha_h", "l1_ratio", "max_iter", "tol", "seed",
//!                "relevance_lambda", "top_terms", "top_documents" },
//!   "fit":     { "iterations", "converged", "seconds", "init_seconds", "seconds_per_iteration",
//!                "loss_history" },
//!   "metrics": { "loss", "divergence", "reconstruction_error", "explained_variance",
//!                "sparsity_w", "sparsity_h", "zeros_w", "zeros_h", "iterations", "converged",
//!                "seconds",
//!                "coherence_top_n", "umass", "npmi", "c_npmi", "c_npmi_window",
//!                "c_npmi_documents", "diversity",
//!                "diversity_top_n", "labels": { "documents", "labels", "topics", "purity",
//!                "entropy", "nmi", "ari" }, "stability", "cophenetic" },
//!   "restarts": { "restarts", "best", "runs": [ { "restart", "seed", "init", "objective",
//!                 "iterations", "converged", "seconds" } ], "objective_min",
//!                 "objective_max", "objective_mean", "stability", "topic_stability",
//!                 "cophenetic" },
//!   "topics":  [ { "id", "label", "prevalence",
//!                  "coherence": { "umass", "npmi", "c_npmi" }, "stability",
//!                  "terms": [ { "term", "stem", "weight" } ],
//!                  "documents": [ { "id", "weight" } ] } ],
//!   "document_list": { "listed", "weight_threshold" },
//!   "documents": [ { "id", "label", "dominant_topic", "weights": [[topic, weight], …] } ] }
//! ```
//!
//! The quality fields (from `coherence_top_n` on, and each topic's `coherence`) are written when
//! the quality was measured ([`topics_json_with`]; `fit` always measures it): `c_npmi` only for
//! a fit from text, `labels` only when documents have labels, `stability`, `cophenetic`,
//! `restarts` and each topic's `stability` only for a fit with restarts. They are additions to
//! schema version 1; readers of the earlier files see the same fields as before.
//!
//! Term weights are the raw entries of H, listed in relevance order at `relevance_lambda`
//! (weight order when it is 1); document weights are the normalized rows of W. Weights
//! (prevalences, term and document weights) have at most 6 significant digits
//! ([`round_weight`]); the loss history and metrics keep full precision. A document's
//! `weights` list its topics with a weight of at least [`DOCUMENT_WEIGHT_THRESHOLD`] (1 %; and
//! its dominant topic), largest first (ties: lower topic id); an empty document has
//! `"dominant_topic": null` and no weights. Each document is one line, formatted in parallel
//! blocks ([`write_topics_json_with`]); `document_list` says whether the list is there
//! (`--no-document-list` leaves it out: doc_topics.csv has every document's weights) and the
//! threshold. Struct fields are serialized in a fixed order. The
//! numbers were checked by [`check_fit`](super::numbers::check_fit) before writing, so the
//! file never holds NaN or Inf (serde_json would write them as `null`).

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use super::numbers::{round_weight, serialize_weight};
use super::{write_atomic, FitExtras, FitRun, OutputOptions};
use crate::nmf::graph::{GraphSpec, GraphSummary, GraphWeight, LinkCounts};
use crate::nmf::online::OnlineOptions;
use crate::nmf::{
    pg, AlsVariant, Init, Loss, Metrics, NmfParams, Solver, DEFAULT_GRAPH_LAMBDA, DEFAULT_THETA,
};
use crate::restarts::{RestartRecord, RestartSummary};
use crate::topics::quality::{FitQuality, LabelAgreement};
use crate::topics::{finite, TopicSet};
use crate::vectorize::DocInfo;
use crate::{Error, Result};

/// The schema version written in `topics.json`.
pub const TOPICS_JSON_VERSION: u32 = 1;

/// A document's `weights` list its topics with at least this normalized weight (1 % of the
/// document), and always its dominant topic; `doc_topics.csv` has every weight.
pub const DOCUMENT_WEIGHT_THRESHOLD: f64 = 1e-2;

/// The `document_list` section: whether `documents` is there, and its threshold.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DocumentListJson {
    /// `false` after `--no-document-list` (then `documents` is left out).
    pub listed: bool,
    /// [`DOCUMENT_WEIGHT_THRESHOLD`].
    pub weight_threshold: f64,
}

/// The whole file.
#[derive(Debug, Clone, Serialize)]
pub struct TopicsJson<'a> {
    /// Always [`TOPICS_JSON_VERSION`].
    pub version: u32,
    /// The corpus.
    pub corpus: CorpusJson<'a>,
    /// The parameters.
    pub params: ParamsJson,
    /// The run.
    pub fit: FitJson,
    /// Quality measures.
    pub metrics: MetricsJson,
    /// The restarts, when the fit kept the best of several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restarts: Option<RestartSummary>,
    /// One entry per topic, in the model's order.
    pub topics: Vec<TopicJson<'a>>,
    /// Whether the documents are listed.
    pub document_list: DocumentListJson,
    /// One entry per document, in row order (`None` with `--no-document-list`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<DocumentsJson<'a>>,
}

/// The `documents` section, serialized one document at a time as it is written (a corpus of
/// 60,000 documents would otherwise hold a second copy of its topic weights in memory).
#[derive(Debug, Clone, Copy)]
pub struct DocumentsJson<'a> {
    documents: &'a [DocInfo],
    set: &'a TopicSet,
}

impl<'a> DocumentsJson<'a> {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.documents.len()
    }

    /// Whether there are no documents.
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    /// The entry of document `i` (row `i` of X), whose weights θ are `theta` (a row of
    /// [`TopicSet::doc_weights`]).
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn entry(&self, i: usize, theta: ndarray::ArrayView1<f64>) -> DocumentJson<'a> {
        let doc = &self.documents[i];
        let dominant = self.set.dominant[i];
        let mut weights: Vec<(usize, f64)> = theta
            .iter()
            .enumerate()
            .filter(|&(t, &v)| v >= DOCUMENT_WEIGHT_THRESHOLD || (v > 0.0 && dominant == Some(t)))
            .map(|(t, &v)| (t, round_weight(v)))
            .collect();
        weights.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        DocumentJson {
            id: &doc.id,
            label: doc.label.as_deref(),
            dominant_topic: dominant,
            weights,
        }
    }

    /// The entries of documents `rows`, in order.
    ///
    /// Errors: reading the document weights (kept on disk).
    pub fn entries(&self, rows: std::ops::Range<usize>) -> Result<Vec<DocumentJson<'a>>> {
        let theta = self.set.doc_weights.block(rows.clone())?;
        Ok(rows
            .clone()
            .zip(theta.rows())
            .map(|(i, row)| self.entry(i, row))
            .collect())
    }
}

impl Serialize for DocumentsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let mut seq = s.serialize_seq(Some(self.len()))?;
        let mut first = 0;
        while first < self.len() {
            let end = (first + JSON_BLOCK_DOCUMENTS).min(self.len());
            for e in self.entries(first..end).map_err(S::Error::custom)? {
                seq.serialize_element(&e)?;
            }
            first = end;
        }
        seq.end()
    }
}

/// `corpus` section.
#[derive(Debug, Clone, Serialize)]
pub struct CorpusJson<'a> {
    /// Number of documents (rows of X).
    pub documents: usize,
    /// Number of terms (columns of X).
    pub terms: usize,
    /// Stored non-zeros of X.
    pub nnz: usize,
    /// The inputs as given.
    pub inputs: &'a [String],
}

/// `params` section (also used by the model file).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ParamsJson {
    /// Number of topics.
    pub k: usize,
    /// Divergence.
    pub loss: Loss,
    /// Algorithm (the default for the loss resolved).
    pub solver: Solver,
    /// `hals`: whether the coordinate order was shuffled.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shuffle: Option<bool>,
    /// `hals`: the most coordinate sweeps per update (1: scikit-learn's HALS).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub inner_sweeps: Option<usize>,
    /// `als`: the variant.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub als_variant: Option<AlsVariant>,
    /// `online`: the mini-batch options.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub online: Option<OnlineOptions>,
    /// `gnmf`: the document graph and the weight of its term.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub graph: Option<GraphJson>,
    /// `nsnmf`: the smoothness θ.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub theta: Option<f64>,
    /// `pg`: the fixed settings of Lin's method.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pg: Option<PgSettings>,
    /// Initialization.
    pub init: Init,
    /// Regularization of W.
    pub alpha_w: f64,
    /// Regularization of H (resolved: equal to `alpha_w` when it was left as "same").
    pub alpha_h: f64,
    /// Share of L1 in the penalty.
    pub l1_ratio: f64,
    /// Maximum number of iterations.
    pub max_iter: usize,
    /// Tolerance of the stopping rule.
    pub tol: f64,
    /// Seed.
    pub seed: u64,
    /// λ of the relevance ranking of the listed terms (topics.json only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub relevance_lambda: Option<f64>,
    /// Terms listed per topic (topics.json only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub top_terms: Option<usize>,
    /// Documents listed per topic (topics.json only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub top_documents: Option<usize>,
}

impl ParamsJson {
    /// The fit parameters of `p` (no output options; validated parameters are finite).
    pub fn from_params(p: &NmfParams) -> Self {
        let solver = p.solver.unwrap_or(Solver::default_for(p.loss));
        ParamsJson {
            k: p.k,
            loss: p.loss,
            solver,
            shuffle: (solver == Solver::Hals).then_some(p.shuffle),
            inner_sweeps: (solver == Solver::Hals).then(|| p.inner_sweeps.unwrap_or(1)),
            als_variant: (solver == Solver::Als).then(|| p.als_variant.unwrap_or_default()),
            online: (solver == Solver::Online).then(|| p.online.unwrap_or_default()),
            graph: (solver == Solver::Gnmf).then(|| GraphJson::from_params(p)),
            theta: (solver == Solver::Nsnmf).then(|| p.theta.unwrap_or(DEFAULT_THETA)),
            pg: (solver == Solver::Pg).then(PgSettings::default),
            init: p.init,
            alpha_w: p.alpha_w,
            alpha_h: p.alpha_h.unwrap_or(p.alpha_w),
            l1_ratio: p.l1_ratio,
            max_iter: p.max_iter,
            tol: p.tol,
            seed: p.seed,
            relevance_lambda: None,
            top_terms: None,
            top_documents: None,
        }
    }
}

impl ParamsJson {
    /// Completes `graph` with what the fit's graph held (its links, degree, time), when the
    /// fit used one.
    pub fn with_graph_summary(mut self, summary: Option<&GraphSummary>) -> Self {
        if let (Some(g), Some(s)) = (self.graph.as_mut(), summary) {
            g.fill(s);
        }
        self
    }
}

/// `params.graph` (`gnmf`): how the document graph was made, the weight λ of its term, and
/// what the graph held.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct GraphJson {
    /// `knn` (the k-nearest-neighbour graph), `file` (a file of links) or `links` (given by a
    /// program).
    pub kind: String,
    /// `knn`: P, the neighbours of each document.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub neighbours: Option<usize>,
    /// `knn`: the links' weights.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weight: Option<GraphWeight>,
    /// `file`: the graph file as given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file: Option<String>,
    /// λ as given (`--graph-lambda`).
    pub lambda: f64,
    /// The weight of the graph term in the objective, λ / mean_degree.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lambda_scaled: Option<f64>,
    /// Undirected links of the graph.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub edges: Option<usize>,
    /// The mean degree of the linked documents, Σ_ij S_ij / (documents with a link).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mean_degree: Option<f64>,
    /// Documents without a link.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub isolated: Option<usize>,
    /// `file`: the lines of the file and what became of them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub links: Option<LinkCounts>,
    /// Seconds to build the graph.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seconds: Option<f64>,
}

impl GraphJson {
    /// What the parameters say (and, when the graph was built ahead, what it holds).
    pub fn from_params(p: &NmfParams) -> Self {
        let spec = p.graph.clone().unwrap_or_default();
        let mut g = GraphJson {
            kind: match spec {
                GraphSpec::Knn { .. } => "knn",
                GraphSpec::File(_) => "file",
            }
            .to_string(),
            neighbours: None,
            weight: None,
            file: None,
            lambda: p.graph_lambda.unwrap_or(DEFAULT_GRAPH_LAMBDA),
            lambda_scaled: None,
            edges: None,
            mean_degree: None,
            isolated: None,
            links: None,
            seconds: None,
        };
        match spec {
            GraphSpec::Knn { neighbours, weight } => {
                g.neighbours = Some(neighbours);
                g.weight = Some(weight);
            }
            GraphSpec::File(f) => g.file = Some(f.display().to_string()),
        }
        if let Some(built) = &p.doc_graph {
            g.fill(built.summary());
        }
        g
    }

    /// This view completed with a fit's graph summary (see [`ParamsJson::with_graph_summary`]).
    pub fn with_summary(mut self, s: Option<&GraphSummary>) -> Self {
        if let Some(s) = s {
            self.fill(s);
        }
        self
    }

    fn fill(&mut self, s: &GraphSummary) {
        self.kind.clone_from(&s.kind);
        self.neighbours = s.neighbours.or(self.neighbours);
        self.weight = s.weight.or(self.weight);
        if s.file.is_some() {
            self.file.clone_from(&s.file);
        }
        self.lambda_scaled = Some(if s.mean_degree > 0.0 {
            self.lambda / s.mean_degree
        } else {
            0.0
        });
        self.edges = Some(s.edges);
        self.mean_degree = Some(finite(s.mean_degree));
        self.isolated = Some(s.isolated);
        self.links = s.links;
        self.seconds = Some(finite(s.seconds));
    }
}

/// `params.pg`: the constants of Lin's projected gradient (see `nmf::pg`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct PgSettings {
    /// σ of the sufficient-decrease test.
    pub sigma: f64,
    /// β, the step-size factor.
    pub beta: f64,
    /// Most steps per subproblem.
    pub max_inner_iter: usize,
    /// Most step sizes tried per step.
    pub max_step_trials: usize,
    /// The initial subproblem tolerances are max(inner_tol_floor, tol) times the norm of the
    /// gradient at the start.
    pub inner_tol_floor: f64,
}

impl Default for PgSettings {
    fn default() -> Self {
        PgSettings {
            sigma: pg::SIGMA,
            beta: pg::BETA,
            max_inner_iter: pg::MAX_INNER_ITER,
            max_step_trials: pg::MAX_STEP_TRIALS,
            inner_tol_floor: pg::INNER_TOL_FLOOR,
        }
    }
}

/// `fit` section.
#[derive(Debug, Clone, Serialize)]
pub struct FitJson {
    /// Iterations run.
    pub iterations: usize,
    /// Whether the stopping rule was met.
    pub converged: bool,
    /// Wall-clock seconds of the whole fit (initialization, iterations, final evaluation).
    pub seconds: f64,
    /// Seconds of the initialization (the start factors).
    pub init_seconds: f64,
    /// Seconds of the solver loop / iterations (0 without iterations).
    pub seconds_per_iteration: f64,
    /// Objective after each iteration.
    pub loss_history: Vec<f64>,
}

/// One topic.
#[derive(Debug, Clone, Serialize)]
pub struct TopicJson<'a> {
    /// Row of H.
    pub id: usize,
    /// Its three best words.
    pub label: &'a str,
    /// Share of the normalized document weights.
    #[serde(serialize_with = "serialize_weight")]
    pub prevalence: f64,
    /// Coherence of the topic's top words, when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coherence: Option<TopicCoherenceJson>,
    /// Stability of the topic across restarts (mean matched cosine), with restarts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stability: Option<f64>,
    /// Top terms.
    pub terms: Vec<TermJson<'a>>,
    /// Top documents.
    pub documents: Vec<TopicDocumentJson<'a>>,
}

/// One term of a topic.
#[derive(Debug, Clone, Serialize)]
pub struct TermJson<'a> {
    /// Surface form.
    pub term: &'a str,
    /// Stem.
    pub stem: &'a str,
    /// H[t, w].
    #[serde(serialize_with = "serialize_weight")]
    pub weight: f64,
}

/// One document of a topic.
#[derive(Debug, Clone, Serialize)]
pub struct TopicDocumentJson<'a> {
    /// Document id.
    pub id: &'a str,
    /// Normalized weight.
    #[serde(serialize_with = "serialize_weight")]
    pub weight: f64,
}

/// One document.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentJson<'a> {
    /// Document id.
    pub id: &'a str,
    /// Label, if any.
    pub label: Option<&'a str>,
    /// Topic with the largest weight; `null` for an empty document.
    pub dominant_topic: Option<usize>,
    /// `[topic, weight]` pairs with a weight of at least [`DOCUMENT_WEIGHT_THRESHOLD`] (and
    /// the dominant topic), largest first, rounded to 6 significant digits.
    pub weights: Vec<(usize, f64)>,
}

/// The `metrics` section: the fit's [`Metrics`] and, when measured, the topic quality
/// (additive fields of schema version 1).
#[derive(Debug, Clone, Serialize)]
pub struct MetricsJson {
    /// The fit's metrics.
    #[serde(flatten)]
    pub fit: Metrics,
    /// The quality measures.
    #[serde(flatten)]
    pub quality: Option<QualityJson>,
}

/// The quality part of `metrics`: means over the topics
/// (see [`crate::topics::quality`] for the formulas).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityJson {
    /// Words per topic scored by the coherence measures.
    pub coherence_top_n: usize,
    /// Mean UMass (document co-occurrence); `null` if no topic has two words.
    pub umass: Option<f64>,
    /// Mean NPMI (document co-occurrence).
    pub npmi: Option<f64>,
    /// Mean NPMI over sliding windows of the texts (gensim's `c_npmi`), when fitted from text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_npmi: Option<f64>,
    /// The window of `c_npmi`, in tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_npmi_window: Option<usize>,
    /// The documents `c_npmi` was measured on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_npmi_documents: Option<usize>,
    /// Topic diversity of the top `diversity_top_n` words.
    pub diversity: Option<f64>,
    /// Words per topic of the diversity.
    pub diversity_top_n: usize,
    /// Agreement of the dominant topics with the documents' labels, when there are labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<LabelAgreement>,
    /// Stability of the topics across restarts, with restarts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stability: Option<f64>,
    /// Cophenetic correlation of the consensus over restarts, with restarts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cophenetic: Option<f64>,
}

/// A topic's own coherence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TopicCoherenceJson {
    /// UMass of its top words.
    pub umass: Option<f64>,
    /// NPMI of its top words (document co-occurrence).
    pub npmi: Option<f64>,
    /// Window NPMI, when fitted from text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_npmi: Option<f64>,
}

fn finite_opt(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// The quality part of `metrics` from the measures and the restarts, numbers finite.
pub fn quality_json(q: &FitQuality, restarts: Option<&RestartSummary>) -> QualityJson {
    QualityJson {
        coherence_top_n: q.top_n,
        umass: finite_opt(q.mean_umass),
        npmi: finite_opt(q.mean_npmi),
        c_npmi: finite_opt(q.mean_c_npmi),
        c_npmi_window: q.c_npmi.as_ref().map(|_| q.window),
        c_npmi_documents: q.c_npmi.as_ref().and(q.c_npmi_documents),
        diversity: finite_opt(q.diversity),
        diversity_top_n: q.diversity_top_n,
        labels: q.labels.as_ref().map(|l| LabelAgreement {
            purity: finite(l.purity),
            entropy: finite(l.entropy),
            nmi: finite(l.nmi),
            ari: finite(l.ari),
            ..l.clone()
        }),
        stability: restarts.and_then(|r| finite_opt(r.stability)),
        cophenetic: restarts.and_then(|r| finite_opt(r.cophenetic)),
    }
}

/// `r` with every number made finite.
pub fn finite_restarts(r: &RestartSummary) -> RestartSummary {
    RestartSummary {
        runs: r
            .runs
            .iter()
            .map(|x| RestartRecord {
                objective: finite(x.objective),
                seconds: finite(x.seconds),
                ..x.clone()
            })
            .collect(),
        objective_min: finite(r.objective_min),
        objective_max: finite(r.objective_max),
        objective_mean: finite(r.objective_mean),
        stability: finite_opt(r.stability),
        topic_stability: r
            .topic_stability
            .as_ref()
            .map(|v| v.iter().map(|&x| finite(x)).collect()),
        cophenetic: finite_opt(r.cophenetic),
        ..r.clone()
    }
}

/// `m` with every number made finite.
pub fn finite_metrics(m: &Metrics) -> Metrics {
    Metrics {
        loss: finite(m.loss),
        divergence: finite(m.divergence),
        reconstruction_error: finite(m.reconstruction_error),
        explained_variance: finite(m.explained_variance),
        sparsity_w: finite(m.sparsity_w),
        sparsity_h: finite(m.sparsity_h),
        zeros_w: finite(m.zeros_w),
        zeros_h: finite(m.zeros_h),
        seconds: finite(m.seconds),
        ..m.clone()
    }
}

/// Builds the `topics.json` document of a run (without quality measures or restarts; see
/// [`topics_json_with`]).
pub fn topics_json<'a>(
    run: &FitRun<'a>,
    set: &'a TopicSet,
    opts: &OutputOptions,
) -> TopicsJson<'a> {
    topics_json_with(run, set, opts, &FitExtras::default())
}

/// Builds the `topics.json` document of a run with its quality measures and restarts, when
/// given: the means in `metrics`, each topic's own coherence and stability, and a `restarts`
/// section.
pub fn topics_json_with<'a>(
    run: &FitRun<'a>,
    set: &'a TopicSet,
    opts: &OutputOptions,
    extras: &FitExtras<'_>,
) -> TopicsJson<'a> {
    let model = run.model;
    let quality = extras.quality;
    let topic_stability = extras.restarts.and_then(|r| r.topic_stability.as_ref());
    let mut params =
        ParamsJson::from_params(run.params).with_graph_summary(run.model.graph.as_ref());
    params.relevance_lambda = Some(set.lambda);
    params.top_terms = Some(opts.top_terms);
    params.top_documents = Some(opts.top_documents);
    let topics = set
        .topics
        .iter()
        .map(|t| TopicJson {
            id: t.id,
            label: &t.label,
            prevalence: t.prevalence,
            coherence: quality.map(|q| TopicCoherenceJson {
                umass: finite_opt(q.umass.get(t.id).copied().flatten()),
                npmi: finite_opt(q.npmi.get(t.id).copied().flatten()),
                c_npmi: q
                    .c_npmi
                    .as_ref()
                    .and_then(|c| finite_opt(c.get(t.id).copied().flatten())),
            }),
            stability: topic_stability.and_then(|s| finite_opt(s.get(t.id).copied())),
            terms: t
                .terms
                .iter()
                .map(|w| TermJson {
                    term: &w.term,
                    stem: &w.stem,
                    weight: w.weight,
                })
                .collect(),
            documents: t
                .documents
                .iter()
                .map(|d| TopicDocumentJson {
                    id: &d.id,
                    weight: d.weight,
                })
                .collect(),
        })
        .collect();
    let documents = DocumentsJson {
        documents: &run.dtm.documents,
        set,
    };
    let document_list = DocumentListJson {
        listed: opts.document_list,
        weight_threshold: DOCUMENT_WEIGHT_THRESHOLD,
    };
    TopicsJson {
        version: TOPICS_JSON_VERSION,
        corpus: CorpusJson {
            documents: run.dtm.documents.len(),
            terms: run.dtm.terms.len(),
            nnz: run.dtm.nnz(),
            inputs: run.inputs,
        },
        params,
        fit: FitJson {
            iterations: model.iterations,
            converged: model.converged,
            seconds: model.seconds,
            init_seconds: model.init_seconds,
            seconds_per_iteration: model.seconds_per_iteration,
            loss_history: model.history.clone(),
        },
        metrics: MetricsJson {
            fit: model.metrics.clone(),
            quality: quality.map(|q| quality_json(q, extras.restarts)),
        },
        restarts: extras.restarts.map(finite_restarts),
        topics,
        document_list,
        documents: opts.document_list.then_some(documents),
    }
}

/// A JSON layout for files people read: objects one key per line (two-space indent), arrays
/// of objects one element per line, and arrays of anything else (numbers, strings, pairs) on one
/// line, so `loss_history` or a document's `weights` do not take one line per number.
#[derive(Debug, Default)]
pub struct ReadableFormatter {
    /// One entry per open array or object.
    stack: Vec<Frame>,
    /// An array's first value is about to be written; its kind decides the array's layout.
    pending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Frame {
    /// An object, and whether it has keys (an empty one stays `{}`).
    Object { keys: bool },
    /// An array, and whether it is laid out one element per line.
    Array { expanded: bool },
}

impl ReadableFormatter {
    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W, depth: usize) -> std::io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// Called before any value: settles the layout of an array whose first value this is.
    fn value_start<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        object: bool,
    ) -> std::io::Result<()> {
        if !self.pending {
            return Ok(());
        }
        self.pending = false;
        if let Some(Frame::Array { expanded }) = self.stack.last_mut() {
            *expanded = object;
        }
        if object {
            self.newline(w, self.stack.len())?;
        }
        Ok(())
    }
}

macro_rules! scalar {
    ($($name:ident($t:ty)),*) => {$(
        fn $name<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: $t) -> std::io::Result<()> {
            self.value_start(w, false)?;
            serde_json::ser::CompactFormatter.$name(w, v)
        }
    )*};
}

impl serde_json::ser::Formatter for ReadableFormatter {
    scalar!(
        write_bool(bool),
        write_i8(i8),
        write_i16(i16),
        write_i32(i32),
        write_i64(i64),
        write_i128(i128),
        write_u8(u8),
        write_u16(u16),
        write_u32(u32),
        write_u64(u64),
        write_u128(u128),
        write_f32(f32),
        write_f64(f64),
        write_number_str(&str),
        write_byte_array(&[u8]),
        write_raw_fragment(&str)
    );

    fn write_null<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.value_start(w, false)?;
        w.write_all(b"null")
    }

    fn begin_string<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.value_start(w, false)?;
        w.write_all(b"\"")
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.value_start(w, false)?;
        self.stack.push(Frame::Array { expanded: false });
        w.write_all(b"[")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            self.pending = true;
            return Ok(());
        }
        match self.stack.last() {
            Some(Frame::Array { expanded: true }) => {
                w.write_all(b",")?;
                self.newline(w, self.stack.len())
            }
            _ => w.write_all(b", "),
        }
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.pending = false;
        if let Some(Frame::Array { expanded: true }) = self.stack.pop() {
            self.newline(w, self.stack.len())?;
        }
        w.write_all(b"]")
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.value_start(w, true)?;
        self.stack.push(Frame::Object { keys: false });
        w.write_all(b"{")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if let Some(Frame::Object { keys }) = self.stack.last_mut() {
            *keys = true;
        }
        self.newline(w, self.stack.len())
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        if let Some(Frame::Object { keys: true }) = self.stack.pop() {
            self.newline(w, self.stack.len())?;
        }
        w.write_all(b"}")
    }
}

/// Serializes `value` with [`ReadableFormatter`], followed by a newline.
pub fn to_writer_readable<W: std::io::Write + ?Sized, T: Serialize + ?Sized>(
    w: &mut W,
    value: &T,
) -> std::result::Result<(), serde_json::Error> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, ReadableFormatter::default());
    value.serialize(&mut ser)?;
    w.write_all(b"\n").map_err(serde_json::Error::io)
}

/// Writes `topics.json` (see [`ReadableFormatter`]) atomically.
pub fn write_topics_json(
    path: &Path,
    run: &FitRun<'_>,
    set: &TopicSet,
    opts: &OutputOptions,
) -> Result<()> {
    write_topics_json_with(path, run, set, opts, &FitExtras::default())
}

/// [`write_topics_json`] with quality measures and restarts ([`topics_json_with`]).
pub fn write_topics_json_with(
    path: &Path,
    run: &FitRun<'_>,
    set: &TopicSet,
    opts: &OutputOptions,
    extras: &FitExtras<'_>,
) -> Result<()> {
    let mut doc = topics_json_with(run, set, opts, extras);
    let documents = doc.documents.take();
    let json_error = |e: serde_json::Error| Error::Runtime(format!("{}: {e}", path.display()));
    // Everything but the documents in the readable layout…
    let mut head = Vec::new();
    to_writer_readable(&mut head, &doc).map_err(json_error)?;
    write_atomic(path, |w| {
        let io = |e| Error::io(path, e);
        let Some(documents) = documents else {
            return w.write_all(&head).map_err(io);
        };
        // …then the documents, one line each, in place of the closing brace.
        let body = head.strip_suffix(b"\n}\n").unwrap_or(&head);
        w.write_all(body).map_err(io)?;
        w.write_all(b",\n  \"documents\": [").map_err(io)?;
        let n = documents.len();
        let n_blocks = n.div_ceil(JSON_BLOCK_DOCUMENTS);
        let mut b = 0;
        while b < n_blocks {
            let end = (b + super::blocks_in_flight()).min(n_blocks);
            let parts: Vec<Result<Vec<u8>>> = (b..end)
                .into_par_iter()
                .map(|b| {
                    let mut buf = Vec::new();
                    let rows = b * JSON_BLOCK_DOCUMENTS..((b + 1) * JSON_BLOCK_DOCUMENTS).min(n);
                    let first = rows.start;
                    for (i, e) in (first..).zip(documents.entries(rows)?) {
                        buf.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
                        e.write_line(&mut buf).map_err(json_error)?;
                    }
                    Ok(buf)
                })
                .collect();
            for part in parts {
                w.write_all(&part?).map_err(io)?;
            }
            b = end;
        }
        w.write_all(if n == 0 { b"]\n}\n" } else { b"\n  ]\n}\n" })
            .map_err(io)
    })
}

/// Documents of `topics.json` formatted per parallel block.
const JSON_BLOCK_DOCUMENTS: usize = 4096;

impl DocumentJson<'_> {
    /// The document as one line: `{"id": …, "label": …, "dominant_topic": …, "weights":
    /// [[t, w], …]}`.
    fn write_line(&self, out: &mut Vec<u8>) -> std::result::Result<(), serde_json::Error> {
        out.extend_from_slice(b"{\"id\": ");
        serde_json::to_writer(&mut *out, self.id)?;
        out.extend_from_slice(b", \"label\": ");
        serde_json::to_writer(&mut *out, &self.label)?;
        out.extend_from_slice(b", \"dominant_topic\": ");
        serde_json::to_writer(&mut *out, &self.dominant_topic)?;
        out.extend_from_slice(b", \"weights\": [");
        for (j, (t, v)) in self.weights.iter().enumerate() {
            if j > 0 {
                out.extend_from_slice(b", ");
            }
            out.push(b'[');
            serde_json::to_writer(&mut *out, t)?;
            out.extend_from_slice(b", ");
            serde_json::to_writer(&mut *out, v)?;
            out.push(b']');
        }
        out.extend_from_slice(b"]}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable<T: Serialize>(v: &T) -> String {
        let mut out = Vec::new();
        to_writer_readable(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn readable_layout() {
        let v = serde_json::json!({
            "a": 1,
            "empty": {},
            "none": [],
            "nums": [1.5, 2, null],
            "pairs": [[0, 0.5], [1, 0.25]],
            "objs": [{"id": "x", "w": [1]}, {"id": "y"}],
            "s": "q\"",
        });
        let text = readable(&v);
        let expected = r#"{
  "a": 1,
  "empty": {},
  "none": [],
  "nums": [1.5, 2, null],
  "objs": [
    {
      "id": "x",
      "w": [1]
    },
    {
      "id": "y"
    }
  ],
  "pairs": [[0, 0.5], [1, 0.25]],
  "s": "q\""
}
"#;
        assert_eq!(text, expected);
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
