//! Similarity between topics: cosine between rows of H, Jensen-Shannon divergence between the
//! normalized rows, and a 2-D classical multidimensional scaling of the Jensen-Shannon distances
//! √JSD for the intertopic map.

use nalgebra::DMatrix;
use ndarray::{Array2, ArrayView1, ArrayView2};

use super::{clean_weight, finite};

/// Cosine similarity between the rows of `h`: ⟨h_s, h_t⟩ / (‖h_s‖·‖h_t‖), in [0, 1] for
/// non-negative rows; 0 for any pair involving an all-zero row (its diagonal entry included).
pub fn cosine_similarity(h: ArrayView2<f64>) -> Array2<f64> {
    let k = h.nrows();
    let norms: Vec<f64> = h
        .rows()
        .into_iter()
        .map(|r| {
            r.iter()
                .map(|&v| clean_weight(v).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let mut out = Array2::zeros((k, k));
    for s in 0..k {
        for t in s..k {
            let denom = norms[s] * norms[t];
            let c = if denom > 0.0 && denom.is_finite() {
                let dot: f64 = h
                    .row(s)
                    .iter()
                    .zip(h.row(t).iter())
                    .map(|(&a, &b)| clean_weight(a) * clean_weight(b))
                    .sum();
                (dot / denom).clamp(0.0, 1.0)
            } else {
                0.0
            };
            out[[s, t]] = c;
            out[[t, s]] = c;
        }
    }
    out
}

/// Jensen-Shannon divergence with base-2 logarithms between two distributions:
/// JSD(p, q) = ½·Σ p·log₂(p/m) + ½·Σ q·log₂(q/m), m = (p + q)/2, with 0·log 0 = 0; in [0, 1].
/// A row that sums to 0 is not a distribution: JSD is 0 between two such rows and 1 between one
/// and a distribution.
pub fn js_divergence(p: ArrayView1<f64>, q: ArrayView1<f64>) -> f64 {
    let (sp, sq): (f64, f64) = (p.sum(), q.sum());
    match (sp > 0.0, sq > 0.0) {
        (false, false) => return 0.0,
        (true, false) | (false, true) => return 1.0,
        _ => {}
    }
    let mut total = 0.0;
    for (&a, &b) in p.iter().zip(q.iter()) {
        let (a, b) = (clean_weight(a), clean_weight(b));
        let m = 0.5 * (a + b);
        if a > 0.0 {
            total += 0.5 * a * (a / m).log2();
        }
        if b > 0.0 {
            total += 0.5 * b * (b / m).log2();
        }
    }
    if total.is_finite() {
        total.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// The matrix of [`js_divergence`] between the rows of `p` (rows already normalized).
pub fn js_divergence_matrix(p: ArrayView2<f64>) -> Array2<f64> {
    let k = p.nrows();
    let mut out = Array2::zeros((k, k));
    for s in 0..k {
        for t in (s + 1)..k {
            let d = js_divergence(p.row(s), p.row(t));
            out[[s, t]] = d;
            out[[t, s]] = d;
        }
    }
    out
}

/// Classical (Torgerson) multidimensional scaling to 2-D of a symmetric distance matrix `d`:
/// B = −½·J·D⁽²⁾·J with J = I − 𝟙𝟙ᵀ/k and D⁽²⁾ the squared distances; the coordinates are the
/// two leading eigenvectors of B scaled by √max(eigenvalue, 0). Each eigenvector's sign is
/// fixed so that its entry of largest magnitude is positive (lowest index on ties), so the map is
/// deterministic. Fewer than 2 points, or a failed eigendecomposition, give all zeros.
pub fn classical_mds(d: ArrayView2<f64>) -> Vec<[f64; 2]> {
    let k = d.nrows();
    let mut coords = vec![[0.0; 2]; k];
    if k < 2 || d.ncols() != k {
        return coords;
    }
    let sq = DMatrix::from_fn(k, k, |i, j| {
        let v = finite(0.5 * (d[[i, j]] + d[[j, i]]));
        v * v
    });
    let row_means: Vec<f64> = (0..k).map(|i| sq.row(i).sum() / k as f64).collect();
    let grand = row_means.iter().sum::<f64>() / k as f64;
    let b = DMatrix::from_fn(k, k, |i, j| {
        -0.5 * (sq[(i, j)] - row_means[i] - row_means[j] + grand)
    });
    let Some(eig) = nalgebra::SymmetricEigen::try_new(b, 1e-14, 100_000) else {
        return coords;
    };
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| {
        eig.eigenvalues[b]
            .total_cmp(&eig.eigenvalues[a])
            .then(a.cmp(&b))
    });
    for (axis, &e) in order.iter().take(2).enumerate() {
        let value = eig.eigenvalues[e];
        if !(value > 0.0 && value.is_finite()) {
            continue;
        }
        let scale = value.sqrt();
        let v = eig.eigenvectors.column(e);
        let mut pivot = 0;
        for i in 1..k {
            if v[i].abs() > v[pivot].abs() + 1e-12 {
                pivot = i;
            }
        }
        let sign = if v[pivot] < 0.0 { -1.0 } else { 1.0 };
        for i in 0..k {
            coords[i][axis] = finite(sign * v[i] * scale);
        }
    }
    coords
}

/// The 2-D intertopic map: [`classical_mds`] of the Jensen-Shannon distances √JSD between the
/// normalized rows `p` of H.
pub fn intertopic_map(p: ArrayView2<f64>) -> Vec<[f64; 2]> {
    let dist = js_divergence_matrix(p).mapv(|v| v.max(0.0).sqrt());
    classical_mds(dist.view())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    #[test]
    fn js_divergence_properties() {
        let p = array![0.5, 0.5, 0.0];
        let q = array![0.0, 0.5, 0.5];
        let d = js_divergence(p.view(), q.view());
        assert!((d - js_divergence(q.view(), p.view())).abs() < 1e-15);
        assert!((d - 0.5).abs() < 1e-12, "half the mass disjoint: {d}");
        assert_eq!(js_divergence(p.view(), p.view()), 0.0);
        let disjoint = js_divergence(array![1.0, 0.0].view(), array![0.0, 1.0].view());
        assert!((disjoint - 1.0).abs() < 1e-12);
        let zero = Array1::<f64>::zeros(3);
        assert_eq!(js_divergence(zero.view(), p.view()), 1.0);
        assert_eq!(js_divergence(zero.view(), zero.view()), 0.0);
    }

    #[test]
    fn cosine_handles_zero_rows() {
        let h = array![[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]];
        let c = cosine_similarity(h.view());
        assert!((c[[0, 0]] - 1.0).abs() < 1e-12);
        assert!((c[[0, 1]] - 0.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(c[[1, 0]], c[[0, 1]]);
        assert_eq!(c[[2, 2]], 0.0);
        assert_eq!(c[[2, 0]], 0.0);
    }

    #[test]
    fn mds_reproduces_points_on_a_line() {
        // points at 0, 1, 3
        let d = array![[0.0, 1.0, 3.0], [1.0, 0.0, 2.0], [3.0, 2.0, 0.0]];
        let xy = classical_mds(d.view());
        for i in 0..3 {
            for j in 0..3 {
                let dx = xy[i][0] - xy[j][0];
                let dy = xy[i][1] - xy[j][1];
                let dist = (dx * dx + dy * dy).sqrt();
                assert!((dist - d[[i, j]]).abs() < 1e-9, "{i},{j}: {dist}");
            }
            assert!(xy[i][1].abs() < 1e-6, "second axis unused");
        }
        // sign convention: the largest-magnitude entry of the first axis is positive
        assert!(xy[2][0] > 0.0);
        assert_eq!(classical_mds(array![[0.0]].view()), vec![[0.0, 0.0]]);
        let zeros = classical_mds(Array2::<f64>::zeros((3, 3)).view());
        assert!(zeros.iter().flatten().all(|v| *v == 0.0));
    }
}
