//! Command-line definitions and glue: the clap derive structs are the raw layer, turned into the
//! library's validated settings before any work starts. No numerics here.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use nmf_topics::corpus::{self, Corpus, CorpusOptions};
use nmf_topics::nmf::{self, Init, Loss, NmfParams, Solver};
use nmf_topics::report::model::ModelFile;
use nmf_topics::report::{self, FitRun, OutputOptions};
use nmf_topics::text::{Analyzer, AnalyzerConfig, StopwordSpec};
use nmf_topics::vectorize::{
    self, DfBound, DocInfo, DocTermMatrix, Norm, Term, VectorizeOptions, Weighting,
};
use nmf_topics::{mtx, Error};

mod sweep;

/// Turn folders of documents into topics with non-negative matrix factorization.
#[derive(Debug, Parser)]
#[command(name = "nmf-topics", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the TF-IDF document-term matrix of the inputs and write it as Matrix Market.
    Vectorize(VectorizeCmd),
    /// Factorize the inputs (or a Matrix Market file) into topics and write the results.
    Fit(Box<FitCmd>),
    /// Score new documents with a fitted model (the model.json that `fit` wrote).
    Transform(TransformCmd),
    /// Fit a range of k (with restarts), measure each fit and recommend a k.
    Sweep(Box<sweep::SweepCmd>),
}

#[derive(Debug, Args)]
struct VectorizeCmd {
    /// Folders, text/HTML files, JSON Lines (.jsonl) or CSV (.csv) files.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    corpus: CorpusArgs,
    #[command(flatten)]
    analysis: AnalysisArgs,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct TransformCmd {
    /// The model file written by `fit`.
    #[arg(long, value_name = "model.json")]
    model: PathBuf,
    /// Folders, text/HTML files, JSON Lines (.jsonl) or CSV (.csv) files.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output CSV file (`id,label,dominant_topic,topic_0,…`).
    #[arg(long, value_name = "FILE.csv")]
    out: PathBuf,
    /// Maximum number of iterations (default: the model's).
    #[arg(long, value_name = "N")]
    max_iter: Option<usize>,
    /// Relative tolerance of the stopping rule (default: the model's).
    #[arg(long, allow_negative_numbers = true, value_name = "T")]
    tol: Option<f64>,
    #[command(flatten)]
    corpus: CorpusArgs,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct FitCmd {
    /// Folders, text/HTML files, JSON Lines (.jsonl) or CSV (.csv) files.
    #[arg(
        value_name = "INPUT",
        required_unless_present = "matrix",
        conflicts_with = "matrix"
    )]
    inputs: Vec<PathBuf>,
    /// Fit a Matrix Market file (documents × terms) instead of text inputs.
    #[arg(long, value_name = "X.mtx")]
    matrix: Option<PathBuf>,
    /// Terms of the matrix's columns (terms.tsv from `vectorize`).
    #[arg(long, value_name = "terms.tsv", requires = "matrix")]
    terms: Option<PathBuf>,
    /// Documents of the matrix's rows (documents.tsv from `vectorize`).
    #[arg(long, value_name = "documents.tsv", requires = "matrix")]
    documents: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    nmf: NmfArgs,
    /// Terms listed per topic.
    #[arg(long, default_value_t = 10, value_name = "N")]
    top_terms: usize,
    /// Documents listed per topic.
    #[arg(long, default_value_t = 10, value_name = "N")]
    top_documents: usize,
    /// λ of the relevance ranking of topic terms in the output files (1 = plain weight).
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "λ",
        allow_negative_numbers = true
    )]
    relevance_lambda: f64,
    /// Also write the factors as DIR/W.mtx and DIR/H.mtx.
    #[arg(long)]
    save_factors: bool,
    /// Fit R times (seeds seed..seed+R−1, random starts after the first) and keep the best.
    #[arg(long, default_value_t = 1, value_name = "R")]
    restarts: usize,
    #[command(flatten)]
    corpus: CorpusArgs,
    #[command(flatten)]
    analysis: AnalysisArgs,
    #[command(flatten)]
    common: CommonArgs,
}

/// Options of the factorization.
#[derive(Debug, Args)]
struct NmfArgs {
    /// Number of topics.
    #[arg(short = 'k', long = "topics", default_value_t = 10, value_name = "K")]
    k: usize,
    /// Objective: Frobenius norm or generalized Kullback-Leibler divergence.
    #[arg(long, value_enum, default_value_t = Loss::Frobenius)]
    loss: Loss,
    /// Algorithm.
    #[arg(long, value_enum, default_value_t = Solver::Mu)]
    solver: Solver,
    /// Initialization.
    #[arg(long, value_enum, default_value_t = Init::Nndsvda)]
    init: Init,
    /// Initial W (documents × k, Matrix Market) for --init custom.
    #[arg(long, value_name = "W0.mtx")]
    w0: Option<PathBuf>,
    /// Initial H (k × terms, Matrix Market) for --init custom.
    #[arg(long, value_name = "H0.mtx")]
    h0: Option<PathBuf>,
    /// Regularization of W (scikit-learn's alpha_W).
    #[arg(
        long,
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_name = "A"
    )]
    alpha_w: f64,
    /// Regularization of H (default: same as --alpha-w).
    #[arg(long, allow_negative_numbers = true, value_name = "A")]
    alpha_h: Option<f64>,
    /// Share of L1 in the regularization, in [0, 1].
    #[arg(
        long,
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_name = "R"
    )]
    l1_ratio: f64,
    /// Maximum number of iterations.
    #[arg(long, default_value_t = 200, value_name = "N")]
    max_iter: usize,
    /// Relative tolerance of the stopping rule, checked every 10 iterations (0: run --max-iter).
    #[arg(
        long,
        default_value_t = 1e-4,
        allow_negative_numbers = true,
        value_name = "T"
    )]
    tol: f64,
    /// Seed of the random number generator.
    #[arg(long, default_value_t = 0, value_name = "S")]
    seed: u64,
}

/// How inputs are read.
#[derive(Debug, Args)]
struct CorpusArgs {
    /// Extra file extensions read as text when walking folders (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "EXT")]
    ext: Vec<String>,
    /// JSON Lines / CSV field holding the text.
    #[arg(long, default_value = "text", value_name = "FIELD")]
    text_field: String,
    /// JSON Lines / CSV field holding the document id (default: file:line).
    #[arg(long, value_name = "FIELD")]
    id_field: Option<String>,
    /// JSON Lines / CSV field holding the label.
    #[arg(long, value_name = "FIELD")]
    label_field: Option<String>,
}

/// Text analysis and weighting (shared by `vectorize` and `fit`).
#[derive(Debug, Args)]
struct AnalysisArgs {
    /// Stemmer and stopword language.
    #[arg(long, default_value = "english", value_name = "LANG")]
    language: String,
    /// Stopwords: a language's built-in list, none, or a file with one word per line.
    #[arg(long, default_value = "english", value_name = "LANG|none|FILE")]
    stopwords: String,
    /// Do not stem words.
    #[arg(long)]
    no_stem: bool,
    /// Drop terms in fewer documents: a count, or a fraction of the documents.
    #[arg(
        long,
        default_value = "1",
        allow_negative_numbers = true,
        value_name = "N|F"
    )]
    min_df: String,
    /// Drop terms in more documents: a count, or a fraction of the documents.
    #[arg(
        long,
        default_value = "1.0",
        allow_negative_numbers = true,
        value_name = "N|F"
    )]
    max_df: String,
    /// Keep only this many terms, the most frequent.
    #[arg(long, value_name = "N")]
    max_features: Option<usize>,
    /// Longest n-gram (1: single words).
    #[arg(long, default_value_t = 1, value_name = "N")]
    ngram_max: usize,
    /// Term weighting.
    #[arg(long, value_enum, default_value_t = WeightingArg::Tfidf)]
    weighting: WeightingArg,
    /// Use 1 + ln(tf) instead of tf.
    #[arg(long)]
    sublinear_tf: bool,
    /// Row normalization.
    #[arg(long, value_enum, default_value_t = NormArg::L2)]
    norm: NormArg,
    /// idf = ln(n/df) + 1 instead of ln((1+n)/(1+df)) + 1.
    #[arg(long)]
    no_smooth_idf: bool,
    /// Shortest token kept, in characters.
    #[arg(long, default_value_t = 2, value_name = "N")]
    min_token_len: usize,
    /// Keep tokens without letters (numbers).
    #[arg(long)]
    keep_numbers: bool,
}

/// Options of every command.
#[derive(Debug, Args)]
struct CommonArgs {
    /// Worker threads (default: all cores, or RAYON_NUM_THREADS).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum WeightingArg {
    Tfidf,
    Tf,
    Binary,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum NormArg {
    L2,
    L1,
    None,
}

/// Runs the command line and maps errors to exit codes: 0 success, 1 runtime failure, 2 bad
/// usage or input. A closed stdout (`| head`) is a success.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("nmf-topics: error: {err:#}");
            let code = err
                .chain()
                .find_map(|e| {
                    e.downcast_ref::<Error>().map(Error::exit_code).or_else(|| {
                        e.downcast_ref::<nmf::NmfError>()
                            .map(|n| if n.is_bad_input() { 2 } else { 1 })
                    })
                })
                .unwrap_or(1);
            ExitCode::from(code)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let broken = |io: &std::io::Error| io.kind() == std::io::ErrorKind::BrokenPipe;
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(broken)
            || matches!(e.downcast_ref::<Error>(), Some(Error::Io { cause, .. }) if broken(cause))
    })
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Vectorize(cmd) => run_vectorize(cmd),
        Command::Fit(cmd) => run_fit(*cmd),
        Command::Transform(cmd) => run_transform(cmd),
        Command::Sweep(cmd) => sweep::run_sweep(*cmd),
    }
}

/// Messages to stderr, progress only when stderr is a terminal; `--quiet` silences both.
struct Ui {
    quiet: bool,
    tty: bool,
}

impl Ui {
    fn new(common: &CommonArgs) -> anyhow::Result<Self> {
        if let Some(n) = common.threads {
            if n == 0 {
                return Err(Error::input("--threads must be at least 1").into());
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global()
                .context("cannot start the thread pool")?;
        }
        Ok(Ui {
            quiet: common.quiet,
            tty: std::io::stderr().is_terminal(),
        })
    }

    fn info(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    fn spinner(&self, msg: &str) -> Option<ProgressBar> {
        if self.quiet || !self.tty {
            return None;
        }
        let pb = ProgressBar::new_spinner();
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(100));
        Some(pb)
    }

    fn bar(&self, len: u64, msg: &str) -> Option<ProgressBar> {
        if self.quiet || !self.tty {
            return None;
        }
        let pb = ProgressBar::new(len);
        if let Ok(style) =
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {prefix} ({elapsed})")
        {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_message(msg.to_string());
        Some(pb)
    }
}

impl AnalysisArgs {
    fn analyzer_config(&self) -> AnalyzerConfig {
        let stopwords = match self.stopwords.as_str() {
            "none" => StopwordSpec::None,
            s if Path::new(s).exists() || s.contains('/') || s.contains('.') => {
                StopwordSpec::File(PathBuf::from(s))
            }
            s => StopwordSpec::Language(s.to_string()),
        };
        AnalyzerConfig {
            language: self.language.to_lowercase(),
            stopwords,
            stem: !self.no_stem,
            min_token_len: self.min_token_len,
            keep_numbers: self.keep_numbers,
            ngram_max: self.ngram_max,
        }
    }

    fn vectorize_options(&self) -> anyhow::Result<VectorizeOptions> {
        let min_df = parse_df("--min-df", &self.min_df)?;
        let max_df = parse_df("--max-df", &self.max_df)?;
        if max_df == DfBound::Count(0) {
            return Err(Error::input(
                "--max-df 0 keeps no term: use a count ≥ 1 or a fraction in (0, 1]",
            )
            .into());
        }
        if self.max_features == Some(0) {
            return Err(Error::input("--max-features must be at least 1").into());
        }
        if self.ngram_max == 0 {
            return Err(Error::input("--ngram-max must be at least 1").into());
        }
        Ok(VectorizeOptions {
            min_df,
            max_df,
            max_features: self.max_features,
            weighting: match self.weighting {
                WeightingArg::Tfidf => Weighting::Tfidf,
                WeightingArg::Tf => Weighting::Tf,
                WeightingArg::Binary => Weighting::Binary,
            },
            sublinear_tf: self.sublinear_tf,
            norm: match self.norm {
                NormArg::L2 => Norm::L2,
                NormArg::L1 => Norm::L1,
                NormArg::None => Norm::None,
            },
            smooth_idf: !self.no_smooth_idf,
        })
    }
}

fn parse_df(option: &str, value: &str) -> anyhow::Result<DfBound> {
    value.parse::<DfBound>().map_err(|_| {
        Error::input(format!(
            "{option} {value}: expected a document count (0, 1, 2, …) or a fraction in (0, 1]"
        ))
        .into()
    })
}

impl CorpusArgs {
    fn options(&self) -> CorpusOptions {
        CorpusOptions {
            extensions: self
                .ext
                .iter()
                .map(|e| e.trim_start_matches('.').to_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
            text_field: self.text_field.clone(),
            id_field: self.id_field.clone(),
            label_field: self.label_field.clone(),
        }
    }
}

/// Reads the inputs into a corpus, printing warnings and the summary line.
fn load_corpus(ui: &Ui, inputs: &[PathBuf], args: &CorpusArgs) -> anyhow::Result<Corpus> {
    let pb = ui.spinner("reading documents");
    let corpus = corpus::load(inputs, &args.options())?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    for w in &corpus.warnings {
        ui.info(&format!("nmf-topics: warning: {w}"));
    }
    ui.info(&corpus.summary());
    Ok(corpus)
}

/// Analyzes and weights a corpus, printing the summary line.
fn build_matrix(
    ui: &Ui,
    corpus: &Corpus,
    analyzer: &Analyzer,
    opts: &VectorizeOptions,
) -> anyhow::Result<DocTermMatrix> {
    let pb = ui.spinner("analyzing text");
    let (dtm, summary) = vectorize::vectorize(&corpus.documents, analyzer, opts)?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
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
    Ok(dtm)
}

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    Ok(())
}

fn run_vectorize(cmd: VectorizeCmd) -> anyhow::Result<()> {
    let ui = Ui::new(&cmd.common)?;
    let opts = cmd.analysis.vectorize_options()?;
    let analyzer = Analyzer::new(&cmd.analysis.analyzer_config())?;
    let corpus = load_corpus(&ui, &cmd.inputs, &cmd.corpus)?;
    let dtm = build_matrix(&ui, &corpus, &analyzer, &opts)?;
    dtm.write_to_dir(&cmd.out)?;

    let mut out = std::io::stdout().lock();
    if !cmd.common.quiet {
        write!(out, "{}", matrix_summary(&dtm))?;
        writeln!(
            out,
            "wrote {}/{{matrix.mtx,terms.tsv,documents.tsv}}",
            cmd.out.display()
        )?;
    }
    Ok(())
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

fn run_fit(cmd: FitCmd) -> anyhow::Result<()> {
    let ui = Ui::new(&cmd.common)?;
    let mut params = nmf_params(&cmd.nmf)?;
    if !(0.0..=1.0).contains(&cmd.relevance_lambda) {
        return Err(Error::input(format!(
            "--relevance-lambda must be in [0, 1] (got {})",
            cmd.relevance_lambda
        ))
        .into());
    }

    // The parameters as recorded in the outputs; the factors W0/H0 live only in `valid`, which
    // the fit consumes, so they do not stay in memory while the outputs are written.
    let recorded = params.clone();
    if params.init == Init::Custom {
        let (Some(w0), Some(h0)) = (&cmd.nmf.w0, &cmd.nmf.h0) else {
            return Err(Error::input("--init custom needs both --w0 and --h0").into());
        };
        params.w0 = Some(mtx::read_dense(w0)?);
        params.h0 = Some(mtx::read_dense(h0)?);
    } else if cmd.nmf.w0.is_some() || cmd.nmf.h0.is_some() {
        return Err(Error::input("--w0 and --h0 are used only with --init custom").into());
    }

    // Validate the parameters before any work on the inputs.
    let valid = params.check()?;
    nmf_topics::restarts::check_restarts(cmd.restarts)?;

    // Inputs: text (analysis + vectorizing) or a Matrix Market file.
    let analyzer_config;
    let vectorize_opts;
    let corpus;
    let dtm;
    let inputs: Vec<String>;
    if let Some(matrix) = &cmd.matrix {
        dtm = read_matrix_inputs(matrix, cmd.terms.as_deref(), cmd.documents.as_deref())?;
        ui.info(&format!(
            "matrix: {} documents × {} terms, {} nonzeros",
            dtm.x.rows(),
            dtm.x.cols(),
            dtm.x.nnz()
        ));
        inputs = vec![matrix.display().to_string()];
        analyzer_config = None;
        vectorize_opts = None;
        corpus = None;
    } else {
        let opts = cmd.analysis.vectorize_options()?;
        let analyzer = Analyzer::new(&cmd.analysis.analyzer_config())?;
        let c = load_corpus(&ui, &cmd.inputs, &cmd.corpus)?;
        dtm = build_matrix(&ui, &c, &analyzer, &opts)?;
        inputs = cmd.inputs.iter().map(|p| p.display().to_string()).collect();
        analyzer_config = Some(analyzer.frozen_config());
        vectorize_opts = Some(opts);
        corpus = Some(c);
    }

    let bar = ui.bar(recorded.max_iter as u64, "fitting");
    let mut progress = |iteration: usize, objective: f64| {
        if let Some(pb) = &bar {
            pb.set_position(iteration as u64);
            pb.set_prefix(format!("loss {objective:.6e}"));
        }
    };
    // Consumes the parameters: a custom W0 becomes W instead of being copied.
    let (model, restarts) = if cmd.restarts > 1 {
        let fits =
            nmf_topics::restarts::fit_restarts(&dtm.x, &valid, cmd.restarts, &mut |_, i, o| {
                progress(i, o)
            })?;
        let summary = fits.summary();
        (fits.best, Some(summary))
    } else {
        (valid.into_fit(&dtm.x, &mut progress)?, None)
    };
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }

    let run = FitRun {
        dtm: &dtm,
        documents: corpus.as_ref().map(|c| c.documents.as_slice()),
        model: &model,
        params: &recorded,
        inputs: &inputs,
        analyzer: analyzer_config.as_ref(),
        vectorize: vectorize_opts.as_ref(),
    };
    let out_opts = OutputOptions {
        top_terms: cmd.top_terms,
        top_documents: cmd.top_documents,
        relevance_lambda: cmd.relevance_lambda,
        save_factors: cmd.save_factors,
        ..OutputOptions::default()
    };
    create_dir(&cmd.out)?;
    let extras = report::FitExtras {
        quality: None,
        restarts: restarts.as_ref(),
    };
    report::write_fit_outputs_with(&cmd.out, &run, &out_opts, &extras)?;

    if !cmd.common.quiet {
        let mut out = std::io::stdout().lock();
        write!(out, "{}", report::topic_table(&run, &out_opts))?;
        writeln!(out, "report: {}", cmd.out.join("report.html").display())?;
    }
    Ok(())
}

fn nmf_params(a: &NmfArgs) -> anyhow::Result<NmfParams> {
    let mut p = NmfParams::new(a.k);
    p.loss = a.loss;
    p.solver = a.solver;
    p.init = a.init;
    p.alpha_w = a.alpha_w;
    p.alpha_h = a.alpha_h;
    p.l1_ratio = a.l1_ratio;
    p.max_iter = a.max_iter;
    p.tol = a.tol;
    p.seed = a.seed;
    Ok(p)
}

/// Reads `fit --matrix` inputs; terms and documents default to generated names.
fn read_matrix_inputs(
    matrix: &Path,
    terms: Option<&Path>,
    documents: Option<&Path>,
) -> anyhow::Result<DocTermMatrix> {
    let x = mtx::read_sparse(matrix)?;
    let terms = match terms {
        Some(p) => {
            let t = vectorize::read_terms_tsv(p)?;
            if t.len() != x.cols() {
                bail!(Error::input(format!(
                    "{}: {} terms, but {} has {} columns",
                    p.display(),
                    t.len(),
                    matrix.display(),
                    x.cols()
                )));
            }
            t
        }
        None => {
            let df = column_document_frequencies(&x);
            (0..x.cols())
                .map(|j| Term {
                    stem: format!("term_{j}"),
                    surface: format!("term_{j}"),
                    df: df[j],
                })
                .collect()
        }
    };
    let documents = match documents {
        Some(p) => {
            let d = vectorize::read_documents_tsv(p)?;
            if d.len() != x.rows() {
                bail!(Error::input(format!(
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
    })
}

fn column_document_frequencies(x: &sprs::CsMat<f64>) -> Vec<usize> {
    let mut df = vec![0usize; x.cols()];
    for (_, (_, j)) in x.iter() {
        df[j] += 1;
    }
    df
}

fn run_transform(cmd: TransformCmd) -> anyhow::Result<()> {
    let ui = Ui::new(&cmd.common)?;
    let model = ModelFile::read(&cmd.model)?;
    let (Some(analyzer_config), Some(opts)) = (&model.analyzer, &model.vectorize) else {
        return Err(Error::input(format!(
            "{}: the model was fitted on a matrix, not on text, so it cannot analyze new documents",
            cmd.model.display()
        ))
        .into());
    };
    let analyzer = Analyzer::new(analyzer_config)
        .with_context(|| format!("{}: analyzer settings", cmd.model.display()))?;
    let mut params = model.nmf_params();
    if let Some(n) = cmd.max_iter {
        params.max_iter = n;
    }
    if let Some(t) = cmd.tol {
        params.tol = t;
    }
    let valid = params.check()?;
    let corpus = load_corpus(&ui, &cmd.inputs, &cmd.corpus)?;
    let x = vectorize::vectorize_with_vocabulary(
        &corpus.documents,
        &analyzer,
        &model.terms,
        model.idf.as_deref(),
        opts,
    )?;
    let h = model.h_matrix();
    let w = nmf::transform(&x, &h, &valid, None)?;
    let documents: Vec<DocInfo> = corpus
        .documents
        .iter()
        .map(|d| DocInfo {
            id: d.id.clone(),
            label: d.label.clone(),
        })
        .collect();
    if let Some(parent) = cmd.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir(parent)?;
    }
    report::tables::write_transformed(&cmd.out, &documents, w.view())?;
    ui.info(&format!(
        "wrote {} ({} documents × {} topics)",
        cmd.out.display(),
        documents.len(),
        h.nrows()
    ));
    Ok(())
}
