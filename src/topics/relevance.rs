//! Ranking a topic's terms by relevance (Sievert & Shirley 2014, pyLDAvis):
//!
//! ```text
//! relevance(w | t) = λ·ln p(w|t) + (1 − λ)·ln(p(w|t) / p(w))
//! ```
//!
//! λ = 1 ranks by weight, λ = 0 by lift over the corpus share p(w). The report's slider
//! re-ranks with the candidates of [`relevance_candidates`].

use std::cmp::Ordering;

use ndarray::ArrayView1;

use super::LAMBDA_STEPS;

/// p(w) for the relevance formula: the share itself, or for a column with no mass in X the
/// smallest positive share of the corpus (as if it were the rarest term), so the lift stays
/// finite. 1 when X has no mass at all (the lift is then p(w|t) itself).
pub(crate) fn share_or_floor(p_w: &[f64], w: usize) -> f64 {
    let v = p_w.get(w).copied().unwrap_or(0.0);
    if v > 0.0 {
        return v;
    }
    p_w.iter()
        .copied()
        .filter(|&s| s > 0.0)
        .min_by(f64::total_cmp)
        .unwrap_or(1.0)
}

/// relevance(w | t) = λ·ln p(w|t) + (1 − λ)·ln(p(w|t) / p(w)) for p(w|t) > 0 and p(w) > 0
/// (pyLDAvis's formula with natural logarithms).
pub fn relevance(p_wt: f64, p_w: f64, lambda: f64) -> f64 {
    let log_p = p_wt.ln();
    if lambda >= 1.0 {
        log_p
    } else {
        lambda * log_p + (1.0 - lambda) * (log_p - p_w.ln())
    }
}

/// The `n` terms with the highest relevance at `lambda` among those with p(w|t) > 0, best first
/// (ties: larger p(w|t), then lower column). At λ = 1 this is the order of the weights.
/// `p_wt` is a normalized row of H, `p_w` the corpus term share.
pub fn rank_terms(p_wt: ArrayView1<f64>, p_w: &[f64], lambda: f64, n: usize) -> Vec<usize> {
    rank_scored(&log_terms(p_wt, p_w), lambda, n)
}

/// (column, ln p(w|t), ln p(w|t) − ln p(w), p(w|t)) for each term with p(w|t) > 0, p(w)
/// floored as in [`share_or_floor`].
fn log_terms(p_wt: ArrayView1<f64>, p_w: &[f64]) -> Vec<(usize, f64, f64, f64)> {
    let floor = p_w
        .iter()
        .copied()
        .filter(|&s| s > 0.0)
        .min_by(f64::total_cmp)
        .unwrap_or(1.0);
    p_wt.iter()
        .enumerate()
        .filter(|&(_, &p)| p > 0.0)
        .map(|(w, &p)| {
            let share = p_w.get(w).copied().filter(|&s| s > 0.0).unwrap_or(floor);
            let log_p = p.ln();
            (w, log_p, log_p - share.ln(), p)
        })
        .collect()
}

/// The top `n` of [`log_terms`] by λ·ln p + (1 − λ)·lift (the same arithmetic as
/// [`relevance`], so the same bits).
fn rank_scored(terms: &[(usize, f64, f64, f64)], lambda: f64, n: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let mut scored: Vec<(usize, f64, f64)> = terms
        .iter()
        .map(|&(w, log_p, lift, p)| {
            let r = if lambda >= 1.0 {
                log_p
            } else {
                lambda * log_p + (1.0 - lambda) * lift
            };
            (w, r, p)
        })
        .collect();
    let cmp = |a: &(usize, f64, f64), b: &(usize, f64, f64)| -> Ordering {
        b.1.total_cmp(&a.1)
            .then(b.2.total_cmp(&a.2))
            .then(a.0.cmp(&b.0))
    };
    if scored.len() > n {
        scored.select_nth_unstable_by(n - 1, cmp);
        scored.truncate(n);
    }
    scored.sort_unstable_by(cmp);
    scored.into_iter().map(|(w, _, _)| w).collect()
}

/// The union over λ ∈ {0, 0.05, …, 1} of the top-`n` terms by relevance: every term that can
/// appear among the top `n` on the report's λ grid, in column order.
pub fn relevance_candidates(p_wt: ArrayView1<f64>, p_w: &[f64], n: usize) -> Vec<usize> {
    let terms = log_terms(p_wt, p_w);
    let mut all: Vec<usize> = (0..=LAMBDA_STEPS)
        .flat_map(|i| rank_scored(&terms, i as f64 / LAMBDA_STEPS as f64, n))
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn relevance_at_one_is_weight_order() {
        let p = array![0.1, 0.4, 0.2, 0.3];
        let share = vec![0.7, 0.1, 0.1, 0.1];
        assert_eq!(rank_terms(p.view(), &share, 1.0, 4), vec![1, 3, 2, 0]);
        // λ = 0 ranks by lift p(w|t)/p(w): 4, 3, 2, 0.14
        assert_eq!(rank_terms(p.view(), &share, 0.0, 2), vec![1, 3]);
        assert_eq!(rank_terms(p.view(), &share, 0.0, 4), vec![1, 3, 2, 0]);
        let share = vec![0.01, 0.6, 0.09, 0.3];
        assert_eq!(rank_terms(p.view(), &share, 0.0, 4), vec![0, 2, 3, 1]);
        // a term with zero weight is never listed
        let p = array![0.0, 1.0];
        assert_eq!(rank_terms(p.view(), &[0.5, 0.5], 0.5, 5), vec![1]);
        let r = relevance(0.2, 0.1, 0.6);
        assert!((r - (0.6 * 0.2f64.ln() + 0.4 * 2f64.ln())).abs() < 1e-12);
    }

    #[test]
    fn ranking_agrees_with_the_formula() {
        let p = array![0.05, 0.3, 0.15, 0.2, 0.0, 0.3];
        let share = vec![0.01, 0.5, 0.1, 0.2, 0.1, 0.0];
        for lambda in [0.0, 0.35, 0.6, 1.0] {
            let ranked = rank_terms(p.view(), &share, lambda, 10);
            assert_eq!(ranked.len(), 5, "the zero-weight term is left out");
            let r: Vec<f64> = ranked
                .iter()
                .map(|&w| relevance(p[w], share_or_floor(&share, w), lambda))
                .collect();
            assert!(r.windows(2).all(|x| x[0] >= x[1]), "λ={lambda}: {r:?}");
            assert!(r.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn candidates_cover_the_lambda_grid() {
        let p = array![0.5, 0.2, 0.15, 0.15];
        let share = vec![0.9, 0.05, 0.03, 0.02];
        let c = relevance_candidates(p.view(), &share, 1);
        assert!(c.contains(&0), "top by weight");
        assert!(c.contains(&3), "top by lift (0.15/0.02 = 7.5)");
        for i in 0..=LAMBDA_STEPS {
            let top = rank_terms(p.view(), &share, i as f64 / 20.0, 1);
            assert!(c.contains(&top[0]));
        }
    }
}
