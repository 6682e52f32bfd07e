//! W kept on disk: an n × k matrix of f64 in a temporary file, row-major, read and written a
//! block of rows at a time.
//!
//! A streamed fit ([`super::stream`]) touches W one batch of rows at a time, in row order, once
//! per pass; so do the outputs that list every document. Kept in a file, W costs no memory
//! however many documents there are (5 million documents × 50 topics are 1.86 GiB of f64): only
//! the rows of one batch are in memory at a time. The values are stored exactly (the 8 bytes of
//! each f64, little-endian), so a fit with W on disk gives the same bits as one with W in
//! memory.
//!
//! The file is created unlinked ([`tempfile::tempfile_in`]): nothing is left behind when the
//! process ends, however it ends.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::{Error, Result};

/// Bytes of one stored value.
const VALUE_BYTES: usize = std::mem::size_of::<f64>();

/// An n × k matrix of f64 in an unlinked temporary file (see the module docs).
#[derive(Debug)]
pub struct WFile {
    file: Mutex<File>,
    /// The folder the file was made in, for messages.
    dir: PathBuf,
    n: usize,
    k: usize,
}

impl WFile {
    /// A file of `n` × `k` zeros in the folder `dir`, its space allocated at once (on Linux) so
    /// that a folder without room for it is an error here rather than in the middle of a fit.
    ///
    /// Errors: the file cannot be made or its space allocated (the message names the folder
    /// and the size), or `n` × `k` values do not fit in a file size.
    pub fn zeros_in(dir: &Path, n: usize, k: usize) -> Result<WFile> {
        let io = |e| Error::io(dir, e);
        let file = tempfile::tempfile_in(dir).map_err(io)?;
        let bytes = n
            .checked_mul(k)
            .and_then(|v| v.checked_mul(VALUE_BYTES))
            .and_then(|b| u64::try_from(b).ok())
            .ok_or_else(|| Error::input(format!("W of {n} × {k} values is too large")))?;
        file.set_len(bytes).map_err(io)?;
        reserve(&file, bytes).map_err(|e| {
            Error::io(
                dir,
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "no room for W of {n} × {k} values ({:.2} GiB) in this folder: {e}",
                        bytes as f64 / f64::from(1u32 << 30)
                    ),
                ),
            )
        })?;
        Ok(WFile {
            file: Mutex::new(file),
            dir: dir.to_path_buf(),
            n,
            k,
        })
    }

    /// (rows, columns).
    pub fn shape(&self) -> (usize, usize) {
        (self.n, self.k)
    }

    fn error(&self, e: std::io::Error) -> Error {
        Error::Runtime(format!(
            "the temporary file of W in {}: {e}",
            self.dir.display()
        ))
    }

    fn check_rows(&self, first: usize, len: usize) -> Result<()> {
        if !len.is_multiple_of(self.k.max(1)) || first + len / self.k.max(1) > self.n {
            return Err(Error::Runtime(format!(
                "internal error: rows {first}.. ({len} values) of W, which has {} rows of {}",
                self.n, self.k
            )));
        }
        Ok(())
    }

    /// Reads rows `first..first + out.len() / k` into `out` (row-major).
    pub fn read_rows(&self, first: usize, out: &mut [f64]) -> Result<()> {
        self.check_rows(first, out.len())?;
        let mut bytes = vec![0u8; out.len() * VALUE_BYTES];
        {
            let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
            f.seek(SeekFrom::Start((first * self.k * VALUE_BYTES) as u64))
                .and_then(|_| f.read_exact(&mut bytes))
                .map_err(|e| self.error(e))?;
        }
        for (v, b) in out.iter_mut().zip(bytes.chunks_exact(VALUE_BYTES)) {
            let mut a = [0u8; VALUE_BYTES];
            a.copy_from_slice(b);
            *v = f64::from_le_bytes(a);
        }
        Ok(())
    }

    /// Writes `rows` (row-major) as rows `first..first + rows.len() / k`.
    pub fn write_rows(&self, first: usize, rows: &[f64]) -> Result<()> {
        self.check_rows(first, rows.len())?;
        let mut bytes = Vec::with_capacity(rows.len() * VALUE_BYTES);
        for v in rows {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.seek(SeekFrom::Start((first * self.k * VALUE_BYTES) as u64))
            .and_then(|_| f.write_all(&bytes))
            .map_err(|e| self.error(e))
    }

    /// Reads the whole matrix once, in row order, `rows` rows at a time (the last block
    /// shorter): `f(first, values)` with the block's rows row-major.
    pub fn for_each_block(
        &self,
        rows: usize,
        f: &mut dyn FnMut(usize, &[f64]) -> Result<()>,
    ) -> Result<()> {
        let rows = rows.max(1);
        let mut buf = Vec::new();
        let mut first = 0;
        while first < self.n {
            let r = rows.min(self.n - first);
            buf.resize(r * self.k, 0.0);
            self.read_rows(first, &mut buf)?;
            f(first, &buf)?;
            first += r;
        }
        Ok(())
    }
}

/// Allocates the file's `bytes` on disk now (Linux: `posix_fallocate`), so that a folder
/// without room for W is an error before the fit, not in its middle; elsewhere nothing (the
/// file stays sparse until written).
fn reserve(file: &File, bytes: u64) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        let len = libc::off_t::try_from(bytes)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::FileTooLarge))?;
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the descriptor is the open file's for the duration of the call; the call
        // only allocates the file's blocks.
        let r = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
        if r != 0 {
            return Err(std::io::Error::from_raw_os_error(r));
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_written_read_back_exactly_and_the_rest_is_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let w = WFile::zeros_in(dir.path(), 5, 3).unwrap();
        assert_eq!(w.shape(), (5, 3));
        let rows = [1.5, f64::MIN_POSITIVE, 1e300, 0.1 + 0.2, 7.0, -0.0];
        w.write_rows(2, &rows).unwrap();
        let mut back = [9.0; 6];
        w.read_rows(2, &mut back).unwrap();
        assert_eq!(
            back.map(f64::to_bits),
            rows.map(f64::to_bits),
            "the same bits"
        );
        let mut seen = Vec::new();
        w.for_each_block(2, &mut |first, v| {
            seen.push((first, v.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0], (0, vec![0.0; 6]));
        assert_eq!(seen[1], (2, rows.to_vec()));
        assert_eq!(seen[2], (4, vec![0.0; 3]));
        // Nothing is left in the folder: the file is unlinked.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn rows_outside_the_matrix_are_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let w = WFile::zeros_in(dir.path(), 2, 2).unwrap();
        assert!(w.write_rows(1, &[1.0; 4]).is_err());
        assert!(w.read_rows(0, &mut [0.0; 3]).is_err());
        assert!(WFile::zeros_in(&dir.path().join("missing"), 2, 2).is_err());
    }
}
