//! Agreement between the documents' dominant topics and their labels (for corpora whose
//! documents come with a class, such as the subfolders of `corpora/sample`).
//!
//! Only documents with both a dominant topic and a label count; n is their number. With
//! n_cl the number of counted documents in topic (cluster) c with label l, n_c = Σ_l n_cl,
//! n_l = Σ_c n_cl and q the number of distinct labels:
//!
//! ```text
//! purity  = (1/n) Σ_c max_l n_cl                                        (nimfa's Nmf.purity)
//! entropy = −1/(n·log₂ q) Σ_c Σ_l n_cl·log₂(n_cl / n_c)                 (nimfa's Nmf.entropy)
//! NMI     = I(C; L) / ((H(C) + H(L)) / 2)                               (arithmetic mean, sklearn's default)
//!   I(C; L) = Σ_cl (n_cl/n)·ln(n·n_cl / (n_c·n_l)),  H(C) = −Σ_c (n_c/n)·ln(n_c/n)
//! ARI     = (Σ_cl C(n_cl,2) − S_c·S_l / C(n,2)) / ((S_c + S_l)/2 − S_c·S_l / C(n,2))
//!   S_c = Σ_c C(n_c,2),  S_l = Σ_l C(n_l,2)                             (Hubert & Arabie 1985)
//! ```
//!
//! Purity is in (0, 1] and entropy in [0, 1] (lower is better; 0 when every topic holds one
//! label); 0·log 0 = 0, and the entropy is 0 when there is a single label (nimfa would divide by
//! log₂ 1 = 0). NMI is in [0, 1]; it is 1 when both partitions are a single group (as sklearn),
//! and otherwise 0 when either is (the mutual information is then 0). ARI is 1 for identical
//! partitions, about 0 for independent ones and may be negative; it is 1 when the two
//! partitions put no pair of documents differently (sklearn's special case, which covers n ≤ 1).
//!
//! References: J. Kim, H. Park, *Sparse nonnegative matrix factorization for clustering*,
//! Georgia Tech TR GT-CSE-08-01, 2008 (purity and entropy as nimfa implements them);
//! C. D. Manning, P. Raghavan, H. Schütze, *Introduction to Information Retrieval*, ch. 16.3
//! (purity, NMI); L. Hubert, P. Arabie, *Comparing partitions*, J. Classification 2, 1985 (ARI).

use std::collections::BTreeMap;

use serde::Serialize;

/// Agreement of the dominant topics with the labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelAgreement {
    /// Documents counted (those with a dominant topic and a label).
    pub documents: usize,
    /// Distinct labels among them.
    pub labels: usize,
    /// Distinct dominant topics among them.
    pub topics: usize,
    /// Purity, in (0, 1].
    pub purity: f64,
    /// Entropy, in [0, 1], lower is better.
    pub entropy: f64,
    /// Normalized mutual information (arithmetic normalization), in [0, 1].
    pub nmi: f64,
    /// Adjusted Rand index, ≤ 1.
    pub ari: f64,
}

/// The contingency table n_cl of two partitions given as one group id per item.
struct Table {
    n: f64,
    cells: Vec<u64>,
    rows: Vec<u64>,
    cols: Vec<u64>,
}

impl Table {
    fn new(a: &[usize], b: &[usize]) -> Self {
        let na = a.iter().max().map_or(0, |&v| v + 1);
        let nb = b.iter().max().map_or(0, |&v| v + 1);
        let mut cells = vec![0u64; na * nb];
        let (mut rows, mut cols) = (vec![0u64; na], vec![0u64; nb]);
        for (&x, &y) in a.iter().zip(b) {
            cells[x * nb + y] += 1;
            rows[x] += 1;
            cols[y] += 1;
        }
        Table {
            n: a.len() as f64,
            cells,
            rows,
            cols,
        }
    }
}

fn entropy_nats(counts: &[u64], n: f64) -> f64 {
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.ln()
        })
        .sum()
}

fn pairs(c: u64) -> f64 {
    let c = c as f64;
    c * (c - 1.0) / 2.0
}

/// Normalized mutual information of two partitions (one group id per item, ids need not be
/// contiguous but should be small), arithmetic normalization; see the module documentation.
pub fn normalized_mutual_information(a: &[usize], b: &[usize]) -> f64 {
    assert_eq!(a.len(), b.len(), "two partitions of the same items");
    let t = Table::new(a, b);
    let used = |v: &[u64]| v.iter().filter(|&&c| c > 0).count();
    let (ka, kb) = (used(&t.rows), used(&t.cols));
    if (ka == 1 && kb == 1) || a.is_empty() {
        return 1.0;
    }
    let nb = t.cols.len();
    let mut mi = 0.0;
    for (x, &rx) in t.rows.iter().enumerate() {
        for (y, &cy) in t.cols.iter().enumerate() {
            let c = t.cells[x * nb + y];
            if c > 0 {
                let c = c as f64;
                mi += c / t.n * (t.n * c / (rx as f64 * cy as f64)).ln();
            }
        }
    }
    let norm = 0.5 * (entropy_nats(&t.rows, t.n) + entropy_nats(&t.cols, t.n));
    (mi.max(0.0) / norm.max(f64::EPSILON)).clamp(0.0, 1.0)
}

/// Adjusted Rand index of two partitions; see the module documentation.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    assert_eq!(a.len(), b.len(), "two partitions of the same items");
    let t = Table::new(a, b);
    let same_both: f64 = t.cells.iter().map(|&c| pairs(c)).sum();
    let sa: f64 = t.rows.iter().map(|&c| pairs(c)).sum();
    let sb: f64 = t.cols.iter().map(|&c| pairs(c)).sum();
    let all = t.n * (t.n - 1.0) / 2.0;
    // pairs put differently: together in one partition only
    if sa == same_both && sb == same_both {
        return 1.0;
    }
    let expected = sa * sb / all;
    (same_both - expected) / (0.5 * (sa + sb) - expected)
}

/// Purity of the clusters `c` against the classes `l` (nimfa's definition).
pub fn purity(c: &[usize], l: &[usize]) -> f64 {
    assert_eq!(c.len(), l.len(), "two partitions of the same items");
    if c.is_empty() {
        return 1.0;
    }
    let t = Table::new(c, l);
    let nb = t.cols.len();
    let best: u64 = (0..t.rows.len())
        .map(|x| {
            t.cells[x * nb..(x + 1) * nb]
                .iter()
                .copied()
                .max()
                .unwrap_or(0)
        })
        .sum();
    best as f64 / t.n
}

/// Entropy of the clusters `c` against the classes `l` (nimfa's definition, in [0, 1]).
pub fn entropy(c: &[usize], l: &[usize]) -> f64 {
    assert_eq!(c.len(), l.len(), "two partitions of the same items");
    let t = Table::new(c, l);
    let q = t.cols.iter().filter(|&&v| v > 0).count();
    if q <= 1 {
        return 0.0;
    }
    let nb = t.cols.len();
    let mut sum = 0.0;
    for (x, &nc) in t.rows.iter().enumerate() {
        for &ncl in &t.cells[x * nb..(x + 1) * nb] {
            if ncl > 0 {
                sum += ncl as f64 * (ncl as f64 / nc as f64).log2();
            }
        }
    }
    (-sum / (t.n * (q as f64).log2())).max(0.0)
}

/// The agreement of `dominant` topics with `labels` (both one entry per document), over the
/// documents that have both; `None` when no document has both.
pub fn label_agreement(
    dominant: &[Option<usize>],
    labels: &[Option<&str>],
) -> Option<LabelAgreement> {
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for l in labels.iter().flatten() {
        let next = ids.len();
        ids.entry(l).or_insert(next);
    }
    let (mut c, mut l) = (Vec::new(), Vec::new());
    for (d, lab) in dominant.iter().zip(labels) {
        if let (Some(t), Some(lab)) = (d, lab) {
            c.push(*t);
            l.push(ids[lab]);
        }
    }
    if c.is_empty() {
        return None;
    }
    let distinct = |v: &[usize]| {
        let mut s = v.to_vec();
        s.sort_unstable();
        s.dedup();
        s.len()
    };
    Some(LabelAgreement {
        documents: c.len(),
        labels: distinct(&l),
        topics: distinct(&c),
        purity: purity(&c, &l),
        entropy: entropy(&c, &l),
        nmi: normalized_mutual_information(&c, &l),
        ari: adjusted_rand_index(&c, &l),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Manning, Raghavan & Schütze, Introduction to Information Retrieval, figure 16.4:
    /// three clusters of 17 documents over the classes x (0), o (1) and ◇ (2).
    fn iir_example() -> (Vec<usize>, Vec<usize>) {
        let clusters = [
            (0, [5, 1, 0]), // cluster 1: 5 x, 1 o
            (1, [1, 4, 1]), // cluster 2: 1 x, 4 o, 1 ◇
            (2, [2, 0, 3]), // cluster 3: 2 x, 3 ◇
        ];
        let (mut c, mut l) = (Vec::new(), Vec::new());
        for (cluster, counts) in clusters {
            for (class, &n) in counts.iter().enumerate() {
                for _ in 0..n {
                    c.push(cluster);
                    l.push(class);
                }
            }
        }
        (c, l)
    }

    #[test]
    fn textbook_values() {
        let (c, l) = iir_example();
        // IIR: purity = (5 + 4 + 3)/17 ≈ 0.71, NMI ≈ 0.36
        assert!((purity(&c, &l) - 12.0 / 17.0).abs() < 1e-15);
        let nmi = normalized_mutual_information(&c, &l);
        assert!((nmi - 0.36).abs() < 0.005, "{nmi}");
        // IIR's Rand index 0.68 from TP = 20, FP = 20, FN = 24, TN = 72; the adjusted index
        // from the same counts: (Σ C(n_cl,2) = 20, S_c = 40, S_l = 44, C(17,2) = 136)
        let expected = 40.0 * 44.0 / 136.0;
        let want = (20.0 - expected) / (0.5 * (40.0 + 44.0) - expected);
        assert!((adjusted_rand_index(&c, &l) - want).abs() < 1e-12);
        assert!((want - 0.2429).abs() < 1e-4, "{want}");
        // nimfa's entropy by hand
        let h = |counts: &[f64]| {
            let n: f64 = counts.iter().sum();
            counts
                .iter()
                .filter(|&&v| v > 0.0)
                .map(|&v| v * (v / n).log2())
                .sum::<f64>()
        };
        let want = -(h(&[5.0, 1.0]) + h(&[1.0, 4.0, 1.0]) + h(&[2.0, 3.0])) / (17.0 * 3f64.log2());
        assert!((entropy(&c, &l) - want).abs() < 1e-12);
    }

    #[test]
    fn perfect_and_degenerate_partitions() {
        let a = [0, 0, 1, 1, 2];
        let relabeled = [2, 2, 0, 0, 1];
        assert_eq!(purity(&a, &relabeled), 1.0);
        assert_eq!(entropy(&a, &relabeled), 0.0);
        assert!((normalized_mutual_information(&a, &relabeled) - 1.0).abs() < 1e-12);
        assert!((adjusted_rand_index(&a, &relabeled) - 1.0).abs() < 1e-12);
        // one group against one group
        assert_eq!(normalized_mutual_information(&[0, 0], &[3, 3]), 1.0);
        assert_eq!(adjusted_rand_index(&[0, 0], &[3, 3]), 1.0);
        // one group against several: no information
        assert_eq!(normalized_mutual_information(&[0, 0, 0], &[0, 1, 2]), 0.0);
        assert_eq!(adjusted_rand_index(&[0, 0, 0, 0], &[0, 0, 1, 1]), 0.0);
        assert_eq!(entropy(&[0, 1], &[5, 5]), 0.0);
        assert_eq!(adjusted_rand_index(&[0], &[1]), 1.0);
    }

    #[test]
    fn agreement_skips_unlabeled_and_empty_documents() {
        let dominant = [Some(0), Some(0), None, Some(1), Some(1)];
        let labels = [Some("a"), Some("a"), Some("b"), None, Some("b")];
        let g = label_agreement(&dominant, &labels).unwrap();
        assert_eq!((g.documents, g.labels, g.topics), (3, 2, 2));
        assert_eq!(g.purity, 1.0);
        assert!(label_agreement(&dominant, &[None; 5]).is_none());
    }
}
