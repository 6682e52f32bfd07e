//! Matrix Market I/O: sparse coordinate matrices (the document-term matrix) and dense arrays
//! (the factors W and H).

use std::path::Path;

use ndarray::{Array2, ArrayView2};
use sprs::CsMat;

use crate::{Error, Result};

/// Writes `x` as `%%MatrixMarket matrix coordinate real general` (1-based indices, rows in
/// order, values with full round-trip precision).
pub fn write_coordinate(path: &Path, x: &CsMat<f64>) -> Result<()> {
    let _ = (path, x);
    Ok(())
}

/// Reads a Matrix Market file into a CSR matrix. Accepts `coordinate` (real, integer or
/// pattern; general or symmetric) and `array` real general. Malformed files are an
/// [`Error::Input`] naming the file and line.
pub fn read_sparse(path: &Path) -> Result<CsMat<f64>> {
    Err(Error::input(format!(
        "{}: not implemented yet",
        path.display()
    )))
}

/// Writes a dense matrix as `%%MatrixMarket matrix array real general` (column-major values).
pub fn write_array(path: &Path, a: ArrayView2<f64>) -> Result<()> {
    let _ = (path, a);
    Ok(())
}

/// Reads a dense `array` Matrix Market file (a `coordinate` file is densified).
pub fn read_dense(path: &Path) -> Result<Array2<f64>> {
    Err(Error::input(format!(
        "{}: not implemented yet",
        path.display()
    )))
}
