//! The HTML report: one self-contained file that works offline.
//!
//! The page is rendered by tera 2 from `templates/report.html.tera`, embedded at compile time
//! and parsed once ([`renderer`]). Its context is a serialize-only view ([`ReportView`]) built
//! here, with every number already formatted. CSS and script are inline, the charts are inline
//! SVG generated from the view, and nothing is fetched from anywhere: the output never contains
//! `http://` or `https://` (text from documents is escaped with `/` as `&#x2F;`, and the
//! embedded JSON writes `/` as `\/`).
//!
//! All text from documents goes through tera's autoescaping (with [`escape_html_strict`]); the
//! only unescaped insertion is the JSON blob for the script, in a
//! `<script type="application/json">` element, where `<`, `>` and `&` are written as `\u003c`,
//! `\u003e` and `\u0026` so no document can close the element ([`json_for_script`]).
//!
//! Size: the document table holds at most [`OutputOptions::html_document_rows`] rows (default
//! [`DEFAULT_DOCUMENT_ROWS`]) and the label × topic table at most [`MAX_LABEL_ROWS`] labels, so
//! the report of a 60,000-document corpus stays well under 5 MB.

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use serde::Serialize;
use tera::{Context, Tera};

use super::{FitExtras, FitRun, OutputOptions};
use crate::nmf::Method;
use crate::restarts::RestartSummary;
use crate::topics::quality::FitQuality;
use crate::topics::{self, finite, TopicSet};
use crate::{Error, Result};

/// Default number of rows of the report's document table.
pub const DEFAULT_DOCUMENT_ROWS: usize = 2_000;
/// Most labels shown in the label × topic table (the most frequent ones).
pub const MAX_LABEL_ROWS: usize = 50;
/// Most points drawn in the convergence plot (longer histories are subsampled).
const MAX_PLOT_POINTS: usize = 600;

const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("../../templates/report.html.tera");

/// The tera instance with the report template, parsed on first use. A template error is a
/// [`Error::Runtime`] (and fails the unit test that builds the renderer).
pub fn renderer() -> Result<&'static Tera> {
    static RENDERER: OnceLock<std::result::Result<Tera, String>> = OnceLock::new();
    RENDERER
        .get_or_init(|| {
            let mut tera = Tera::new();
            tera.set_escape_fn(escape_html_strict);
            tera.add_raw_template(TEMPLATE_NAME, TEMPLATE)
                .map_err(|e| format!("report template: {e}"))?;
            Ok(tera)
        })
        .as_ref()
        .map_err(|e| Error::Runtime(e.clone()))
}

/// HTML escaping of `& < > " ' /` (OWASP's set; `/` so that no URL scheme separator `://` from
/// a document appears verbatim in the page).
pub fn escape_html_strict(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut last = 0;
    for (i, b) in input.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#39;",
            b'/' => b"&#x2F;",
            _ => continue,
        };
        out.write_all(&input.as_bytes()[last..i])?;
        out.write_all(rep)?;
        last = i + 1;
    }
    out.write_all(&input.as_bytes()[last..])
}

/// Serialized JSON made safe inside `<script type="application/json">`: `<`, `>`, `&` become
/// `\u003c`, `\u003e`, `\u0026` and `/` becomes `\/` (all valid JSON string escapes; these
/// characters only occur inside strings in serialized JSON).
pub fn json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '/' => out.push_str("\\/"),
            _ => out.push(c),
        }
    }
    out
}

/// Hand-picked colours for the first topics (distinct, readable with white text).
const PALETTE: [(u8, u8, u8); 12] = [
    (0x2f, 0x6f, 0xdf),
    (0xe4, 0x57, 0x2e),
    (0x2a, 0x9d, 0x5c),
    (0x8e, 0x5b, 0xd6),
    (0xc9, 0x8a, 0x00),
    (0x1a, 0x9a, 0x9a),
    (0xd6, 0x45, 0x7f),
    (0x6b, 0x8e, 0x23),
    (0xa8, 0x5a, 0x1c),
    (0x4b, 0x5b, 0xb3),
    (0x0f, 0x8f, 0xc7),
    (0xa8, 0x32, 0x32),
];

/// The colour of topic `t` as RGB: a hand-picked palette for the first twelve, then golden-angle hue
/// steps at fixed saturation and lightness, so any k gets distinct colours. The same colour
/// marks the topic on the cards, the map and in the tables.
pub fn topic_rgb(t: usize) -> (u8, u8, u8) {
    if let Some(&c) = PALETTE.get(t) {
        return c;
    }
    let h = (t as f64 * 137.508 + 17.0) % 360.0 / 60.0;
    let (s, l) = (0.58, 0.44);
    let c = (1.0 - (2.0 * l - 1.0f64).abs()) * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (to(r), to(g), to(b))
}

fn topic_color(t: usize) -> String {
    let (r, g, b) = topic_rgb(t);
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn topic_soft(t: usize) -> String {
    topic_alpha(t, 0.14)
}

fn topic_alpha(t: usize, alpha: f64) -> String {
    let (r, g, b) = topic_rgb(t);
    format!("rgba({r}, {g}, {b}, {:.3})", alpha.clamp(0.0, 1.0))
}

/// `1234567` → `1,234,567`.
pub fn fmt_int(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number with about 4 significant digits (scientific outside [1e-3, 1e6)); 0 for NaN/Inf.
pub fn fmt_num(x: f64) -> String {
    let x = finite(x);
    if x == 0.0 {
        return "0".to_string();
    }
    let a = x.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{x:.3e}");
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn fmt_pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * finite(x))
}

fn fmt_coord(x: f64) -> String {
    format!("{:.1}", finite(x))
}

/// A name and a formatted value.
#[derive(Debug, Clone, Serialize)]
pub struct Stat {
    /// What it is.
    pub name: String,
    /// Its value, formatted.
    pub value: String,
}

fn stat(name: &str, value: impl Into<String>) -> Stat {
    Stat {
        name: name.to_string(),
        value: value.into(),
    }
}

/// The view the template renders (serialize-only, numbers preformatted).
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    /// Page title.
    pub title: String,
    /// One-line summary under the title.
    pub summary: String,
    /// Version of nmf-topics.
    pub version: String,
    /// Corpus facts.
    pub corpus: Vec<Stat>,
    /// The inputs as given.
    pub inputs: Vec<String>,
    /// Parameters.
    pub params: Vec<Stat>,
    /// The run.
    pub run: Vec<Stat>,
    /// Metrics.
    pub metrics: Vec<Stat>,
    /// Topic quality (coherence, diversity, label agreement, stability), when measured.
    pub quality: Vec<QualityRow>,
    /// The restarts, for a fit that kept the best of several.
    pub restarts: Option<RestartsView>,
    /// Whether the cards carry coherence values (the sort control offers them).
    pub has_coherence: bool,
    /// Whether the cards carry stability values.
    pub has_stability: bool,
    /// Explained variance in percent, for the headline.
    pub explained: String,
    /// The convergence plot, when there is a history.
    pub convergence: Option<Chart>,
    /// Initial λ of the slider.
    pub lambda: String,
    /// Words per card.
    pub top_terms: usize,
    /// Topic cards, by prevalence (largest first).
    pub cards: Vec<Card>,
    /// The intertopic map.
    pub map: MapView,
    /// The cosine similarity heatmap.
    pub heatmap: Heatmap,
    /// The document table.
    pub documents: DocTable,
    /// The label × topic table, when documents have labels.
    pub labels: Option<LabelTable>,
    /// JSON for the script (already escaped for a script element).
    pub data_json: String,
}

/// A line chart (SVG coordinates as strings).
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// SVG width.
    pub width: u32,
    /// SVG height.
    pub height: u32,
    /// Plot area: left, top, right, bottom.
    pub left: u32,
    /// See `left`.
    pub top: u32,
    /// See `left`.
    pub right: u32,
    /// See `left`.
    pub bottom: u32,
    /// The line's path.
    pub path: String,
    /// The area under the line.
    pub area: String,
    /// Ticks of the x axis.
    pub x_ticks: Vec<Tick>,
    /// Ticks of the y axis.
    pub y_ticks: Vec<Tick>,
    /// Last point.
    pub end_x: String,
    /// See `end_x`.
    pub end_y: String,
    /// Baseline of the final value's label.
    pub end_label_y: String,
    /// Final objective, formatted.
    pub end_label: String,
}

/// An axis tick.
#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    /// Position along the axis (SVG units).
    pub pos: String,
    /// Text.
    pub label: String,
}

/// A word in a card.
#[derive(Debug, Clone, Serialize)]
pub struct Word {
    /// Surface form.
    pub term: String,
    /// Stem.
    pub stem: String,
    /// Bar width in percent of the card's largest p(w|t).
    pub width: String,
    /// Tooltip.
    pub title: String,
}

/// A document in a card.
#[derive(Debug, Clone, Serialize)]
pub struct CardDoc {
    /// Document id.
    pub id: String,
    /// Normalized weight, formatted.
    pub weight: String,
    /// Text snippet.
    pub snippet: Option<String>,
    /// Relative link to the file.
    pub href: Option<String>,
}

/// A topic card.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    /// Topic id.
    pub id: usize,
    /// Label.
    pub label: String,
    /// Topic colour.
    pub color: String,
    /// Light variant of the colour.
    pub soft: String,
    /// Prevalence, formatted.
    pub prevalence: String,
    /// Bar width of the prevalence relative to the most prevalent topic (percent).
    pub prevalence_width: String,
    /// Documents whose dominant topic this is.
    pub dominant_docs: String,
    /// Top words.
    pub words: Vec<Word>,
    /// Top documents.
    pub docs: Vec<CardDoc>,
    /// The topic's coherence, formatted (empty when not measured).
    pub coherence: Vec<Stat>,
    /// NPMI as a sort key for the script (`-2` when undefined).
    pub sort_npmi: String,
    /// Prevalence as a sort key.
    pub sort_prevalence: String,
    /// Stability across restarts, formatted, with restarts.
    pub stability: Option<String>,
    /// Stability as a sort key (`-1` without restarts).
    pub sort_stability: String,
}

/// A row of the header's quality table: a measure, its value, and how to read it.
#[derive(Debug, Clone, Serialize)]
pub struct QualityRow {
    /// The measure.
    pub name: String,
    /// Its value, formatted.
    pub value: String,
    /// How to read it.
    pub hint: String,
}

/// The restarts of a fit, for the header.
#[derive(Debug, Clone, Serialize)]
pub struct RestartsView {
    /// Number of restarts.
    pub count: usize,
    /// The winning restart.
    pub best: usize,
    /// Lowest and highest objective, formatted.
    pub spread: String,
    /// Relative spread (max − min)/min, formatted.
    pub relative: String,
    /// One row per restart.
    pub runs: Vec<RestartRow>,
}

/// One restart in the header.
#[derive(Debug, Clone, Serialize)]
pub struct RestartRow {
    /// Its index.
    pub restart: usize,
    /// Its seed.
    pub seed: u64,
    /// Its initialization.
    pub init: String,
    /// Its objective, formatted.
    pub objective: String,
    /// Its iterations.
    pub iterations: usize,
    /// Whether it won.
    pub best: bool,
}

/// The intertopic map.
#[derive(Debug, Clone, Serialize)]
pub struct MapView {
    /// SVG size (square).
    pub size: u32,
    /// Circles, largest first (so small ones are drawn on top).
    pub circles: Vec<Circle>,
}

/// A topic on the map.
#[derive(Debug, Clone, Serialize)]
pub struct Circle {
    /// Topic id.
    pub id: usize,
    /// Centre.
    pub cx: String,
    /// Centre.
    pub cy: String,
    /// Radius.
    pub r: String,
    /// Colour.
    pub color: String,
    /// Tooltip: id, prevalence, words.
    pub title: String,
}

/// The similarity heatmap.
#[derive(Debug, Clone, Serialize)]
pub struct Heatmap {
    /// SVG size (square).
    pub size: u32,
    /// Cell size.
    pub cell: String,
    /// Offset of the grid (room for the axis labels).
    pub offset: u32,
    /// Cells.
    pub cells: Vec<HeatCell>,
    /// Axis labels.
    pub axis: Vec<HeatAxis>,
    /// Whether labels are drawn (small k).
    pub show_labels: bool,
}

/// One heatmap cell.
#[derive(Debug, Clone, Serialize)]
pub struct HeatCell {
    /// Position.
    pub x: String,
    /// Position.
    pub y: String,
    /// Fill opacity (the cosine).
    pub opacity: String,
    /// Tooltip.
    pub title: String,
}

/// One heatmap axis label.
#[derive(Debug, Clone, Serialize)]
pub struct HeatAxis {
    /// Topic id.
    pub id: usize,
    /// Centre of the row / column.
    pub pos: String,
    /// Topic colour.
    pub color: String,
}

/// The document table.
#[derive(Debug, Clone, Serialize)]
pub struct DocTable {
    /// Rows (the first documents in row order).
    pub rows: Vec<DocRow>,
    /// Rows shown, formatted.
    pub shown: String,
    /// All documents, formatted.
    pub total: String,
    /// Whether rows were left out.
    pub truncated: bool,
    /// Whether any document has a label.
    pub has_labels: bool,
}

/// One document row.
#[derive(Debug, Clone, Serialize)]
pub struct DocRow {
    /// Row number.
    pub row: usize,
    /// Document id.
    pub id: String,
    /// Label.
    pub label: String,
    /// Dominant topic.
    pub topic: Option<usize>,
    /// Its label.
    pub topic_label: String,
    /// Its colour.
    pub color: String,
    /// Its weight, formatted.
    pub weight: String,
    /// Its weight, for sorting.
    pub weight_value: String,
}

/// The label × topic table.
#[derive(Debug, Clone, Serialize)]
pub struct LabelTable {
    /// Column heads.
    pub topics: Vec<HeatAxis>,
    /// Rows (most frequent labels first).
    pub rows: Vec<LabelRow>,
    /// Labels left out.
    pub hidden: usize,
}

/// One label row.
#[derive(Debug, Clone, Serialize)]
pub struct LabelRow {
    /// Label.
    pub label: String,
    /// Documents with this label.
    pub total: usize,
    /// Counts of dominant topics.
    pub cells: Vec<LabelCell>,
}

/// One label × topic cell.
#[derive(Debug, Clone, Serialize)]
pub struct LabelCell {
    /// Documents of the label whose dominant topic is the column.
    pub count: usize,
    /// Background shade.
    pub background: String,
    /// Whether the text should be light.
    pub dark: bool,
}

#[derive(Serialize)]
struct ScriptData<'a> {
    lambda: f64,
    n: usize,
    topics: Vec<ScriptTopic<'a>>,
}

#[derive(Serialize)]
struct ScriptTopic<'a> {
    id: usize,
    pmax: f64,
    /// `[surface, stem, p(w|t), p(w), column, weight]`
    terms: Vec<(&'a str, &'a str, f64, f64, usize, f64)>,
}

/// Renders the report of `run` whose topics are `set`; `out_dir` is where the report goes
/// (links to documents are relative to it).
pub fn render_report(
    run: &FitRun<'_>,
    set: &TopicSet,
    opts: &OutputOptions,
    out_dir: &Path,
) -> Result<String> {
    render_report_with(run, set, opts, out_dir, &FitExtras::default())
}

/// [`render_report`] with the quality measures and restarts of `extras`: a quality table in
/// the header, each card's coherence (and stability), a control that sorts the cards by them,
/// and the restarts' objectives.
pub fn render_report_with(
    run: &FitRun<'_>,
    set: &TopicSet,
    opts: &OutputOptions,
    out_dir: &Path,
    extras: &FitExtras<'_>,
) -> Result<String> {
    let view = build_view_with(run, set, opts, out_dir, extras)?;
    render_view(&view)
}

/// Renders a view with the embedded template.
pub fn render_view(view: &ReportView) -> Result<String> {
    let tera = renderer()?;
    let ctx =
        Context::from_serialize(view).map_err(|e| Error::Runtime(format!("report.html: {e}")))?;
    tera.render(TEMPLATE_NAME, &ctx)
        .map_err(|e| Error::Runtime(format!("report.html: template error: {e}")))
}

/// Builds the page's view.
pub fn build_view(
    run: &FitRun<'_>,
    set: &TopicSet,
    opts: &OutputOptions,
    out_dir: &Path,
) -> Result<ReportView> {
    build_view_with(run, set, opts, out_dir, &FitExtras::default())
}

/// Builds the page's view with the quality measures and restarts of `extras`.
pub fn build_view_with(
    run: &FitRun<'_>,
    set: &TopicSet,
    opts: &OutputOptions,
    out_dir: &Path,
    extras: &FitExtras<'_>,
) -> Result<ReportView> {
    let quality = extras.quality;
    let topic_stability = extras.restarts.and_then(|r| r.topic_stability.as_ref());
    let dtm = run.dtm;
    let model = run.model;
    let params = run.params;
    let k = set.k();
    let (n, m) = (dtm.documents.len(), dtm.terms.len());
    let nnz = dtm.nnz();

    let density = if n > 0 && m > 0 {
        nnz as f64 / (n as f64 * m as f64)
    } else {
        0.0
    };
    let corpus = vec![
        stat("Documents", fmt_int(n)),
        stat("Terms", fmt_int(m)),
        stat("Non-zeros", fmt_int(nnz)),
        stat("Density", format!("{:.3}%", 100.0 * density)),
    ];
    let mut params_view = vec![
        stat("Topics (k)", k.to_string()),
        stat("Loss", params.loss.to_string()),
        stat("Solver", model.method.solver().to_string()),
    ];
    match model.method {
        Method::Mu => {}
        Method::Hals {
            shuffle,
            inner_sweeps,
        } => {
            params_view.push(stat("shuffle", if shuffle { "yes" } else { "no" }));
            if inner_sweeps > 1 {
                params_view.push(stat("inner sweeps (at most)", inner_sweeps.to_string()));
            }
        }
        Method::Als { variant } => params_view.push(stat("ALS variant", variant.to_string())),
        Method::Online { opts } => {
            params_view.push(stat("batch size", opts.batch_size.to_string()));
            params_view.push(stat("forget factor", fmt_num(opts.forget_factor)));
            params_view.push(stat(
                "fresh restarts",
                if opts.fresh_restarts { "yes" } else { "no" },
            ));
            params_view.push(stat(
                "max no improvement",
                opts.max_no_improvement
                    .map_or("none".to_string(), |n| n.to_string()),
            ));
            if opts.stream {
                params_view.push(stat("matrix", "streamed from the inputs (fit --stream)"));
            }
        }
        Method::Gnmf { lambda } => {
            let g = crate::report::json::GraphJson::from_params(params)
                .with_summary(model.graph.as_ref());
            let graph = match (g.kind.as_str(), g.neighbours, g.weight, &g.file) {
                ("knn", Some(p), Some(w), _) => format!("{p} nearest neighbours, {w} weights"),
                (_, _, _, Some(f)) => format!("file {f}"),
                (kind, ..) => kind.to_string(),
            };
            params_view.push(stat("graph", graph));
            params_view.push(stat("graph λ", fmt_num(lambda)));
            if let Some(scaled) = g.lambda_scaled {
                params_view.push(stat("λ / mean degree", fmt_num(scaled)));
            }
            if let (Some(e), Some(d)) = (g.edges, g.mean_degree) {
                let linked = n - g.isolated.unwrap_or(0);
                params_view.push(stat(
                    "graph links",
                    format!(
                        "{} ({} per linked document, mean weighted degree {}; built in {:.2} s)",
                        fmt_int(e),
                        fmt_num(2.0 * e as f64 / linked.max(1) as f64),
                        fmt_num(d),
                        g.seconds.unwrap_or(0.0)
                    ),
                ));
            }
            if let Some(iso) = g.isolated {
                params_view.push(stat("documents without links", fmt_int(iso)));
            }
            if let Some(c) = g.links {
                params_view.push(stat(
                    "file links used / skipped / duplicates",
                    format!(
                        "{} / {} / {}",
                        fmt_int(c.used),
                        fmt_int(c.skipped),
                        fmt_int(c.duplicates)
                    ),
                ));
            }
        }
        Method::Nsnmf { theta } => params_view.push(stat("θ (smoothness)", fmt_num(theta))),
        Method::Pg => {
            let s = crate::report::json::PgSettings::default();
            params_view.push(stat(
                "Armijo σ / β",
                format!("{} / {}", fmt_num(s.sigma), fmt_num(s.beta)),
            ));
        }
    }
    params_view.extend([
        stat("Init", json_name(&params.init)),
        stat("alpha_W", fmt_num(params.alpha_w)),
        stat("alpha_H", fmt_num(params.alpha_h.unwrap_or(params.alpha_w))),
        stat("l1_ratio", fmt_num(params.l1_ratio)),
        stat("max_iter", params.max_iter.to_string()),
        stat("tol", fmt_num(params.tol)),
        stat("seed", params.seed.to_string()),
    ]);
    let seconds = finite(model.seconds);
    let run_view = vec![
        stat("Solver", model.method.solver().to_string()),
        stat("Loss", params.loss.to_string()),
        stat("Iterations", fmt_int(model.iterations)),
        stat("Converged", if model.converged { "yes" } else { "no" }),
        stat("Seconds", format!("{seconds:.3}")),
        // The model's figures, as in topics.json and on stdout: the initialization apart,
        // the solver loop only per iteration.
        stat(
            "Initialization",
            format!("{:.3} s", finite(model.init_seconds)),
        ),
        stat(
            "Per iteration",
            if model.iterations > 0 {
                super::fmt_per_iteration(model.seconds_per_iteration)
            } else {
                "–".to_string()
            },
        ),
    ];
    let mt = &model.metrics;
    let metrics = vec![
        stat("Objective", fmt_num(mt.loss)),
        stat("Reconstruction error", fmt_num(mt.reconstruction_error)),
        stat("Explained variance", fmt_pct(mt.explained_variance)),
        stat("Sparsity of W", format!("{:.3}", finite(mt.sparsity_w))),
        stat("Sparsity of H", format!("{:.3}", finite(mt.sparsity_h))),
    ];

    // cards, by prevalence
    let mut dominant_counts = vec![0usize; k];
    for t in set.dominant.iter().flatten() {
        dominant_counts[*t] += 1;
    }
    let max_prev = set
        .topics
        .iter()
        .map(|t| t.prevalence)
        .fold(0.0f64, f64::max);
    let base = out_dir.canonicalize().ok();
    let cwd = std::env::current_dir().ok();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| {
        set.topics[b]
            .prevalence
            .total_cmp(&set.topics[a].prevalence)
            .then(a.cmp(&b))
    });
    let pmax: Vec<f64> = (0..k)
        .map(|t| {
            set.term_given_topic
                .row(t)
                .iter()
                .copied()
                .fold(0.0f64, f64::max)
        })
        .collect();
    let cards: Vec<Card> = order
        .iter()
        .map(|&t| {
            let topic = &set.topics[t];
            let words = topic
                .terms
                .iter()
                .map(|w| Word {
                    term: w.term.clone(),
                    stem: w.stem.clone(),
                    width: bar_width(w.probability, pmax[t]),
                    title: word_title(w.weight, w.probability, set.term_share[w.index]),
                })
                .collect();
            let docs = topic
                .documents
                .iter()
                .map(|d| CardDoc {
                    id: d.id.clone(),
                    weight: format!("{:.0}%", 100.0 * d.weight),
                    snippet: d.snippet.clone(),
                    href: d
                        .path
                        .as_deref()
                        .and_then(|p| relative_href(base.as_deref()?, p, cwd.as_deref())),
                })
                .collect();
            Card {
                id: t,
                label: topic.label.clone(),
                color: topic_color(t),
                soft: topic_soft(t),
                prevalence: fmt_pct(topic.prevalence),
                prevalence_width: bar_width(topic.prevalence, max_prev),
                dominant_docs: fmt_int(dominant_counts[t]),
                words,
                docs,
                coherence: quality.map(|q| card_coherence(q, t)).unwrap_or_default(),
                sort_npmi: quality
                    .and_then(|q| q.npmi.get(t).copied().flatten())
                    .filter(|v| v.is_finite())
                    .map_or("-2".to_string(), |v| format!("{v:.6}")),
                sort_prevalence: format!("{:.6}", finite(topic.prevalence)),
                stability: topic_stability
                    .and_then(|s| s.get(t))
                    .map(|&v| format!("{:.2}", finite(v))),
                sort_stability: topic_stability
                    .and_then(|s| s.get(t))
                    .map_or("-1".to_string(), |&v| format!("{:.6}", finite(v))),
            }
        })
        .collect();

    // map
    let coords = topics::intertopic_map(set.term_given_topic.view());
    let map = map_view(set, &coords, max_prev);
    let cosine = topics::cosine_similarity(model.h.view());
    let heatmap = heatmap_view(&cosine);

    // documents
    let has_labels = dtm.documents.iter().any(|d| d.label.is_some());
    let shown = n.min(opts.html_document_rows);
    let theta = set.doc_weights.block(0..shown)?;
    let rows = (0..shown)
        .map(|i| {
            let doc = &dtm.documents[i];
            let topic = set.dominant[i];
            DocRow {
                row: i,
                id: doc.id.clone(),
                label: doc.label.as_deref().unwrap_or_default().to_owned(),
                topic,
                topic_label: topic
                    .map(|t| set.topics[t].label.clone())
                    .unwrap_or_default(),
                color: topic.map(topic_color).unwrap_or_default(),
                weight: topic
                    .map(|t| fmt_pct(theta[[i, t]]))
                    .unwrap_or_else(|| "–".to_string()),
                weight_value: topic
                    .map(|t| format!("{:.6}", theta[[i, t]]))
                    .unwrap_or_else(|| "0".to_string()),
            }
        })
        .collect();
    let documents = DocTable {
        rows,
        shown: fmt_int(shown),
        total: fmt_int(n),
        truncated: shown < n,
        has_labels,
    };
    let labels = if has_labels {
        Some(label_table(run, set))
    } else {
        None
    };

    // script data: candidate terms per topic
    let script = ScriptData {
        lambda: set.lambda,
        n: opts.top_terms,
        topics: (0..k)
            .map(|t| {
                let row = set.term_given_topic.row(t);
                let mut cand = topics::relevance_candidates(row, &set.term_share, opts.top_terms);
                for w in &set.topics[t].terms {
                    cand.push(w.index);
                }
                cand.sort_unstable();
                cand.dedup();
                ScriptTopic {
                    id: t,
                    pmax: pmax[t],
                    terms: cand
                        .into_iter()
                        .map(|w| {
                            (
                                dtm.terms[w].surface.as_str(),
                                dtm.terms[w].stem.as_str(),
                                row[w],
                                share_for_script(&set.term_share, w),
                                w,
                                finite(model.h[[t, w]]),
                            )
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    let json =
        serde_json::to_string(&script).map_err(|e| Error::Runtime(format!("report.html: {e}")))?;

    Ok(ReportView {
        title: "nmf-topics report".to_string(),
        summary: format!(
            "{k} topics from {} documents and {} terms",
            fmt_int(n),
            fmt_int(m)
        ),
        version: env!("CARGO_PKG_VERSION").to_string(),
        corpus,
        inputs: run.inputs.to_vec(),
        params: params_view,
        run: run_view,
        metrics,
        quality: quality
            .map(|q| quality_rows(q, extras.restarts))
            .unwrap_or_default(),
        restarts: extras.restarts.map(restarts_view),
        has_coherence: quality.is_some(),
        has_stability: topic_stability.is_some(),
        explained: fmt_pct(mt.explained_variance),
        convergence: convergence_chart(&model.history),
        lambda: format!("{}", set.lambda),
        top_terms: opts.top_terms,
        cards,
        map,
        heatmap,
        documents,
        labels,
        data_json: json_for_script(&json),
    })
}

fn fmt_opt(v: Option<f64>) -> String {
    match v.filter(|x| x.is_finite()) {
        Some(x) => format!("{x:.3}"),
        None => "–".to_string(),
    }
}

/// A card's coherence values: NPMI, UMass and, from text, the window NPMI.
fn card_coherence(q: &FitQuality, t: usize) -> Vec<Stat> {
    let at = |v: &[Option<f64>]| v.get(t).copied().flatten();
    let mut out = vec![
        stat("NPMI", fmt_opt(at(&q.npmi))),
        stat("UMass", fmt_opt(at(&q.umass))),
    ];
    if let Some(c) = &q.c_npmi {
        out.push(stat("NPMI (windows)", fmt_opt(at(c))));
    }
    out
}

/// The header's quality table.
fn quality_rows(q: &FitQuality, restarts: Option<&RestartSummary>) -> Vec<QualityRow> {
    let row = |name: &str, value: String, hint: &str| QualityRow {
        name: name.to_string(),
        value,
        hint: hint.to_string(),
    };
    let mut rows = vec![
        row(
            "NPMI",
            fmt_opt(q.mean_npmi),
            &format!(
                "mean over topics of the top {} words' document co-occurrence; −1 to 1, higher is better",
                q.top_n
            ),
        ),
        row(
            "UMass",
            fmt_opt(q.mean_umass),
            "mean log conditional co-occurrence; ≤ 0, closer to 0 is better",
        ),
    ];
    if q.c_npmi.is_some() {
        rows.push(row(
            "NPMI (windows)",
            fmt_opt(q.mean_c_npmi),
            &format!(
                "gensim's c_npmi: {}-token sliding windows over the texts",
                q.window
            ),
        ));
    }
    rows.push(row(
        "Diversity",
        fmt_opt(q.diversity),
        &format!(
            "share of distinct words among the topics' top {}; 1 = no word shared",
            q.diversity_top_n
        ),
    ));
    if let Some(l) = &q.labels {
        let n = format!("{} labels, {} documents", l.labels, fmt_int(l.documents));
        rows.push(row(
            "Purity",
            fmt_opt(Some(l.purity)),
            &format!("dominant topic against the labels ({n}); 1 is best"),
        ));
        rows.push(row(
            "Entropy",
            fmt_opt(Some(l.entropy)),
            "of the labels within each topic; 0 is best",
        ));
        rows.push(row(
            "NMI",
            fmt_opt(Some(l.nmi)),
            "normalized mutual information with the labels; 1 is best",
        ));
        rows.push(row(
            "ARI",
            fmt_opt(Some(l.ari)),
            "adjusted Rand index with the labels; 1 is best, 0 is chance",
        ));
    }
    if let Some(r) = restarts {
        if r.stability.is_some() {
            rows.push(row(
                "Stability",
                fmt_opt(r.stability),
                &format!("mean matched cosine of the topics over {} restarts; 1 = every start finds them", r.restarts),
            ));
            rows.push(row(
                "Cophenetic",
                fmt_opt(r.cophenetic),
                "consensus of the dominant topics over the restarts (Brunet); 1 = perfectly consistent",
            ));
        }
    }
    rows
}

/// The header's restarts panel.
fn restarts_view(r: &RestartSummary) -> RestartsView {
    let relative = if r.objective_min.abs() > 0.0 && r.objective_min.is_finite() {
        format!(
            "{:.2}%",
            100.0 * finite((r.objective_max - r.objective_min) / r.objective_min.abs())
        )
    } else {
        "–".to_string()
    };
    RestartsView {
        count: r.restarts,
        best: r.best,
        spread: format!(
            "{} – {}",
            fmt_num(r.objective_min),
            fmt_num(r.objective_max)
        ),
        relative,
        runs: r
            .runs
            .iter()
            .map(|x| RestartRow {
                restart: x.restart,
                seed: x.seed,
                init: x.init.to_string(),
                objective: fmt_num(x.objective),
                iterations: x.iterations,
                best: x.restart == r.best,
            })
            .collect(),
    }
}

/// p(w) as the script uses it: the share, or the smallest positive share for a column without
/// mass (as [`topics::rank_terms`] does), or 1 if X has no mass.
fn share_for_script(share: &[f64], w: usize) -> f64 {
    if share[w] > 0.0 {
        return share[w];
    }
    share
        .iter()
        .copied()
        .filter(|&s| s > 0.0)
        .min_by(f64::total_cmp)
        .unwrap_or(1.0)
}

fn json_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn bar_width(v: f64, max: f64) -> String {
    if max > 0.0 && v > 0.0 {
        format!("{:.1}", (100.0 * v / max).clamp(0.0, 100.0))
    } else {
        "0".to_string()
    }
}

fn word_title(weight: f64, p: f64, share: f64) -> String {
    let lift = if share > 0.0 { p / share } else { 0.0 };
    format!(
        "weight {} · p(w|t) {} · corpus share {} · lift {}",
        fmt_num(weight),
        fmt_num(p),
        fmt_num(share),
        fmt_num(lift)
    )
}

fn map_view(set: &TopicSet, coords: &[[f64; 2]], max_prev: f64) -> MapView {
    let size = 440u32;
    let pad = 56.0;
    let (mut lo_x, mut hi_x, mut lo_y, mut hi_y) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for c in coords {
        lo_x = lo_x.min(c[0]);
        hi_x = hi_x.max(c[0]);
        lo_y = lo_y.min(c[1]);
        hi_y = hi_y.max(c[1]);
    }
    let span = (hi_x - lo_x).max(hi_y - lo_y);
    let inner = size as f64 - 2.0 * pad;
    let scale = if span > 1e-12 { inner / span } else { 0.0 };
    let (mid_x, mid_y) = (0.5 * (lo_x + hi_x), 0.5 * (lo_y + hi_y));
    let centre = size as f64 / 2.0;
    let k = set.k().max(1) as f64;
    let max_r = (150.0 / k.sqrt()).clamp(14.0, 48.0);
    let radius: Vec<f64> = set
        .topics
        .iter()
        .map(|topic| {
            if max_prev > 0.0 {
                (max_r * (topic.prevalence / max_prev).sqrt()).max(7.0)
            } else {
                7.0
            }
        })
        .collect();
    let mut pos: Vec<[f64; 2]> = coords
        .iter()
        .map(|c| {
            [
                centre + (c[0] - mid_x) * scale,
                centre - (c[1] - mid_y) * scale,
            ]
        })
        .collect();
    separate_circles(&mut pos, &radius, size as f64);
    let mut circles: Vec<(f64, Circle)> = set
        .topics
        .iter()
        .map(|topic| {
            let t = topic.id;
            let words: Vec<&str> = topic.terms.iter().map(|w| w.term.as_str()).collect();
            let c = Circle {
                id: t,
                cx: fmt_coord(pos[t][0]),
                cy: fmt_coord(pos[t][1]),
                r: fmt_coord(radius[t]),
                color: topic_color(t),
                title: format!(
                    "Topic {t} · {} — {}",
                    fmt_pct(topic.prevalence),
                    words.join(", ")
                ),
            };
            (radius[t], c)
        })
        .collect();
    circles.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    MapView {
        size,
        circles: circles.into_iter().map(|(_, c)| c).collect(),
    }
}

/// Nudges circles apart (deterministically) until no two overlap by more than a third of the
/// smaller radius, so each topic's id stays readable; the layout stays close to the MDS
/// positions. Coincident centres are separated along a direction fixed by their ids. Centres
/// are kept inside the `size` × `size` square.
fn separate_circles(pos: &mut [[f64; 2]], radius: &[f64], size: f64) {
    let k = pos.len();
    for _ in 0..300 {
        let mut moved = false;
        for a in 0..k {
            for b in (a + 1)..k {
                let (dx, dy) = (pos[b][0] - pos[a][0], pos[b][1] - pos[a][1]);
                let dist = (dx * dx + dy * dy).sqrt();
                let min = radius[a] + radius[b] - radius[a].min(radius[b]) / 3.0;
                if dist >= min {
                    continue;
                }
                let (ux, uy) = if dist > 1e-9 {
                    (dx / dist, dy / dist)
                } else {
                    let angle = (a * 7 + b * 13) as f64;
                    (angle.cos(), angle.sin())
                };
                let push = 0.5 * (min - dist) + 0.01;
                pos[a][0] -= ux * push;
                pos[a][1] -= uy * push;
                pos[b][0] += ux * push;
                pos[b][1] += uy * push;
                moved = true;
            }
        }
        for (p, r) in pos.iter_mut().zip(radius) {
            for v in p.iter_mut() {
                *v = finite(*v).clamp(*r + 2.0, size - r - 2.0);
            }
        }
        if !moved {
            break;
        }
    }
}

fn heatmap_view(cosine: &ndarray::Array2<f64>) -> Heatmap {
    let k = cosine.nrows();
    let offset = 28u32;
    let cell = if k > 0 {
        (380.0 / k as f64).min(44.0)
    } else {
        44.0
    };
    let grid = cell * k.max(1) as f64;
    let mut cells = Vec::with_capacity(k * k);
    for s in 0..k {
        for t in 0..k {
            let v = finite(cosine[[s, t]]);
            cells.push(HeatCell {
                x: fmt_coord(offset as f64 + t as f64 * cell),
                y: fmt_coord(offset as f64 + s as f64 * cell),
                opacity: format!("{:.3}", 0.04 + 0.96 * v.clamp(0.0, 1.0)),
                title: format!("topics {s} and {t}: cosine {v:.3}"),
            });
        }
    }
    let axis = (0..k)
        .map(|t| HeatAxis {
            id: t,
            pos: fmt_coord(offset as f64 + (t as f64 + 0.5) * cell),
            color: topic_color(t),
        })
        .collect();
    Heatmap {
        size: offset + grid.ceil() as u32 + 4,
        cell: format!("{:.2}", (cell - 1.0).max(0.5)),
        offset,
        cells,
        axis,
        show_labels: k <= 40,
    }
}

fn label_table(run: &FitRun<'_>, set: &TopicSet) -> LabelTable {
    use std::collections::BTreeMap;
    let k = set.k();
    let mut counts: BTreeMap<&str, (usize, Vec<usize>)> = BTreeMap::new();
    for (i, doc) in run.dtm.documents.iter().enumerate() {
        let label = doc.label.as_deref().unwrap_or("(no label)");
        let entry = counts.entry(label).or_insert_with(|| (0, vec![0; k]));
        entry.0 += 1;
        if let Some(t) = set.dominant[i] {
            entry.1[t] += 1;
        }
    }
    let mut rows: Vec<(&str, usize, Vec<usize>)> =
        counts.into_iter().map(|(l, (n, c))| (l, n, c)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let hidden = rows.len().saturating_sub(MAX_LABEL_ROWS);
    rows.truncate(MAX_LABEL_ROWS);
    // group the shown labels by their most frequent dominant topic, so that a good match of
    // labels and topics reads as a diagonal
    let top_topic = |c: &[usize]| {
        (0..c.len())
            .max_by(|&a, &b| c[a].cmp(&c[b]).then(b.cmp(&a)))
            .filter(|&t| c[t] > 0)
            .unwrap_or(usize::MAX)
    };
    rows.sort_by(|a, b| {
        top_topic(&a.2)
            .cmp(&top_topic(&b.2))
            .then(b.1.cmp(&a.1))
            .then(a.0.cmp(b.0))
    });
    LabelTable {
        topics: (0..k)
            .map(|t| HeatAxis {
                id: t,
                pos: String::new(),
                color: topic_color(t),
            })
            .collect(),
        rows: rows
            .into_iter()
            .map(|(label, total, cells)| LabelRow {
                label: label.to_string(),
                total,
                cells: cells
                    .into_iter()
                    .enumerate()
                    .map(|(t, count)| {
                        let share = if total > 0 {
                            count as f64 / total as f64
                        } else {
                            0.0
                        };
                        LabelCell {
                            count,
                            background: if count > 0 {
                                topic_alpha(t, 0.08 + 0.87 * share)
                            } else {
                                "transparent".to_string()
                            },
                            dark: share > 0.45,
                        }
                    })
                    .collect(),
            })
            .collect(),
        hidden,
    }
}

/// The objective per iteration on a log scale (non-positive values are left out).
fn convergence_chart(history: &[f64]) -> Option<Chart> {
    let points: Vec<(usize, f64)> = history
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite() && **v > 0.0)
        .map(|(i, v)| (i + 1, v.log10()))
        .collect();
    if points.is_empty() {
        return None;
    }
    let (width, height) = (640u32, 240u32);
    let (left, top, right, bottom) = (72u32, 16u32, 620u32, 206u32);
    let n = history.len().max(2);
    let (mut lo, mut hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    if hi - lo < 1e-9 {
        lo -= 0.05;
        hi += 0.05;
    }
    let pad = 0.06 * (hi - lo);
    let (lo, hi) = (lo - pad, hi + pad);
    let x_of = |i: usize| left as f64 + (i - 1) as f64 / (n - 1) as f64 * (right - left) as f64;
    let y_of = |v: f64| bottom as f64 - (v - lo) / (hi - lo) * (bottom - top) as f64;
    let stride = points.len().div_ceil(MAX_PLOT_POINTS).max(1);
    let mut sampled: Vec<(usize, f64)> = points.iter().copied().step_by(stride).collect();
    if let Some(&last) = points.last() {
        if sampled.last() != Some(&last) {
            sampled.push(last);
        }
    }
    let mut path = String::new();
    for (j, &(i, v)) in sampled.iter().enumerate() {
        path.push_str(if j == 0 { "M" } else { " L" });
        path.push_str(&format!("{:.1},{:.1}", x_of(i), y_of(v)));
    }
    let first = sampled[0];
    let last = *sampled.last().unwrap_or(&first);
    let area = format!(
        "{path} L{:.1},{bottom} L{:.1},{bottom} Z",
        x_of(last.0),
        x_of(first.0)
    );
    // y ticks: decades inside the range, or 4 even ticks when the range is under a decade
    let mut y_ticks = Vec::new();
    let (d_lo, d_hi) = (lo.ceil() as i64, hi.floor() as i64);
    if d_hi - d_lo >= 1 {
        let step = ((d_hi - d_lo) / 6 + 1).max(1);
        let mut d = d_lo;
        while d <= d_hi {
            y_ticks.push(Tick {
                pos: fmt_coord(y_of(d as f64)),
                label: fmt_num(10f64.powi(d as i32)),
            });
            d += step;
        }
    } else {
        for j in 0..4 {
            let v = lo + (hi - lo) * (0.1 + 0.8 * j as f64 / 3.0);
            y_ticks.push(Tick {
                pos: fmt_coord(y_of(v)),
                label: fmt_num(10f64.powf(v)),
            });
        }
    }
    let step = nice_step(n as f64 / 5.0);
    let mut x_ticks = vec![Tick {
        pos: fmt_coord(x_of(1)),
        label: "1".to_string(),
    }];
    let mut i = step;
    while i <= n {
        if i > 1 {
            x_ticks.push(Tick {
                pos: fmt_coord(x_of(i)),
                label: i.to_string(),
            });
        }
        i += step;
    }
    Some(Chart {
        width,
        height,
        left,
        top,
        right,
        bottom,
        path,
        area,
        x_ticks,
        y_ticks,
        end_x: fmt_coord(x_of(last.0)),
        end_y: fmt_coord(y_of(last.1)),
        end_label_y: fmt_coord((y_of(last.1) - 10.0).max(top as f64 + 10.0)),
        end_label: fmt_num(10f64.powf(last.1)),
    })
}

/// 1, 2 or 5 × 10^j, at least `raw`.
fn nice_step(raw: f64) -> usize {
    let raw = raw.max(1.0);
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    let f = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    ((f * p).round() as usize).max(1)
}

/// A relative, percent-encoded link from the folder `base` (absolute, canonical) to `target`
/// (made absolute against `cwd` when relative). `None` when the two share no root.
pub fn relative_href(base: &Path, target: &Path, cwd: Option<&Path>) -> Option<String> {
    let abs: PathBuf = if target.is_absolute() {
        target.to_path_buf()
    } else {
        cwd?.join(target)
    };
    let abs = abs.canonicalize().unwrap_or(abs);
    let b: Vec<Component> = base.components().collect();
    let t: Vec<Component> = abs.components().collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return None;
    }
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    for c in &t[common..] {
        match c {
            Component::Normal(s) => parts.push(percent_encode(&s.to_string_lossy())),
            Component::ParentDir => parts.push("..".to_string()),
            _ => {}
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// Percent-encodes everything but ASCII letters, digits and `-._~`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parses() {
        renderer().expect("the embedded template must parse");
    }

    #[test]
    fn strict_escaping() {
        let mut out = Vec::new();
        escape_html_strict("<a href='x'>&\"/</a>", &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&#x2F;&lt;&#x2F;a&gt;"
        );
    }

    #[test]
    fn script_json_cannot_close_the_element() {
        let json = serde_json::to_string(&"</script><b>&https://x").unwrap();
        let safe = json_for_script(&json);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        assert!(!safe.contains("https://"));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "</script><b>&https://x");
    }

    #[test]
    fn number_formats() {
        assert_eq!(fmt_int(1234567), "1,234,567");
        assert_eq!(fmt_int(12), "12");
        assert_eq!(fmt_num(0.012345), "0.01235");
        assert_eq!(fmt_num(1234.6), "1235");
        assert_eq!(fmt_num(2.0), "2");
        assert_eq!(fmt_num(1e-7), "1.000e-7");
        assert_eq!(fmt_num(f64::NAN), "0");
        assert_eq!(nice_step(37.0), 50);
        assert_eq!(nice_step(0.3), 1);
        assert_eq!(nice_step(10.0), 10);
    }

    #[test]
    fn relative_links() {
        let base = Path::new("/data/out");
        assert_eq!(
            relative_href(base, Path::new("/data/corpus/a b#1.txt"), None).as_deref(),
            Some("../corpus/a%20b%231.txt")
        );
        assert_eq!(
            relative_href(base, Path::new("docs/x.txt"), Some(Path::new("/data/out"))).as_deref(),
            Some("docs/x.txt")
        );
        assert_eq!(relative_href(base, Path::new("x.txt"), None), None);
    }

    #[test]
    fn convergence_chart_handles_edge_cases() {
        assert!(convergence_chart(&[]).is_none());
        assert!(convergence_chart(&[0.0, f64::NAN]).is_none());
        let c = convergence_chart(&[5.0]).unwrap();
        assert!(!c.path.contains("NaN"));
        let h: Vec<f64> = (1..=1000).map(|i| 1000.0 / i as f64).collect();
        let c = convergence_chart(&h).unwrap();
        assert!(c.path.matches('L').count() <= MAX_PLOT_POINTS + 1);
        assert!(c.y_ticks.len() >= 2);
        assert!(!c.path.contains("NaN") && !c.area.contains("inf"));
    }
}
