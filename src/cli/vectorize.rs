//! `nmf-topics vectorize`, and the steps from inputs to a matrix that `fit` and `transform`
//! share.

use std::path::PathBuf;

use nmf_topics::corpus::{self, Corpus, CorpusOptions, Source, StreamedCorpus};
use nmf_topics::report::StagedDir;
use nmf_topics::vectorize::{self, DocTermMatrix};

use super::config::{TextInputs, VectorizeConfig};
use super::ui::{self, interrupt, Ui};

/// Runs `vectorize`.
pub fn run(c: VectorizeConfig) -> anyhow::Result<()> {
    let (dtm, corpus) = read_and_vectorize(&c.ui, &c.text)?;
    drop(corpus);

    c.ui.info(&format!("writing outputs to {}…", c.out.display()));
    let staged = StagedDir::new(&c.out)?;
    let _protected = interrupt::protect(staged.path());
    dtm.write_files_into(staged.path())?;
    ui::test_commit_delay();
    interrupt::commit(|| staged.commit(&DocTermMatrix::FILES))?;

    c.ui.print(&format!(
        "{}wrote {}/{{matrix.mtx,terms.tsv,documents.tsv}}\n",
        matrix_summary(&dtm),
        c.out.display()
    ))?;
    Ok(())
}

/// Reads the inputs into a corpus, printing warnings and the summary line.
pub fn load_corpus(ui: &Ui, inputs: &[PathBuf], opts: &CorpusOptions) -> anyhow::Result<Corpus> {
    let pb = ui.spinner("reading documents");
    let corpus = corpus::load(inputs, opts);
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let corpus = corpus?;
    for w in &corpus.warnings {
        ui.warn(w);
    }
    ui.info(&corpus.summary());
    Ok(corpus)
}

/// Reads the text inputs as a stream and vectorizes them in the same pass
/// ([`vectorize::vectorize_source`]: no text is held whole), printing the warnings, the
/// summary line of the inputs and the matrix's. Returns the matrix and the corpus, which can
/// read the documents again (for the report's snippets and the window coherence).
pub fn read_and_vectorize(
    ui: &Ui,
    text: &TextInputs,
) -> anyhow::Result<(DocTermMatrix, StreamedCorpus)> {
    let pb = ui.spinner("reading the documents");
    let result = Source::open(&text.inputs, &text.corpus).and_then(|source| {
        vectorize::vectorize_source(source, &text.analyzer, &text.vectorize, &mut |n| {
            if let Some(pb) = &pb {
                pb.set_message(format!("reading and analyzing the documents: {n} read"));
            }
        })
    });
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let (dtm, summary, corpus) = result?;
    for w in &corpus.corpus.warnings {
        ui.warn(w);
    }
    ui.info(&corpus.summary());
    print_matrix_line(ui, &dtm, &summary);
    Ok((dtm, corpus))
}

/// The summary line of a matrix built from text.
fn print_matrix_line(ui: &Ui, dtm: &DocTermMatrix, summary: &vectorize::VectorizeSummary) {
    let mut line = format!(
        "matrix: {} documents × {} terms, {} nonzeros ({} distinct terms before filters)",
        dtm.x.rows(),
        dtm.x.cols(),
        dtm.x.nnz(),
        summary.terms_before_filters
    );
    if summary.empty_documents > 0 {
        line.push_str(&format!(
            "; {} documents have no term left",
            summary.empty_documents
        ));
    }
    ui.info(&line);
}

/// The one-screen summary of a matrix: sizes, density, the most common terms.
fn matrix_summary(dtm: &DocTermMatrix) -> String {
    let top: Vec<String> = dtm
        .top_terms_by_df(15)
        .iter()
        .map(|t| format!("{} ({})", t.surface, t.df))
        .collect();
    format!(
        "documents  {}\nterms      {}\nnonzeros   {}\ndensity    {:.4}%\ntop terms  {}\n",
        dtm.x.rows(),
        dtm.x.cols(),
        dtm.x.nnz(),
        100.0 * dtm.density(),
        top.join(", ")
    )
}
