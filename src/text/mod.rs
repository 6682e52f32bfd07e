//! Text analysis: a chain of Unicode word segmentation → lowercase → minimum length → number
//! filter → stopwords → stemming → optional n-grams.
//!
//! The [`Analyzer`] is built once from an [`AnalyzerConfig`] and then shared (it is `Send` and
//! `Sync`) between threads; each thread keeps its own [`Scratch`] buffers so the hot path does
//! not allocate per token.
//!
//! # The chain, step by step
//!
//! 1. **Segmentation**: [`UnicodeSegmentation::unicode_words`] (UAX #29 word boundaries). It
//!    keeps `don't`, `it's`, `l'homme`, `3.14` and `mp3` as one word each, splits
//!    `state-of-the-art` at the hyphens, yields every Han ideograph and Hiragana character as a
//!    word of its own, and never yields punctuation or emoji.
//! 2. **Lowercase** into the reused [`Scratch`] buffer: an ASCII fast path, the full Unicode
//!    lowercase mapping otherwise (with a word-final Greek `Σ` written `ς`). The typographic
//!    apostrophes `’` (U+2019), `ʼ` (U+02BC) and `＇` (U+FF07) are written as `'`.
//! 3. **Apostrophes**, by language: English drops a possessive `'s` (`computer's` →
//!    `computer`, `it's` → `it`); French and Italian drop an elided article, pronoun or
//!    preposition (`l'homme` → `homme`, `dell'anno` → `anno`). Other contractions stay whole
//!    (`don't`), and the English stopword list contains them.
//! 4. **Minimum length**: tokens shorter than `min_token_len` *characters* are dropped, except
//!    ideographic tokens (Han, Hiragana): the segmenter yields those one character at a time, so
//!    a length limit would delete all Chinese and most Japanese text.
//! 5. **Numbers**: tokens without an alphabetic character (`2024`, `3.14`) are dropped unless
//!    `keep_numbers`; tokens mixing letters and digits (`mp3`, `x86_64`) always stay.
//! 6. **Stopwords**, compared with the lowercased token before stemming.
//! 7. **Stemming** with rust-stemmers' Snowball stemmer for `language` (or the token itself
//!    with `stem: false`).
//! 8. **N-grams** up to `ngram_max`, built from the kept tokens: terms join stems, surfaces join
//!    tokens, with one space. An n-gram never spans a removed word (a stopword, a too-short
//!    token, a dropped number) nor a sentence or clause break (see [`Analyzer::for_each_term`]),
//!    so in "the new york times" (with `the` a stopword) the bigrams are `new york` and
//!    `york times`, while "york and times" gives no `york times`.
//!
//! Text is not Unicode-normalized: a decomposed `é` (`e` + U+0301) is a different token from
//! the composed one. Lowercasing is language-independent (Turkish dotless `ı` is not special).

pub mod stopwords;
pub mod stopwords_sklearn;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

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
    /// Stemmer language, as rust-stemmers names it in lowercase (`english`, `french`, …; see
    /// [`LANGUAGES`]).
    pub language: String,
    /// Stopword list.
    pub stopwords: StopwordSpec,
    /// Whether to stem tokens.
    pub stem: bool,
    /// Minimum token length in characters (default 2). Ideographic tokens are exempt.
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

/// The languages the analyzer knows (rust-stemmers' names, lowercase). Each has a stemmer and a
/// built-in stopword list.
pub const LANGUAGES: &[&str] = stopwords::LANGUAGES;

/// The rust-stemmers algorithm for a lowercase language name, if there is one.
pub fn algorithm(language: &str) -> Option<Algorithm> {
    Some(match language {
        "arabic" => Algorithm::Arabic,
        "danish" => Algorithm::Danish,
        "dutch" => Algorithm::Dutch,
        "english" => Algorithm::English,
        "finnish" => Algorithm::Finnish,
        "french" => Algorithm::French,
        "german" => Algorithm::German,
        "greek" => Algorithm::Greek,
        "hungarian" => Algorithm::Hungarian,
        "italian" => Algorithm::Italian,
        "norwegian" => Algorithm::Norwegian,
        "portuguese" => Algorithm::Portuguese,
        "romanian" => Algorithm::Romanian,
        "russian" => Algorithm::Russian,
        "spanish" => Algorithm::Spanish,
        "swedish" => Algorithm::Swedish,
        "tamil" => Algorithm::Tamil,
        "turkish" => Algorithm::Turkish,
        _ => return None,
    })
}

/// Names of the built-in stopword lists besides the languages: `nltk` is NLTK's English list.
pub const EXTRA_STOPWORD_LISTS: &[&str] = &["nltk"];

/// The built-in stopword list called `name` (lowercase): a language of [`LANGUAGES`] (its
/// NLTK list, except `english`: scikit-learn's 318 words, [`stopwords_sklearn::ENGLISH`], the
/// list users compare with `TfidfVectorizer(stop_words="english")`) or one of
/// [`EXTRA_STOPWORD_LISTS`] (`nltk`: NLTK's 198 English words).
pub fn builtin_stopwords(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "english" => Some(stopwords_sklearn::ENGLISH),
        "nltk" => stopwords::builtin("english"),
        other => stopwords::builtin(other),
    }
}

/// Every name [`builtin_stopwords`] knows, for messages: `english, nltk, arabic, …`.
pub fn stopword_list_names() -> String {
    let mut names: Vec<&str> = vec!["english", "nltk"];
    names.extend(LANGUAGES.iter().copied().filter(|l| *l != "english"));
    names.join(", ")
}

impl StopwordSpec {
    /// Reads the value of `--stopwords`: `none`, the name of a built-in list (compared without
    /// regard to case), or else the path of a file. A name always means the built-in list, even
    /// when a file of that name exists in the working directory: write `./english` for the
    /// file. Without a value, the built-in list of `language` (when it has one).
    ///
    /// Errors ([`Error::Input`], naming `--stopwords`): a value that is neither a list's name
    /// nor an existing file.
    pub fn from_option(value: Option<&str>, language: &str) -> Result<StopwordSpec> {
        let Some(value) = value else {
            return Ok(StopwordSpec::Language(language.to_lowercase()));
        };
        let name = value.trim().to_lowercase();
        if name == "none" {
            return Ok(StopwordSpec::None);
        }
        if builtin_stopwords(&name).is_some() {
            return Ok(StopwordSpec::Language(name));
        }
        let path = PathBuf::from(value);
        if !path.exists() {
            return Err(Error::input(format!(
                "--stopwords {value}: no such file, and not a built-in list (none, {})",
                stopword_list_names()
            )));
        }
        Ok(StopwordSpec::File(path))
    }
}

/// Reads a stopword file: one word per line, `#` starts a comment (to the end of the line),
/// blank lines are skipped, words are trimmed and normalized like tokens (lowercase, `’` → `'`).
/// The result is sorted and deduplicated. Errors name the file and `--stopwords`.
pub fn read_stopword_file(path: &Path) -> Result<Vec<String>> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::input(format!(
            "--stopwords: cannot read stopword file '{}': {e}",
            path.display()
        ))
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        Error::input(format!(
            "--stopwords: stopword file '{}' is not valid UTF-8 ({e})",
            path.display()
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut words: Vec<String> = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|w| !w.is_empty())
        .map(normalize_word)
        .collect();
    words.sort();
    words.dedup();
    Ok(words)
}

/// Lowercases a stopword the way tokens are lowercased.
fn normalize_word(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    lowercase_into(word, &mut out);
    out
}

/// Hashing for the stopword set and the stem cache: rustc's fast non-cryptographic FxHash
/// (keys are the corpus' own words, so hash flooding is not a concern).
type FxBuild = rustc_hash::FxBuildHasher;

/// A set of stopwords with a cheap pre-filter: most tokens are rejected by their byte length
/// and first byte before any hashing. `masks[min(len, 31)]` has bit `first_byte mod 64` set
/// for every stopword of that length, so a clear bit proves the token is not a stopword.
#[derive(Debug, Clone, Default)]
struct StopSet {
    /// Per byte length (capped at 31), the first bytes of the stopwords, as a 64-bit mask.
    masks: [u64; 32],
    /// The stopwords.
    words: HashSet<Box<str>, FxBuild>,
}

impl StopSet {
    fn new(words: Vec<String>) -> Self {
        let mut set = StopSet::default();
        for w in words {
            if let Some(&b) = w.as_bytes().first() {
                set.masks[w.len().min(31)] |= 1u64 << (b & 63);
                set.words.insert(w.into_boxed_str());
            }
        }
        set
    }

    #[inline]
    fn contains(&self, word: &str) -> bool {
        let Some(&b) = word.as_bytes().first() else {
            return false;
        };
        self.masks[word.len().min(31)] & (1u64 << (b & 63)) != 0 && self.words.contains(word)
    }

    fn len(&self) -> usize {
        self.words.len()
    }
}

/// How apostrophes inside a word are treated (step 3 of the chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApostropheRule {
    /// Leave words with apostrophes as they are.
    Keep,
    /// Drop a trailing possessive `'s` (English).
    Possessive,
    /// Drop a leading elided word such as `l'` or `qu'` (French).
    FrenchElision,
    /// Drop a leading elided word such as `l'`, `dell'` or `un'` (Italian).
    ItalianElision,
}

/// French elided words (before the apostrophe).
const FRENCH_ELISIONS: &[&str] = &[
    "c", "d", "j", "jusqu", "l", "lorsqu", "m", "n", "puisqu", "qu", "quoiqu", "s", "t",
];

/// Italian elided words (before the apostrophe).
const ITALIAN_ELISIONS: &[&str] = &[
    "all", "bell", "c", "coll", "d", "dall", "dell", "l", "m", "nell", "pell", "quell", "quest",
    "s", "sull", "t", "tutt", "un", "v",
];

impl ApostropheRule {
    fn for_language(language: &str) -> Self {
        match language {
            "english" => ApostropheRule::Possessive,
            "french" => ApostropheRule::FrenchElision,
            "italian" => ApostropheRule::ItalianElision,
            _ => ApostropheRule::Keep,
        }
    }

    /// Applies the rule to a lowercased token in place (no allocation).
    #[inline]
    fn apply(self, token: &mut String) {
        match self {
            ApostropheRule::Keep => {}
            ApostropheRule::Possessive => {
                if token.len() > 2 && token.ends_with("'s") {
                    token.truncate(token.len() - 2);
                }
            }
            ApostropheRule::FrenchElision | ApostropheRule::ItalianElision => {
                let list = if self == ApostropheRule::FrenchElision {
                    FRENCH_ELISIONS
                } else {
                    ITALIAN_ELISIONS
                };
                if let Some(i) = token.find('\'') {
                    if i + 1 < token.len() && list.contains(&&token[..i]) {
                        token.drain(..=i);
                    }
                }
            }
        }
    }
}

/// Byte classes for the ASCII fast path of [`lowercase_into`]: bit flags per byte value.
const NON_ASCII: u8 = 1;
/// An ASCII capital letter.
const UPPER: u8 = 2;
/// An ASCII apostrophe `'`.
const APOSTROPHE: u8 = 4;
/// An ASCII letter.
const LETTER: u8 = 8;
/// An ASCII letter, digit or `_` (a byte of a word for [`for_each_segmented_word`]).
const CORE: u8 = 16;

/// [`NON_ASCII`] | [`UPPER`] | [`APOSTROPHE`] | [`LETTER`] | [`CORE`] for each byte value.
static BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b >= 0x80 {
            NON_ASCII
        } else if b.is_ascii_uppercase() {
            UPPER | LETTER
        } else if b.is_ascii_lowercase() {
            LETTER
        } else if b == b'\'' {
            APOSTROPHE
        } else {
            0
        } | if b.is_ascii_alphanumeric() || b == b'_' {
            CORE
        } else {
            0
        };
        i += 1;
    }
    t
};

/// What [`lowercase_into`] learned about a word on the way.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// The word is ASCII (so bytes = characters).
    ascii: bool,
    /// The lowercased word contains `'`.
    apostrophe: bool,
    /// The word contains an ASCII letter (only meaningful when `ascii`).
    letter: bool,
}

/// Lowercases `word` onto the end of `out`: ASCII fast path (one classification pass and a
/// copy), full Unicode mapping otherwise, typographic apostrophes written as `'`, and a
/// word-final `Σ` written as `ς`.
#[inline]
fn lowercase_into(word: &str, out: &mut String) -> Shape {
    let mut flags = 0u8;
    for &b in word.as_bytes() {
        flags |= BYTE_CLASS[b as usize];
    }
    if flags & NON_ASCII == 0 {
        let start = out.len();
        out.push_str(word);
        if flags & UPPER != 0 {
            out[start..].make_ascii_lowercase();
        }
        return Shape {
            ascii: true,
            apostrophe: flags & APOSTROPHE != 0,
            letter: flags & LETTER != 0,
        };
    }
    let mut apostrophe = false;
    for c in word.chars() {
        match c {
            '\'' | '\u{2019}' | '\u{02bc}' | '\u{ff07}' => {
                apostrophe = true;
                out.push('\'');
            }
            c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            c => out.extend(c.to_lowercase()),
        }
    }
    // Greek: a capital sigma at the end of a word of several letters is a final sigma.
    if word.ends_with('Σ') && word.chars().nth(1).is_some() && out.ends_with('σ') {
        out.truncate(out.len() - 'σ'.len_utf8());
        out.push('ς');
    }
    Shape {
        ascii: false,
        apostrophe,
        letter: false,
    }
}

/// Whether `c` is a character the segmenter yields one at a time (Han ideographs, Hiragana,
/// the iteration and closing marks 々〆〇): such tokens are exempt from the minimum length.
#[inline]
fn is_ideographic(c: char) -> bool {
    matches!(c as u32,
        0x3005..=0x3007 | 0x3040..=0x309f | 0x3400..=0x4dbf | 0x4e00..=0x9fff
        | 0xf900..=0xfaff | 0x20000..=0x3134f)
}

/// Whether the gap between two words (the text between them) ends a sentence or a clause, so
/// that no n-gram spans it: `.`, `,`, `;`, `:`, `!`, `?`, brackets, double quotes, `…`, `|`,
/// their CJK full-width forms, or a blank line (two line feeds).
#[inline]
fn gap_breaks(gap: &str) -> bool {
    let mut newlines = 0;
    for c in gap.chars() {
        match c {
            '.' | ',' | ';' | ':' | '!' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '"' | '|'
            | '«' | '»' | '“' | '”' | '„' | '…' | '¡' | '¿' | '。' | '，' | '、' | '；' | '：'
            | '！' | '？' | '（' | '）' | '「' | '」' | '\u{2029}' => return true,
            '\n' => {
                newlines += 1;
                if newlines >= 2 {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Calls `sink` for every word of `text`, exactly as [`UnicodeSegmentation::unicode_words`]
/// yields them, with a faster path for ASCII text (the common case).
///
/// For ASCII text the UAX #29 rules reduce to: a word is a maximal run of *core* bytes (ASCII
/// letters, digits, `_`) that may also contain, between two core bytes, `.` `,` `;` `'` with a
/// digit on both sides (WB11/WB12) or `'` `.` `:` with a letter on both sides (WB6/WB7); every
/// other byte is a segment of its own, and `unicode_words` keeps only the segments holding a
/// letter or digit. Here the bytes outside runs are skipped in a tight loop instead of being
/// yielded one at a time and filtered out. A unit test compares the two on random text.
#[inline]
fn for_each_segmented_word<'a, F: FnMut(&'a str)>(text: &'a str, mut sink: F) {
    if !text.is_ascii() {
        for word in text.unicode_words() {
            sink(word);
        }
        return;
    }
    let b = text.as_bytes();
    let n = b.len();
    let mut i = 0;
    while i < n {
        if BYTE_CLASS[b[i] as usize] & CORE == 0 {
            i += 1;
            continue;
        }
        let start = i;
        let mut alnum = b[i] != b'_';
        i += 1;
        while i < n {
            let c = b[i];
            if BYTE_CLASS[c as usize] & CORE != 0 {
                alnum |= c != b'_';
                i += 1;
            } else if i + 1 < n && ascii_infix(c, b[i - 1], b[i + 1]) {
                i += 1;
            } else {
                break;
            }
        }
        if alnum {
            // The run starts and ends on ASCII bytes, so these are character boundaries.
            sink(&text[start..i]);
        }
    }
}

/// Whether the ASCII byte `c` between `prev` and `next` stays inside a word (WB6/WB7,
/// WB11/WB12; see [`for_each_segmented_word`]).
#[inline]
fn ascii_infix(c: u8, prev: u8, next: u8) -> bool {
    match c {
        b'.' | b',' | b';' | b'\'' if prev.is_ascii_digit() && next.is_ascii_digit() => true,
        b'\'' | b'.' | b':' if prev.is_ascii_alphabetic() && next.is_ascii_alphabetic() => true,
        _ => false,
    }
}

/// Per-thread reusable buffers for [`Analyzer::for_each_token`] and
/// [`Analyzer::for_each_term`]. Create one per thread with `Scratch::default()` and reuse it for
/// every document; it keeps a small cache of stems for the n-gram path (cleared when the scratch
/// is used with another analyzer, and when it grows past [`Scratch::STEM_CACHE_LIMIT`]).
#[derive(Debug, Default)]
pub struct Scratch {
    /// The current token, lowercased.
    lower: String,
    /// Ring of the last `ngram_max` kept tokens: (term, surface).
    window: Vec<(String, String)>,
    /// Joined n-gram term.
    term: String,
    /// Joined n-gram surface.
    surface: String,
    /// Token → stem, for the n-gram path.
    stems: HashMap<Box<str>, Box<str>, FxBuild>,
    /// The [`Analyzer::id`] the stem cache belongs to.
    owner: u64,
}

impl Scratch {
    /// Most entries the per-thread stem cache holds before it is cleared.
    pub const STEM_CACHE_LIMIT: usize = 1 << 18;
}

/// Source of analyzer ids, so a [`Scratch`] can tell whose stems it caches.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The analysis chain, built once and shared between threads.
#[derive(Debug, Clone)]
pub struct Analyzer {
    /// The settings, with a stopword file resolved into its words.
    config: AnalyzerConfig,
    /// The stemming algorithm, `None` when stemming is off.
    algorithm: Option<Algorithm>,
    /// The stopwords, lowercased.
    stopwords: StopSet,
    /// Step 3 of the chain.
    apostrophes: ApostropheRule,
    /// Identity for [`Scratch`]'s stem cache (clones share it: they analyze identically).
    id: u64,
}

impl Analyzer {
    /// Builds the chain. Errors ([`Error::Input`]): an unknown language (for stemming or for the
    /// built-in stopwords), an unreadable stopword file, `ngram_max` of 0.
    pub fn new(config: &AnalyzerConfig) -> Result<Self> {
        if config.ngram_max == 0 {
            return Err(Error::input("--ngram-max must be at least 1"));
        }
        let Some(alg) = algorithm(&config.language) else {
            return Err(Error::input(format!(
                "unknown --language '{}': expected one of {}",
                config.language,
                LANGUAGES.join(", ")
            )));
        };
        let (spec, words): (StopwordSpec, Vec<String>) = match &config.stopwords {
            StopwordSpec::None => (StopwordSpec::None, Vec::new()),
            StopwordSpec::Language(lang) => {
                let Some(list) = builtin_stopwords(lang) else {
                    return Err(Error::input(format!(
                        "unknown --stopwords list '{lang}': expected none, a file, or one of {}",
                        stopword_list_names()
                    )));
                };
                (
                    config.stopwords.clone(),
                    list.iter().map(|w| w.to_string()).collect(),
                )
            }
            StopwordSpec::File(path) => {
                let words = read_stopword_file(path)?;
                (StopwordSpec::Words(words.clone()), words)
            }
            StopwordSpec::Words(list) => (
                config.stopwords.clone(),
                list.iter().map(|w| normalize_word(w.trim())).collect(),
            ),
        };
        let stopwords = StopSet::new(words);
        let mut frozen = config.clone();
        frozen.stopwords = spec;
        Ok(Analyzer {
            apostrophes: ApostropheRule::for_language(&config.language),
            algorithm: config.stem.then_some(alg),
            config: frozen,
            stopwords,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// The settings with a stopword file replaced by its words, so they can be stored in a
    /// model file and rebuilt without the file.
    pub fn frozen_config(&self) -> AnalyzerConfig {
        self.config.clone()
    }

    /// Whether `word` (lowercased) is a stopword of this analyzer.
    pub fn is_stopword(&self, word: &str) -> bool {
        self.stopwords.contains(word)
    }

    /// Number of stopwords in use.
    pub fn stopword_count(&self) -> usize {
        self.stopwords.len()
    }

    /// Steps 2-6 of the chain for one segmented word: writes the normalized token into `out`
    /// and says whether it is kept.
    #[inline]
    fn normalize(&self, word: &str, out: &mut String) -> bool {
        out.clear();
        let shape = lowercase_into(word, out);
        if shape.apostrophe {
            self.apostrophes.apply(out);
        }
        let min = self.config.min_token_len;
        if shape.ascii {
            if out.len() < min.max(1) || (!self.config.keep_numbers && !shape.letter) {
                return false;
            }
            // The possessive rule may have removed the only letters ("x's" → "x" is still
            // caught by the length test; "1's" → "1" needs this re-check).
            if shape.apostrophe
                && !self.config.keep_numbers
                && !out.bytes().any(|b| b.is_ascii_alphabetic())
            {
                return false;
            }
        } else {
            if out.is_empty() {
                return false;
            }
            if min > 1 && out.chars().take(min).count() < min && !out.chars().all(is_ideographic) {
                return false;
            }
            if !self.config.keep_numbers && !out.chars().any(char::is_alphabetic) {
                return false;
            }
        }
        !self.stopwords.contains(out.as_str())
    }

    /// Calls `sink(token)` for every kept token of `text` in order: segmented, lowercased,
    /// filtered by length, numbers and stopwords, but not stemmed and without n-grams. With
    /// [`Analyzer::stem`] this lets a caller stem each distinct token once.
    pub fn for_each_token<F: FnMut(&str)>(&self, text: &str, scratch: &mut Scratch, mut sink: F) {
        for_each_segmented_word(text, |word| {
            if self.normalize(word, &mut scratch.lower) {
                sink(&scratch.lower);
            }
        });
    }

    /// Calls `sink(word)` for every word of `text` in order, as segmented (step 1 of the
    /// chain), before any normalization. With [`Analyzer::token_of_word`] this gives exactly
    /// the tokens of [`Analyzer::for_each_token`], and lets a caller normalize each distinct
    /// word once: the token depends only on the word and the analyzer.
    pub fn for_each_word<F: FnMut(&str)>(&self, text: &str, sink: F) {
        for_each_segmented_word(text, sink);
    }

    /// Steps 2-6 of the chain for one word from [`Analyzer::for_each_word`]: the token
    /// (lowercased, apostrophes handled, written into `scratch`), or `None` when the word is
    /// dropped (too short, a number, a stopword).
    pub fn token_of_word<'s>(&self, word: &str, scratch: &'s mut Scratch) -> Option<&'s str> {
        self.normalize(word, &mut scratch.lower)
            .then_some(scratch.lower.as_str())
    }

    /// The term for one kept token: its stem, or the token itself when stemming is off.
    /// Allocates only when the stem differs from the token.
    pub fn stem<'a>(&self, token: &'a str) -> Cow<'a, str> {
        match self.algorithm {
            Some(alg) => Stemmer::create(alg).stem(token),
            None => Cow::Borrowed(token),
        }
    }

    /// Whether n-grams longer than one token are produced (then callers must use
    /// [`Analyzer::for_each_term`] rather than [`Analyzer::for_each_token`]).
    pub fn has_ngrams(&self) -> bool {
        self.config.ngram_max > 1
    }

    /// Calls `sink(term, surface)` for every term of `text`. For each kept token in order: first
    /// the token itself (`term` is the stem, or the lowercased token with stemming off;
    /// `surface` is the lowercased token), then the n-grams of 2..=`ngram_max` tokens that end
    /// at it (terms and surfaces joined with one space).
    ///
    /// An n-gram only joins tokens that follow each other in the text with nothing removed in
    /// between: a stopword or a dropped token (too short, a number) breaks the sequence, and so
    /// does a sentence or clause break between two words (`.`, `,`, `;`, `:`, `!`, `?`, brackets,
    /// double quotes, a blank line). Hyphens and single line breaks do not.
    ///
    /// Stems are cached in `scratch`, so repeated tokens cost a hash lookup, not a stemmer run
    /// and an allocation.
    pub fn for_each_term<F: FnMut(&str, &str)>(
        &self,
        text: &str,
        scratch: &mut Scratch,
        mut sink: F,
    ) {
        if scratch.owner != self.id {
            scratch.stems.clear();
            scratch.owner = self.id;
        }
        let n = self.config.ngram_max;
        if scratch.window.len() < n {
            scratch.window.resize_with(n, Default::default);
        }
        // `run` = number of consecutive kept tokens ending at the current one (capped at n),
        // `pos` = the ring slot of the current token.
        let mut run = 0usize;
        let mut pos = 0usize;
        let mut prev_end = 0usize;
        for (start, word) in text.unicode_word_indices() {
            let broken = n > 1 && run > 0 && gap_breaks(&text[prev_end..start]);
            prev_end = start + word.len();
            if broken {
                run = 0;
            }
            if !self.normalize(word, &mut scratch.lower) {
                run = 0;
                continue;
            }
            pos = (pos + 1) % n;
            let Scratch {
                lower,
                window,
                term,
                surface,
                stems,
                ..
            } = scratch;
            let slot = &mut window[pos];
            slot.0.clear();
            slot.1.clear();
            slot.1.push_str(lower);
            match self.algorithm {
                None => slot.0.push_str(lower),
                Some(alg) => {
                    if let Some(stem) = stems.get(lower.as_str()) {
                        slot.0.push_str(stem);
                    } else {
                        let stem = Stemmer::create(alg).stem(lower);
                        slot.0.push_str(&stem);
                        if stems.len() >= Scratch::STEM_CACHE_LIMIT {
                            stems.clear();
                        }
                        stems.insert(lower.as_str().into(), stem.as_ref().into());
                    }
                }
            }
            sink(&slot.0, &slot.1);
            run = (run + 1).min(n);
            for len in 2..=run {
                term.clear();
                surface.clear();
                for k in (0..len).rev() {
                    let (t, s) = &window[(pos + n - k) % n];
                    if !term.is_empty() {
                        term.push(' ');
                        surface.push(' ');
                    }
                    term.push_str(t);
                    surface.push_str(s);
                }
                sink(term, surface);
            }
        }
    }

    /// Convenience: the terms of `text` as owned strings, in [`Analyzer::for_each_term`] order.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut scratch = Scratch::default();
        self.for_each_term(text, &mut scratch, |t, _| out.push(t.to_string()));
        out
    }
}

#[cfg(test)]
mod tests;
