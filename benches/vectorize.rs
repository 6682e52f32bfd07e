//! Benchmarks of analysis + vectorizing (`nmf_topics::vectorize::vectorize`) and of the Matrix
//! Market writer and reader, on a seeded synthetic corpus.
//!
//! The corpus: documents of 60 words drawn from a Zipf-like distribution (exponent 1) over a
//! vocabulary of 30,000 made-up words with English-like endings (so the stemmer has work to
//! do), a few capitalized and followed by punctuation. Sizes are swept from 1,000 to 20,000
//! documents. Run with `cargo bench --bench vectorize`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nmf_topics::corpus::Document;
use nmf_topics::text::{Analyzer, AnalyzerConfig, StopwordSpec};
use nmf_topics::vectorize::{vectorize, DfBound, VectorizeOptions};

const VOCABULARY: usize = 30_000;
const WORDS_PER_DOC: usize = 60;

/// xorshift64*: a small seeded generator, so the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Made-up words: a consonant-vowel stem and an English-like ending.
fn make_vocabulary(rng: &mut Rng) -> Vec<String> {
    const ONSETS: &[&str] = &[
        "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "st", "tr", "pl",
        "gr", "ch", "sh",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ea", "ou"];
    const ENDINGS: &[&str] = &[
        "", "", "", "s", "ing", "ed", "er", "ation", "ness", "ly", "ment", "ers",
    ];
    let mut words = std::collections::BTreeSet::new();
    while words.len() < VOCABULARY {
        let mut w = String::new();
        for _ in 0..2 + rng.next() % 2 {
            w.push_str(ONSETS[(rng.next() % ONSETS.len() as u64) as usize]);
            w.push_str(VOWELS[(rng.next() % VOWELS.len() as u64) as usize]);
        }
        w.push_str(ENDINGS[(rng.next() % ENDINGS.len() as u64) as usize]);
        words.insert(w);
    }
    let mut words: Vec<String> = words.into_iter().collect();
    // Shuffle so that frequency does not follow alphabetical order.
    for i in (1..words.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        words.swap(i, j);
    }
    words
}

/// `n_docs` documents of Zipf-distributed words (rank r has weight 1/r).
fn make_corpus(n_docs: usize) -> Vec<Document> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let vocab = make_vocabulary(&mut rng);
    let mut cumulative = Vec::with_capacity(VOCABULARY);
    let mut total = 0.0;
    for r in 1..=VOCABULARY {
        total += 1.0 / r as f64;
        cumulative.push(total);
    }
    (0..n_docs)
        .map(|i| {
            let mut text = String::with_capacity(WORDS_PER_DOC * 9);
            for k in 0..WORDS_PER_DOC {
                let u = rng.unit() * total;
                let r = cumulative.partition_point(|&c| c < u).min(VOCABULARY - 1);
                let w = &vocab[r];
                if k % 12 == 0 {
                    let mut cs = w.chars();
                    if let Some(c) = cs.next() {
                        text.extend(c.to_uppercase());
                        text.push_str(cs.as_str());
                    }
                } else {
                    text.push_str(w);
                }
                text.push_str(if k % 9 == 8 { ". " } else { " " });
            }
            Document {
                id: format!("doc{i:06}.txt"),
                label: None,
                text,
                path: None,
            }
        })
        .collect()
}

fn bench_vectorize(c: &mut Criterion) {
    let opts = VectorizeOptions {
        min_df: DfBound::Count(5),
        max_df: DfBound::Fraction(0.95),
        ..VectorizeOptions::default()
    };
    let stemmed = Analyzer::new(&AnalyzerConfig::default()).expect("default analyzer");
    let unstemmed = Analyzer::new(&AnalyzerConfig {
        stem: false,
        ..AnalyzerConfig::default()
    })
    .expect("analyzer without stemming");
    let bare = Analyzer::new(&AnalyzerConfig {
        stem: false,
        stopwords: StopwordSpec::None,
        ..AnalyzerConfig::default()
    })
    .expect("bare analyzer");

    let mut group = c.benchmark_group("vectorize");
    group.sample_size(10);
    for n_docs in [1_000, 5_000, 20_000] {
        let docs = make_corpus(n_docs);
        group.throughput(Throughput::Elements((n_docs * WORDS_PER_DOC) as u64));
        for (name, analyzer) in [
            ("stem", &stemmed),
            ("no-stem", &unstemmed),
            ("no-stopwords", &bare),
        ] {
            group.bench_with_input(BenchmarkId::new(name, n_docs), &docs, |b, docs| {
                b.iter(|| vectorize(black_box(docs), analyzer, &opts).expect("vectorize"))
            });
        }
    }
    group.finish();
}

fn bench_matrix_market(c: &mut Criterion) {
    let docs = make_corpus(20_000);
    let analyzer = Analyzer::new(&AnalyzerConfig::default()).expect("default analyzer");
    let (m, _) = vectorize(&docs, &analyzer, &VectorizeOptions::default()).expect("vectorize");
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("matrix.mtx");
    let mut group = c.benchmark_group("matrix_market");
    group.sample_size(10);
    group.throughput(Throughput::Elements(m.x.nnz() as u64));
    group.bench_function("write_coordinate", |b| {
        b.iter(|| nmf_topics::mtx::write_coordinate(&path, black_box(&m.x)).expect("write"))
    });
    group.bench_function("read_sparse", |b| {
        b.iter(|| nmf_topics::mtx::read_sparse(black_box(&path)).expect("read"))
    });
    group.finish();
}

criterion_group!(benches, bench_vectorize, bench_matrix_market);
criterion_main!(benches);
