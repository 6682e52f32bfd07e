//! The document-term matrix type of the library: CSR with `f64` values, **`u32` column
//! indices** and `usize` row pointers ([`Matrix`], a `sprs` matrix). Four-byte column indices
//! hold any vocabulary (and any `--hash-features` width) up to 2³² terms and take 12 bytes per
//! stored entry instead of 16; the row pointers stay `usize`, so the number of stored entries
//! is not bounded by them.
//!
//! A matrix with `usize` indices (`sprs::CsMat<f64>`) converts with [`from_usize`] (an error
//! when its indices do not fit). Every reader and builder of the library (the vectorizers, the
//! Matrix Market reader) makes 32-bit indices directly.

use sprs::{CsMat, CsMatI, TriMatI};

/// The column-index type of the library's sparse matrices.
pub type Idx = u32;

/// A sparse matrix of the library: `f64` values, `u32` column (CSR) or row (CSC) indices,
/// `usize` pointers.
pub type Matrix = CsMatI<f64, Idx, usize>;

/// Triplets that build a [`Matrix`]: `add_triplet(row, col, value)`, then
/// `to_csr::<usize>()` (or `to_csc`).
pub type Triplets = TriMatI<f64, Idx>;

/// The most columns (CSR) or rows (CSC) a [`Matrix`]'s inner indices can address: 2³².
pub const MAX_INNER: usize = Idx::MAX as usize + 1;

/// A `usize`-indexed matrix as a [`Matrix`] (its indices narrowed to `u32`; the values and
/// pointers moved, not copied). Errors when the inner dimension (CSR: columns) exceeds
/// [`MAX_INNER`].
pub fn from_usize(x: CsMat<f64>) -> Result<Matrix, String> {
    let shape = x.shape();
    let csr = x.is_csr();
    let inner = if csr { shape.1 } else { shape.0 };
    if inner > MAX_INNER {
        return Err(format!(
            "the matrix has {inner} {}, more than the {MAX_INNER} that 32-bit indices address",
            if csr { "columns" } else { "rows" }
        ));
    }
    let (indptr, indices, data) = x.into_raw_storage();
    let indices: Vec<Idx> = indices.into_iter().map(|j| j as Idx).collect();
    Ok(if csr {
        Matrix::new(shape, indptr, indices, data)
    } else {
        Matrix::new_csc(shape, indptr, indices, data)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usize_matrices_convert_with_the_same_entries() {
        let mut t = sprs::TriMat::new((3, 4));
        t.add_triplet(0, 3, 1.5);
        t.add_triplet(2, 0, 2.0);
        t.add_triplet(2, 2, 0.5);
        let x: CsMat<f64> = t.to_csr();
        let y = from_usize(x.clone()).unwrap();
        assert_eq!(y.shape(), (3, 4));
        assert_eq!(y.indptr().raw_storage(), x.indptr().raw_storage());
        assert_eq!(y.indices(), &[3, 0, 2]);
        assert_eq!(y.data(), x.data());
        let c = from_usize(x.to_csc()).unwrap();
        assert!(c.is_csc());
        assert_eq!(c.to_csr().indices(), &[3, 0, 2]);
    }
}
