//! `nmf-topics fit`.

use std::sync::Arc;

use nmf_topics::kernels::CsrRef;
use nmf_topics::matrix::Matrix;
use nmf_topics::nmf;
use nmf_topics::nmf::graph::{self, DocGraph, GraphSpec};
use nmf_topics::nmf::stream::StreamProgress;
use nmf_topics::nmf::{NmfParams, Solver};
use nmf_topics::report::html::{fmt_int, fmt_num};
use nmf_topics::report::{self, FitExtras, FitRun, StagedDir, OUTPUT_FILES};
use nmf_topics::restarts;
use nmf_topics::topics::quality::CoOccurrence;
use nmf_topics::topics::TopicSet;
use nmf_topics::vectorize::{DocTermMatrix, RowStreamer, StreamedTotals, TextRows, Vocabulary};
use nmf_topics::Error;

use super::config::{check_factor_memory, FitConfig, FitInput};
use super::ui::{self, interrupt, Ui};
use super::vectorize::{first_pass, read_and_vectorize};

/// `--solver gnmf`: builds the document graph once, before the fits — the k-nearest-neighbour
/// graph of the matrix's rows, or the links of a graph file matched to the documents' ids —
/// and says on stderr what it holds (and which links of a file were skipped). `None` for
/// another solver.
pub fn prepare_graph(
    ui: &Ui,
    params: &NmfParams,
    dtm: &DocTermMatrix,
) -> anyhow::Result<Option<Arc<DocGraph>>> {
    if params.solver.unwrap_or(Solver::default_for(params.loss)) != Solver::Gnmf {
        return Ok(None);
    }
    let n = dtm.x.rows();
    let g = match params.graph.clone().unwrap_or_default() {
        GraphSpec::Knn { neighbours, weight } => {
            let spinner = ui.spinner(&format!(
                "linking each document to its {neighbours} most similar"
            ));
            let g = graph::knn_graph(&dtm.x, neighbours, weight);
            if let Some(s) = spinner {
                s.finish_and_clear();
            }
            let g = g?;
            let s = g.summary();
            ui.info(&format!(
                "graph: each of {} documents linked to its {neighbours} most similar ({weight} \
                 weights): {}, {} per document (mean weighted degree {}), {} without links \
                 ({:.2} s)",
                fmt_int(n),
                count(s.edges, "link"),
                fmt_num(2.0 * s.edges as f64 / n.max(1) as f64),
                fmt_num(s.mean_degree),
                count(s.isolated, "document"),
                s.seconds
            ));
            g
        }
        GraphSpec::File(path) => {
            let ids: Vec<&str> = dtm.documents.iter().map(|d| d.id.as_str()).collect();
            let (g, warnings) = graph::read_links(&path, &ids)?;
            for w in &warnings.shown {
                ui.warn(w);
            }
            if warnings.more > 0 {
                ui.warn(&format!(
                    "… and {} more links of {} with ids that are not documents of the corpus",
                    fmt_int(warnings.more),
                    path.display()
                ));
            }
            let s = g.summary();
            let c = s.links.unwrap_or_default();
            ui.info(&format!(
                "graph: {}: {} read, {} used ({} summed), {} skipped (unknown ids), {} \
                 ignored; {} between {} of {} documents",
                path.display(),
                count(c.lines, "link"),
                fmt_int(c.used),
                count(c.duplicates, "duplicate"),
                fmt_int(c.skipped),
                count(c.self_loops, "self-link"),
                count(s.edges, "link"),
                fmt_int(n - s.isolated),
                fmt_int(n)
            ));
            g
        }
    };
    if g.summary().edges == 0 {
        ui.warn("the document graph has no links: --solver gnmf fits like --solver mu");
    }
    Ok(Some(Arc::new(g)))
}

/// `3 links`, `1 link`.
fn count(n: usize, what: &str) -> String {
    format!("{} {what}{}", fmt_int(n), if n == 1 { "" } else { "s" })
}

/// Runs `fit`.
pub fn run(c: FitConfig) -> anyhow::Result<()> {
    if c.recorded.online.is_some_and(|o| o.stream) {
        return run_streamed(c);
    }
    let mut c = c;
    let ui = c.ui;
    // Inputs: text (analysis + vectorizing) or a Matrix Market file.
    let (dtm, corpus, analyzer, vectorize, inputs) = match &c.input {
        FitInput::Matrix {
            matrix,
            terms,
            documents,
        } => {
            let dtm =
                DocTermMatrix::from_matrix_market(matrix, terms.as_deref(), documents.as_deref())?;
            ui.info(&format!(
                "matrix: {} documents × {} terms, {} nonzeros",
                dtm.x.rows(),
                dtm.x.cols(),
                dtm.x.nnz()
            ));
            (dtm, None, None, None, vec![matrix.display().to_string()])
        }
        FitInput::Text(text) => {
            let (dtm, corpus) = read_and_vectorize(&ui, text)?;
            let inputs = text
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            (
                dtm,
                Some(corpus),
                Some(text.analyzer.frozen_config()),
                Some(text.vectorize.clone()),
                inputs,
            )
        }
    };

    check_factor_memory(c.recorded.k, dtm.x.rows(), dtm.x.cols())?;
    if let Some(g) = prepare_graph(&ui, &c.recorded, &dtm)? {
        c.params.set_doc_graph(g.clone());
        c.recorded.doc_graph = Some(g);
    }
    let max_iter = c.recorded.max_iter as u64;
    let bar = ui.bar(max_iter * c.restarts as u64, "fitting");
    let restarts = c.restarts;
    let mut progress = |restart: usize, iteration: usize, objective: f64| {
        if let Some(pb) = &bar {
            pb.set_position(restart as u64 * max_iter + iteration as u64);
            let run = if restarts > 1 {
                format!("restart {}/{restarts}, ", restart + 1)
            } else {
                String::new()
            };
            pb.set_prefix(format!("{run}loss {}", fmt_num(objective)));
        }
    };
    let fitted = if c.restarts > 1 {
        restarts::fit_restarts(&dtm.x, &c.params, c.restarts, &mut progress)
            .map(|r| {
                let summary = r.summary();
                (r.best, Some(summary))
            })
            .map_err(anyhow::Error::from)
    } else {
        // Consumes the parameters: a custom W0 becomes W instead of being copied.
        c.params
            .into_fit(&dtm.x, &mut |i, o| progress(0, i, o))
            .map(|m| (m, None))
            .map_err(anyhow::Error::from)
    };
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let (mut model, summary) = fitted?;

    let documents = corpus.as_ref().map(|c| c as &dyn nmf_topics::corpus::Texts);
    // Unless W.mtx is written from it, W's rows become the document weights in place, so that
    // W and the weights are not held together while the outputs are written.
    let topics = if c.output.save_factors {
        None
    } else {
        Some(TopicSet::from_model_taking_w(
            &dtm,
            &mut model,
            documents,
            &c.output.topic_options(),
        )?)
    };
    let run = FitRun {
        dtm: &dtm,
        documents,
        model: &model,
        params: &c.recorded,
        inputs: &inputs,
        analyzer: analyzer.as_ref(),
        vectorize: vectorize.as_ref(),
    };
    let extras = FitExtras {
        quality: None,
        restarts: summary.as_ref(),
        topics: topics.as_ref(),
    };
    write_outputs(&ui, &c.out, &c.output, &run, &extras)
}

/// Writes the files of a fit into `out` as a set (staged, then moved into place) and prints
/// the topic table: a local fit's outputs, also written by rank 0 of a distributed fit.
pub fn write_outputs(
    ui: &ui::Ui,
    out: &std::path::Path,
    output: &report::OutputOptions,
    run: &FitRun<'_>,
    extras: &FitExtras<'_>,
) -> anyhow::Result<()> {
    ui.info(&format!("writing outputs to {}…", out.display()));
    let staged = StagedDir::new(out)?;
    let _protected = interrupt::protect(staged.path());
    report::write_fit_files_with(staged.path(), out, run, output, extras)?;
    ui::test_commit_delay();
    interrupt::commit(|| staged.commit(&OUTPUT_FILES))?;

    ui.print(&format!(
        "{}report: {}\n",
        report::topic_table_with(run, output, extras.topics),
        out.join("report.html").display()
    ))?;
    Ok(())
}

/// Runs `fit --stream`: the vocabulary from a first pass over the documents, then the online
/// solver over rows analyzed again for every epoch ([`nmf::stream::fit_streamed`]), the matrix
/// never held. Its last pass gathers, for the outputs, the whole matrix's column sums and
/// stored-entry count, and the document co-occurrence of the topics' top words (the
/// coherence's counts).
fn run_streamed(c: FitConfig) -> anyhow::Result<()> {
    let ui = c.ui;
    let FitInput::Text(text) = &c.input else {
        return Err(Error::input("--stream reads text inputs, not a --matrix").into());
    };
    // The vocabulary (empty documents are known only once the rows are weighed).
    let (vocabulary, mut corpus) = first_pass(
        &ui,
        text,
        |source, progress| Vocabulary::learn(source, &text.analyzer, &text.vectorize, progress),
        |(_, corpus)| corpus,
        |(v, corpus)| {
            (
                (corpus.len(), v.terms.len(), v.nnz()),
                v.terms_before_filters,
                0,
            )
        },
    )?;
    let (n, m) = (corpus.len(), vocabulary.terms.len());
    // W is held only for W.mtx; otherwise it is on disk (the library checks what it holds).
    if c.output.save_factors {
        check_factor_memory(c.recorded.k, n, m)?;
    }
    let documents = std::mem::take(&mut corpus.documents);
    let streamer = RowStreamer::new(&vocabulary, &text.analyzer);
    let rows = TextRows::new(&streamer, &corpus);

    let max_iter = c.recorded.max_iter as u64;
    let bar = ui.bar(max_iter * n as u64, "fitting (streamed)");
    let mut last_bar: Option<indicatif::ProgressBar> = None;
    let mut progress = |p: StreamProgress| match p {
        StreamProgress::Start => {}
        StreamProgress::Batch { epoch, rows, cost } => {
            if let Some(pb) = &bar {
                pb.set_position((epoch as u64 - 1) * n as u64 + rows as u64);
                let cost =
                    cost.map_or_else(String::new, |c| format!(", batch cost {}", fmt_num(c)));
                pb.set_prefix(format!("epoch {epoch}{cost}"));
            }
        }
        StreamProgress::Epoch { .. } => {}
        StreamProgress::Final { rows } => {
            if let Some(pb) = &bar {
                pb.finish_and_clear();
            }
            if last_bar.is_none() {
                last_bar = ui.bar(n as u64, "evaluating and gathering the outputs");
            }
            if let Some(pb) = &last_bar {
                pb.set_position(rows as u64);
            }
        }
    };
    // The last pass: column sums, entries, and the document co-occurrence of the topics' top
    // words (the coherence's counts); no entry of X is kept.
    let mut counts: Option<CoOccurrence> = None;
    let mut column_sums = vec![0.0; m];
    let mut nnz = 0usize;
    let mut empty = 0usize;
    let mut gather = |_: usize, xb: CsrRef<'_>, _: &[f64], ht: &[f64]| {
        let co = match &mut counts {
            Some(co) => co,
            None => {
                let h = ndarray::ArrayView2::from_shape((m, c.recorded.k), ht)
                    .map_err(|e| Error::Runtime(format!("internal error: H: {e}")))?
                    .reversed_axes();
                let words = report::coherence_words_of(h);
                counts.insert(CoOccurrence::for_words(m, &words)?)
            }
        };
        co.add_documents(xb);
        empty += xb.indptr.windows(2).filter(|p| p[0] == p[1]).count();
        for (&j, &v) in xb.indices.iter().zip(xb.data) {
            column_sums[j as usize] += v;
        }
        nnz += xb.nnz();
        Ok(())
    };
    // W on disk, in the output folder (whose file system takes the outputs, larger than W),
    // unless W.mtx is written from it.
    let fitted = if c.output.save_factors {
        nmf::stream::fit_streamed(&c.params, &rows, &mut progress, &mut gather).map(|m| (m, None))
    } else {
        nmf::stream::fit_streamed_on_disk(&c.params, &rows, &c.out, &mut progress, &mut gather)
            .map(|(m, w)| (m, Some(w)))
    };
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    if let Some(pb) = last_bar {
        pb.finish_and_clear();
    }
    let (model, w_file) = fitted?;
    if empty > 0 {
        ui.info(&format!(
            "{} {} no term left (their topic weights are 0)",
            fmt_int(empty),
            if empty == 1 {
                "document has"
            } else {
                "documents have"
            }
        ));
    }
    let dtm = DocTermMatrix {
        x: Matrix::zero((n, m)),
        terms: vocabulary.terms.clone(),
        documents,
        idf: vocabulary.idf.clone(),
        streamed: Some(StreamedTotals {
            nnz,
            column_sums,
            coherence_counts: counts,
        }),
    };
    // The document weights are read from W on disk; with W in memory (for W.mtx) the topics
    // are derived from the model as for any fit.
    let topics = match w_file {
        None => None,
        Some(w) => Some(TopicSet::from_model_on_disk(
            &dtm,
            &model,
            w,
            Some(&corpus as &dyn nmf_topics::corpus::Texts),
            &c.output.topic_options(),
        )?),
    };
    let inputs: Vec<String> = text
        .inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let run = FitRun {
        dtm: &dtm,
        documents: Some(&corpus as &dyn nmf_topics::corpus::Texts),
        model: &model,
        params: &c.recorded,
        inputs: &inputs,
        analyzer: Some(&text.analyzer.frozen_config()),
        vectorize: Some(&text.vectorize),
    };
    let extras = FitExtras {
        topics: topics.as_ref(),
        ..FitExtras::default()
    };
    write_outputs(&ui, &c.out, &c.output, &run, &extras)
}
