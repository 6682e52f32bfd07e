//! Feature hashing (`--hash-features N`): columns from a hash of the term instead of a
//! vocabulary, for corpora whose vocabulary does not fit in memory.
//!
//! A term (the analyzed form: a stem, or stems joined by spaces for n-grams) goes to column
//! `|h| mod N`, where `h` is MurmurHash3 (x86, 32 bits, seed 0) of its UTF-8 bytes read as a
//! signed 32-bit integer: scikit-learn's `HashingVectorizer` and `FeatureHasher` assignment
//! exactly (`|−2³¹|` is taken as 2³¹, as there). The terms of one document that share a column
//! add their counts; with `alternate_sign` (scikit-learn's `alternate_sign=True`) a term whose
//! `h` is negative subtracts its count instead, so that collisions tend to cancel, and the
//! absolute value of each sum is kept (scikit-learn's former `non_negative=True`): the matrix
//! stays non-negative, as NMF needs. A sum of zero is not stored.
//!
//! Then everything is as without hashing, per column: `df` is the number of documents with a
//! stored entry in the column, the `min_df` / `max_df` / `max_features` rules keep columns
//! (`max_features` by the column's total, ties: the lower hash), the kept columns are numbered
//! in hash order, and tf-idf and the norms apply to the column counts. Each kept column is
//! described by the most frequent term hashed into it (its `stem`, which hashes back to the
//! column, so a model file needs nothing more) and its surface form, followed by `/` and the
//! surface form of the second most frequent term when that one is at least half as frequent
//! (its `surface`, for display: `graphics/plot` says the column mixes two words).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The hashing of terms to columns (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashFeatures {
    /// Number of hash buckets N (columns before the document-frequency filters).
    pub features: usize,
    /// Subtract the counts of the terms whose hash is negative (then keep absolute values).
    pub alternate_sign: bool,
}

/// Most buckets accepted (the per-thread tables hold a few numbers per bucket).
pub const MAX_HASH_FEATURES: usize = 1 << 22;

impl HashFeatures {
    /// Parses the value of `--hash-features`. Errors ([`Error::Input`], naming the option):
    /// not a whole number, 0, more than [`MAX_HASH_FEATURES`].
    pub fn parse_features(s: &str) -> Result<usize> {
        match s.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_HASH_FEATURES).contains(&n) => Ok(n),
            _ => Err(Error::input(format!(
                "invalid value '{s}' for --hash-features: expected a number of columns from 1 \
                 to {MAX_HASH_FEATURES} (such as 1048576 = 2^20)"
            ))),
        }
    }

    /// Checks the number of buckets (see [`HashFeatures::parse_features`]).
    pub fn check(&self) -> Result<()> {
        Self::parse_features(&self.features.to_string()).map(|_| ())
    }

    /// The bucket of `term` and whether its count is subtracted.
    #[inline]
    pub fn bucket(&self, term: &str) -> (u32, bool) {
        let (index, negative) = hashed_index(term, self.features);
        (index as u32, negative && self.alternate_sign)
    }
}

/// scikit-learn's column of `term` among `features` columns, and whether its hash is negative.
#[inline]
pub fn hashed_index(term: &str, features: usize) -> (usize, bool) {
    let h = murmurhash3_32(term.as_bytes(), 0) as i32;
    let index = (i64::from(h).unsigned_abs() % features as u64) as usize;
    (index, h < 0)
}

/// MurmurHash3, x86 32-bit variant (Austin Appleby's public-domain algorithm).
pub fn murmurhash3_32(key: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mix = |mut k: u32| {
        k = k.wrapping_mul(C1);
        k = k.rotate_left(15);
        k.wrapping_mul(C2)
    };
    let mut h = seed;
    let mut blocks = key.chunks_exact(4);
    for b in &mut blocks {
        h ^= mix(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        h = h.rotate_left(13);
        h = h.wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, &b) in tail.iter().enumerate() {
            k |= u32::from(b) << (8 * i);
        }
        h ^= mix(k);
    }
    h ^= key.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values from scikit-learn 1.9.1:
    /// `sklearn.utils.murmurhash3_32(word, seed=0)` (signed), and `HashingVectorizer(
    /// n_features=16, alternate_sign=False, norm=None, analyzer=lambda d: d)` on
    /// `["computer", "graphics", "graphics", "new york", "naïve"]`, which gave columns 13 (1),
    /// 10 (2), 0 (1) and 5 (1).
    #[test]
    fn hashes_and_columns_match_scikit_learn() {
        let expected: [(&str, i32); 12] = [
            ("", 0),
            ("a", 1009084850),
            ("ab", -1681926305),
            ("abc", -1277324294),
            ("abcd", 1139631978),
            ("abcde", -392455434),
            ("computer", 202639149),
            ("naïve", 992511445),
            ("new york", 773776832),
            ("graphics", 18406378),
            ("x86_64", 282502245),
            ("日本", -992347838),
        ];
        for (word, h) in expected {
            assert_eq!(murmurhash3_32(word.as_bytes(), 0) as i32, h, "{word:?}");
        }
        assert_eq!(hashed_index("computer", 16), (13, false));
        assert_eq!(hashed_index("graphics", 16), (10, false));
        assert_eq!(hashed_index("new york", 16), (0, false));
        assert_eq!(hashed_index("naïve", 16), (5, false));
        assert_eq!(hashed_index("ab", 1000), (305, true));
        let signed = HashFeatures {
            features: 1000,
            alternate_sign: true,
        };
        assert_eq!(signed.bucket("ab"), (305, true));
        let unsigned = HashFeatures {
            alternate_sign: false,
            ..signed
        };
        assert_eq!(unsigned.bucket("ab"), (305, false));
    }

    #[test]
    fn bad_bucket_counts_name_the_option() {
        for bad in ["0", "-3", "x", "1.5", "99999999999"] {
            let e = HashFeatures::parse_features(bad).unwrap_err().to_string();
            assert!(e.contains("--hash-features") && e.contains(bad), "{e}");
        }
        assert_eq!(HashFeatures::parse_features(" 1024 ").unwrap(), 1024);
    }
}
