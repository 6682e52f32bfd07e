//! A synthetic corpus with known topics, for tests and scaling benchmarks.
//!
//! The documents follow LDA's generative process over a vocabulary of made-up words:
//!
//! 1. **Vocabulary.** `vocabulary` pronounceable words of two to four consonant-vowel
//!    syllables (`bodaku`, `mirosa`), the last vowel `a`, `o` or `u`, drawn with a seeded
//!    random generator. No English suffix rule of the Snowball stemmer ends in those vowels, so
//!    the words survive the analyzer unchanged with or without stemming; every word is checked
//!    with the crate's own analyzer (English stopwords, stemming) and replaced when it would be
//!    dropped or changed. Word `r` of the list has Zipf weight `1 / (r + 2.7)^1.07`
//!    (Mandelbrot's shift; about what English text shows).
//! 2. **Topics.** Topic `t`'s word distribution φ_t is that Zipf law over its own seeded random
//!    permutation of the vocabulary, so each topic has its own head of frequent words. A shared
//!    background distribution (the Zipf law over the vocabulary in list order) stands for the
//!    words every subject uses: each token comes from it with probability `background`.
//! 3. **Documents.** Document `d` draws a main topic `z_d` uniformly and its mixture
//!    θ_d ~ Dirichlet(α + β·e_{z_d}) (α = `alpha` on every topic, plus `boost` on the main
//!    one), and a length from a log-normal law with median `median_len` and σ = `sigma_len`
//!    (clamped to 5..=5000 words; the mean is median·e^{σ²/2}, 100 for the defaults). Each
//!    token picks a topic from θ_d (or the background), then a word from it. The defaults
//!    (α = 0.01, β = 2) make most documents mostly about one topic (the main topic's expected
//!    share is (α + β) / (Kα + β), 0.87 for K = 30), as the sections of a real corpus are;
//!    smaller β or larger α mix them more.
//! 4. **Label.** The document's label is its dominant topic, argmax θ_d, written `t07`; its id
//!    `d0000042`.
//!
//! Output: JSON Lines, one `{"id", "label", "text"}` object per document, in document order.
//! Document `d` is generated from its own random stream (ChaCha8, stream `d` of the seed), so
//! the file is the same bytes for a given seed and options whatever the number of threads, and
//! a prefix of a larger corpus is the smaller corpus (`--docs 1000` gives the first 1,000
//! lines of `--docs 1000000` with the same seed and options).

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, LogNormal};
use rayon::prelude::*;

use nmf_topics::text::{Analyzer, AnalyzerConfig};

/// Options of the generator (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    /// Number of documents.
    pub docs: usize,
    /// Number of topics K.
    pub topics: usize,
    /// Number of distinct words.
    pub vocabulary: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Median document length in words.
    pub median_len: f64,
    /// σ of the log-normal document length.
    pub sigma_len: f64,
    /// Dirichlet concentration on every topic.
    pub alpha: f64,
    /// Extra concentration on the document's main topic.
    pub boost: f64,
    /// Share of tokens drawn from the shared background distribution.
    pub background: f64,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            docs: 10_000,
            topics: 30,
            vocabulary: 30_000,
            seed: 0,
            median_len: 88.0,
            sigma_len: 0.5,
            alpha: 0.01,
            boost: 2.0,
            background: 0.3,
        }
    }
}

/// Zipf exponent of the word distributions.
const ZIPF_EXPONENT: f64 = 1.07;
/// Mandelbrot's shift of the ranks.
const ZIPF_SHIFT: f64 = 2.7;
/// Documents generated per parallel block (then written in order).
const BLOCK: usize = 8192;

/// The fixed parts of a corpus: words, the Zipf law and the topics' permutations.
pub struct Synth {
    opts: SynthOptions,
    words: Vec<String>,
    /// Cumulative Zipf weights over ranks, normalized to end at 1.
    cdf: Vec<f64>,
    /// Per topic: rank → word index.
    topic_words: Vec<Vec<u32>>,
}

impl Synth {
    /// Draws the vocabulary and the topics. Errors: zero topics, documents or words, or
    /// parameters that are not positive numbers.
    pub fn new(opts: &SynthOptions) -> Result<Synth, String> {
        if opts.topics == 0 || opts.vocabulary < 2 {
            return Err("--topics must be at least 1 and --vocabulary at least 2".into());
        }
        let positive = [
            ("--median-len", opts.median_len),
            ("--alpha", opts.alpha),
            ("--sigma-len", opts.sigma_len + 1.0),
            ("--boost", opts.boost + 1.0),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} must be a positive number"));
            }
        }
        if !(0.0..1.0).contains(&opts.background) {
            return Err("--background must be in [0, 1)".into());
        }
        let words = make_words(opts.vocabulary, opts.seed)?;
        let mut cdf = Vec::with_capacity(words.len());
        let mut sum = 0.0;
        for r in 0..words.len() {
            sum += (r as f64 + ZIPF_SHIFT).powf(-ZIPF_EXPONENT);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        let topic_words = (0..opts.topics)
            .map(|t| {
                let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x5EED_0000_0000_0000);
                rng.set_stream(1 + t as u64);
                let mut perm: Vec<u32> = (0..words.len() as u32).collect();
                // Fisher-Yates with the topic's stream.
                for i in (1..perm.len()).rev() {
                    let j = rng.random_range(0..=i);
                    perm.swap(i, j);
                }
                perm
            })
            .collect();
        Ok(Synth {
            opts: opts.clone(),
            words,
            cdf,
            topic_words,
        })
    }

    /// The vocabulary, in background (Zipf) order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Topic `t`'s `n` most likely words.
    pub fn topic_top_words(&self, t: usize, n: usize) -> Vec<&str> {
        self.topic_words[t]
            .iter()
            .take(n)
            .map(|&w| self.words[w as usize].as_str())
            .collect()
    }

    /// A rank drawn from the Zipf law.
    fn zipf_rank(&self, rng: &mut ChaCha8Rng) -> usize {
        let u: f64 = rng.random();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }

    /// Document `d`'s JSON line (with its final newline) into `out`.
    pub fn document(&self, d: usize, out: &mut String) {
        let o = &self.opts;
        let k = o.topics;
        let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
        rng.set_stream(1 << 40 | d as u64);
        let main = rng.random_range(0..k);
        let mut theta = vec![0.0f64; k];
        let mut sum = 0.0;
        for (t, th) in theta.iter_mut().enumerate() {
            let shape = o.alpha + if t == main { o.boost } else { 0.0 };
            // Gamma(shape) with shape > 0 is always valid.
            let g = Gamma::new(shape, 1.0).map_or(0.0, |g| g.sample(&mut rng));
            *th = g;
            sum += g;
        }
        if sum <= 0.0 {
            theta[main] = 1.0;
            sum = 1.0;
        }
        let mut cum = 0.0;
        let mut label = 0;
        for t in 0..k {
            if theta[t] > theta[label] {
                label = t;
            }
            cum += theta[t] / sum;
            theta[t] = cum;
        }
        let len = LogNormal::new(o.median_len.ln(), o.sigma_len)
            .map_or(o.median_len, |l| l.sample(&mut rng))
            .round()
            .clamp(5.0, 5000.0) as usize;
        let width = (k - 1).to_string().len().max(2);
        out.push_str(&format!(
            "{{\"id\":\"d{d:07}\",\"label\":\"t{label:0width$}\",\"text\":\""
        ));
        for i in 0..len {
            let rank = self.zipf_rank(&mut rng);
            let word = if rng.random::<f64>() < o.background {
                rank
            } else {
                let u: f64 = rng.random();
                let t = theta.partition_point(|&c| c < u).min(k - 1);
                self.topic_words[t][rank] as usize
            };
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&self.words[word]);
        }
        out.push_str("\"}\n");
    }

    /// Writes every document to `w`, generated in parallel blocks and written in order;
    /// `progress` is called with the number of documents written after each block.
    pub fn write<W: Write>(
        &self,
        mut w: W,
        mut progress: impl FnMut(usize),
    ) -> std::io::Result<()> {
        let n = self.opts.docs;
        let mut start = 0;
        while start < n {
            let end = (start + BLOCK).min(n);
            let lines: Vec<String> = (start..end)
                .into_par_iter()
                .map(|d| {
                    let mut s = String::with_capacity(1024);
                    self.document(d, &mut s);
                    s
                })
                .collect();
            for l in &lines {
                w.write_all(l.as_bytes())?;
            }
            start = end;
            progress(start);
        }
        w.flush()
    }
}

/// `n` distinct made-up words, each kept unchanged by the English analyzer with stemming.
fn make_words(n: usize, seed: u64) -> Result<Vec<String>, String> {
    const CONSONANTS: &[u8] = b"bdfgklmnprstvz";
    const VOWELS: &[u8] = b"aeiou";
    const LAST_VOWELS: &[u8] = b"aou";
    let analyzer = Analyzer::new(&AnalyzerConfig::default()).map_err(|e| e.to_string())?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0DDC_0FFE_E000_0000);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut words = Vec::with_capacity(n);
    let mut attempts = 0usize;
    while words.len() < n {
        attempts += 1;
        if attempts > 50 * n + 1000 {
            return Err(format!("cannot make {n} distinct words"));
        }
        // Two syllables for the first few hundred words, longer ones after (frequent words
        // are short); four syllables give 14⁴·5³·3 ≈ 14M words, plenty.
        let syllables = match words.len() {
            0..300 => 2,
            300..20_000 => 3,
            _ => 4,
        };
        let mut w = String::with_capacity(2 * syllables);
        for s in 0..syllables {
            w.push(CONSONANTS[rng.random_range(0..CONSONANTS.len())] as char);
            let vowels = if s + 1 == syllables {
                LAST_VOWELS
            } else {
                VOWELS
            };
            w.push(vowels[rng.random_range(0..vowels.len())] as char);
        }
        if seen.contains(&w) || analyzer.terms(&w) != [w.clone()] {
            continue;
        }
        seen.insert(w.clone());
        words.push(w);
    }
    Ok(words)
}
