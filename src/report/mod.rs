//! Writing results: topics.json, CSV files, the model file and the HTML report.
//!
//! The set of files is written atomically ([`StagedDir`]): into a hidden staging folder inside
//! the output folder, then moved into place together once every file is complete, so an
//! interrupted run (Ctrl-C) leaves the previous set intact and never a half-written file.
//!
//! - [`json`]: `topics.json` (schema version 1, see DESIGN.md);
//! - [`tables`]: `doc_topics.csv` and `topic_terms.csv` (RFC 4180, csv crate);
//! - [`model`]: `model.json`, everything `transform` needs to score new text;
//! - [`html`]: the self-contained `report.html`;
//! - [`numbers`]: the check that no NaN or infinity reaches a file, and the short form of
//!   weights (6 significant digits in topics.json and the CSV files).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::corpus::Texts;
use crate::nmf::{NmfModel, NmfParams};
use crate::restarts::RestartSummary;
use crate::text::{Analyzer, AnalyzerConfig};
use crate::topics::quality::{self, FitQuality, QualityOptions, TokenStreams};
use crate::topics::{TopicOptions, TopicSet};
use crate::vectorize::{DocTermMatrix, VectorizeOptions, Vocabulary};
use crate::{Error, Result};

pub use crate::atomic::{temporary_path, write_atomic, write_atomic_path, StagedDir};

pub mod html;
pub mod json;
pub mod model;
pub mod numbers;
pub mod tables;

/// Everything a fit produced, as the writers need it.
#[derive(Clone, Copy)]
pub struct FitRun<'a> {
    /// The matrix that was factorized, with its terms and documents.
    pub dtm: &'a DocTermMatrix,
    /// The documents' texts, when the input was text (for the snippets and links of the top
    /// documents, and the window coherence), in the matrix's row order: in memory, or read
    /// again from the inputs ([`crate::corpus::StreamedCorpus`]).
    pub documents: Option<&'a dyn Texts>,
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

/// What a fit can add to its outputs beyond the model: its quality measures, its restarts, and
/// its topics when already derived. All optional, so a plain single fit writes what it always
/// wrote (plus the quality, which [`write_fit_outputs`] measures itself).
#[derive(Debug, Clone, Copy, Default)]
pub struct FitExtras<'a> {
    /// The quality measures; measured by [`write_fit_outputs_with`] when `None`.
    pub quality: Option<&'a FitQuality>,
    /// The restarts, for a fit that kept the best of several ([`crate::restarts`]).
    pub restarts: Option<&'a RestartSummary>,
    /// The topics, when the caller derived them already: needed when the model no longer holds
    /// W ([`TopicSet::from_model_taking_w`], [`TopicSet::from_model_on_disk`]); derived from
    /// the model when `None`.
    pub topics: Option<&'a TopicSet>,
}

impl std::fmt::Debug for FitRun<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FitRun")
            .field("dtm", &self.dtm)
            .field("documents", &self.documents.map(|t| t.count()))
            .field("model", &self.model)
            .field("params", &self.params)
            .field("inputs", &self.inputs)
            .field("analyzer", &self.analyzer)
            .field("vectorize", &self.vectorize)
            .finish()
    }
}

/// The window coherence (`c_npmi`) of a corpus of more than this many documents is measured
/// on this many, evenly spaced in row order (rows `i·n / C` for `i < C`), read again by row.
pub const C_NPMI_MAX_DOCUMENTS: usize = 20_000;

/// The quality measures of a run ([`quality::evaluate`] with the default options): coherence
/// of each topic's top 10 words on the run's matrix, the window NPMI when the run has the
/// texts and the analyzer (the texts are re-analyzed, block by block, into [`TokenStreams`]
/// holding the topics' top words only: all documents, or [`C_NPMI_MAX_DOCUMENTS`] of a larger
/// corpus; skipped when their number differs from the matrix's rows), diversity, and the
/// agreement with the labels when documents have labels.
///
/// Errors: a model whose H does not match the matrix ([`Error::Input`]).
pub fn fit_quality(run: &FitRun<'_>, set: &TopicSet) -> Result<FitQuality> {
    let labels: Vec<Option<&str>> = run
        .dtm
        .documents
        .iter()
        .map(|d| d.label.as_deref())
        .collect();
    let has_labels = labels.iter().any(Option::is_some);
    let opts = QualityOptions::default();
    let streams = match (run.documents, run.analyzer) {
        (Some(docs), Some(config)) if docs.count() == run.dtm.x.rows() => {
            let mut keep = vec![false; run.dtm.terms.len()];
            for list in quality::top_columns(run.model.h.view(), opts.top_n) {
                for c in list {
                    if let Some(k) = keep.get_mut(c) {
                        *k = true;
                    }
                }
            }
            // A large corpus: an evenly spaced sample of its documents, fetched by row.
            let n = docs.count();
            let sample: Option<Vec<usize>> = (n > C_NPMI_MAX_DOCUMENTS).then(|| {
                (0..C_NPMI_MAX_DOCUMENTS)
                    .map(|i| i * n / C_NPMI_MAX_DOCUMENTS)
                    .collect()
            });
            // Hashed columns are found by the hash of the term, others by the term.
            let vocabulary = match run.vectorize {
                Some(v) => Vocabulary::of_terms(&run.dtm.terms, v),
                None => Vocabulary::of_terms(&run.dtm.terms, &VectorizeOptions::default()),
            };
            let column = |t: &str| -> Option<u32> {
                let vocab = vocabulary.as_ref().ok()?;
                vocab.column(t).filter(|&c| keep[c]).map(|c| c as u32)
            };
            Analyzer::new(config)
                .and_then(|a| {
                    TokenStreams::from_texts_with(docs, sample.as_deref(), &a, keep.len(), &column)
                })
                .ok()
        }
        _ => None,
    };
    let labels = has_labels.then_some(labels.as_slice());
    let h = run.model.h.view();
    match &run.dtm.streamed {
        Some(totals) => {
            let co = totals.coherence_counts.as_ref().ok_or_else(|| {
                Error::Runtime(
                    "internal error: a streamed matrix without the coherence's counts".into(),
                )
            })?;
            quality::evaluate_counted(co, h, &set.dominant, labels, streams.as_ref(), &opts)
        }
        None => quality::evaluate(
            &run.dtm.x,
            h,
            &set.dominant,
            labels,
            streams.as_ref(),
            &opts,
        ),
    }
}

/// The words whose document co-occurrence [`fit_quality`] counts for the coherence of `h`
/// (k × m): what a fit that does not hold its matrix must count as it reads the rows
/// ([`crate::vectorize::StreamedTotals::coherence_counts`]).
pub fn coherence_words_of(h: ndarray::ArrayView2<'_, f64>) -> Vec<Vec<usize>> {
    quality::coherence_words(h, &QualityOptions::default())
}

/// Options of the writers.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputOptions {
    /// Terms listed per topic (topics.json, topic_terms.csv, the report's cards).
    pub top_terms: usize,
    /// Documents listed per topic.
    pub top_documents: usize,
    /// λ of the relevance ranking (1 = plain weight), in [0, 1]: the order of the terms in
    /// topics.json, topic_terms.csv, the labels, and the report's initial slider position.
    pub relevance_lambda: f64,
    /// Also write W.mtx and H.mtx.
    pub save_factors: bool,
    /// Rows of the report's document table (the first documents in row order); default
    /// [`html::DEFAULT_DOCUMENT_ROWS`] = 2,000, which keeps the report of a 60,000-document
    /// corpus under 5 MB. The page says when rows were left out.
    pub html_document_rows: usize,
    /// List every document in topics.json (`--no-document-list` sets it to false; the
    /// `document_list` section then says so, and doc_topics.csv still has every document).
    pub document_list: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            top_terms: 10,
            top_documents: 10,
            relevance_lambda: 1.0,
            save_factors: false,
            html_document_rows: html::DEFAULT_DOCUMENT_ROWS,
            document_list: true,
        }
    }
}

impl OutputOptions {
    /// The topic-extraction part of the options.
    pub fn topic_options(&self) -> TopicOptions {
        TopicOptions {
            top_terms: self.top_terms,
            top_documents: self.top_documents,
            relevance_lambda: self.relevance_lambda,
        }
    }
}

/// Blocks of rows formatted in parallel before they are written in order (doc_topics.csv and
/// the documents of topics.json): two per thread keep every core busy while only a few blocks
/// of text are held at once.
pub(crate) fn blocks_in_flight() -> usize {
    2 * rayon::current_num_threads()
}

/// Names of the files [`write_fit_outputs`] writes (W.mtx and H.mtx only with
/// `save_factors`).
pub const OUTPUT_FILES: [&str; 7] = [
    "topics.json",
    "doc_topics.csv",
    "topic_terms.csv",
    "model.json",
    "report.html",
    "W.mtx",
    "H.mtx",
];

/// Writes every output file of `fit` into `dir` (created if missing) and returns their paths:
/// topics.json, doc_topics.csv, topic_terms.csv, model.json, report.html, and with
/// `save_factors` W.mtx and H.mtx.
///
/// The files are written into a staging folder inside `dir` and moved into place together
/// once all are complete ([`StagedDir`]): an error leaves the folder's previous outputs as they
/// were, and a W.mtx / H.mtx of an earlier run is removed when this run does not write them.
/// The quality measures ([`fit_quality`]) go into topics.json and the report.
///
/// Errors: shapes of the model that do not match the matrix or a λ outside [0, 1]
/// ([`Error::Input`]); a NaN or infinite number in what the files would hold
/// ([`Error::Runtime`] naming where, see [`numbers::check_fit`]); a file that cannot be
/// written ([`Error::Io`]).
pub fn write_fit_outputs(
    dir: &Path,
    run: &FitRun<'_>,
    opts: &OutputOptions,
) -> Result<Vec<PathBuf>> {
    write_fit_outputs_with(dir, run, opts, &FitExtras::default())
}

/// [`write_fit_outputs`] for a fit with restarts or precomputed quality measures: the
/// restarts' spread of objectives, the winner, stability and per-topic stability go into
/// topics.json and the report. The quality is measured here unless `extras` has it.
pub fn write_fit_outputs_with(
    dir: &Path,
    run: &FitRun<'_>,
    opts: &OutputOptions,
    extras: &FitExtras<'_>,
) -> Result<Vec<PathBuf>> {
    let staged = StagedDir::new(dir)?;
    write_fit_files_with(staged.path(), dir, run, opts, extras)?;
    staged.commit(&OUTPUT_FILES)
}

/// Writes the files of [`write_fit_outputs`] straight into the existing folder `dir` (a
/// staging folder of the caller's), each under its final name, and returns their paths in the
/// order of [`OUTPUT_FILES`]. `final_dir` is the folder the files will end up in: the report's
/// links to documents are relative to it.
pub fn write_fit_files(
    dir: &Path,
    final_dir: &Path,
    run: &FitRun<'_>,
    opts: &OutputOptions,
) -> Result<Vec<PathBuf>> {
    write_fit_files_with(dir, final_dir, run, opts, &FitExtras::default())
}

/// [`write_fit_files`] with restarts or precomputed quality measures (see
/// [`write_fit_outputs_with`]).
pub fn write_fit_files_with(
    dir: &Path,
    final_dir: &Path,
    run: &FitRun<'_>,
    opts: &OutputOptions,
    extras: &FitExtras<'_>,
) -> Result<Vec<PathBuf>> {
    let made;
    let set = match extras.topics {
        Some(set) => set,
        None => {
            made = TopicSet::from_model(run.dtm, run.model, run.documents, &opts.topic_options())?;
            &made
        }
    };
    // No NaN or infinity may reach a file: refuse before writing any.
    numbers::check_fit(run, set)?;
    let measured;
    let quality = match extras.quality {
        Some(q) => q,
        None => {
            measured = fit_quality(run, set)?;
            &measured
        }
    };
    let extras = FitExtras {
        quality: Some(quality),
        ..*extras
    };
    let mut written = Vec::new();

    let path = dir.join("topics.json");
    json::write_topics_json_with(&path, run, set, opts, &extras)?;
    written.push(path);

    let path = dir.join("doc_topics.csv");
    tables::write_doc_topics(&path, run.dtm, set)?;
    written.push(path);

    let path = dir.join("topic_terms.csv");
    tables::write_topic_terms(&path, set)?;
    written.push(path);

    let path = dir.join("model.json");
    model::ModelFile::from_run(run).write(&path)?;
    written.push(path);

    let path = dir.join("report.html");
    let page = html::render_report_with(run, set, opts, final_dir, &extras)?;
    write_atomic(&path, |w| {
        w.write_all(page.as_bytes())
            .map_err(|e| Error::io(&path, e))
    })?;
    written.push(path);

    if opts.save_factors {
        let path = dir.join("W.mtx");
        crate::mtx::write_array(&path, run.model.w.view())?;
        written.push(path);
        let path = dir.join("H.mtx");
        crate::mtx::write_array(&path, run.model.h.view())?;
        written.push(path);
    }
    Ok(written)
}

/// The compact topic table printed to stdout: one line per topic in the model's order with its
/// id, prevalence and top words (at most 10, ranked as in topics.json), then one line of
/// metrics. Empty if the model does not match the matrix.
pub fn topic_table(run: &FitRun<'_>, opts: &OutputOptions) -> String {
    topic_table_with(run, opts, None)
}

/// [`topic_table`] from the topics of the outputs when given (their first 10 terms are the
/// table's: the ranking does not depend on how many are listed).
pub fn topic_table_with(
    run: &FitRun<'_>,
    opts: &OutputOptions,
    topics: Option<&TopicSet>,
) -> String {
    let topic_opts = TopicOptions {
        top_terms: opts.top_terms.min(10),
        top_documents: 0,
        relevance_lambda: opts.relevance_lambda,
    };
    let made;
    let set = match topics {
        Some(set) => set,
        None => match TopicSet::from_model(run.dtm, run.model, None, &topic_opts) {
            Ok(set) => {
                made = set;
                &made
            }
            Err(_) => return String::new(),
        },
    };
    let most = opts.top_terms.min(10);
    let mut out = String::new();
    let id_width = set.k().saturating_sub(1).to_string().len().max(5);
    let _ = writeln!(
        out,
        "{:>id_width$}  {:>10}  top words",
        "topic", "prevalence"
    );
    for topic in &set.topics {
        let words: Vec<&str> = topic
            .terms
            .iter()
            .take(most)
            .map(|t| t.term.as_str())
            .collect();
        let words = if words.is_empty() {
            "(empty topic)".to_string()
        } else {
            words.join(", ")
        };
        let _ = writeln!(
            out,
            "{:>id_width$}  {:>9.1}%  {}",
            topic.id,
            100.0 * topic.prevalence,
            words
        );
    }
    let m = &run.model.metrics;
    let f = crate::topics::finite;
    let _ = writeln!(
        out,
        "loss {} · reconstruction error {} · explained variance {:.1}% · sparsity W {:.3}, H {:.3} · {} {} iterations{} in {:.2} s ({} per iteration, initialization {:.2} s)",
        html::fmt_num(m.loss),
        html::fmt_num(m.reconstruction_error),
        100.0 * f(m.explained_variance),
        f(m.sparsity_w),
        f(m.sparsity_h),
        run.model.method.solver(),
        run.model.iterations,
        if run.model.converged { " (converged)" } else { "" },
        f(run.model.seconds),
        fmt_per_iteration(run.model.seconds_per_iteration),
        f(run.model.init_seconds),
    );
    out
}

/// The seconds per iteration of the solver loop ([`NmfModel::seconds_per_iteration`], the one
/// figure topics.json, the report and stdout show), in milliseconds: `0.32 ms`.
/// (`seconds` is the whole fit; the initialization is reported apart, `init_seconds`.)
pub fn fmt_per_iteration(seconds: f64) -> String {
    format!("{:.2} ms", 1000.0 * crate::topics::finite(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn atomic_write_replaces_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, |w| {
            w.write_all(b"new").map_err(|e| Error::io("x", e))
        })
        .unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        let err = write_atomic(&path, |w| {
            w.write_all(b"partial").map_err(|e| Error::io("x", e))?;
            Err(Error::Runtime("interrupted".into()))
        });
        assert!(err.is_err());
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "new",
            "old content kept"
        );
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["out.txt".to_string()]);
    }

    #[test]
    fn temporary_name_is_beside_the_target() {
        let tmp = temporary_path(Path::new("/a/b/topics.json"));
        assert_eq!(tmp.parent(), Some(Path::new("/a/b")));
        let name = tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("topics.json.tmp-"), "{name}");
    }
}
