//! `nmf-topics vectorize`, and the steps from inputs to a matrix that `fit` and `transform`
//! share.

use std::path::PathBuf;

use nmf_topics::corpus::{self, Corpus, CorpusOptions, Source, StreamedCorpus};
use nmf_topics::mtx::CoordinateWriter;
use nmf_topics::report::StagedDir;
use nmf_topics::vectorize::{self, CountedCorpus, DocTermMatrix, Term};

use super::config::{TextInputs, VectorizeConfig};
use super::ui::{self, interrupt, Ui};

/// Runs `vectorize`: one pass over the inputs counts the documents (no text is held whole),
/// then the rows are weighed and written to matrix.mtx block by block (the matrix is never
/// held whole either).
pub fn run(c: VectorizeConfig) -> anyhow::Result<()> {
    let counted = read_and_count(&c.ui, &c.text)?;
    let (rows, cols, nnz) = (
        counted.corpus.len(),
        counted.vocabulary.terms.len(),
        counted.vocabulary.nnz(),
    );

    c.ui.info(&format!("writing outputs to {}…", c.out.display()));
    let staged = StagedDir::new(&c.out)?;
    let _protected = interrupt::protect(staged.path());
    let dir = staged.path();
    let [matrix, terms, documents] = DocTermMatrix::FILES.map(|f| dir.join(f));
    let mut writer = CoordinateWriter::create(&matrix, rows, cols, nnz)?;
    let pb = c.ui.bar(rows as u64, "writing matrix.mtx");
    let (vocabulary, corpus, _) = counted.into_row_blocks(|block| {
        if let Some(pb) = &pb {
            pb.set_position((block.first + block.rows()) as u64);
        }
        writer.write_rows(&block.indptr, &block.indices, &block.data)
    })?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    writer.finish()?;
    vectorize::write_terms_tsv(&terms, &vocabulary.terms)?;
    vectorize::write_documents_tsv(&documents, &corpus.documents)?;
    ui::test_commit_delay();
    interrupt::commit(|| staged.commit(&DocTermMatrix::FILES))?;

    c.ui.print(&format!(
        "{}wrote {}/{{matrix.mtx,terms.tsv,documents.tsv}}\n",
        matrix_summary(rows, &vocabulary.terms, nnz),
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

/// The first pass over the text inputs, `pass(source, progress)` (counting the documents, or
/// learning the vocabulary), under a spinner that shows the documents read; then the warnings,
/// the summary line of the inputs and the matrix's line (`matrix(result)` gives its figures:
/// rows, columns, stored entries, terms before the filters, empty documents).
pub fn first_pass<T>(
    ui: &Ui,
    text: &TextInputs,
    pass: impl FnOnce(Source, &mut dyn FnMut(usize)) -> nmf_topics::Result<T>,
    corpus: impl Fn(&T) -> &StreamedCorpus,
    matrix: impl Fn(&T) -> ((usize, usize, usize), usize, usize),
) -> anyhow::Result<T> {
    let pb = ui.spinner("reading the documents");
    let result = Source::open(&text.inputs, &text.corpus).and_then(|source| {
        pass(source, &mut |n| {
            if let Some(pb) = &pb {
                pb.set_message(format!("reading and analyzing the documents: {n} read"));
            }
        })
    });
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let done = result?;
    for w in &corpus(&done).corpus.warnings {
        ui.warn(w);
    }
    ui.info(&corpus(&done).summary());
    let (shape, before_filters, empty) = matrix(&done);
    print_matrix_line(ui, shape, before_filters, empty);
    Ok(done)
}

/// Reads the text inputs as a stream and counts them in the same pass
/// ([`vectorize::count_source`]: no text is held whole), printing the warnings, the summary
/// line of the inputs and the matrix's.
pub fn read_and_count(ui: &Ui, text: &TextInputs) -> anyhow::Result<CountedCorpus> {
    first_pass(
        ui,
        text,
        |source, progress| {
            vectorize::count_source(source, &text.analyzer, &text.vectorize, progress)
        },
        |counted| &counted.corpus,
        |counted| {
            let v = &counted.vocabulary;
            (
                (counted.corpus.len(), v.terms.len(), v.nnz()),
                v.terms_before_filters,
                counted.empty_documents(),
            )
        },
    )
}

/// [`read_and_count`], then the matrix ([`vectorize::CountedCorpus::into_matrix`]). Returns the
/// matrix and the corpus, which can read the documents again (for the report's snippets and
/// the window coherence).
pub fn read_and_vectorize(
    ui: &Ui,
    text: &TextInputs,
) -> anyhow::Result<(DocTermMatrix, StreamedCorpus)> {
    let (dtm, _, corpus) = read_and_count(ui, text)?.into_matrix()?;
    // The counted rows are freed: return their memory before the fit allocates its own.
    nmf_topics::memory::release_freed();
    Ok((dtm, corpus))
}

/// The summary line of a matrix built from text.
fn print_matrix_line(
    ui: &Ui,
    (rows, cols, nnz): (usize, usize, usize),
    before_filters: usize,
    empty: usize,
) {
    let mut line = format!(
        "matrix: {rows} documents × {cols} terms, {nnz} nonzeros ({before_filters} distinct \
         terms before filters)"
    );
    if empty > 0 {
        line.push_str(&format!("; {empty} documents have no term left"));
    }
    ui.info(&line);
}

/// The one-screen summary of a matrix: sizes, density, the most common terms (as
/// [`DocTermMatrix::top_terms_by_df`] and [`DocTermMatrix::density`] give them).
fn matrix_summary(rows: usize, terms: &[Term], nnz: usize) -> String {
    let mut order: Vec<&Term> = terms.iter().collect();
    order.sort_by_key(|t| std::cmp::Reverse(t.df));
    let top: Vec<String> = order
        .iter()
        .take(15)
        .map(|t| format!("{} ({})", t.surface, t.df))
        .collect();
    let cells = rows as f64 * terms.len() as f64;
    let density = if cells == 0.0 {
        0.0
    } else {
        nnz as f64 / cells
    };
    format!(
        "documents  {}\nterms      {}\nnonzeros   {}\ndensity    {:.4}%\ntop terms  {}\n",
        rows,
        terms.len(),
        nnz,
        100.0 * density,
        top.join(", ")
    )
}
