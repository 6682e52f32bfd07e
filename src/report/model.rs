//! `model.json`: everything `transform` needs to score new text with a fitted model.
//!
//! ```text
//! { "version": 1,
//!   "analyzer":  { … } | null,      the analysis chain (null when fitted on a matrix)
//!   "vectorize": { … } | null,      vocabulary and weighting options
//!   "terms":     [ { "stem", "surface", "df" } ],   one per column of H
//!   "idf":       [ … ] | null,      one per term, when the weighting used idf
//!   "h":         [ [ … ], … ],      H as k rows of `terms.len()` numbers
//!   "params":    { "k", "loss", "solver", "init", "alpha_w", "alpha_h", "l1_ratio",
//!                  "max_iter", "tol", "seed", and the solver's own: "shuffle", "inner_sweeps",
//!                  "als_variant",
//!                  "online", "graph", "theta", "pg" },
//!   "metrics":   { … } }
//! ```
//!
//! [`ModelFile::read`] refuses, with an [`Error::Input`] naming the file, a `topics.json`
//! (saying where the model is), a file from a newer version, truncated or corrupt JSON (with serde's line and column), and an H whose shape does
//! not match `k` and the terms, or that holds negative or non-finite numbers.

use std::path::Path;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::json::{to_writer_readable, ParamsJson};
use super::{write_atomic, FitRun};
use crate::nmf::{Init, Metrics, NmfParams};
use crate::text::AnalyzerConfig;
use crate::vectorize::{Term, VectorizeOptions};
use crate::{Error, Result};

/// The model-file version this build writes and the newest it reads.
pub const MODEL_VERSION: u32 = 1;

/// The contents of `model.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// File format version ([`MODEL_VERSION`]).
    pub version: u32,
    /// The analyzer settings, when the model was fitted on text.
    pub analyzer: Option<AnalyzerConfig>,
    /// The vocabulary and weighting options, when the model was fitted on text.
    pub vectorize: Option<VectorizeOptions>,
    /// The vocabulary, one term per column of H.
    pub terms: Vec<Term>,
    /// The idf of each term, when the weighting used one.
    pub idf: Option<Vec<f64>>,
    /// H (k × terms) as nested rows.
    pub h: Vec<Vec<f64>>,
    /// The fit parameters (`alpha_h` resolved).
    pub params: ParamsJson,
    /// Quality measures of the fit.
    pub metrics: Metrics,
}

/// The top-level keys that tell a model file from the other JSON files nmf-topics writes.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<serde_json::Value>,
    h: Option<serde::de::IgnoredAny>,
    topics: Option<serde::de::IgnoredAny>,
}

fn json_error(path: &Path, e: &serde_json::Error) -> Error {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "truncated JSON",
        serde_json::error::Category::Syntax => "corrupt JSON",
        serde_json::error::Category::Data => "unexpected content",
        serde_json::error::Category::Io => "read error",
    };
    Error::input(format!(
        "{}: not a valid model file ({what} at line {}, column {}: {e})",
        path.display(),
        e.line(),
        e.column()
    ))
}

impl ModelFile {
    /// The model file of a fit: H, the vocabulary, the idf, the analyzer and weighting
    /// settings, the parameters and metrics, every number at full precision (the fit's
    /// outputs check that none is NaN or infinite before writing, see
    /// [`check_fit`](super::numbers::check_fit)).
    pub fn from_run(run: &FitRun<'_>) -> Self {
        ModelFile {
            version: MODEL_VERSION,
            analyzer: run.analyzer.cloned(),
            vectorize: run.vectorize.cloned(),
            terms: run.dtm.terms.clone(),
            idf: run.dtm.idf.clone(),
            h: run.model.h.rows().into_iter().map(|r| r.to_vec()).collect(),
            params: ParamsJson::from_params(run.params)
                .with_graph_summary(run.model.graph.as_ref()),
            metrics: run.model.metrics.clone(),
        }
    }

    /// H as a k × terms array.
    pub fn h_matrix(&self) -> Array2<f64> {
        let k = self.h.len();
        let m = self.terms.len();
        Array2::from_shape_fn((k, m), |(t, w)| {
            self.h.get(t).and_then(|r| r.get(w)).copied().unwrap_or(0.0)
        })
    }

    /// The fit parameters as an unchecked builder for `transform`, which solves for W with H
    /// fixed from its own start: the initialization of the fit does not apply, so a model
    /// fitted with `--init custom` (whose W0 and H0 are not stored) gets the default one.
    pub fn nmf_params(&self) -> NmfParams {
        let p = &self.params;
        let mut params = NmfParams::new(p.k);
        params.loss = p.loss;
        params.solver = Some(p.solver);
        params.shuffle = p.shuffle.unwrap_or(false);
        params.inner_sweeps = p.inner_sweeps;
        params.als_variant = p.als_variant;
        params.online = p.online;
        params.graph_lambda = p.graph.as_ref().map(|g| g.lambda);
        params.theta = p.theta;
        params.init = match p.init {
            Init::Custom => Init::default(),
            other => other,
        };
        params.alpha_w = p.alpha_w;
        params.alpha_h = Some(p.alpha_h);
        params.l1_ratio = p.l1_ratio;
        params.max_iter = p.max_iter;
        params.tol = p.tol;
        params.seed = p.seed;
        params
    }

    /// Checks the shapes and values: k ≥ 1 rows of H, each with one entry per term, all finite
    /// and non-negative; an idf with one finite entry per term.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let bad = |msg: String| Err(Error::input(format!("{}: {msg}", path.display())));
        let (k, m) = (self.h.len(), self.terms.len());
        if k == 0 || m == 0 {
            return bad(format!("H is empty ({k} topics, {m} terms)"));
        }
        if self.params.k != k {
            return bad(format!("params.k is {} but H has {k} rows", self.params.k));
        }
        for (t, row) in self.h.iter().enumerate() {
            if row.len() != m {
                return bad(format!(
                    "row {t} of H has {} entries but there are {m} terms",
                    row.len()
                ));
            }
            if let Some(w) = row.iter().position(|v| !v.is_finite() || *v < 0.0) {
                return bad(format!("H[{t}][{w}] is negative or not finite"));
            }
        }
        if let Some(idf) = &self.idf {
            if idf.len() != m {
                return bad(format!(
                    "idf has {} entries but there are {m} terms",
                    idf.len()
                ));
            }
            if idf.iter().any(|v| !v.is_finite()) {
                return bad("idf holds a non-finite number".to_string());
            }
        }
        Ok(())
    }

    /// Writes the model file atomically (JSON laid out by
    /// [`ReadableFormatter`](super::json::ReadableFormatter): one term per line, H on one line;
    /// numbers round-trip exactly).
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomic(path, |w| {
            to_writer_readable(w, self)
                .map_err(|e| Error::Runtime(format!("{}: {e}", path.display())))
        })
    }

    /// Reads and validates a model file.
    ///
    /// Errors ([`Error::Input`] naming the file): a version newer than [`MODEL_VERSION`] or
    /// missing, truncated or corrupt JSON (with line and column), content of the wrong shape
    /// (see [`ModelFile::validate`]). A file that cannot be read is an [`Error::Io`].
    pub fn read(path: &Path) -> Result<ModelFile> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            Error::input(format!(
                "{}: not a valid model file (not UTF-8 at byte {})",
                path.display(),
                e.valid_up_to()
            ))
        })?;
        let probe: VersionProbe = serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
        if probe.h.is_none() && probe.topics.is_some() {
            let model = path.with_file_name("model.json");
            return Err(Error::input(format!(
                "{}: this is a topics.json (the topics of a fit), not a model file; the model is \
                 {} in the same folder",
                path.display(),
                model.display()
            )));
        }
        match probe.version.as_ref().and_then(|v| v.as_u64()) {
            None => {
                return Err(Error::input(format!(
                    "{}: not a model file of nmf-topics (no numeric \"version\" field)",
                    path.display()
                )))
            }
            Some(v) if v > u64::from(MODEL_VERSION) => {
                return Err(Error::input(format!(
                    "{}: version {v} is newer than this nmf-topics understands ({MODEL_VERSION})",
                    path.display()
                )))
            }
            Some(0) => {
                return Err(Error::input(format!(
                    "{}: unsupported model file version 0",
                    path.display()
                )))
            }
            Some(_) => {}
        }
        let model: ModelFile = serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
        model.validate(path)?;
        Ok(model)
    }
}
