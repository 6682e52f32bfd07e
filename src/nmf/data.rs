//! The data matrix as the solver sees it: X in CSR (borrowed, or converted once from CSC), plus
//! validation of X and of dense factors.

use std::borrow::Cow;

use crate::matrix::Matrix;
use ndarray::Array2;

use super::NmfError;
use crate::kernels::{csr_transpose, Csr, CsrRef};

/// A matrix that is either borrowed from the caller or owned by the solver.
#[derive(Debug)]
enum Held<'a> {
    Borrowed(CsrRef<'a>),
    Owned(Csr),
}

impl Held<'_> {
    fn view(&self) -> CsrRef<'_> {
        match self {
            Held::Borrowed(r) => *r,
            Held::Owned(c) => c.view(),
        }
    }
}

/// X (documents × terms) in CSR.
#[derive(Debug)]
pub(crate) struct Sparse<'a> {
    x: Held<'a>,
}

impl<'a> Sparse<'a> {
    /// Borrows X (CSR or CSC, no copy of X itself) after checking that it has at least one row
    /// and one column and that every stored entry is finite and non-negative. Rows and columns
    /// in messages count from 1, as in Matrix Market files.
    pub(crate) fn new(x: &'a Matrix) -> Result<Self, NmfError> {
        let (n, m) = x.shape();
        if n == 0 || m == 0 {
            return Err(NmfError::Data(format!(
                "X is empty ({n} documents × {m} terms)"
            )));
        }
        let (outer, inner) = if x.is_csr() { (n, m) } else { (m, n) };
        if !x.is_csr() && m > crate::matrix::MAX_INNER {
            // CSC input is transposed to CSR, whose column indices must fit in 32 bits.
            return Err(NmfError::Data(format!(
                "X has {m} terms, more than the {} that 32-bit column indices address",
                crate::matrix::MAX_INNER
            )));
        }
        let raw = match x.proper_indptr() {
            Cow::Borrowed(indptr) => {
                Held::Borrowed(CsrRef::new(outer, inner, indptr, x.indices(), x.data()))
            }
            Cow::Owned(indptr) => {
                let s = x.indptr().index(0);
                let e = s + indptr[outer];
                Held::Owned(Csr {
                    nrows: outer,
                    ncols: inner,
                    indptr,
                    indices: x.indices()[s..e].to_vec(),
                    data: x.data()[s..e].to_vec(),
                })
            }
        };
        check_entries(raw.view(), x.is_csr(), 0)?;
        Ok(if x.is_csr() {
            Sparse { x: raw }
        } else {
            // The CSC arrays of X are the CSR arrays of Xᵀ.
            Sparse {
                x: Held::Owned(csr_transpose(raw.view())),
            }
        })
    }

    /// X in CSR.
    pub(crate) fn x(&self) -> CsrRef<'_> {
        self.x.view()
    }

    /// Number of documents.
    pub(crate) fn nrows(&self) -> usize {
        self.x.view().nrows
    }

    /// Number of terms.
    pub(crate) fn ncols(&self) -> usize {
        self.x.view().ncols
    }
}

/// Checks that every stored entry of `raw` (rows `first..` of X in CSR, or X's CSC arrays when
/// `is_csr` is false) is finite and non-negative; the message names the entry's row and column,
/// counting from 1.
pub(crate) fn check_entries(raw: CsrRef<'_>, is_csr: bool, first: usize) -> Result<(), NmfError> {
    for o in 0..raw.nrows {
        let (idx, vals) = raw.row(o);
        for (&i, &v) in idx.iter().zip(vals) {
            if v >= 0.0 && v.is_finite() {
                continue;
            }
            let (r, c) = if is_csr {
                (first + o + 1, i as usize + 1)
            } else {
                (i as usize + 1, o + 1)
            };
            return Err(NmfError::Data(if v.is_finite() {
                format!("X has a negative entry ({v}) at row {r}, column {c}")
            } else {
                format!("X has a NaN or infinite entry ({v}) at row {r}, column {c}")
            }));
        }
    }
    Ok(())
}

/// Checks that a dense factor is finite and non-negative (`what` names it in the message;
/// rows and columns count from 1).
pub(crate) fn check_factor(what: &str, a: &Array2<f64>) -> Result<(), NmfError> {
    for ((r, c), &v) in a.indexed_iter() {
        if !v.is_finite() {
            return Err(NmfError::Data(format!(
                "{what} has a NaN or infinite entry at row {}, column {}",
                r + 1,
                c + 1
            )));
        }
        if v < 0.0 {
            return Err(NmfError::Data(format!(
                "{what} has a negative entry ({v}) at row {}, column {}",
                r + 1,
                c + 1
            )));
        }
    }
    Ok(())
}

/// Refuses a rank the matrix cannot carry: k ≤ min(documents, terms), whatever the start (a
/// larger k only adds topics that cannot be told apart, and it bounds the factors' size by the
/// matrix's).
pub(crate) fn check_rank(k: usize, n: usize, m: usize) -> Result<(), NmfError> {
    let most = n.min(m);
    if k > most {
        return Err(NmfError::Params(format!(
            "-k {k} is larger than min(documents, terms) = {most} (the matrix has {n} \
             documents and {m} terms)"
        )));
    }
    Ok(())
}

/// Refuses factors that cannot fit in the memory the process can still allocate
/// ([`crate::memory::factor_bytes`], [`crate::memory::check`]), before anything is allocated.
pub(crate) fn check_memory(n: usize, m: usize, k: usize) -> Result<(), NmfError> {
    crate::memory::check(
        &format!("-k {k}: W and H for {n} documents × {m} terms"),
        crate::memory::factor_bytes(n, m, k),
    )
    .map_err(|e| NmfError::Params(e.to_string()))
}
