//! CSR matrices as the kernels see them: a borrowed [`CsrRef`], an owned [`Csr`], and the
//! transpose by counting sort.

use super::simd::PREFETCH_AHEAD;
pub use crate::matrix::Idx;

/// A borrowed CSR matrix: row `i` has the column indices `indices[indptr[i]..indptr[i+1]]` and
/// the values `data[indptr[i]..indptr[i+1]]`.
#[derive(Debug, Clone, Copy)]
pub struct CsrRef<'a> {
    /// Number of rows.
    pub nrows: usize,
    /// Number of columns.
    pub ncols: usize,
    /// Row pointers, `nrows + 1` entries, starting at 0.
    pub indptr: &'a [usize],
    /// Column index of each stored entry.
    pub indices: &'a [Idx],
    /// Value of each stored entry.
    pub data: &'a [f64],
}

impl<'a> CsrRef<'a> {
    /// Borrows CSR arrays after checking their consistency (lengths, monotone row pointers,
    /// column indices in range).
    ///
    /// # Panics
    /// If the arrays are inconsistent.
    #[track_caller]
    pub fn new(
        nrows: usize,
        ncols: usize,
        indptr: &'a [usize],
        indices: &'a [Idx],
        data: &'a [f64],
    ) -> Self {
        assert_eq!(
            indptr.len(),
            nrows + 1,
            "CSR: indptr must have nrows + 1 entries"
        );
        assert_eq!(indptr[0], 0, "CSR: indptr must start at 0");
        assert!(
            indptr.windows(2).all(|w| w[0] <= w[1]),
            "CSR: indptr must be non-decreasing"
        );
        let nnz = indptr[nrows];
        assert!(
            indices.len() == nnz && data.len() == nnz,
            "CSR: indices and data must have indptr[nrows] = {nnz} entries"
        );
        assert!(
            indices.iter().all(|&j| (j as usize) < ncols),
            "CSR: a column index is out of range"
        );
        CsrRef {
            nrows,
            ncols,
            indptr,
            indices,
            data,
        }
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indptr[self.nrows]
    }

    /// The column indices and values of row `i`.
    #[inline(always)]
    pub fn row(&self, i: usize) -> (&'a [Idx], &'a [f64]) {
        let (s, e) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[s..e], &self.data[s..e])
    }

    /// The column indices of row `i` followed by up to [`PREFETCH_AHEAD`] indices of the next
    /// rows, so that a loop over the row can prefetch across the row's end.
    #[inline(always)]
    pub(crate) fn row_ahead(&self, i: usize) -> &'a [Idx] {
        let (s, e) = (self.indptr[i], self.indptr[i + 1]);
        &self.indices[s..(e + PREFETCH_AHEAD).min(self.indptr[self.nrows])]
    }
}

/// An owned CSR matrix (X converted from CSC input, or a transposed copy).
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    /// Number of rows.
    pub nrows: usize,
    /// Number of columns.
    pub ncols: usize,
    /// Row pointers (`nrows + 1` entries).
    pub indptr: Vec<usize>,
    /// Column indices.
    pub indices: Vec<Idx>,
    /// Values.
    pub data: Vec<f64>,
}

impl Csr {
    /// Borrows the matrix.
    pub fn view(&self) -> CsrRef<'_> {
        CsrRef {
            nrows: self.nrows,
            ncols: self.ncols,
            indptr: &self.indptr,
            indices: &self.indices,
            data: &self.data,
        }
    }
}

/// The CSR form of Xᵀ (a counting sort over the columns, `O(nnz + ncols)`, sequential). Within
/// each row of the result the column indices are increasing.
pub fn csr_transpose(x: CsrRef<'_>) -> Csr {
    let nnz = x.nnz();
    let mut indptr = vec![0usize; x.ncols + 1];
    for &j in &x.indices[..nnz] {
        indptr[j as usize + 1] += 1;
    }
    for j in 0..x.ncols {
        indptr[j + 1] += indptr[j];
    }
    let mut next = indptr.clone();
    let mut indices: Vec<Idx> = vec![0; nnz];
    let mut data = vec![0.0; nnz];
    for i in 0..x.nrows {
        let (cols, vals) = x.row(i);
        for (&j, &v) in cols.iter().zip(vals) {
            let j = j as usize;
            let p = next[j];
            indices[p] = i as Idx;
            data[p] = v;
            next[j] += 1;
        }
    }
    Csr {
        nrows: x.ncols,
        ncols: x.nrows,
        indptr,
        indices,
        data,
    }
}
