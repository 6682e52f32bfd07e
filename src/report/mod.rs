//! Writing results: topics.json, CSV files, the model file and the HTML report.

use std::path::{Path, PathBuf};

use crate::corpus::Document;
use crate::nmf::{NmfModel, NmfParams};
use crate::text::AnalyzerConfig;
use crate::vectorize::{DocTermMatrix, VectorizeOptions};
use crate::Result;

/// Everything a fit produced, as the writers need it.
#[derive(Debug, Clone, Copy)]
pub struct FitRun<'a> {
    /// The matrix that was factorized, with its terms and documents.
    pub dtm: &'a DocTermMatrix,
    /// The documents' texts, when the input was text (for snippets and links).
    pub documents: Option<&'a [Document]>,
    /// The fitted model.
    pub model: &'a NmfModel,
    /// The parameters of the fit.
    pub params: &'a NmfParams,
    /// The inputs as given on the command line.
    pub inputs: &'a [String],
    /// The analyzer settings, when the input was text.
    pub analyzer: Option<&'a AnalyzerConfig>,
    /// The vectorizing options, when the input was text.
    pub vectorize: Option<&'a VectorizeOptions>,
}

/// Options of the writers.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputOptions {
    /// Terms listed per topic.
    pub top_terms: usize,
    /// Documents listed per topic.
    pub top_documents: usize,
    /// λ of the relevance ranking (1 = plain weight).
    pub relevance_lambda: f64,
    /// Also write W.mtx and H.mtx.
    pub save_factors: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            top_terms: 10,
            top_documents: 10,
            relevance_lambda: 1.0,
            save_factors: false,
        }
    }
}

/// Writes every output file of `fit` into `dir` (created if missing) and returns their paths.
pub fn write_fit_outputs(
    dir: &Path,
    run: &FitRun<'_>,
    opts: &OutputOptions,
) -> Result<Vec<PathBuf>> {
    let _ = (dir, run, opts);
    Ok(Vec::new())
}

/// The compact topic table printed to stdout (id, prevalence, top words).
pub fn topic_table(run: &FitRun<'_>, opts: &OutputOptions) -> String {
    let _ = (run, opts);
    String::new()
}
