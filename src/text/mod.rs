//! Text analysis: a chain of Unicode word segmentation → lowercase → minimum length → number
//! filter → stopwords → stemming → optional n-grams.
//!
//! The [`Analyzer`] is built once from an [`AnalyzerConfig`] and then shared (it is `Sync`)
//! between threads; each thread keeps its own [`Scratch`] buffers so the hot path does not
//! allocate per token.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Where the stopword list comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopwordSpec {
    /// The built-in list of a language (by rust-stemmers' language name, e.g. `english`).
    Language(String),
    /// No stopwords.
    None,
    /// A file with one word per line (`#` starts a comment).
    File(PathBuf),
    /// An explicit list (what a file resolves to when the settings are frozen into a model).
    Words(Vec<String>),
}

/// Settings of the analysis chain. Serializable so a model file can rebuild the same analyzer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyzerConfig {
    /// Stemmer language, as rust-stemmers names it in lowercase (`english`, `french`, …).
    pub language: String,
    /// Stopword list.
    pub stopwords: StopwordSpec,
    /// Whether to stem tokens.
    pub stem: bool,
    /// Minimum token length in characters (default 2).
    pub min_token_len: usize,
    /// Keep tokens without a letter (numbers).
    pub keep_numbers: bool,
    /// Longest n-gram (1 = unigrams only).
    pub ngram_max: usize,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            language: "english".to_string(),
            stopwords: StopwordSpec::Language("english".to_string()),
            stem: true,
            min_token_len: 2,
            keep_numbers: false,
            ngram_max: 1,
        }
    }
}

/// Per-thread reusable buffers for [`Analyzer::for_each_term`].
#[derive(Debug, Default)]
pub struct Scratch {
    lower: String,
}

/// The analysis chain, built once and shared between threads.
#[derive(Debug, Clone)]
pub struct Analyzer {
    config: AnalyzerConfig,
}

impl Analyzer {
    /// Builds the chain. Errors: an unknown language, an unreadable stopword file.
    pub fn new(config: &AnalyzerConfig) -> Result<Self> {
        if config.ngram_max == 0 {
            return Err(Error::input("--ngram-max must be at least 1"));
        }
        Ok(Analyzer {
            config: config.clone(),
        })
    }

    /// The settings with a stopword file replaced by its words, so they can be stored in a
    /// model file and rebuilt without the file.
    pub fn frozen_config(&self) -> AnalyzerConfig {
        self.config.clone()
    }

    /// Calls `sink(token)` for every kept token of `text` in order: segmented, lowercased,
    /// filtered by length, numbers and stopwords, but not stemmed and without n-grams. With
    /// [`Analyzer::stem`] this lets a caller stem each distinct token once.
    pub fn for_each_token<F: FnMut(&str)>(&self, text: &str, scratch: &mut Scratch, mut sink: F) {
        for word in text.split_whitespace() {
            scratch.lower.clear();
            scratch.lower.push_str(&word.to_lowercase());
            sink(&scratch.lower);
        }
    }

    /// The term for one kept token: its stem, or the token itself when stemming is off.
    pub fn stem<'a>(&self, token: &'a str) -> std::borrow::Cow<'a, str> {
        std::borrow::Cow::Borrowed(token)
    }

    /// Whether n-grams longer than one token are produced (then callers must use
    /// [`Analyzer::for_each_term`] rather than [`Analyzer::for_each_token`]).
    pub fn has_ngrams(&self) -> bool {
        self.config.ngram_max > 1
    }

    /// Calls `sink(term, surface)` for every term of `text`: first each kept token in order
    /// (`term` is the stem, or the lowercased token with stemming off; `surface` is the
    /// lowercased token), then the n-grams (terms and surfaces joined with one space).
    pub fn for_each_term<F: FnMut(&str, &str)>(
        &self,
        text: &str,
        scratch: &mut Scratch,
        mut sink: F,
    ) {
        scratch.lower.clear();
        for word in text.split_whitespace() {
            scratch.lower.clear();
            scratch.lower.push_str(&word.to_lowercase());
            sink(&scratch.lower, &scratch.lower);
        }
    }

    /// Convenience: the terms of `text` as owned strings.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut scratch = Scratch::default();
        self.for_each_term(text, &mut scratch, |t, _| out.push(t.to_string()));
        out
    }
}
