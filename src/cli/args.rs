//! The raw command line: clap derive structs, the CLI's own value enums (mapped onto the
//! library's types in [`config`](super::config)), and the one-line rendering of clap's errors.
//!
//! Nothing here is checked beyond what clap parses; every option check lives in
//! [`Config`](super::config::Config).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use nmf_topics::nmf::graph::GraphWeight;
use nmf_topics::nmf::{AlsVariant, Init, Loss, Solver};
use nmf_topics::sweep::DEFAULT_NPMI_MARGIN;
use nmf_topics::vectorize::{Norm, Weighting};

use super::ui;

const EXAMPLES: &str = "\
Examples:
  nmf-topics fit corpora/sample -k 8 --out out     topics of a folder → out/report.html
  nmf-topics vectorize docs --min-df 2 --out m     only the TF-IDF matrix (m/matrix.mtx)
  nmf-topics transform --model out new --out new.csv   score new documents";

/// `fit`'s examples, with `$extra` lines at the end.
macro_rules! fit_examples {
    ($extra:expr) => {
        concat!(
            "Examples:
  nmf-topics fit corpora/sample -k 8 --out out
  nmf-topics fit html_docs --exclude '_sources' --min-df 2 --max-df 0.5 -k 20 --out out
  nmf-topics fit --matrix m/matrix.mtx -k 20 --loss kl --out out   (uses m/terms.tsv, m/documents.tsv)",
            $extra
        )
    };
}

#[cfg(feature = "mpi")]
const FIT_EXAMPLES: &str = fit_examples!(
    "
  mpirun -n 4 nmf-topics fit --distributed --matrix m/matrix.mtx -k 20 --out out   (4 processes)"
);
#[cfg(not(feature = "mpi"))]
const FIT_EXAMPLES: &str = fit_examples!("");

const VECTORIZE_EXAMPLES: &str = "\
Examples:
  nmf-topics vectorize corpora/sample --out m
  nmf-topics vectorize docs --include '*.html' --no-stem --min-df 5 --max-df 0.95 --out m";

const SWEEP_EXAMPLES: &str = "\
Examples:
  nmf-topics sweep corpora/sample -k 4..12:2 --out sweep        → sweep/sweep.html, recommended k
  nmf-topics sweep docs -k 5..40:5 --restarts 3 --fit-best --min-df 5 --out s   (s/best/: that fit)";

const TRANSFORM_EXAMPLES: &str = "\
Examples:
  nmf-topics transform --model out new_docs --out new.csv      (out/model.json, from fit)
  nmf-topics transform --model out/model.json notes.jsonl --text-field body --out notes.csv";

/// Turn folders of documents into topics with non-negative matrix factorization.
#[derive(Debug, Parser)]
#[command(
    name = "nmf-topics",
    version,
    about,
    propagate_version = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the TF-IDF document-term matrix of the inputs and write it as Matrix Market.
    #[command(
        override_usage = "nmf-topics vectorize [OPTIONS] --out <DIR> <INPUT>...",
        after_help = VECTORIZE_EXAMPLES
    )]
    Vectorize(VectorizeArgs),
    /// Factorize the inputs (or a Matrix Market file) into topics and write the results.
    #[command(
        override_usage = "nmf-topics fit [OPTIONS] --out <DIR> <INPUT>...\n       \
                          nmf-topics fit [OPTIONS] --out <DIR> --matrix <X.mtx>",
        after_help = FIT_EXAMPLES
    )]
    Fit(Box<FitArgs>),
    /// Score new documents with a fitted model (the model.json that `fit` wrote).
    #[command(
        override_usage = "nmf-topics transform [OPTIONS] --model <DIR|model.json> --out <FILE.csv> <INPUT>...",
        after_help = TRANSFORM_EXAMPLES
    )]
    Transform(TransformArgs),
    /// Fit a range of k (with restarts), measure each fit and recommend a k.
    #[command(
        override_usage = "nmf-topics sweep [OPTIONS] --out <DIR> <INPUT>...",
        after_help = SWEEP_EXAMPLES
    )]
    Sweep(Box<SweepArgs>),
}

/// `nmf-topics vectorize`.
#[derive(Debug, Args)]
pub struct VectorizeArgs {
    /// Folders, text/HTML files, JSON Lines (.jsonl) or CSV (.csv) files.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `nmf-topics transform`.
#[derive(Debug, Args)]
pub struct TransformArgs {
    /// The model written by `fit`: its output folder or the model.json in it.
    #[arg(long, value_name = "DIR|model.json")]
    pub model: PathBuf,
    /// Folders, text/HTML files, JSON Lines (.jsonl) or CSV (.csv) files.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output CSV file (`id,label,dominant_topic,topic_0,…,words,known_words`).
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
    /// Maximum number of iterations [default: the model's]
    #[arg(long, value_name = "N")]
    pub max_iter: Option<usize>,
    /// Relative tolerance of the stopping rule [default: the model's]
    #[arg(long, allow_negative_numbers = true, value_name = "T")]
    pub tol: Option<f64>,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `nmf-topics fit`.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// Folders, text/HTML files, JSON Lines (.jsonl) or CSV (.csv) files.
    #[arg(
        value_name = "INPUT",
        required_unless_present = "matrix",
        conflicts_with = "matrix"
    )]
    pub inputs: Vec<PathBuf>,
    /// Fit a Matrix Market file (documents × terms) instead of text inputs.
    #[arg(long, value_name = "X.mtx")]
    pub matrix: Option<PathBuf>,
    /// Terms of the matrix's columns [default: terms.tsv beside the matrix, if any]
    #[arg(long, value_name = "terms.tsv", requires = "matrix")]
    pub terms: Option<PathBuf>,
    /// Documents of the matrix's rows [default: documents.tsv beside the matrix, if any]
    #[arg(long, value_name = "documents.tsv", requires = "matrix")]
    pub documents: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of topics.
    #[arg(
        short = 'k',
        long = "topics",
        default_value_t = 10,
        value_name = "K",
        help_heading = "Factorization"
    )]
    pub k: usize,
    /// Fit R times (seeds seed, seed+1, …; random starts after the first when --init is
    /// deterministic) and keep the fit with the lowest objective.
    #[arg(
        long,
        default_value_t = 1,
        value_name = "R",
        help_heading = "Factorization"
    )]
    pub restarts: usize,
    /// Never build the matrix: read the documents from their files again for every epoch of
    /// the online solver (implies --solver online). Memory: H, one batch and one block of
    /// text, and the documents' ids and labels, for corpora larger than memory; W (documents ×
    /// k) is kept in an unlinked temporary file in the output folder (in memory with
    /// --save-factors). The start is the --init of an evenly spaced sample of up to 20,000
    /// documents.
    #[arg(
        long,
        conflicts_with_all = ["matrix", "distributed"],
        help_heading = "Factorization"
    )]
    pub stream: bool,
    /// Fit on the processes of an MPI job, X and the factors split over a process grid:
    /// mpirun -n P nmf-topics fit --distributed --matrix X.mtx … (rank 0 writes the outputs).
    #[arg(
        long,
        requires = "matrix",
        hide = !cfg!(feature = "mpi"),
        help_heading = "Distributed (MPI)"
    )]
    pub distributed: bool,
    /// The process grid of --distributed, PR·PC = P [default: the grid with the least
    /// communication for the matrix's shape]
    #[arg(
        long,
        value_name = "PRxPC",
        requires = "distributed",
        hide = !cfg!(feature = "mpi"),
        help_heading = "Distributed (MPI)"
    )]
    pub grid: Option<String>,
    #[command(flatten)]
    pub nmf: NmfArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `nmf-topics sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Folders, text/HTML files, JSON Lines (.jsonl) or CSV (.csv) files.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output folder (created if missing): sweep.json, sweep.csv, sweep.html.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The ks: START..END:STEP (END included), START..END, or one K.
    #[arg(
        short = 'k',
        long = "topics",
        default_value = "5..40:5",
        value_name = "RANGE",
        help_heading = "Sweep"
    )]
    pub k: String,
    /// Fits per k, with seeds seed, seed+1, … (random starts after the first when --init is
    /// deterministic).
    #[arg(long, default_value_t = 3, value_name = "R", help_heading = "Sweep")]
    pub restarts: usize,
    /// Also write the full fit of the recommended k (topics.json, report.html, …) into DIR/best.
    #[arg(long, help_heading = "Sweep")]
    pub fit_best: bool,
    /// The recommendation considers the ks whose mean NPMI is within M of the best.
    #[arg(
        long,
        default_value_t = DEFAULT_NPMI_MARGIN,
        allow_negative_numbers = true,
        value_name = "M",
        help_heading = "Sweep"
    )]
    pub npmi_margin: f64,
    #[command(flatten)]
    pub nmf: NmfArgs,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options of the factorization but k (one field per option; solver-specific options go here
/// too), shared by `fit` and `sweep`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Factorization")]
pub struct NmfArgs {
    /// Objective [default: kl with --solver nsnmf, frobenius otherwise]
    #[arg(long, value_enum)]
    pub loss: Option<LossArg>,
    /// Algorithm [default: hals for --loss frobenius, mu for --loss kl]
    #[arg(long, value_enum)]
    pub solver: Option<SolverArg>,
    /// hals: visit the coordinates in a seeded random order in every update (cyclic order
    /// otherwise).
    #[arg(long)]
    pub shuffle: bool,
    /// hals: up to N coordinate sweeps per update while X·Hᵀ and the Gram matrix are fixed
    /// (accelerated HALS: fewer, slightly dearer iterations; a tile of rows stops repeating
    /// once a sweep moves it by under a tenth of its first sweep) [default: 1, scikit-learn's]
    #[arg(long, value_name = "N")]
    pub inner_sweeps: Option<usize>,
    /// als: exact non-negative least squares, or unconstrained least squares clipped at 0
    /// (cheaper, not monotone) [default: exact]
    #[arg(long, value_enum, value_name = "VARIANT")]
    pub als_variant: Option<AlsVariantArg>,
    /// online: documents per mini-batch [default: 1024]
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// online: weight of the past batches' statistics, in [0, 1] [default: 0.7]
    #[arg(long, allow_negative_numbers = true, value_name = "F")]
    pub forget_factor: Option<f64>,
    /// online: solve each batch's W from scratch instead of updating it once
    #[arg(long)]
    pub fresh_restarts: bool,
    /// online: stop after N batches without a new minimum of the smoothed cost (0: never)
    /// [default: 10]
    #[arg(long, value_name = "N")]
    pub max_no_improvement: Option<usize>,
    /// gnmf: the document graph: knn:P, each document linked to its P most similar
    /// documents (cosine of their rows), or a TSV file of links `id<TAB>id[<TAB>weight]` with
    /// the ids of documents.tsv [default: knn:5]
    #[arg(long, value_name = "knn:P|FILE")]
    pub graph: Option<String>,
    /// gnmf: the weights of a knn graph's links [default: cosine]
    #[arg(long, value_enum, value_name = "WEIGHT")]
    pub graph_weight: Option<GraphWeightArg>,
    /// gnmf: λ, the weight of the graph term (divided by the linked documents' mean degree:
    /// 1 weighs a document's disagreement with its links like its misfit) [default: 1]
    #[arg(long, allow_negative_numbers = true, value_name = "L")]
    pub graph_lambda: Option<f64>,
    /// nsnmf: the smoothness θ in [0, 1] of S = (1−θ)I + (θ/k)·11ᵀ in X ≈ W·S·H; larger
    /// gives sparser topics [default: 0.5]
    #[arg(long, allow_negative_numbers = true, value_name = "T")]
    pub theta: Option<f64>,
    /// Initialization.
    #[arg(long, value_enum, default_value_t = InitArg::Nndsvda)]
    pub init: InitArg,
    /// Initial W (documents × k, Matrix Market) for --init custom.
    #[arg(long, value_name = "W0.mtx")]
    pub w0: Option<PathBuf>,
    /// Initial H (k × terms, Matrix Market) for --init custom.
    #[arg(long, value_name = "H0.mtx")]
    pub h0: Option<PathBuf>,
    /// Regularization of W (scikit-learn's alpha_W).
    #[arg(
        long,
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_name = "A"
    )]
    pub alpha_w: f64,
    /// Regularization of H [default: the value of --alpha-w]
    #[arg(long, allow_negative_numbers = true, value_name = "A")]
    pub alpha_h: Option<f64>,
    /// Share of L1 in the regularization, in [0, 1].
    #[arg(
        long,
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_name = "R"
    )]
    pub l1_ratio: f64,
    /// Maximum number of iterations.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub max_iter: usize,
    /// Relative tolerance of the solver's stopping rule (0: run --max-iter): hals, the
    /// projected gradient relative to the first iteration's; mu, gnmf and nsnmf, the error
    /// decrease over 10 iterations relative to the first error; als, the objective change
    /// relative to the first; pg, the projected gradient's norm relative to the start's.
    #[arg(
        long,
        default_value_t = 1e-4,
        allow_negative_numbers = true,
        value_name = "T"
    )]
    pub tol: f64,
    /// Seed of the random number generator.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub seed: u64,
}

/// What the output files list.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Terms listed per topic.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top_terms: usize,
    /// Documents listed per topic.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top_documents: usize,
    /// λ of the relevance ranking of topic terms in the output files (1 = plain weight).
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "λ",
        allow_negative_numbers = true
    )]
    pub relevance_lambda: f64,
    /// Also write the factors as DIR/W.mtx and DIR/H.mtx.
    #[arg(long)]
    pub save_factors: bool,
    /// Leave the per-document list out of topics.json (doc_topics.csv still has every
    /// document's weights): for very large corpora.
    #[arg(long)]
    pub no_document_list: bool,
}

/// How inputs are read.
#[derive(Debug, Args)]
#[command(next_help_heading = "Inputs")]
pub struct CorpusArgs {
    /// Extra file extensions read as text when walking folders (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "EXT")]
    pub ext: Vec<String>,
    /// In folders, read only files matching this glob (gitignore syntax, relative to the
    /// folder; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// In folders, skip files and folders matching this glob (gitignore syntax, relative to
    /// the folder; repeatable; wins over --include).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Keep the boilerplate of HTML pages: navigation, headers, footers, and the text blocks
    /// found on at least half of a folder's pages (and at least 5).
    #[arg(long)]
    pub keep_boilerplate: bool,
    /// JSON Lines / CSV field holding the text.
    #[arg(long, default_value = "text", value_name = "FIELD")]
    pub text_field: String,
    /// JSON Lines / CSV field holding the document id [default: file:line]
    #[arg(long, value_name = "FIELD")]
    pub id_field: Option<String>,
    /// JSON Lines / CSV field holding the label.
    #[arg(long, value_name = "FIELD")]
    pub label_field: Option<String>,
}

/// Text analysis and weighting (shared by `vectorize` and `fit`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Analysis and weighting")]
pub struct AnalysisArgs {
    /// Stemmer and stopword language.
    #[arg(long, default_value = "english", value_name = "LANG")]
    pub language: String,
    /// Stopwords: a built-in list (a language, or nltk), none, or a file with one word per line
    /// (write ./NAME for a file named like a list) [default: the --language's list]
    #[arg(long, value_name = "LIST|none|FILE")]
    pub stopwords: Option<String>,
    /// Do not stem words.
    #[arg(long)]
    pub no_stem: bool,
    /// Drop terms in fewer documents: a count, or a fraction of the documents.
    #[arg(
        long,
        default_value = "1",
        allow_negative_numbers = true,
        value_name = "N|F"
    )]
    pub min_df: String,
    /// Drop terms in more documents: a count, or a fraction of the documents.
    #[arg(
        long,
        default_value = "1.0",
        allow_negative_numbers = true,
        value_name = "N|F"
    )]
    pub max_df: String,
    /// Keep only this many terms, the most frequent [default: all]
    #[arg(long, value_name = "N")]
    pub max_features: Option<usize>,
    /// Hash the terms into N columns instead of keeping a vocabulary (scikit-learn's
    /// HashingVectorizer columns; for vocabularies too large for memory). The document
    /// frequency rules then apply to the columns.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub hash_features: Option<String>,
    /// With --hash-features: subtract the counts of terms whose hash is negative (scikit-learn's
    /// alternate_sign), keeping absolute values.
    #[arg(long, requires = "hash_features")]
    pub hash_alternate_sign: bool,
    /// Longest n-gram (1: single words).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub ngram_max: usize,
    /// Term weighting.
    #[arg(long, value_enum, default_value_t = WeightingArg::Tfidf)]
    pub weighting: WeightingArg,
    /// Use 1 + ln(tf) instead of tf.
    #[arg(long)]
    pub sublinear_tf: bool,
    /// Row normalization.
    #[arg(long, value_enum, default_value_t = NormArg::L2)]
    pub norm: NormArg,
    /// idf = ln(n/df) + 1 instead of ln((1+n)/(1+df)) + 1.
    #[arg(long)]
    pub no_smooth_idf: bool,
    /// Shortest token kept, in characters.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub min_token_len: usize,
    /// Keep tokens without letters (numbers).
    #[arg(long)]
    pub keep_numbers: bool,
}

/// Options of every command.
#[derive(Debug, Args)]
#[command(next_help_heading = "General")]
pub struct CommonArgs {
    /// Worker threads [default: all cores, or RAYON_NUM_THREADS]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `--loss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LossArg {
    /// ½‖X − WH‖²_F
    Frobenius,
    /// generalized Kullback-Leibler divergence Σ X log(X/WH) − X + WH
    Kl,
}

/// `--solver`: only the solvers that exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SolverArg {
    /// multiplicative updates (Lee & Seung; scikit-learn's mu): frobenius and kl
    Mu,
    /// coordinate descent (HALS; scikit-learn's cd): frobenius
    Hals,
    /// alternating non-negative least squares: frobenius
    Als,
    /// online mini-batch updates (scikit-learn's MiniBatchNMF): frobenius and kl
    Online,
    /// graph-regularized NMF (Cai et al.; linked documents get similar topics): frobenius and kl
    Gnmf,
    /// non-smooth NMF (Pascual-Montano et al.; sparser topics with --theta): kl
    Nsnmf,
    /// alternating projected gradient (Lin): frobenius
    Pg,
}

/// `--graph-weight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphWeightArg {
    /// 1 for every link
    Binary,
    /// the cosine similarity of the two documents
    Cosine,
}

impl From<GraphWeightArg> for GraphWeight {
    fn from(a: GraphWeightArg) -> GraphWeight {
        match a {
            GraphWeightArg::Binary => GraphWeight::Binary,
            GraphWeightArg::Cosine => GraphWeight::Cosine,
        }
    }
}

/// `--als-variant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlsVariantArg {
    /// exact non-negative least squares (block principal pivoting)
    Exact,
    /// least squares, then negative entries set to 0
    Projected,
}

/// `--init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitArg {
    /// |N(0,1)|·√(mean(X)/k)
    Random,
    /// non-negative double SVD
    Nndsvd,
    /// NNDSVD with zeros filled by mean(X)
    Nndsvda,
    /// NNDSVD with zeros filled by small random values
    Nndsvdar,
    /// W0 and H0 from --w0 and --h0
    Custom,
}

/// `--weighting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeightingArg {
    /// term count × inverse document frequency
    Tfidf,
    /// term count
    Tf,
    /// 1 for a term present
    Binary,
}

/// `--norm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NormArg {
    /// Euclidean norm 1 per document
    L2,
    /// weights sum to 1 per document
    L1,
    /// no normalization
    None,
}

impl From<LossArg> for Loss {
    fn from(a: LossArg) -> Loss {
        match a {
            LossArg::Frobenius => Loss::Frobenius,
            LossArg::Kl => Loss::Kl,
        }
    }
}

impl From<SolverArg> for Solver {
    fn from(a: SolverArg) -> Solver {
        match a {
            SolverArg::Mu => Solver::Mu,
            SolverArg::Hals => Solver::Hals,
            SolverArg::Als => Solver::Als,
            SolverArg::Online => Solver::Online,
            SolverArg::Gnmf => Solver::Gnmf,
            SolverArg::Nsnmf => Solver::Nsnmf,
            SolverArg::Pg => Solver::Pg,
        }
    }
}

impl From<AlsVariantArg> for AlsVariant {
    fn from(a: AlsVariantArg) -> AlsVariant {
        match a {
            AlsVariantArg::Exact => AlsVariant::Exact,
            AlsVariantArg::Projected => AlsVariant::Projected,
        }
    }
}

impl From<InitArg> for Init {
    fn from(a: InitArg) -> Init {
        match a {
            InitArg::Random => Init::Random,
            InitArg::Nndsvd => Init::Nndsvd,
            InitArg::Nndsvda => Init::Nndsvda,
            InitArg::Nndsvdar => Init::Nndsvdar,
            InitArg::Custom => Init::Custom,
        }
    }
}

impl From<WeightingArg> for Weighting {
    fn from(a: WeightingArg) -> Weighting {
        match a {
            WeightingArg::Tfidf => Weighting::Tfidf,
            WeightingArg::Tf => Weighting::Tf,
            WeightingArg::Binary => Weighting::Binary,
        }
    }
}

impl From<NormArg> for Norm {
    fn from(a: NormArg) -> Norm {
        match a {
            NormArg::L2 => Norm::L2,
            NormArg::L1 => Norm::L1,
            NormArg::None => Norm::None,
        }
    }
}

/// Parses the process arguments: the raw structs and clap's matches (which say which options
/// were given on the command line).
pub fn parse() -> Result<(Cli, ArgMatches), clap::Error> {
    let matches = Cli::command().try_get_matches()?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok((cli, matches))
}

/// The `--long` names of the options of the argument group `G` that were given on the command
/// line of `matches` (a subcommand's matches).
pub fn given_options<G: Args>(matches: &ArgMatches) -> Vec<String> {
    G::augment_args(clap::Command::new("group"))
        .get_arguments()
        .filter(|a| {
            matches.value_source(a.get_id().as_str())
                == Some(clap::parser::ValueSource::CommandLine)
        })
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect()
}

/// Prints a clap error as one line plus a hint (help and version as clap prints them) and
/// returns the exit code: 0 for help and version, 2 for usage errors.
pub fn report_clap_error(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            return ExitCode::from(2);
        }
        _ => {}
    }
    let rendered = err.render().to_string();
    ui::error_line(&format!("nmf-topics: {}", one_line(&rendered)));
    let command = std::env::args()
        .skip(1)
        .find(|a| ["fit", "vectorize", "transform", "sweep"].contains(&a.as_str()));
    let help = match command {
        Some(c) => format!("nmf-topics {c} --help"),
        None => "nmf-topics --help".to_string(),
    };
    ui::error_line(&format!("hint: '{help}' lists every option"));
    ExitCode::from(2)
}

/// clap's multi-paragraph error text as one line: the message (its lines joined), then its
/// tips; the usage and "for more information" paragraphs are left out.
fn one_line(rendered: &str) -> String {
    let mut message = String::new();
    let mut tips = Vec::new();
    for paragraph in rendered.split("\n\n") {
        let p = paragraph.trim();
        if p.is_empty() || p.starts_with("Usage:") || p.starts_with("For more information") {
            continue;
        }
        let joined = p.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(tip) = joined.strip_prefix("tip: ") {
            tips.push(tip.to_string());
        } else if message.is_empty() {
            message = joined;
        }
    }
    for tip in tips {
        message.push_str(&format!(" ({tip})"));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn clap_errors_become_one_line() {
        let err = Cli::command()
            .try_get_matches_from(["nmf-topics", "fit", "x", "--out", "o", "--topic", "3"])
            .unwrap_err();
        let line = one_line(&err.render().to_string());
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("error: unexpected argument '--topic'"),
            "{line}"
        );
        assert!(line.contains("'--topics'"), "{line}");
    }

    #[test]
    fn given_options_are_the_ones_typed() {
        let m = Cli::command()
            .try_get_matches_from([
                "nmf-topics",
                "fit",
                "--matrix",
                "x.mtx",
                "--out",
                "o",
                "--no-stem",
                "--min-df",
                "2",
            ])
            .unwrap();
        let (_, sub) = m.subcommand().unwrap();
        assert_eq!(
            given_options::<AnalysisArgs>(sub),
            ["--no-stem", "--min-df"]
        );
        assert!(given_options::<CorpusArgs>(sub).is_empty());
    }
}
