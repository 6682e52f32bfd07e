//! The two-pass streaming vectorizer on its own: pass 1 learns the vocabulary
//! ([`Vocabulary::learn`], document frequencies only), pass 2 reads the inputs again and hands
//! the CSR rows over block by block ([`RowStreamer`]), as a mini-batch solver would consume
//! them. Prints the shape, the number of stored entries, a checksum of the weights and the
//! time of each pass; the matrix is never held, so the peak memory is the vocabulary, the ids
//! and one block.
//!
//! ```sh
//! cargo run --release --example stream_rows -- data/synth-1m.jsonl --no-stem --min-df 5
//! /usr/bin/time -v target/release/examples/stream_rows data/synth-1m.jsonl --no-stem --min-df 5
//! ```
//!
//! Options: `--no-stem`, `--min-df N`, `--hash-features N`; inputs as for `nmf-topics`.

use std::time::Instant;

use nmf_topics::corpus::{CorpusOptions, Source};
use nmf_topics::text::{Analyzer, AnalyzerConfig};
use nmf_topics::vectorize::{DfBound, HashFeatures, RowStreamer, VectorizeOptions, Vocabulary};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut inputs = Vec::new();
    let mut config = AnalyzerConfig::default();
    let mut opts = VectorizeOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--no-stem" => config.stem = false,
            "--min-df" => {
                opts.min_df = DfBound::parse_option("--min-df", &args.next().unwrap_or_default())?
            }
            "--hash-features" => {
                opts.hash = Some(HashFeatures {
                    features: HashFeatures::parse_features(&args.next().unwrap_or_default())?,
                    alternate_sign: false,
                })
            }
            _ => inputs.push(a.into()),
        }
    }
    let analyzer = Analyzer::new(&config)?;
    let start = Instant::now();
    let source = Source::open(&inputs, &CorpusOptions::default())?;
    let (vocabulary, corpus) = Vocabulary::learn(source, &analyzer, &opts, &mut |_| {})?;
    let pass1 = start.elapsed().as_secs_f64();
    eprintln!("{}", corpus.summary());
    let rows = RowStreamer::new(&vocabulary, &analyzer);
    let (mut n_rows, mut nnz, mut sum, mut blocks) = (0usize, 0usize, 0.0f64, 0usize);
    rows.stream(&corpus, |block| {
        n_rows += block.rows();
        nnz += block.indices.len();
        sum += block.data.iter().sum::<f64>();
        blocks += 1;
        Ok(())
    })?;
    println!(
        "{n_rows} documents × {} terms, {nnz} nonzeros (expected {}), {blocks} blocks, sum of \
         weights {sum:.6}; pass 1 {pass1:.2} s, pass 2 {:.2} s",
        vocabulary.terms.len(),
        vocabulary.nnz(),
        start.elapsed().as_secs_f64() - pass1
    );
    Ok(())
}
