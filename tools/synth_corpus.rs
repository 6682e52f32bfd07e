//! Writes a synthetic corpus with known topics as JSON Lines (see `tools/synth/generate.rs`
//! for the generative process): LDA over a Zipf-distributed vocabulary of made-up words, each
//! document labelled with its dominant generating topic.
//!
//! ```sh
//! cargo run --release --example synth_corpus -- --docs 100000 --topics 30 --seed 0 \
//!     --out data/synth-100k.jsonl
//! nmf-topics fit data/synth-100k.jsonl --label-field label --no-stem --min-df 5 -k 30 --out out
//! ```
//!
//! Options (defaults in brackets): `--docs N` [10000], `--topics K` [30], `--vocabulary V`
//! [30000], `--seed S` [0], `--median-len L` [88] and `--sigma-len S` [0.5] (log-normal
//! document lengths, mean ≈ 100 words), `--alpha A` [0.01] and `--boost B` [2.0] (Dirichlet
//! mixtures: α on every topic, α + B on the document's main topic), `--background P` [0.3]
//! (share of tokens from the shared background distribution), `--truth FILE` (also write each
//! topic's 20 most likely words, one topic per line), `--out FILE` (required; `-` for stdout).
//! Same options and seed ⇒ the same bytes, whatever the number of threads.

#[path = "synth/generate.rs"]
mod generate;

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use generate::{Synth, SynthOptions};

fn main() {
    if let Err(e) = run() {
        eprintln!("synth_corpus: error: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut opts = SynthOptions::default();
    let mut out: Option<PathBuf> = None;
    let mut truth: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("invalid value '{v}' for {name}"))
        }
        match a.as_str() {
            "--docs" => opts.docs = num(&a, value()?)?,
            "--topics" => opts.topics = num(&a, value()?)?,
            "--vocabulary" => opts.vocabulary = num(&a, value()?)?,
            "--seed" => opts.seed = num(&a, value()?)?,
            "--median-len" => opts.median_len = num(&a, value()?)?,
            "--sigma-len" => opts.sigma_len = num(&a, value()?)?,
            "--alpha" => opts.alpha = num(&a, value()?)?,
            "--boost" => opts.boost = num(&a, value()?)?,
            "--background" => opts.background = num(&a, value()?)?,
            "--out" => out = Some(PathBuf::from(value()?)),
            "--truth" => truth = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!(
                    "usage: synth_corpus --out FILE [--docs N] [--topics K] [--vocabulary V] \
                     [--seed S] [--median-len L] [--sigma-len S] [--alpha A] [--boost B] \
                     [--background P] [--truth FILE]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    let out = out.ok_or("--out FILE is required")?;
    let synth = Synth::new(&opts)?;
    let start = Instant::now();
    let to_stdout = out.as_os_str() == "-";
    let sink: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?)
    };
    let w = BufWriter::with_capacity(1 << 20, sink);
    let n = opts.docs;
    synth
        .write(w, |done| {
            if !to_stdout && done % (1 << 20) < 8192 {
                eprint!("\r{done}/{n} documents");
            }
        })
        .map_err(|e| format!("{}: {e}", out.display()))?;
    if let Some(path) = truth {
        let mut text = String::new();
        for t in 0..opts.topics {
            text.push_str(&synth.topic_top_words(t, 20).join(" "));
            text.push('\n');
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    eprintln!(
        "\rwrote {n} documents ({} topics, {} words) to {} in {:.1} s",
        opts.topics,
        synth.words().len(),
        out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
