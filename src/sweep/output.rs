//! The files of a sweep: `sweep.json`, `sweep.csv` and the self-contained `sweep.html`.
//!
//! ```text
//! sweep.json: { "version": 1,
//!   "corpus": { "documents", "terms", "nnz", "inputs" },
//!   "params": { "loss", "solver", "init", "alpha_w", "alpha_h", "l1_ratio", "max_iter", "tol", "seed", … },
//!   "ks": { "start", "end", "step" }, "restarts", "recommended_k",
//!   "recommendation": { "rule", "npmi_margin" }, "cancelled", "parallel_fits",
//!   "timing": { "svd", "fitting", "measuring", "total" },
//!   "rows": [ { "k", "restarts", "best_restart", "objective", "objective_max",
//!               "reconstruction_error", "explained_variance", "sparsity_w", "sparsity_h",
//!               "umass", "npmi", "c_npmi", "diversity", "stability", "cophenetic",
//!               "labels": { "documents", "labels", "topics", "purity", "entropy", "nmi", "ari" },
//!               "iterations", "converged", "seconds", "measure_seconds" } ] }
//! sweep.csv:  k,restarts,best_restart,objective,objective_max,reconstruction_error,
//!             explained_variance,sparsity_w,sparsity_h,umass,npmi,c_npmi,diversity,stability,
//!             cophenetic,purity,entropy,nmi,ari,iterations,converged,seconds,recommended
//! ```
//!
//! Undefined measures are `null` in JSON and empty in CSV; every other number is finite.
//! `sweep.html` has one small line chart per measure against k with the recommended k marked,
//! and the table; CSS inline, no script, nothing fetched.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Serialize;
use tera::{Context, Tera};

use super::{KRange, SweepResult, SweepRow, SweepTiming};
use crate::report::html::escape_html_strict;
use crate::report::json::{to_writer_readable, ParamsJson};
use crate::report::write_atomic;
use crate::topics::finite;
use crate::{Error, Result};

/// The schema version of `sweep.json`.
pub const SWEEP_JSON_VERSION: u32 = 1;

/// The files [`write_sweep_outputs`] writes.
pub const SWEEP_FILES: [&str; 3] = ["sweep.json", "sweep.csv", "sweep.html"];

/// The recommendation rule, as written into the outputs.
pub const RULE: &str =
    "the k with the highest cophenetic correlation (then stability) among those \
whose mean NPMI is within the margin of the best mean NPMI (with one restart: the best NPMI); ties \
to the smaller k";

/// What the outputs say about the corpus.
#[derive(Debug, Clone, Serialize)]
pub struct SweepCorpus<'a> {
    /// Documents (rows).
    pub documents: usize,
    /// Terms (columns).
    pub terms: usize,
    /// Stored entries.
    pub nnz: usize,
    /// The inputs as given.
    pub inputs: &'a [String],
}

#[derive(Serialize)]
struct Recommendation {
    rule: &'static str,
    npmi_margin: f64,
}

/// The whole `sweep.json`.
#[derive(Serialize)]
struct SweepJson<'a> {
    version: u32,
    corpus: &'a SweepCorpus<'a>,
    params: ParamsJson,
    ks: KRange,
    restarts: usize,
    recommended_k: Option<usize>,
    recommendation: Recommendation,
    cancelled: bool,
    parallel_fits: usize,
    timing: SweepTiming,
    rows: Vec<SweepRow>,
}

fn finite_opt(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// `row` with non-finite numbers replaced (0, or `None` for the optional measures).
fn clean_row(r: &SweepRow) -> SweepRow {
    let mut labels = r.labels.clone();
    if let Some(l) = labels.as_mut() {
        l.purity = finite(l.purity);
        l.entropy = finite(l.entropy);
        l.nmi = finite(l.nmi);
        l.ari = finite(l.ari);
    }
    SweepRow {
        objective: finite(r.objective),
        objective_max: finite(r.objective_max),
        reconstruction_error: finite(r.reconstruction_error),
        explained_variance: finite(r.explained_variance),
        sparsity_w: finite(r.sparsity_w),
        sparsity_h: finite(r.sparsity_h),
        umass: finite_opt(r.umass),
        npmi: finite_opt(r.npmi),
        c_npmi: finite_opt(r.c_npmi),
        diversity: finite_opt(r.diversity),
        stability: finite_opt(r.stability),
        cophenetic: finite_opt(r.cophenetic),
        labels,
        seconds: finite(r.seconds),
        measure_seconds: finite(r.measure_seconds),
        ..r.clone()
    }
}

/// Writes `sweep.json` (readable layout, as topics.json) atomically.
pub fn write_sweep_json(path: &Path, result: &SweepResult, corpus: &SweepCorpus<'_>) -> Result<()> {
    let mut params = ParamsJson::from_params(&result.params);
    params.k = result.rows.last().map_or(result.ks.end, |r| r.k);
    let doc = SweepJson {
        version: SWEEP_JSON_VERSION,
        corpus,
        params,
        ks: result.ks,
        restarts: result.restarts,
        recommended_k: result.recommended,
        recommendation: Recommendation {
            rule: RULE,
            npmi_margin: finite(result.npmi_margin),
        },
        cancelled: result.cancelled,
        parallel_fits: result.parallel_fits,
        timing: SweepTiming {
            svd: finite(result.timing.svd),
            fitting: finite(result.timing.fitting),
            measuring: finite(result.timing.measuring),
            total: finite(result.timing.total),
        },
        rows: result.rows.iter().map(clean_row).collect(),
    };
    write_atomic(path, |w| {
        to_writer_readable(w, &doc).map_err(|e| Error::Runtime(format!("{}: {e}", path.display())))
    })
}

/// The header of `sweep.csv`.
pub const CSV_HEADER: [&str; 23] = [
    "k",
    "restarts",
    "best_restart",
    "objective",
    "objective_max",
    "reconstruction_error",
    "explained_variance",
    "sparsity_w",
    "sparsity_h",
    "umass",
    "npmi",
    "c_npmi",
    "diversity",
    "stability",
    "cophenetic",
    "purity",
    "entropy",
    "nmi",
    "ari",
    "iterations",
    "converged",
    "seconds",
    "recommended",
];

fn num(v: f64) -> String {
    format!("{}", finite(v))
}

fn opt(v: Option<f64>) -> String {
    finite_opt(v).map(num).unwrap_or_default()
}

/// Writes `sweep.csv` (RFC 4180, one row per finished k) atomically.
pub fn write_sweep_csv(path: &Path, result: &SweepResult) -> Result<()> {
    write_atomic(path, |w| {
        let err = |e: csv::Error| Error::Runtime(format!("{}: {e}", path.display()));
        let mut out = csv::Writer::from_writer(w);
        out.write_record(CSV_HEADER).map_err(err)?;
        for r in &result.rows {
            let l = r.labels.as_ref();
            let record = [
                r.k.to_string(),
                r.restarts.to_string(),
                r.best_restart.to_string(),
                num(r.objective),
                num(r.objective_max),
                num(r.reconstruction_error),
                num(r.explained_variance),
                num(r.sparsity_w),
                num(r.sparsity_h),
                opt(r.umass),
                opt(r.npmi),
                opt(r.c_npmi),
                opt(r.diversity),
                opt(r.stability),
                opt(r.cophenetic),
                opt(l.map(|l| l.purity)),
                opt(l.map(|l| l.entropy)),
                opt(l.map(|l| l.nmi)),
                opt(l.map(|l| l.ari)),
                r.iterations.to_string(),
                r.converged.to_string(),
                num(r.seconds),
                (result.recommended == Some(r.k)).to_string(),
            ];
            out.write_record(&record).map_err(err)?;
        }
        out.flush().map_err(|e| Error::io(path, e))
    })
}

const TEMPLATE_NAME: &str = "sweep.html";
const TEMPLATE: &str = include_str!("../../templates/sweep.html.tera");

/// The tera instance with the sweep template, parsed on first use.
pub fn renderer() -> Result<&'static Tera> {
    static RENDERER: OnceLock<std::result::Result<Tera, String>> = OnceLock::new();
    RENDERER
        .get_or_init(|| {
            let mut tera = Tera::new();
            tera.set_escape_fn(escape_html_strict);
            tera.add_raw_template(TEMPLATE_NAME, TEMPLATE)
                .map_err(|e| format!("sweep template: {e}"))?;
            Ok(tera)
        })
        .as_ref()
        .map_err(|e| Error::Runtime(e.clone()))
}

/// A number with 4 significant digits (scientific outside [1e-3, 1e6)); "–" when undefined.
pub fn fmt_value(v: Option<f64>) -> String {
    let Some(x) = finite_opt(v) else {
        return "–".to_string();
    };
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

/// One measure: its name, what it means, and how to read it.
struct Measure {
    key: &'static str,
    title: &'static str,
    note: &'static str,
    value: fn(&SweepRow) -> Option<f64>,
}

const MEASURES: &[Measure] = &[
    Measure {
        key: "npmi",
        title: "NPMI (documents)",
        note: "mean coherence of the top words; higher is better",
        value: |r| r.npmi,
    },
    Measure {
        key: "stability",
        title: "Stability",
        note: "topics matched across restarts; 1 = every start finds them",
        value: |r| r.stability,
    },
    Measure {
        key: "c_npmi",
        title: "NPMI (10-token windows)",
        note: "gensim's c_npmi on the texts; higher is better",
        value: |r| r.c_npmi,
    },
    Measure {
        key: "umass",
        title: "UMass",
        note: "document co-occurrence of the top words; closer to 0 is better",
        value: |r| r.umass,
    },
    Measure {
        key: "diversity",
        title: "Topic diversity",
        note: "distinct words among the top 25; 1 = no word shared",
        value: |r| r.diversity,
    },
    Measure {
        key: "cophenetic",
        title: "Cophenetic correlation",
        note: "consensus of dominant topics over restarts (Brunet); watch for the drop",
        value: |r| r.cophenetic,
    },
    Measure {
        key: "explained_variance",
        title: "Explained variance",
        note: "1 − ‖X − WH‖² / ‖X‖²; always grows with k",
        value: |r| Some(r.explained_variance),
    },
    Measure {
        key: "reconstruction_error",
        title: "Reconstruction error",
        note: "√(2·divergence) of the best restart; always falls with k",
        value: |r| Some(r.reconstruction_error),
    },
    Measure {
        key: "objective",
        title: "Objective",
        note: "best restart; the band reaches the worst restart",
        value: |r| Some(r.objective),
    },
    Measure {
        key: "sparsity_h",
        title: "Sparsity of H",
        note: "Hoyer sparsity of the topics' word weights",
        value: |r| Some(r.sparsity_h),
    },
    Measure {
        key: "nmi",
        title: "NMI with labels",
        note: "dominant topic against the documents' labels",
        value: |r| r.labels.as_ref().map(|l| l.nmi),
    },
    Measure {
        key: "seconds",
        title: "Seconds",
        note: "fitting all restarts and measuring",
        value: |r| Some(r.seconds),
    },
];

#[derive(Serialize)]
struct Pt {
    x: String,
    y: String,
    title: String,
    mark: bool,
}

#[derive(Serialize)]
struct Tick {
    pos: String,
    label: String,
}

#[derive(Serialize)]
struct ChartView {
    key: &'static str,
    title: &'static str,
    note: &'static str,
    best: String,
    path: String,
    band: Option<String>,
    points: Vec<Pt>,
    x_ticks: Vec<Tick>,
    y_ticks: Vec<Tick>,
    mark_x: Option<String>,
}

#[derive(Serialize)]
struct Cell {
    text: String,
}

#[derive(Serialize)]
struct RowView {
    k: usize,
    recommended: bool,
    cells: Vec<Cell>,
}

#[derive(Serialize)]
struct Fact {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct SweepView {
    version: &'static str,
    summary: String,
    inputs: Vec<String>,
    recommended: Option<usize>,
    rule: &'static str,
    margin: String,
    cancelled: bool,
    facts: Vec<Fact>,
    timing: Vec<Fact>,
    charts: Vec<ChartView>,
    columns: Vec<&'static str>,
    rows: Vec<RowView>,
    width: u32,
    height: u32,
    left: u32,
    right: u32,
    top: u32,
    bottom: u32,
}

const W: u32 = 320;
const H: u32 = 180;
const LEFT: u32 = 52;
const RIGHT: u32 = 308;
const TOP: u32 = 12;
const BOTTOM: u32 = 148;

fn coord(v: f64) -> String {
    format!("{:.1}", finite(v))
}

fn chart(m: &Measure, rows: &[SweepRow], recommended: Option<usize>) -> Option<ChartView> {
    let pts: Vec<(usize, f64)> = rows
        .iter()
        .filter_map(|r| finite_opt((m.value)(r)).map(|v| (r.k, v)))
        .collect();
    if pts.is_empty() {
        return None;
    }
    let band_hi: Vec<(usize, f64)> = if m.key == "objective" {
        rows.iter()
            .filter(|r| r.objective.is_finite() && r.objective_max.is_finite())
            .map(|r| (r.k, r.objective_max))
            .collect()
    } else {
        Vec::new()
    };
    let (k_lo, k_hi) = (
        rows.first().map_or(0, |r| r.k),
        rows.last().map_or(1, |r| r.k),
    );
    let (mut lo, mut hi) = pts
        .iter()
        .chain(&band_hi)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    if hi - lo < 1e-12 * (1.0 + hi.abs()) {
        lo -= 0.5 * (1e-3 + lo.abs() * 0.05);
        hi += 0.5 * (1e-3 + hi.abs() * 0.05);
    }
    let pad = 0.08 * (hi - lo);
    let (lo, hi) = (lo - pad, hi + pad);
    let span = (k_hi.saturating_sub(k_lo)).max(1) as f64;
    let x_of = |k: usize| {
        if k_hi == k_lo {
            (LEFT + RIGHT) as f64 / 2.0
        } else {
            LEFT as f64 + (k - k_lo) as f64 / span * (RIGHT - LEFT) as f64
        }
    };
    let y_of = |v: f64| BOTTOM as f64 - (v - lo) / (hi - lo) * (BOTTOM - TOP) as f64;
    let mut path = String::new();
    for (i, &(k, v)) in pts.iter().enumerate() {
        path.push_str(if i == 0 { "M" } else { " L" });
        path.push_str(&format!("{},{}", coord(x_of(k)), coord(y_of(v))));
    }
    let band = (!band_hi.is_empty()).then(|| {
        let mut d = String::new();
        for (i, &(k, v)) in band_hi.iter().enumerate() {
            d.push_str(if i == 0 { "M" } else { " L" });
            d.push_str(&format!("{},{}", coord(x_of(k)), coord(y_of(v))));
        }
        for &(k, v) in pts.iter().rev() {
            d.push_str(&format!(" L{},{}", coord(x_of(k)), coord(y_of(v))));
        }
        d.push_str(" Z");
        d
    });
    let points = pts
        .iter()
        .map(|&(k, v)| Pt {
            x: coord(x_of(k)),
            y: coord(y_of(v)),
            title: format!("k = {k}: {}", fmt_value(Some(v))),
            mark: recommended == Some(k),
        })
        .collect();
    let y_ticks = (0..4)
        .map(|j| {
            let v = lo + (hi - lo) * (0.1 + 0.8 * j as f64 / 3.0);
            Tick {
                pos: coord(y_of(v)),
                label: fmt_value(Some(v)),
            }
        })
        .collect();
    let ks: Vec<usize> = rows.iter().map(|r| r.k).collect();
    let stride = ks.len().div_ceil(8).max(1);
    let x_ticks = ks
        .iter()
        .step_by(stride)
        .map(|&k| Tick {
            pos: coord(x_of(k)),
            label: k.to_string(),
        })
        .collect();
    let best = recommended
        .and_then(|k| rows.iter().find(|r| r.k == k))
        .map(|r| fmt_value((m.value)(r)))
        .unwrap_or_default();
    Some(ChartView {
        key: m.key,
        title: m.title,
        note: m.note,
        best,
        path,
        band,
        points,
        x_ticks,
        y_ticks,
        mark_x: recommended
            .filter(|k| rows.iter().any(|r| r.k == *k))
            .map(|k| coord(x_of(k))),
    })
}

/// Renders `sweep.html`.
pub fn render_sweep_html(result: &SweepResult, corpus: &SweepCorpus<'_>) -> Result<String> {
    let rows = &result.rows;
    let charts: Vec<ChartView> = MEASURES
        .iter()
        .filter_map(|m| chart(m, rows, result.recommended))
        .collect();
    let has = |f: fn(&SweepRow) -> Option<f64>| rows.iter().any(|r| f(r).is_some());
    let mut columns = vec!["k", "objective", "explained var.", "UMass", "NPMI"];
    let with_c = has(|r| r.c_npmi);
    let with_stab = has(|r| r.stability);
    let with_labels = has(|r| r.labels.as_ref().map(|l| l.nmi));
    if with_c {
        columns.push("NPMI (windows)");
    }
    columns.push("diversity");
    if with_stab {
        columns.extend(["stability", "cophenetic"]);
    }
    if with_labels {
        columns.extend(["purity", "NMI", "ARI"]);
    }
    columns.extend(["sparsity H", "iterations", "seconds"]);
    let table = rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                r.k.to_string(),
                fmt_value(Some(r.objective)),
                format!("{:.1}%", 100.0 * finite(r.explained_variance)),
                fmt_value(r.umass),
                fmt_value(r.npmi),
            ];
            if with_c {
                cells.push(fmt_value(r.c_npmi));
            }
            cells.push(fmt_value(r.diversity));
            if with_stab {
                cells.push(fmt_value(r.stability));
                cells.push(fmt_value(r.cophenetic));
            }
            if with_labels {
                let l = r.labels.as_ref();
                cells.push(fmt_value(l.map(|l| l.purity)));
                cells.push(fmt_value(l.map(|l| l.nmi)));
                cells.push(fmt_value(l.map(|l| l.ari)));
            }
            cells.push(fmt_value(Some(r.sparsity_h)));
            cells.push(r.iterations.to_string());
            cells.push(format!("{:.2}", finite(r.seconds)));
            RowView {
                k: r.k,
                recommended: result.recommended == Some(r.k),
                cells: cells.into_iter().map(|text| Cell { text }).collect(),
            }
        })
        .collect();
    let p = &result.params;
    let fact = |name: &str, value: String| Fact {
        name: name.to_string(),
        value,
    };
    let facts = vec![
        fact("Documents", corpus.documents.to_string()),
        fact("Terms", corpus.terms.to_string()),
        fact("Non-zeros", corpus.nnz.to_string()),
        fact("k", result.ks.to_string()),
        fact("Restarts", result.restarts.to_string()),
        fact("Loss", p.loss.to_string()),
        fact(
            "Solver",
            p.solver
                .unwrap_or(crate::nmf::Solver::default_for(p.loss))
                .to_string(),
        ),
        fact("Init", p.init.to_string()),
        fact("max_iter", p.max_iter.to_string()),
        fact("tol", fmt_value(Some(p.tol))),
        fact("seed", p.seed.to_string()),
    ];
    let t = &result.timing;
    let timing = vec![
        fact("SVD", format!("{:.2} s", finite(t.svd))),
        fact(
            "Fitting",
            format!(
                "{:.2} s ({} side by side)",
                finite(t.fitting),
                result.parallel_fits
            ),
        ),
        fact("Measuring", format!("{:.2} s", finite(t.measuring))),
        fact("Total", format!("{:.2} s", finite(t.total))),
    ];
    let view = SweepView {
        version: env!("CARGO_PKG_VERSION"),
        summary: format!(
            "k = {} on {} documents × {} terms, {} restart{} each",
            result.ks,
            corpus.documents,
            corpus.terms,
            result.restarts,
            if result.restarts == 1 { "" } else { "s" }
        ),
        inputs: corpus.inputs.to_vec(),
        recommended: result.recommended,
        rule: RULE,
        margin: fmt_value(Some(result.npmi_margin)),
        cancelled: result.cancelled,
        facts,
        timing,
        charts,
        columns,
        rows: table,
        width: W,
        height: H,
        left: LEFT,
        right: RIGHT,
        top: TOP,
        bottom: BOTTOM,
    };
    let tera = renderer()?;
    let ctx =
        Context::from_serialize(&view).map_err(|e| Error::Runtime(format!("sweep.html: {e}")))?;
    tera.render(TEMPLATE_NAME, &ctx)
        .map_err(|e| Error::Runtime(format!("sweep.html: template error: {e}")))
}

/// Writes `sweep.json`, `sweep.csv` and `sweep.html` into `dir` (created if missing) and
/// returns their paths.
pub fn write_sweep_outputs(
    dir: &Path,
    result: &SweepResult,
    corpus: &SweepCorpus<'_>,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let json = dir.join(SWEEP_FILES[0]);
    write_sweep_json(&json, result, corpus)?;
    let csv = dir.join(SWEEP_FILES[1]);
    write_sweep_csv(&csv, result)?;
    let html = dir.join(SWEEP_FILES[2]);
    let page = render_sweep_html(result, corpus)?;
    write_atomic(&html, |w| {
        w.write_all(page.as_bytes())
            .map_err(|e| Error::io(&html, e))
    })?;
    Ok(vec![json, csv, html])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nmf::NmfParams;

    fn result() -> SweepResult {
        let row = |k: usize, npmi: f64, stab: f64| SweepRow {
            k,
            restarts: 2,
            best_restart: 1,
            objective: 10.0 / k as f64,
            objective_max: 11.0 / k as f64,
            reconstruction_error: 1.0,
            explained_variance: 0.1 * k as f64,
            sparsity_w: 0.5,
            sparsity_h: 0.6,
            umass: Some(-1.0),
            npmi: Some(npmi),
            c_npmi: None,
            diversity: Some(0.9),
            stability: Some(stab),
            cophenetic: Some(f64::NAN),
            labels: None,
            iterations: 40,
            converged: true,
            seconds: 0.5,
            measure_seconds: 0.01,
        };
        SweepResult {
            ks: KRange::new(2, 6, 2),
            restarts: 2,
            params: NmfParams::new(2),
            rows: vec![row(2, 0.1, 0.9), row(4, 0.3, 0.95), row(6, 0.2, 0.8)],
            recommended: Some(4),
            npmi_margin: 0.02,
            cancelled: false,
            timing: SweepTiming::default(),
            parallel_fits: 2,
            models: Vec::new(),
            summaries: Vec::new(),
        }
    }

    #[test]
    fn writes_the_three_files() {
        let dir = tempfile::tempdir().unwrap();
        let inputs = vec!["<corpus>".to_string()];
        let corpus = SweepCorpus {
            documents: 10,
            terms: 20,
            nnz: 30,
            inputs: &inputs,
        };
        let files = write_sweep_outputs(dir.path(), &result(), &corpus).unwrap();
        assert_eq!(files.len(), 3);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["recommended_k"], 4);
        assert_eq!(json["rows"].as_array().unwrap().len(), 3);
        assert!(
            json["rows"][0]["cophenetic"].is_null(),
            "NaN is written as null"
        );
        assert_eq!(json["corpus"]["inputs"][0], "<corpus>");
        let csv = std::fs::read_to_string(&files[1]).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], CSV_HEADER.join(","));
        assert_eq!(lines.len(), 4);
        assert!(lines[2].starts_with("4,2,1,2.5,2.75,") && lines[2].ends_with(",true"));
        assert!(lines[1].contains(",0.9,,") && lines[1].ends_with(",false"));
        let html = std::fs::read_to_string(&files[2]).unwrap();
        assert!(html.contains("&lt;corpus&gt;") || !html.contains("<corpus>"));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no network"
        );
        assert!(
            html.contains("class=\"mark\""),
            "the recommended k is marked"
        );
        assert!(html.contains("Stability") && html.contains("NPMI (documents)"));
        assert!(!html.contains("NaN"));
    }

    #[test]
    fn template_parses_and_values_format() {
        renderer().unwrap();
        assert_eq!(fmt_value(None), "–");
        assert_eq!(fmt_value(Some(f64::NAN)), "–");
        assert_eq!(fmt_value(Some(0.123456)), "0.1235");
        assert_eq!(fmt_value(Some(1234.6)), "1235");
        assert_eq!(fmt_value(Some(1e-5)), "1.000e-5");
    }
}
