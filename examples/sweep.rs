//! Runs a sweep over k on a folder of documents and prints each k's measures and the wall time
//! of every phase: reading + vectorizing, the token streams of the window NPMI, the shared SVD,
//! the fits and the measures. The README's sweep benchmark runs `nmf-topics sweep` itself
//! (its `sweep.json` has the same phase timings); this example adds `--kernels`, to compare the
//! fits side by side with one fit at a time on the parallel kernels:
//!
//! ```sh
//! cargo run --release --example sweep -- data/debian 5..40:5 3 --min-df 5 --max-df 0.95 --kernels
//! ```
//!
//! Options after the three positional arguments: `--min-df N`, `--max-df F`, `--seed S`,
//! `--kernels` (one fit at a time with parallel kernels instead of fits side by side),
//! `--out DIR` (write sweep.json, sweep.csv and sweep.html there).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use nmf_topics::corpus::{self, CorpusOptions};
use nmf_topics::sweep::output::{write_sweep_outputs, SweepCorpus};
use nmf_topics::sweep::{sweep, KRange, Parallelism, SweepInput, SweepOptions};
use nmf_topics::text::{Analyzer, AnalyzerConfig};
use nmf_topics::topics::quality::TokenStreams;
use nmf_topics::vectorize::{self, DfBound, VectorizeOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: sweep FOLDER K_RANGE RESTARTS [--min-df N] [--max-df F] [--seed S] [--kernels] [--out DIR]");
        std::process::exit(2);
    }
    let folder = PathBuf::from(&args[0]);
    let ks = KRange::parse(&args[1])?;
    let restarts: usize = args[2].parse()?;
    let mut vo = VectorizeOptions::default();
    let mut opts = SweepOptions::new(ks, restarts);
    let mut out = None;
    let mut rest = args[3..].iter();
    while let Some(a) = rest.next() {
        let mut value = || rest.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--min-df" => vo.min_df = DfBound::parse_option("--min-df", &value()?)?,
            "--max-df" => vo.max_df = DfBound::parse_option("--max-df", &value()?)?,
            "--seed" => opts.params.seed = value()?.parse()?,
            "--kernels" => opts.parallelism = Parallelism::Kernels,
            "--out" => out = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown option {other}").into()),
        }
    }

    let t = Instant::now();
    let c = corpus::load(std::slice::from_ref(&folder), &CorpusOptions::default())?;
    let analyzer = Analyzer::new(&AnalyzerConfig::default())?;
    let (dtm, _) = vectorize::vectorize(&c.documents, &analyzer, &vo)?;
    let vectorizing = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let streams = TokenStreams::from_documents(&c.documents, &analyzer, &dtm.terms)?;
    let streaming = t.elapsed().as_secs_f64();
    let labels: Vec<Option<&str>> = dtm.documents.iter().map(|d| d.label.as_deref()).collect();
    let input = SweepInput {
        x: &dtm.x,
        streams: Some(&streams),
        labels: Some(&labels),
    };
    let result = sweep(&input, &opts, &|_| {}, &AtomicBool::new(false))?;

    println!(
        "{} documents × {} terms, {} nonzeros; {} stored tokens; {} fits side by side",
        dtm.x.rows(),
        dtm.x.cols(),
        dtm.x.nnz(),
        streams.stored(),
        result.parallel_fits
    );
    println!(" k  objective   expl.var  UMass    NPMI    c_NPMI  divers.  stabil.  coph.   NMI    iter  seconds");
    for r in &result.rows {
        let o = |v: Option<f64>| v.map_or("     –".to_string(), |v| format!("{v:7.4}"));
        println!(
            "{:2}  {:10.4}  {:7.4}  {}  {}  {}  {}  {}  {}  {}  {:4}  {:7.2}",
            r.k,
            r.objective,
            r.explained_variance,
            o(r.umass),
            o(r.npmi),
            o(r.c_npmi),
            o(r.diversity),
            o(r.stability),
            o(r.cophenetic),
            o(r.labels.as_ref().map(|l| l.nmi)),
            r.iterations,
            r.seconds
        );
    }
    let t = &result.timing;
    let measuring = t.measuring + streaming;
    let total = vectorizing + streaming + t.total;
    println!("recommended k: {:?}", result.recommended);
    println!(
        "seconds: vectorizing {vectorizing:.2}, svd {:.2}, fitting {:.2}, measuring {measuring:.2} \
         (token streams {streaming:.2} + measures {:.2}), total {total:.2}; measuring {:.1}% of the total",
        t.svd,
        t.fitting,
        t.measuring,
        100.0 * measuring / total
    );
    if let Some(dir) = out {
        let inputs = vec![folder.display().to_string()];
        let corpus = SweepCorpus {
            documents: dtm.x.rows(),
            terms: dtm.x.cols(),
            nnz: dtm.x.nnz(),
            inputs: &inputs,
        };
        for p in write_sweep_outputs(&dir, &result, &corpus)? {
            println!("wrote {}", p.display());
        }
    }
    Ok(())
}
