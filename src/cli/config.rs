//! The validated configuration of a run, built from the raw arguments before any work starts.
//!
//! Every option check lives here, in one place: values (through the library's own checks, so
//! its messages reach the user unchanged), combinations of options, the output folder (created,
//! or refused at once naming `--out`), and the small files options name (stopword list, W0/H0,
//! the model of `transform`). A run that gets past [`Config::from_args`] fails afterwards only
//! on its inputs or at run time.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::ArgMatches;

use nmf_topics::corpus::CorpusOptions;
use nmf_topics::nmf::graph::{GraphSpec, GraphWeight, DEFAULT_NEIGHBOURS};
use nmf_topics::nmf::online::OnlineOptions;
use nmf_topics::nmf::{AlsVariant, Init, Loss, NmfParams, NmfValidParams, Solver};
use nmf_topics::report::model::ModelFile;
use nmf_topics::report::OutputOptions;
use nmf_topics::restarts::check_restarts;
use nmf_topics::sweep::KRange;
use nmf_topics::text::{Analyzer, AnalyzerConfig, StopwordSpec};
use nmf_topics::vectorize::{DfBound, HashFeatures, VectorizeOptions};
use nmf_topics::{memory, mtx, Error};

use super::args::{
    given_options, AnalysisArgs, Cli, Command, CommonArgs, CorpusArgs, FitArgs, InitArg, NmfArgs,
    SweepArgs, TransformArgs, VectorizeArgs,
};
use super::ui::Ui;

/// A validated run of one command.
pub enum Config {
    /// `vectorize`.
    Vectorize(Box<VectorizeConfig>),
    /// `fit`.
    Fit(Box<FitConfig>),
    /// `transform`.
    Transform(Box<TransformConfig>),
    /// `sweep`.
    Sweep(Box<SweepConfig>),
}

/// Text inputs and how they become a matrix.
pub struct TextInputs {
    /// The inputs as given.
    pub inputs: Vec<PathBuf>,
    /// How they are read.
    pub corpus: CorpusOptions,
    /// The analysis chain.
    pub analyzer: Analyzer,
    /// Vocabulary and weighting.
    pub vectorize: VectorizeOptions,
}

/// `vectorize`.
pub struct VectorizeConfig {
    /// Messages and progress.
    pub ui: Ui,
    /// What to read and how.
    pub text: TextInputs,
    /// The output folder (exists and is writable).
    pub out: PathBuf,
}

/// Where `fit` takes its matrix from.
pub enum FitInput {
    /// Text, analyzed and weighted.
    Text(Box<TextInputs>),
    /// A Matrix Market file with optional descriptions of its columns and rows.
    Matrix {
        /// The matrix.
        matrix: PathBuf,
        /// Its terms (given, or `terms.tsv` found beside the matrix).
        terms: Option<PathBuf>,
        /// Its documents (given, or `documents.tsv` found beside the matrix).
        documents: Option<PathBuf>,
    },
}

/// `fit`.
pub struct FitConfig {
    /// Messages and progress.
    pub ui: Ui,
    /// The matrix to factorize.
    pub input: FitInput,
    /// The output folder (exists and is writable).
    pub out: PathBuf,
    /// The parameters as recorded in the outputs (without W0/H0).
    pub recorded: NmfParams,
    /// The validated parameters the fit consumes (with W0/H0 for `--init custom`).
    pub params: NmfValidParams,
    /// Fits with seeds seed, seed+1, …, keeping the best (1: one fit).
    pub restarts: usize,
    /// What the output files list.
    pub output: OutputOptions,
    /// `--distributed` (only in a build with the `mpi` feature), with its `--grid`.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub distributed: Option<Distributed>,
}

/// The settings of `fit --distributed`.
#[derive(Debug, Clone, Copy)]
pub struct Distributed {
    /// `--grid PRxPC`, or the rule's choice when `None`.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub grid: Option<nmf_topics::dist::Grid>,
}

/// `sweep`.
pub struct SweepConfig {
    /// Messages and progress.
    pub ui: Ui,
    /// What to read and how.
    pub text: TextInputs,
    /// The output folder (exists and is writable).
    pub out: PathBuf,
    /// The ks (checked against the matrix once it is built).
    pub ks: KRange,
    /// Fits per k.
    pub restarts: usize,
    /// Write the full fit of the recommended k into `out/best`.
    pub fit_best: bool,
    /// The NPMI margin of the recommendation.
    pub npmi_margin: f64,
    /// The fits' parameters (checked; `k` is the largest of the range).
    pub params: NmfParams,
}

/// `transform`.
pub struct TransformConfig {
    /// Messages and progress.
    pub ui: Ui,
    /// The model file read.
    pub model_path: PathBuf,
    /// The model.
    pub model: ModelFile,
    /// The model's analysis chain.
    pub analyzer: Analyzer,
    /// The model's vocabulary and weighting options.
    pub vectorize: VectorizeOptions,
    /// The parameters of the solve for W.
    pub params: NmfValidParams,
    /// The new documents.
    pub inputs: Vec<PathBuf>,
    /// How they are read.
    pub corpus: CorpusOptions,
    /// The CSV file to write (its folder exists and is writable).
    pub out: PathBuf,
}

impl Config {
    /// Checks every option of `cli` (with `matches`, which tell the options typed from the
    /// defaults) and builds the configuration. Sets up the thread pool.
    pub fn from_args(cli: Cli, matches: &ArgMatches) -> anyhow::Result<Config> {
        let sub = matches.subcommand().map(|(_, m)| m).unwrap_or(matches);
        Ok(match cli.command {
            Command::Vectorize(a) => Config::Vectorize(Box::new(vectorize_config(a)?)),
            Command::Fit(a) => Config::Fit(Box::new(fit_config(*a, sub)?)),
            Command::Transform(a) => Config::Transform(Box::new(transform_config(a)?)),
            Command::Sweep(a) => Config::Sweep(Box::new(sweep_config(*a)?)),
        })
    }
}

/// `--threads` and `--quiet`.
fn common(c: &CommonArgs) -> anyhow::Result<Ui> {
    if let Some(n) = c.threads {
        if n == 0 {
            return Err(Error::input("--threads must be at least 1").into());
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("cannot start the thread pool")?;
    }
    Ok(Ui::new(c.quiet))
}

fn vectorize_config(a: VectorizeArgs) -> anyhow::Result<VectorizeConfig> {
    let ui = common(&a.common)?;
    let text = text_inputs(&a.inputs, &a.corpus, &a.analysis)?;
    prepare_out_dir(&a.out)?;
    Ok(VectorizeConfig {
        ui,
        text,
        out: a.out,
    })
}

fn fit_config(a: FitArgs, matches: &ArgMatches) -> anyhow::Result<FitConfig> {
    fit_config_on(a, matches, true)
}

/// `fit`'s configuration on one process: `root` is the process that writes the outputs and
/// reads the files options name (the only one of a local fit; rank 0 of a distributed one,
/// whose other processes only check the options and take the start from rank 0).
pub fn fit_config_on(a: FitArgs, matches: &ArgMatches, root: bool) -> anyhow::Result<FitConfig> {
    let ui = common(&a.common)?;
    let ui = if root { ui } else { Ui::new(true) };
    let mut a = a;
    if a.stream {
        stream_solver(&mut a)?;
    }
    let mut params = nmf_params(a.k, &a.nmf)?;
    check_restarts(a.restarts)?;
    if a.stream {
        let mut o = params.online.unwrap_or_default();
        o.stream = true;
        params.online = Some(o);
    }
    let distributed = distributed_settings(&a)?;
    let lambda = a.output.relevance_lambda;
    if !(0.0..=1.0).contains(&lambda) {
        return Err(Error::input(format!(
            "--relevance-lambda must be in [0, 1] (got {lambda})"
        ))
        .into());
    }
    let output = OutputOptions {
        top_terms: a.output.top_terms,
        top_documents: a.output.top_documents,
        relevance_lambda: lambda,
        save_factors: a.output.save_factors,
        document_list: !a.output.no_document_list,
        ..OutputOptions::default()
    };

    let input = match &a.matrix {
        Some(matrix) => matrix_input(&ui, &a, matrix, matches, params.k)?,
        None => FitInput::Text(Box::new(text_inputs(&a.inputs, &a.corpus, &a.analysis)?)),
    };
    if root {
        prepare_out_dir(&a.out)?;
    }

    // The parameters as recorded in the outputs; the factors W0/H0 live only in `params`,
    // which the fit consumes, so they do not stay in memory while the outputs are written.
    let recorded = params.clone();
    if let (Init::Custom, Some(w0), Some(h0)) = (params.init, &a.nmf.w0, &a.nmf.h0) {
        if root {
            params.w0 = Some(mtx::read_dense(w0)?);
            params.h0 = Some(mtx::read_dense(h0)?);
        } else {
            // Only rank 0 reads the custom start; the other processes receive their rows.
            params.init = Init::Random;
        }
    }
    let params = params.check()?;
    Ok(FitConfig {
        ui,
        input,
        out: a.out,
        recorded,
        params,
        restarts: a.restarts,
        output,
        distributed,
    })
}

/// `--stream`: the online solver (chosen when `--solver` is not given) and one fit.
fn stream_solver(a: &mut FitArgs) -> anyhow::Result<()> {
    match a.nmf.solver {
        None => a.nmf.solver = Some(super::args::SolverArg::Online),
        Some(super::args::SolverArg::Online) => {}
        Some(s) => {
            return Err(Error::input(format!(
                "--stream fits with --solver online only (--solver {} needs the whole matrix \
                 in memory)",
                Solver::from(s)
            ))
            .into())
        }
    }
    if a.restarts > 1 {
        return Err(Error::input(
            "--restarts cannot be combined with --stream (each restart would read the corpus \
             again; run them as separate jobs with different --seed)",
        )
        .into());
    }
    Ok(())
}

/// `--distributed` and `--grid`: refused in a build without MPI support, and with the
/// options a distributed fit does not have.
fn distributed_settings(a: &FitArgs) -> anyhow::Result<Option<Distributed>> {
    if !a.distributed {
        return Ok(None);
    }
    if !cfg!(feature = "mpi") {
        return Err(Error::input(
            "--distributed: this build of nmf-topics has no MPI support; build it with \
             `cargo build --release --features mpi` (needs an MPI library and libclang, on \
             Debian: libopenmpi-dev openmpi-bin libclang-dev) and run it under mpirun",
        )
        .into());
    }
    if a.restarts > 1 {
        return Err(Error::input(
            "--restarts cannot be combined with --distributed (run the restarts as separate jobs)",
        )
        .into());
    }
    if a.nmf.solver == Some(super::args::SolverArg::Online) {
        return Err(Error::input(
            "--solver online cannot run with --distributed (use mu, hals or als, or run it \
             locally)",
        )
        .into());
    }
    if a.nmf.inner_sweeps.is_some_and(|n| n > 1) {
        return Err(Error::input(
            "--inner-sweeps cannot be combined with --distributed (its early stop is per tile of \
             a process's rows, so the result would depend on the number of processes)",
        )
        .into());
    }
    let grid = match &a.grid {
        Some(g) => Some(nmf_topics::dist::Grid::parse(g).map_err(Error::input)?),
        None => None,
    };
    Ok(Some(Distributed { grid }))
}

fn sweep_config(a: SweepArgs) -> anyhow::Result<SweepConfig> {
    let ui = common(&a.common)?;
    let ks = KRange::parse(&a.k)?;
    check_restarts(a.restarts)?;
    if !(a.npmi_margin >= 0.0 && a.npmi_margin.is_finite()) {
        return Err(Error::input(format!(
            "--npmi-margin must be a non-negative number (got {})",
            a.npmi_margin
        ))
        .into());
    }
    if a.nmf.init == InitArg::Custom {
        return Err(Error::input(
            "--init custom cannot be used with sweep: starting factors are for one k",
        )
        .into());
    }
    let params = nmf_params(ks.end, &a.nmf)?;
    let text = text_inputs(&a.inputs, &a.corpus, &a.analysis)?;
    prepare_out_dir(&a.out)?;
    Ok(SweepConfig {
        ui,
        text,
        out: a.out,
        ks,
        restarts: a.restarts,
        fit_best: a.fit_best,
        npmi_margin: a.npmi_margin,
        params,
    })
}

/// Text inputs with their options checked and the analyzer built (a stopword file read).
fn text_inputs(
    inputs: &[PathBuf],
    corpus: &CorpusArgs,
    analysis_args: &AnalysisArgs,
) -> anyhow::Result<TextInputs> {
    let (analyzer, vectorize) = analysis(analysis_args)?;
    let corpus = corpus_options(corpus)?;
    Ok(TextInputs {
        inputs: inputs.to_vec(),
        corpus,
        analyzer: Analyzer::new(&analyzer)?,
        vectorize,
    })
}

/// `fit --matrix`: no text-only option given, the size line read (the matrix and `k` factors
/// must fit in memory), the terms and documents files found.
fn matrix_input(
    ui: &Ui,
    a: &FitArgs,
    matrix: &Path,
    matches: &ArgMatches,
    k: usize,
) -> anyhow::Result<FitInput> {
    let mut text_only = given_options::<AnalysisArgs>(matches);
    text_only.extend(given_options::<CorpusArgs>(matches));
    if !text_only.is_empty() {
        return Err(Error::input(format!(
            "{} {} only to text inputs, not to --matrix (the matrix is already analyzed and \
             weighted)",
            text_only.join(", "),
            if text_only.len() == 1 {
                "applies"
            } else {
                "apply"
            }
        ))
        .into());
    }
    let (rows, cols, _) = mtx::read_size(matrix)?;
    check_factor_memory(k, rows, cols)?;
    let terms = beside(
        ui,
        matrix,
        a.terms.clone(),
        "terms.tsv",
        "--terms",
        "columns",
        "topics' terms will be named term_0, term_1, …",
    );
    let documents = beside(
        ui,
        matrix,
        a.documents.clone(),
        "documents.tsv",
        "--documents",
        "rows",
        "documents will be named row_0, row_1, …",
    );
    Ok(FitInput::Matrix {
        matrix: matrix.to_path_buf(),
        terms,
        documents,
    })
}

/// Refuses a `-k` whose factors for `n` documents × `m` terms cannot fit in memory (see
/// [`memory::factor_bytes`]), before anything is allocated for them.
pub fn check_factor_memory(k: usize, n: usize, m: usize) -> anyhow::Result<()> {
    memory::check(
        &format!("-k {k}: W and H for {n} documents × {m} terms"),
        memory::factor_bytes(n, m, k),
    )?;
    Ok(())
}

/// `--terms` / `--documents` of `fit --matrix`: the option's file, else `name` beside the
/// matrix when it exists (said on stderr), else nothing (with a warning saying `fallback`).
fn beside(
    ui: &Ui,
    matrix: &Path,
    given: Option<PathBuf>,
    name: &str,
    option: &str,
    what: &str,
    fallback: &str,
) -> Option<PathBuf> {
    if given.is_some() {
        return given;
    }
    let candidate = matrix.with_file_name(name);
    if candidate.is_file() {
        ui.info(&format!(
            "{what} of the matrix: {} (found beside it; {option} names another file)",
            candidate.display()
        ));
        Some(candidate)
    } else {
        ui.warn(&format!(
            "no {option} and no {name} beside {}: {fallback}",
            matrix.display()
        ));
        None
    }
}

/// The unchecked parameters of a fit with `k` topics; the values are checked here (by the
/// library's own check, with `--init custom` standing in for its factors), the factors read
/// later.
fn nmf_params(k: usize, a: &NmfArgs) -> anyhow::Result<NmfParams> {
    let mut p = NmfParams::new(k);
    p.solver = a.solver.map(Solver::from);
    p.loss = match a.loss {
        Some(l) => l.into(),
        None if p.solver == Some(Solver::Nsnmf) => Loss::Kl,
        None => Loss::Frobenius,
    };
    p.shuffle = a.shuffle;
    p.inner_sweeps = a.inner_sweeps;
    p.als_variant = a.als_variant.map(AlsVariant::from);
    if a.batch_size.is_some()
        || a.forget_factor.is_some()
        || a.fresh_restarts
        || a.max_no_improvement.is_some()
    {
        let d = OnlineOptions::default();
        p.online = Some(OnlineOptions {
            batch_size: a.batch_size.unwrap_or(d.batch_size),
            forget_factor: a.forget_factor.unwrap_or(d.forget_factor),
            fresh_restarts: a.fresh_restarts,
            fresh_restarts_max_iter: d.fresh_restarts_max_iter,
            max_no_improvement: match a.max_no_improvement {
                Some(0) => None,
                Some(n) => Some(n),
                None => d.max_no_improvement,
            },
            stream: false,
        });
    }
    graph_options(&mut p, a)?;
    p.theta = a.theta;
    p.init = a.init.into();
    p.alpha_w = a.alpha_w;
    p.alpha_h = a.alpha_h;
    p.l1_ratio = a.l1_ratio;
    p.max_iter = a.max_iter;
    p.tol = a.tol;
    p.seed = a.seed;
    if p.init == Init::Custom {
        if a.w0.is_none() || a.h0.is_none() {
            return Err(Error::input("--init custom needs both --w0 and --h0").into());
        }
    } else if a.w0.is_some() || a.h0.is_some() {
        return Err(Error::input("--w0 and --h0 are used only with --init custom").into());
    }
    let mut probe = p.clone();
    if probe.init == Init::Custom {
        probe.init = Init::default();
    }
    probe.check()?;
    Ok(p)
}

/// The options of `--solver gnmf`: refused with another solver (naming the option), `--graph`
/// parsed (a graph file must exist; it is read once the documents are known), and
/// `--graph-weight` only for a knn graph.
fn graph_options(p: &mut NmfParams, a: &NmfArgs) -> anyhow::Result<()> {
    let solver = p.solver.unwrap_or(Solver::default_for(p.loss));
    if solver != Solver::Gnmf {
        for (given, opt) in [
            (a.graph.is_some(), "--graph"),
            (a.graph_weight.is_some(), "--graph-weight"),
            (a.graph_lambda.is_some(), "--graph-lambda"),
        ] {
            if given {
                return Err(Error::input(format!(
                    "{opt} is an option of --solver gnmf, not of --solver {solver}"
                ))
                .into());
            }
        }
    }
    let weight = a.graph_weight.map(GraphWeight::from);
    p.graph = match &a.graph {
        Some(value) => {
            let spec = GraphSpec::parse(value, weight.unwrap_or_default())?;
            if let GraphSpec::File(path) = &spec {
                if weight.is_some() {
                    return Err(Error::input(format!(
                        "--graph-weight applies to --graph knn:P; the links of a graph file \
                         ({}) carry their own weights (its third column, 1 when absent)",
                        path.display()
                    ))
                    .into());
                }
                if path.is_dir() {
                    return Err(Error::input(format!(
                        "--graph {}: is a folder, not a file of links",
                        path.display()
                    ))
                    .into());
                }
                if !path.exists() {
                    return Err(Error::input(format!(
                        "--graph {}: no such file (give knn:P, or a TSV file of links \
                         id<TAB>id[<TAB>weight])",
                        path.display()
                    ))
                    .into());
                }
                // Its lines' form now; the ids once the documents are known.
                nmf_topics::nmf::graph::check_links(path)?;
            }
            Some(spec)
        }
        None => weight.map(|weight| GraphSpec::Knn {
            neighbours: DEFAULT_NEIGHBOURS,
            weight,
        }),
    };
    p.graph_lambda = a.graph_lambda;
    Ok(())
}

fn transform_config(a: TransformArgs) -> anyhow::Result<TransformConfig> {
    let ui = common(&a.common)?;
    let corpus = corpus_options(&a.corpus)?;
    if let Some(n) = a.max_iter {
        if n == 0 {
            return Err(Error::input("--max-iter must be at least 1").into());
        }
    }
    prepare_out_file(&a.out)?;
    let model_path = model_file(&a.model)?;
    let model = ModelFile::read(&model_path)?;
    let (Some(analyzer), Some(vectorize)) = (&model.analyzer, &model.vectorize) else {
        return Err(Error::input(format!(
            "{}: the model was fitted on a matrix, not on text, so it cannot analyze new documents",
            model_path.display()
        ))
        .into());
    };
    let analyzer = Analyzer::new(analyzer)
        .with_context(|| format!("{}: analyzer settings", model_path.display()))?;
    let vectorize = vectorize.clone();
    let mut params = model.nmf_params();
    if let Some(n) = a.max_iter {
        params.max_iter = n;
    }
    if let Some(t) = a.tol {
        params.tol = t;
    }
    let params = params.check()?;
    Ok(TransformConfig {
        ui,
        model_path,
        model,
        analyzer,
        vectorize,
        params,
        inputs: a.inputs,
        corpus,
        out: a.out,
    })
}

/// `--model`: a model file, or a folder holding `model.json`.
fn model_file(given: &Path) -> anyhow::Result<PathBuf> {
    if !given.is_dir() {
        return Ok(given.to_path_buf());
    }
    let path = given.join("model.json");
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::input(format!(
            "--model {}: this folder holds no model.json (give the --out folder of fit, or the \
             model.json in it)",
            given.display()
        ))
        .into())
    }
}

/// The analysis and weighting options, checked by the library.
fn analysis(a: &AnalysisArgs) -> anyhow::Result<(AnalyzerConfig, VectorizeOptions)> {
    let opts = VectorizeOptions {
        min_df: DfBound::parse_option("--min-df", &a.min_df)?,
        max_df: DfBound::parse_option("--max-df", &a.max_df)?,
        max_features: a.max_features,
        weighting: a.weighting.into(),
        sublinear_tf: a.sublinear_tf,
        norm: a.norm.into(),
        smooth_idf: !a.no_smooth_idf,
        hash: a
            .hash_features
            .as_deref()
            .map(|n| {
                HashFeatures::parse_features(n).map(|features| HashFeatures {
                    features,
                    alternate_sign: a.hash_alternate_sign,
                })
            })
            .transpose()?,
    };
    opts.check()?;
    let language = a.language.trim().to_lowercase();
    let config = AnalyzerConfig {
        stopwords: StopwordSpec::from_option(a.stopwords.as_deref(), &language)?,
        language,
        stem: !a.no_stem,
        min_token_len: a.min_token_len,
        keep_numbers: a.keep_numbers,
        ngram_max: a.ngram_max,
    };
    Ok((config, opts))
}

/// How inputs are read (the globs checked).
fn corpus_options(a: &CorpusArgs) -> anyhow::Result<CorpusOptions> {
    let opts = CorpusOptions {
        extensions: a
            .ext
            .iter()
            .map(|e| e.trim().trim_start_matches('.').to_lowercase())
            .filter(|e| !e.is_empty())
            .collect(),
        text_field: a.text_field.clone(),
        id_field: a.id_field.clone(),
        label_field: a.label_field.clone(),
        include: a.include.clone(),
        exclude: a.exclude.clone(),
        keep_boilerplate: a.keep_boilerplate,
    };
    opts.check()?;
    Ok(opts)
}

/// Makes sure the output folder `--out DIR` can receive the outputs: creates it when missing,
/// else checks that it is a folder this process can write in.
fn prepare_out_dir(dir: &Path) -> anyhow::Result<()> {
    prepare_dir("--out", dir, dir)
}

/// `prepare_out_dir` for `dir`, with errors naming `option shown`.
fn prepare_dir(option: &str, shown: &Path, dir: &Path) -> anyhow::Result<()> {
    let bad = |why: String| -> anyhow::Result<()> {
        Err(Error::input(format!("{option} {}: {why}", shown.display())).into())
    };
    // The folder itself when it is what the option names, else "its folder D".
    let it = if shown == dir {
        "the folder".to_string()
    } else {
        format!("its folder {}", dir.display())
    };
    let not_a_folder = |p: &Path| {
        if p == shown {
            "exists and is not a folder".to_string()
        } else {
            format!("{} exists and is not a folder", p.display())
        }
    };
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => bad(not_a_folder(dir)),
        Ok(_) => {
            let probe = dir.join(format!(".nmf-topics-probe-{}", std::process::id()));
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)
            {
                Ok(_) => {
                    let _ = fs::remove_file(&probe);
                    Ok(())
                }
                Err(e) => bad(format!("cannot write in {it}: {}", os_message(&e))),
            }
        }
        Err(_) => {
            // The nearest part of the path that exists says why it cannot be created.
            let existing = dir
                .ancestors()
                .skip(1)
                .find(|p| !p.as_os_str().is_empty() && fs::symlink_metadata(p).is_ok());
            if let Some(file) = existing.filter(|p| !p.is_dir()) {
                return bad(not_a_folder(file));
            }
            match fs::create_dir_all(dir) {
                Ok(()) => Ok(()),
                Err(e) => {
                    let inside = existing
                        .map(|p| format!(" in {}", p.display()))
                        .unwrap_or_default();
                    bad(format!("cannot create {it}{inside}: {}", os_message(&e)))
                }
            }
        }
    }
}

/// `--out FILE.csv` of `transform`: not a folder, and in a folder that exists (created when
/// missing) and can be written.
fn prepare_out_file(file: &Path) -> anyhow::Result<()> {
    if file.is_dir() {
        return Err(Error::input(format!(
            "--out {}: is a folder; give the name of the CSV file to write",
            file.display()
        ))
        .into());
    }
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    prepare_dir("--out", file, parent)
}

/// An OS error without Rust's ` (os error N)` suffix.
fn os_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}
