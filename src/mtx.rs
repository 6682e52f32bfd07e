//! Matrix Market I/O: sparse coordinate matrices (the document-term matrix) and dense arrays
//! (the factors W and H).
//!
//! Writing formats values with the shortest decimal representation that reads back to the same
//! `f64` bits (the `ryu` algorithm), so a write/read round trip is exact. Rows are formatted in
//! parallel blocks and written in order, so the bytes never depend on the number of threads.
//!
//! Reading accepts what scipy's `mmwrite` and most other writers produce:
//! `%%MatrixMarket matrix coordinate real|integer|pattern general|symmetric` and
//! `%%MatrixMarket matrix array real|integer general`; the banner is case-insensitive, `%` starts
//! a comment line and blank lines are skipped. The file is streamed in blocks whose lines are
//! parsed in parallel pieces, straight into the result (no copy of the whole file or of all its
//! entries is ever held). Duplicate coordinate entries are summed (as scipy does), off-diagonal
//! entries of a symmetric matrix are mirrored, and zeros are dropped from the sparse result. Every malformed header, size line or
//! entry, an index out of range, a wrong number of entries, and NaN or infinite values are an
//! [`Error::Input`] naming the file and line; no input makes the reader panic.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{mpsc, Mutex, PoisonError};

use crate::matrix::{Idx, Matrix};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::{Error, Result};

/// Largest number of rows or columns accepted when reading (indices are stored as `u32`).
const MAX_DIM: usize = i32::MAX as usize;

/// Target size in bytes of one parallel parsing piece (small in unit tests, so that they cross
/// piece and block boundaries).
const PIECE_BYTES: usize = if cfg!(test) { 1 << 14 } else { 1 << 20 };

/// Bytes of entry lines read (and parsed in parallel pieces) at a time when reading.
const READ_BLOCK_BYTES: usize = if cfg!(test) { 1 << 16 } else { 8 << 20 };

/// Nonzeros (or values) formatted per parallel block when writing.
const BLOCK_VALUES: usize = 1 << 15;

/// Appends the shortest round-trip decimal form of `v` to `out`.
///
/// Errors: NaN and infinite values (a Matrix Market reader, ours included, rejects them).
fn push_f64(out: &mut Vec<u8>, v: f64, ryu_buf: &mut ryu::Buffer) -> std::result::Result<(), f64> {
    if !v.is_finite() {
        return Err(v);
    }
    out.extend_from_slice(ryu_buf.format_finite(v).as_bytes());
    Ok(())
}

/// Formats `n_blocks` blocks and writes them to `w` in block order, formatting and writing at
/// the same time.
///
/// The blocks are formatted by one task per rayon thread, each taking the next block number
/// in turn, while a writer thread (not a rayon thread, so the formatting never waits on it to
/// be scheduled) puts them back in order and writes them. Buffers are recycled through a small
/// pool: a formatter takes a buffer before taking a block number, so the block the writer
/// waits for always has one, and memory stays bounded by the pool. The bytes written do not
/// depend on the number of threads. Returns `Some(v)` for the first non-finite value met (in
/// block order), after which nothing more is written.
fn write_blocks<W, F>(w: &mut W, n_blocks: usize, format_block: F) -> std::io::Result<Option<f64>>
where
    W: Write + Send,
    F: Fn(usize, &mut Vec<u8>) -> std::result::Result<(), f64> + Sync,
{
    let threads = rayon::current_num_threads().max(1);
    if threads == 1 || n_blocks <= 1 {
        let mut buf = Vec::new();
        for b in 0..n_blocks {
            buf.clear();
            if let Err(bad) = format_block(b, &mut buf) {
                return Ok(Some(bad));
            }
            w.write_all(&buf)?;
        }
        return Ok(None);
    }

    let pool_size = 2 * threads + 2;
    let (free_tx, free_rx) = mpsc::sync_channel::<Vec<u8>>(pool_size);
    for _ in 0..pool_size {
        // The channel has room for the whole pool, so this cannot block or fail.
        let _ = free_tx.send(Vec::new());
    }
    let free_rx = Mutex::new(free_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, BlockResult)>();
    let next = AtomicUsize::new(0);

    std::thread::scope(|s| {
        let writer = s.spawn(move || write_in_order(w, n_blocks, done_rx, free_tx));
        rayon::scope(|rs| {
            for _ in 0..threads {
                let done_tx = done_tx.clone();
                let (free_rx, next, format_block) = (&free_rx, &next, &format_block);
                rs.spawn(move |_| loop {
                    // A buffer first, then a block number (see above).
                    let buf = free_rx
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .recv();
                    let Ok(mut buf) = buf else {
                        return; // The writer has stopped.
                    };
                    let b = next.fetch_add(1, AtomicOrdering::Relaxed);
                    if b >= n_blocks {
                        return;
                    }
                    buf.clear();
                    let result = format_block(b, &mut buf).map(|()| buf);
                    if done_tx.send((b, result)).is_err() {
                        return;
                    }
                });
            }
            drop(done_tx);
        });
        match writer.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// A formatted block, or the non-finite value that stopped it.
type BlockResult = std::result::Result<Vec<u8>, f64>;

/// The writer side of [`write_blocks`]: receives blocks in any order, writes them in block
/// order and hands the buffers back to the pool.
fn write_in_order<W: Write>(
    w: &mut W,
    n_blocks: usize,
    done: mpsc::Receiver<(usize, BlockResult)>,
    free: mpsc::SyncSender<Vec<u8>>,
) -> std::io::Result<Option<f64>> {
    let mut waiting: BTreeMap<usize, BlockResult> = BTreeMap::new();
    let mut want = 0;
    while want < n_blocks {
        let Some(result) = waiting.remove(&want) else {
            match done.recv() {
                Ok((b, result)) => {
                    waiting.insert(b, result);
                    continue;
                }
                // Every formatter stopped before block `want`: cannot happen, since a
                // formatter holding a block number always sends it.
                Err(_) => {
                    return Err(std::io::Error::other(
                        "internal error: a block went missing",
                    ))
                }
            }
        };
        match result {
            Ok(buf) => {
                w.write_all(&buf)?;
                // The pool never holds more than it was given, so this does not block.
                let _ = free.try_send(buf);
            }
            Err(bad) => return Ok(Some(bad)),
        }
        want += 1;
    }
    Ok(None)
}

/// Opens `path` for writing, creating it if needed, *without* truncating it: truncating a
/// large file that is in the page cache (a matrix written again over the last run's) costs
/// tens of milliseconds up front, while writing over its pages is cheaper than allocating new
/// ones. [`finish`] cuts the file to the length written.
fn create(path: &Path) -> Result<BufWriter<File>> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    Ok(BufWriter::with_capacity(1 << 20, file))
}

/// Flushes `w` and cuts its file at the current position, so nothing of an older, longer
/// file is left after what was written.
/// Writes the rows of a CSR slice (`indptr` starting at any offset) as coordinate lines
/// `i j value`, rows numbered from `base` + 1, columns from 1: the rows cut into blocks of
/// about [`BLOCK_VALUES`] entries, formatted in parallel by [`write_blocks`] and written in
/// order. Returns the first NaN or infinite value met (the blocks before it written).
fn write_csr_rows<W: Write + Send>(
    w: &mut W,
    base: usize,
    indptr: &[usize],
    indices: &[Idx],
    data: &[f64],
) -> std::io::Result<Option<f64>> {
    let rows = indptr.len().saturating_sub(1);
    let offset = indptr.first().copied().unwrap_or(0);
    // Blocks of consecutive rows holding about BLOCK_VALUES nonzeros each.
    let mut block_starts = vec![0usize];
    let mut last = offset;
    for r in 0..rows {
        if indptr[r + 1] - last >= BLOCK_VALUES {
            block_starts.push(r + 1);
            last = indptr[r + 1];
        }
    }
    if *block_starts.last().unwrap_or(&0) != rows {
        block_starts.push(rows);
    }
    write_blocks(w, block_starts.len() - 1, |b, buf| {
        let mut ints = itoa::Buffer::new();
        let mut floats = ryu::Buffer::new();
        let mut row_prefix = Vec::with_capacity(24);
        for r in block_starts[b]..block_starts[b + 1] {
            // "i " is formatted once per row.
            row_prefix.clear();
            row_prefix.extend_from_slice(ints.format(base + r + 1).as_bytes());
            row_prefix.push(b' ');
            for k in indptr[r] - offset..indptr[r + 1] - offset {
                buf.extend_from_slice(&row_prefix);
                buf.extend_from_slice(ints.format(indices[k] as usize + 1).as_bytes());
                buf.push(b' ');
                push_f64(buf, data[k], &mut floats)?;
                buf.push(b'\n');
            }
        }
        Ok(())
    })
}

fn finish(mut w: BufWriter<File>, path: &Path) -> Result<()> {
    let io = |e| Error::io(path, e);
    w.flush().map_err(io)?;
    let file = w.get_mut();
    let len = file.stream_position().map_err(io)?;
    file.set_len(len).map_err(io)
}

fn non_finite(path: &Path, v: f64) -> Error {
    Error::Runtime(format!(
        "{}: cannot write the non-finite value {v} to a Matrix Market file",
        path.display()
    ))
}

/// Writes `x` as `%%MatrixMarket matrix coordinate real general` (1-based indices, rows in
/// order, values with full round-trip precision).
///
/// Layout: the banner, one `%` comment line, the size line `rows cols nnz`, then one
/// `i j value` line per stored entry in row order. A CSC matrix is converted to CSR first.
/// Errors: I/O failures; a NaN or infinite value (a [`Error::Runtime`]).
pub fn write_coordinate(path: &Path, x: &Matrix) -> Result<()> {
    let csr;
    let x = if x.is_csr() {
        x
    } else {
        csr = x.to_csr();
        &csr
    };
    let mut w = create(path)?;
    let io = |e| Error::io(path, e);
    write!(
        w,
        "%%MatrixMarket matrix coordinate real general\n% written by nmf-topics\n{} {} {}\n",
        x.rows(),
        x.cols(),
        x.nnz()
    )
    .map_err(io)?;

    let indptr = x.indptr();
    let bad = write_csr_rows(&mut w, 0, indptr.raw_storage(), x.indices(), x.data()).map_err(io)?;
    if let Some(v) = bad {
        // Leave only what was written, then report.
        finish(w, path)?;
        return Err(non_finite(path, v));
    }
    finish(w, path)
}

/// Writes a coordinate Matrix Market file (the layout of [`write_coordinate`], byte for byte)
/// from rows handed over block by block, so the matrix is never held whole: the size line is
/// written first from the announced shape and number of entries, and [`CoordinateWriter::finish`]
/// checks that exactly those came.
pub struct CoordinateWriter {
    w: BufWriter<File>,
    path: std::path::PathBuf,
    shape: (usize, usize),
    nnz: usize,
    rows_written: usize,
    nnz_written: usize,
}

impl CoordinateWriter {
    /// Creates `path` and writes the banner and the size line of a `rows × cols` matrix with
    /// `nnz` stored entries.
    pub fn create(path: &Path, rows: usize, cols: usize, nnz: usize) -> Result<Self> {
        let mut w = create(path)?;
        write!(
            w,
            "%%MatrixMarket matrix coordinate real general\n% written by nmf-topics\n{rows} {cols} {nnz}\n"
        )
        .map_err(|e| Error::io(path, e))?;
        Ok(CoordinateWriter {
            w,
            path: path.to_path_buf(),
            shape: (rows, cols),
            nnz,
            rows_written: 0,
            nnz_written: 0,
        })
    }

    /// Writes the next rows: row `r` of the block (numbered from the rows written so far) has
    /// the columns `indices[indptr[r] - indptr[0]..indptr[r + 1] - indptr[0]]` with the values
    /// `data[…]`. Formatted in parallel pieces, written in order.
    ///
    /// Errors: more rows or entries than announced, a column out of range
    /// ([`Error::Runtime`]), a NaN or infinite value, I/O failures.
    pub fn write_rows(&mut self, indptr: &[usize], indices: &[Idx], data: &[f64]) -> Result<()> {
        let rows = indptr.len().saturating_sub(1);
        let offset = indptr.first().copied().unwrap_or(0);
        let entries = indptr.last().copied().unwrap_or(0) - offset;
        let (n_rows, n_cols) = self.shape;
        if self.rows_written + rows > n_rows
            || self.nnz_written + entries > self.nnz
            || indices.len() < entries
            || data.len() < entries
            || indices[..entries].iter().any(|&j| j as usize >= n_cols)
        {
            return Err(Error::Runtime(format!(
                "{}: internal error: the rows written do not fit the announced {n_rows} × \
                 {n_cols} matrix with {} entries",
                self.path.display(),
                self.nnz
            )));
        }
        let bad = write_csr_rows(&mut self.w, self.rows_written, indptr, indices, data)
            .map_err(|e| Error::io(&self.path, e))?;
        if let Some(v) = bad {
            return Err(non_finite(&self.path, v));
        }
        self.rows_written += rows;
        self.nnz_written += entries;
        Ok(())
    }

    /// Completes the file. Errors: fewer rows or entries than announced ([`Error::Runtime`]),
    /// I/O failures.
    pub fn finish(self) -> Result<()> {
        if self.rows_written != self.shape.0 || self.nnz_written != self.nnz {
            return Err(Error::Runtime(format!(
                "{}: internal error: {} rows and {} entries written of {} and {}",
                self.path.display(),
                self.rows_written,
                self.nnz_written,
                self.shape.0,
                self.nnz
            )));
        }
        finish(self.w, &self.path)
    }
}

/// Writes a dense matrix as `%%MatrixMarket matrix array real general` (column-major values).
///
/// Layout: the banner, one `%` comment line, the size line `rows cols`, then one value per line,
/// column by column. Errors: I/O failures; a NaN or infinite value (a [`Error::Runtime`]).
pub fn write_array(path: &Path, a: ArrayView2<f64>) -> Result<()> {
    let (rows, cols) = a.dim();
    let mut w = create(path)?;
    let io = |e| Error::io(path, e);
    write!(
        w,
        "%%MatrixMarket matrix array real general\n% written by nmf-topics\n{rows} {cols}\n"
    )
    .map_err(io)?;
    let total = rows * cols;
    let n_blocks = total.div_ceil(BLOCK_VALUES);
    let bad = write_blocks(&mut w, n_blocks, |b, buf| {
        let mut floats = ryu::Buffer::new();
        for flat in b * BLOCK_VALUES..((b + 1) * BLOCK_VALUES).min(total) {
            let (c, r) = (flat / rows, flat % rows);
            push_f64(buf, a[[r, c]], &mut floats)?;
            buf.push(b'\n');
        }
        Ok(())
    })
    .map_err(io)?;
    if let Some(v) = bad {
        // Leave only what was written, then report.
        finish(w, path)?;
        return Err(non_finite(path, v));
    }
    finish(w, path)
}

#[cfg(test)]
mod write_tests {
    use super::*;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    #[test]
    fn blocks_are_written_in_order_whatever_the_threads() {
        let want: Vec<u8> = (0..2000)
            .flat_map(|b| format!("{b},").into_bytes())
            .collect();
        for threads in [1, 2, 5] {
            let mut out = Vec::new();
            let bad = pool(threads).install(|| {
                write_blocks(&mut out, 2000, |b, buf| {
                    // Uneven work, so blocks finish out of order.
                    if b % 7 == 0 {
                        std::thread::yield_now();
                    }
                    buf.extend_from_slice(format!("{b},").as_bytes());
                    Ok(())
                })
            });
            assert_eq!(bad.unwrap(), None);
            assert!(out == want, "{threads} threads");
        }
    }

    #[test]
    fn the_first_bad_block_stops_the_write() {
        for threads in [1, 2, 4] {
            let mut out = Vec::new();
            let bad = pool(threads).install(|| {
                write_blocks(&mut out, 500, |b, buf| {
                    if b == 300 || b == 301 || b == 450 {
                        return Err(b as f64);
                    }
                    buf.push(b'x');
                    Ok(())
                })
            });
            assert_eq!(bad.unwrap(), Some(300.0), "{threads} threads");
            assert_eq!(out, vec![b'x'; 300], "{threads} threads");
        }
    }

    #[test]
    fn writing_over_a_longer_file_leaves_only_the_new_contents() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.mtx");
        let big = ndarray::Array2::from_elem((5000, 4), 0.123_456_789);
        write_array(&p, big.view()).unwrap();
        let small = ndarray::Array2::from_shape_fn((3, 2), |(i, j)| (i + 2 * j) as f64);
        write_array(&p, small.view()).unwrap();
        let fresh = dir.path().join("fresh.mtx");
        write_array(&fresh, small.view()).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(&fresh).unwrap());
        assert_eq!(read_dense(&p).unwrap(), small);
        let x: Matrix =
            crate::matrix::Triplets::from_triplets((2, 2), vec![0], vec![1], vec![0.5]).to_csr();
        write_coordinate(&p, &x).unwrap();
        assert_eq!(read_sparse(&p).unwrap(), x);
    }

    #[test]
    fn a_nan_in_a_late_block_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = ndarray::Array2::from_elem((BLOCK_VALUES, 3), 0.5);
        a[[BLOCK_VALUES - 1, 2]] = f64::NAN;
        let p = dir.path().join("a.mtx");
        let err = pool(2).install(|| write_array(&p, a.view())).unwrap_err();
        assert!(matches!(err, Error::Runtime(_)), "{err}");
    }
}

/// The storage format named in the banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Coordinate,
    Array,
}

/// The value type named in the banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Real,
    Pattern,
}

/// What the banner says.
#[derive(Debug, Clone, Copy)]
struct Header {
    format: Format,
    field: Field,
    symmetric: bool,
}

/// The header of a file: banner, size line, and where the entries start.
struct Prelude {
    header: Header,
    rows: usize,
    cols: usize,
    /// Announced number of entries (coordinate files only).
    nnz: usize,
    /// Line number of the size line.
    size_line: usize,
    /// Bytes of the file after the size line (an upper bound on what the entries can take).
    body_bytes: u64,
}

fn bad(path: &Path, line: usize, msg: impl std::fmt::Display) -> Error {
    Error::input(format!("{}:{line}: {msg}", path.display()))
}

fn parse_banner(path: &Path, line: &str) -> Result<Header> {
    let tokens: Vec<String> = line
        .split_ascii_whitespace()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    if tokens.first().map(String::as_str) != Some("%%matrixmarket") {
        return Err(bad(
            path,
            1,
            "not a Matrix Market file: the first line must start with %%MatrixMarket",
        ));
    }
    if tokens.len() != 5 {
        return Err(bad(
            path,
            1,
            "malformed banner: expected '%%MatrixMarket matrix coordinate|array field symmetry'",
        ));
    }
    if tokens[1] != "matrix" {
        return Err(bad(
            path,
            1,
            format!("unsupported object '{}': expected 'matrix'", tokens[1]),
        ));
    }
    let format = match tokens[2].as_str() {
        "coordinate" => Format::Coordinate,
        "array" => Format::Array,
        other => {
            return Err(bad(
                path,
                1,
                format!("unknown format '{other}': expected 'coordinate' or 'array'"),
            ))
        }
    };
    let field = match tokens[3].as_str() {
        "real" | "double" | "integer" => Field::Real,
        "pattern" if format == Format::Coordinate => Field::Pattern,
        "pattern" => {
            return Err(bad(
                path,
                1,
                "an array file cannot have the 'pattern' field",
            ))
        }
        "complex" => return Err(bad(path, 1, "complex matrices are not supported")),
        other => {
            return Err(bad(
                path,
                1,
                format!("unknown field '{other}': expected real, integer or pattern"),
            ))
        }
    };
    let symmetric = match tokens[4].as_str() {
        "general" => false,
        "symmetric" if format == Format::Coordinate => true,
        "symmetric" => {
            return Err(bad(
                path,
                1,
                "symmetric array files are not supported (use 'general')",
            ))
        }
        other @ ("skew-symmetric" | "hermitian") => {
            return Err(bad(
                path,
                1,
                format!("'{other}' matrices are not supported"),
            ))
        }
        other => {
            return Err(bad(
                path,
                1,
                format!("unknown symmetry '{other}': expected general or symmetric"),
            ))
        }
    };
    Ok(Header {
        format,
        field,
        symmetric,
    })
}

/// Reads one line (without its `\n`) into `buf`; `false` at the end of the file.
fn read_line(path: &Path, r: &mut impl BufRead, buf: &mut Vec<u8>) -> Result<bool> {
    buf.clear();
    let n = r.read_until(b'\n', buf).map_err(|e| Error::io(path, e))?;
    if buf.last() == Some(&b'\n') {
        buf.pop();
    }
    Ok(n > 0)
}

fn line_text<'b>(path: &Path, line: usize, bytes: &'b [u8]) -> Result<&'b str> {
    std::str::from_utf8(bytes).map_err(|_| bad(path, line, "the file is not valid UTF-8 text"))
}

/// Reads the banner and the size line, leaving `r` at the first entry line.
fn read_prelude(path: &Path, r: &mut impl BufRead, file_bytes: u64) -> Result<Prelude> {
    let mut buf = Vec::new();
    let mut consumed = 0u64;
    if !read_line(path, r, &mut buf)? {
        return Err(bad(path, 1, "empty file: expected a %%MatrixMarket header"));
    }
    consumed += buf.len() as u64 + 1;
    let header = parse_banner(path, line_text(path, 1, &buf)?)?;

    // The size line: the first line that is neither blank nor a comment.
    let mut line_no = 1;
    let size_line = loop {
        line_no += 1;
        if !read_line(path, r, &mut buf)? {
            return Err(bad(path, line_no - 1, "missing size line after the header"));
        }
        consumed += buf.len() as u64 + 1;
        let t = line_text(path, line_no, &buf)?.trim_ascii();
        if !t.is_empty() && !t.starts_with('%') {
            break t.to_string();
        }
    };
    let expected_fields = match header.format {
        Format::Coordinate => 3,
        Format::Array => 2,
    };
    let fields: Vec<&str> = size_line.split_ascii_whitespace().collect();
    let numbers: Vec<usize> = fields.iter().filter_map(|f| f.parse().ok()).collect();
    if fields.len() != expected_fields || numbers.len() != expected_fields {
        let want = match header.format {
            Format::Coordinate => "'rows columns entries'",
            Format::Array => "'rows columns'",
        };
        return Err(bad(
            path,
            line_no,
            format!("malformed size line '{size_line}': expected {want} as non-negative integers"),
        ));
    }
    let (rows, cols) = (numbers[0], numbers[1]);
    if rows > MAX_DIM || cols > MAX_DIM {
        return Err(bad(
            path,
            line_no,
            format!("matrix size {rows} x {cols} is too large (at most {MAX_DIM} per dimension)"),
        ));
    }
    if header.symmetric && rows != cols {
        return Err(bad(
            path,
            line_no,
            format!("a symmetric matrix must be square, not {rows} x {cols}"),
        ));
    }
    Ok(Prelude {
        header,
        rows,
        cols,
        nnz: numbers.get(2).copied().unwrap_or(0),
        size_line: line_no,
        body_bytes: file_bytes.saturating_sub(consumed),
    })
}

/// Parses one value token: a finite number.
fn parse_value(token: &str) -> std::result::Result<f64, String> {
    match token.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("value '{token}' is not finite")),
        Err(_) => Err(format!("value '{token}' is not a number")),
    }
}

/// Parses a 1-based index no larger than `dim`, returning it 0-based.
fn parse_index(token: &str, dim: usize, what: &str) -> std::result::Result<u32, String> {
    match token.parse::<usize>() {
        Ok(i) if i >= 1 && i <= dim => Ok((i - 1) as u32),
        Ok(i) => Err(format!("{what} index {i} is out of range 1..={dim}")),
        Err(_) => Err(format!("{what} index '{token}' is not a positive integer")),
    }
}

/// The result of parsing one piece of the entry lines.
struct Piece<T> {
    items: Vec<T>,
    lines: usize,
    /// The first error, with its line number relative to the piece (0-based).
    error: Option<(usize, String)>,
}

/// Splits `body` into pieces ending at line boundaries, parses them in parallel with
/// `parse_line` (called for every non-blank, non-comment line) and hands each piece's items
/// to `sink` in file order. Returns the number of `\n` in `body`, or the first error with its
/// absolute line number (`first_line` is the number of the first line of `body`).
fn parse_pieces<T, F, S>(
    path: &Path,
    body: &str,
    first_line: usize,
    parse_line: &F,
    sink: &mut S,
) -> Result<usize>
where
    T: Send,
    F: Fn(&str, &mut Vec<T>) -> std::result::Result<(), String> + Sync,
    S: FnMut(Vec<T>) -> Result<()>,
{
    let bytes = body.as_bytes();
    let mut bounds = vec![0usize];
    let mut pos = 0;
    while pos < bytes.len() {
        let target = (pos + PIECE_BYTES).min(bytes.len());
        let end = match bytes[target..].iter().position(|&b| b == b'\n') {
            Some(i) => target + i + 1,
            None => bytes.len(),
        };
        bounds.push(end);
        pos = end;
    }
    let pieces: Vec<Piece<T>> = bounds
        .par_windows(2)
        .map(|w| {
            // Piece boundaries fall just after a '\n', so they are char boundaries.
            let text = &body[w[0]..w[1]];
            let mut piece = Piece {
                items: Vec::new(),
                lines: 0,
                error: None,
            };
            for (i, line) in text.split('\n').enumerate() {
                if i > 0 {
                    piece.lines += 1;
                }
                let t = line.trim_ascii();
                if t.is_empty() || t.starts_with('%') {
                    continue;
                }
                if let Err(msg) = parse_line(t, &mut piece.items) {
                    piece.error = Some((i, msg));
                    break;
                }
            }
            piece
        })
        .collect();
    let mut line = first_line;
    for piece in pieces {
        if let Some((rel, msg)) = piece.error {
            return Err(bad(path, line + rel, msg));
        }
        line += piece.lines;
        sink(piece.items)?;
    }
    Ok(line - first_line)
}

/// Streams the entry lines of `r` (positioned after the size line, whose number is
/// `size_line`): reads blocks of about [`READ_BLOCK_BYTES`] cut at a line end, parses each
/// block in parallel pieces ([`parse_pieces`]) and hands the items to `sink` in file order. At
/// most one block of text and its parsed items are in memory at a time.
fn stream_entries<T, F, S>(
    path: &Path,
    r: &mut impl Read,
    size_line: usize,
    parse_line: F,
    mut sink: S,
) -> Result<()>
where
    T: Send,
    F: Fn(&str, &mut Vec<T>) -> std::result::Result<(), String> + Sync,
    S: FnMut(Vec<T>) -> Result<()>,
{
    let mut buf: Vec<u8> = Vec::new();
    let mut line = size_line + 1;
    let mut target = READ_BLOCK_BYTES;
    // buf[..searched] is known to hold no '\n' (a line longer than a block is being read).
    let mut searched = 0;
    loop {
        let before = buf.len();
        if before < target {
            r.by_ref()
                .take((target - before) as u64)
                .read_to_end(&mut buf)
                .map_err(|e| Error::io(path, e))?;
        }
        let eof = buf.len() < target;
        let cut = if eof {
            buf.len()
        } else {
            match buf[searched..].iter().rposition(|&b| b == b'\n') {
                Some(i) => searched + i + 1,
                None => {
                    searched = buf.len();
                    target += READ_BLOCK_BYTES;
                    continue;
                }
            }
        };
        let text = std::str::from_utf8(&buf[..cut]).map_err(|e| {
            let at = line
                + buf[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
            bad(path, at, "the file is not valid UTF-8 text")
        })?;
        line += parse_pieces(path, text, line, &parse_line, &mut sink)?;
        if eof {
            return Ok(());
        }
        buf.drain(..cut);
        searched = 0;
        target = buf.len() + READ_BLOCK_BYTES;
    }
}

/// A zeroed `Vec<usize>` of `len` elements, or an [`Error::Input`] when the memory cannot be
/// had (a size line announcing billions of rows).
fn zeroed_indptr(path: &Path, len: usize) -> Result<Vec<usize>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Error::input(format!(
            "{}: not enough memory for a matrix of {} rows",
            path.display(),
            len.saturating_sub(1)
        ))
    })?;
    v.resize(len, 0);
    Ok(v)
}

/// Reserves room for `n` more elements, or an [`Error::Input`] naming the file.
fn reserve<T>(path: &Path, v: &mut Vec<T>, n: usize) -> Result<()> {
    v.try_reserve_exact(n).map_err(|_| {
        Error::input(format!(
            "{}: not enough memory for {n} entries",
            path.display()
        ))
    })
}

/// Collects coordinate entries straight into the arrays of the CSR result.
///
/// Entries that come in row order (as [`write_coordinate`], scipy's `mmwrite` and most
/// writers produce them) are appended where they belong, so reading needs no memory beyond the
/// result. The first entry out of row order switches to recording every entry's row (4 bytes
/// per entry), and [`CsrBuilder::finish`] puts the entries in order with a counting sort.
pub(crate) struct CsrBuilder {
    rows: usize,
    cols: usize,
    /// `counts[r + 1]`: entries of row r so far.
    counts: Vec<usize>,
    indices: Vec<Idx>,
    data: Vec<f64>,
    /// The row of every entry in file order, once an entry came out of row order.
    row_of: Option<Vec<u32>>,
    last_row: u32,
}

impl CsrBuilder {
    pub(crate) fn new(path: &Path, rows: usize, cols: usize, capacity: usize) -> Result<Self> {
        let mut b = CsrBuilder {
            rows,
            cols,
            counts: zeroed_indptr(path, rows + 1)?,
            indices: Vec::new(),
            data: Vec::new(),
            row_of: None,
            last_row: 0,
        };
        reserve(path, &mut b.indices, capacity)?;
        reserve(path, &mut b.data, capacity)?;
        Ok(b)
    }

    /// Adds entry (i, j) = v (0-based, in range).
    pub(crate) fn push(&mut self, i: u32, j: u32, v: f64) {
        match &mut self.row_of {
            Some(row_of) => row_of.push(i),
            None if i < self.last_row => {
                // Everything so far came in row order: the rows follow from the counts.
                let mut row_of = Vec::with_capacity(self.indices.capacity());
                for r in 0..self.rows {
                    row_of.extend(std::iter::repeat_n(r as u32, self.counts[r + 1]));
                }
                row_of.push(i);
                self.row_of = Some(row_of);
            }
            None => self.last_row = i,
        }
        self.counts[i as usize + 1] += 1;
        self.indices.push(j);
        self.data.push(v);
    }

    /// The CSR matrix: entries in row order, columns sorted within rows (duplicates summed in
    /// file order), zeros dropped.
    pub(crate) fn finish(self) -> Result<Matrix> {
        let CsrBuilder {
            rows,
            cols,
            counts: mut indptr,
            mut indices,
            mut data,
            row_of,
            ..
        } = self;
        for r in 0..rows {
            indptr[r + 1] += indptr[r];
        }
        if let Some(row_of) = row_of {
            // Counting sort by row; stable, so file order is kept within a row.
            let mut next = indptr.clone();
            let mut sorted_indices: Vec<Idx> = vec![0; indices.len()];
            let mut sorted_data = vec![0.0; data.len()];
            for (t, &r) in row_of.iter().enumerate() {
                let at = &mut next[r as usize];
                sorted_indices[*at] = indices[t];
                sorted_data[*at] = data[t];
                *at += 1;
            }
            indices = sorted_indices;
            data = sorted_data;
        }
        // Sort each row by column, sum duplicates, drop zeros, compacting in place (a row's
        // new start is never after its old one).
        let mut written = 0;
        let mut start = 0;
        let mut scratch: Vec<(Idx, f64)> = Vec::new();
        for r in 0..rows {
            let end = indptr[r + 1];
            let clean = indices[start..end].windows(2).all(|p| p[0] < p[1])
                && data[start..end].iter().all(|&v| v != 0.0);
            if clean {
                indices.copy_within(start..end, written);
                data.copy_within(start..end, written);
                written += end - start;
            } else {
                scratch.clear();
                scratch.extend(
                    indices[start..end]
                        .iter()
                        .copied()
                        .zip(data[start..end].iter().copied()),
                );
                scratch.sort_by_key(|e| e.0);
                let mut t = 0;
                while t < scratch.len() {
                    let (col, mut v) = scratch[t];
                    t += 1;
                    while t < scratch.len() && scratch[t].0 == col {
                        v += scratch[t].1;
                        t += 1;
                    }
                    if v != 0.0 {
                        indices[written] = col;
                        data[written] = v;
                        written += 1;
                    }
                }
            }
            start = end;
            indptr[r + 1] = written;
        }
        indices.truncate(written);
        data.truncate(written);
        Matrix::try_new((rows, cols), indptr, indices, data)
            .map_err(|(_, _, _, e)| Error::Runtime(format!("internal error building CSR: {e}")))
    }
}

/// Opens `path` and reads its header.
fn open(path: &Path) -> Result<(Prelude, BufReader<File>)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    let mut r = BufReader::new(file);
    let prelude = read_prelude(path, &mut r, bytes)?;
    Ok((prelude, r))
}

/// The "too few / too many" error of a count that disagrees with the size line.
fn count_error(
    path: &Path,
    pre: &Prelude,
    what: &str,
    announced: String,
    expected: usize,
    found: usize,
) -> Error {
    let fewer = if found < expected {
        "too few"
    } else {
        "too many"
    };
    Error::input(format!(
        "{}: {fewer} {what}: the size line (line {}) announces {announced}, the file has {found}",
        path.display(),
        pre.size_line
    ))
}

/// Entries to make room for in a coordinate file: the announced count, but no more than the
/// file has room for (an entry takes at least 4 bytes, "1 1\n"), doubled when symmetric.
fn coordinate_capacity(pre: &Prelude) -> usize {
    let body_cap = usize::try_from(pre.body_bytes / 4 + 1).unwrap_or(usize::MAX);
    pre.nnz
        .min(body_cap)
        .saturating_mul(if pre.header.symmetric { 2 } else { 1 })
}

/// Most rows (or columns) of a coordinate file that may hold no entry: 2^24 (the row pointers
/// of that many empty rows take 128 MiB).
pub const MAX_EMPTY_LINES: usize = 1 << 24;

/// Refuses, before anything is allocated, a coordinate matrix whose size line announces far
/// more rows or columns than its entries can fill (more than [`MAX_EMPTY_LINES`] of them would
/// be empty: `2147483647 1 0` would zero 16 GiB of row pointers), or whose CSR arrays (8 bytes
/// per row, 12 per entry the file has room for) need more memory than is available.
fn check_coordinate_size(path: &Path, pre: &Prelude, capacity: usize) -> Result<()> {
    for (n, what) in [(pre.rows, "rows"), (pre.cols, "columns")] {
        if n > capacity.saturating_add(MAX_EMPTY_LINES) {
            let room = if capacity < pre.nnz {
                format!(" (the file has room for at most {capacity})")
            } else {
                String::new()
            };
            return Err(bad(
                path,
                pre.size_line,
                format!(
                    "the size line announces {n} {what} for {} entries{room}: more than \
                     {MAX_EMPTY_LINES} {what} would be empty, which is refused",
                    pre.nnz
                ),
            ));
        }
    }
    let bytes = (pre.rows as u64 + 1)
        .saturating_mul(8)
        .saturating_add((capacity as u64).saturating_mul(12));
    crate::memory::check(
        &format!(
            "{}: a {} x {} matrix of {} entries",
            path.display(),
            pre.rows,
            pre.cols,
            pre.nnz
        ),
        bytes,
    )
}

/// The size of a Matrix Market file as its size line announces it, read without the entries:
/// `(rows, columns, entries)` (entries = rows × columns for an array file).
///
/// Errors: as [`read_sparse`] for the banner and the size line, including the refusal of a
/// coordinate size that cannot fit (see [`MAX_EMPTY_LINES`]).
pub fn read_size(path: &Path) -> Result<(usize, usize, usize)> {
    let (pre, _) = open(path)?;
    let entries = match pre.header.format {
        Format::Coordinate => {
            check_coordinate_size(path, &pre, coordinate_capacity(&pre))?;
            pre.nnz
        }
        Format::Array => pre.rows.saturating_mul(pre.cols),
    };
    Ok((pre.rows, pre.cols, entries))
}

/// Parses one entry line of a coordinate file (`row column value`, or `row column` for a
/// pattern file) into 0-based indices and the value.
fn parse_entry(
    line: &str,
    rows: usize,
    cols: usize,
    pattern: bool,
) -> std::result::Result<(u32, u32, f64), String> {
    let n_fields = if pattern { 2 } else { 3 };
    let mut it = line.split_ascii_whitespace();
    let (Some(i), Some(j)) = (it.next(), it.next()) else {
        return Err(format!("expected {n_fields} fields per entry, found 1"));
    };
    let v = if pattern {
        1.0
    } else {
        let Some(v) = it.next() else {
            return Err("expected 3 fields per entry (row column value), found 2".into());
        };
        parse_value(v)?
    };
    if it.next().is_some() {
        return Err(format!(
            "expected {n_fields} fields per entry, found {}",
            line.split_ascii_whitespace().count()
        ));
    }
    Ok((
        parse_index(i, rows, "row")?,
        parse_index(j, cols, "column")?,
        v,
    ))
}

/// One of `parts` consecutive byte ranges of the entry lines of a coordinate Matrix Market
/// file, as [`read_coordinate_part`] reads it.
#[derive(Debug, Clone, Default)]
pub struct CoordinatePart {
    /// Rows, columns and entries, as the size line announces them.
    pub rows: usize,
    /// See [`CoordinatePart::rows`].
    pub cols: usize,
    /// See [`CoordinatePart::rows`].
    pub nnz: usize,
    /// Whether the file is symmetric (its mirrored entries are in `entries`).
    pub symmetric: bool,
    /// The line number of the size line (the entry lines follow it).
    pub size_line: usize,
    /// The bytes of the whole file.
    pub file_bytes: u64,
    /// The entries of the part's lines (0-based row, column, value) in file order; for a
    /// symmetric file each off-diagonal entry is followed by its mirror.
    pub entries: Vec<(u32, u32, f64)>,
    /// Entry lines read (mirrors not counted).
    pub seen: usize,
    /// Line ends (`\n`) in the part: the next part starts this many lines further.
    pub lines: usize,
    /// The first malformed line: its index among the part's lines (0-based) and what is wrong.
    /// Reading stops there.
    pub error: Option<(usize, String)>,
}

/// Reads part `part` of `parts` of a coordinate Matrix Market file: the entry lines that
/// *start* in the part-th of `parts` equal byte ranges of the text after the size line (so
/// every line is read by exactly one part, and the parts in order read the file in order).
/// Every part reads the header itself. Malformed lines are reported in
/// [`CoordinatePart::error`] (line numbers are the caller's to complete, from the line counts
/// of the parts before); a file that cannot be opened, a malformed header or size line, and an
/// `array` file are errors.
pub fn read_coordinate_part(path: &Path, part: usize, parts: usize) -> Result<CoordinatePart> {
    let (pre, _) = open(path)?;
    if pre.header.format != Format::Coordinate {
        return Err(Error::input(format!(
            "{}: a distributed fit reads coordinate Matrix Market files (this one is an array)",
            path.display()
        )));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let file_bytes = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let body_start = file_bytes.saturating_sub(pre.body_bytes);
    let body = pre.body_bytes as u128;
    let at = |q: usize| body_start + (body * q as u128 / parts.max(1) as u128) as u64;
    let (lo, hi) = (at(part), at(part + 1));
    let mut r = BufReader::with_capacity(1 << 20, file);
    let io = |e| Error::io(path, e);
    let mut buf = Vec::new();
    let mut pos;
    if lo > body_start {
        // A line belongs to the part its first byte is in: skip the end of a line begun
        // before `lo`.
        r.seek(std::io::SeekFrom::Start(lo - 1)).map_err(io)?;
        let mut b = [0u8; 1];
        r.read_exact(&mut b).map_err(io)?;
        pos = lo;
        if b[0] != b'\n' {
            pos += r.read_until(b'\n', &mut buf).map_err(io)? as u64;
        }
    } else {
        r.seek(std::io::SeekFrom::Start(body_start)).map_err(io)?;
        pos = body_start;
    }
    let pattern = pre.header.field == Field::Pattern;
    let mut out = CoordinatePart {
        rows: pre.rows,
        cols: pre.cols,
        nnz: pre.nnz,
        symmetric: pre.header.symmetric,
        size_line: pre.size_line,
        file_bytes,
        ..CoordinatePart::default()
    };
    while pos < hi {
        buf.clear();
        let len = r.read_until(b'\n', &mut buf).map_err(io)?;
        if len == 0 {
            break;
        }
        pos += len as u64;
        let index = out.lines;
        if buf.last() == Some(&b'\n') {
            out.lines += 1;
            buf.pop();
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            out.error = Some((index, "the file is not valid UTF-8 text".into()));
            break;
        };
        let t = text.trim_ascii();
        if t.is_empty() || t.starts_with('%') {
            continue;
        }
        match parse_entry(t, pre.rows, pre.cols, pattern) {
            Ok((i, j, v)) => {
                out.seen += 1;
                out.entries.push((i, j, v));
                if out.symmetric && i != j {
                    out.entries.push((j, i, v));
                }
            }
            Err(msg) => {
                out.error = Some((index, msg));
                break;
            }
        }
    }
    Ok(out)
}

/// Reads the entries of a coordinate file into CSR.
fn read_coordinate(path: &Path, pre: &Prelude, r: &mut impl Read) -> Result<Matrix> {
    let (rows, cols, nnz) = (pre.rows, pre.cols, pre.nnz);
    let pattern = pre.header.field == Field::Pattern;
    let symmetric = pre.header.symmetric;
    let capacity = coordinate_capacity(pre);
    check_coordinate_size(path, pre, capacity)?;
    let mut builder = CsrBuilder::new(path, rows, cols, capacity)?;
    let mut seen = 0usize;
    let parse_line = |line: &str, out: &mut Vec<(u32, u32, f64)>| {
        out.push(parse_entry(line, rows, cols, pattern)?);
        Ok(())
    };
    stream_entries(path, r, pre.size_line, parse_line, |items| {
        for (i, j, v) in items {
            seen += 1;
            // Past the announced count only count (the error below names the total).
            if seen > nnz {
                continue;
            }
            builder.push(i, j, v);
            if symmetric && i != j {
                builder.push(j, i, v);
            }
        }
        Ok(())
    })?;
    if seen != nnz {
        return Err(count_error(
            path,
            pre,
            "entries",
            nnz.to_string(),
            nnz,
            seen,
        ));
    }
    builder.finish()
}

/// Reads the values of an array file (column-major in the file) into a row-major matrix,
/// placing each value where it belongs as it is parsed.
fn read_array(path: &Path, pre: &Prelude, r: &mut impl Read) -> Result<Array2<f64>> {
    let (rows, cols) = (pre.rows, pre.cols);
    let Some(total) = rows.checked_mul(cols) else {
        return Err(bad(path, pre.size_line, "matrix size overflows"));
    };
    // A value takes at least 2 bytes (a digit and a separator) but the last: a file too short
    // for `total` values is only counted, not allocated for.
    let fits = (total as u64) <= pre.body_bytes / 2 + 1;
    let mut values = Vec::new();
    if fits {
        reserve(path, &mut values, total)?;
        values.resize(total, 0.0);
    }
    let mut seen = 0usize;
    let parse_line = |line: &str, out: &mut Vec<f64>| {
        for token in line.split_ascii_whitespace() {
            out.push(parse_value(token)?);
        }
        Ok(())
    };
    stream_entries(path, r, pre.size_line, parse_line, |items| {
        for v in items {
            if fits && seen < total {
                values[(seen % rows) * cols + seen / rows] = v;
            }
            seen += 1;
        }
        Ok(())
    })?;
    if seen != total {
        let announced = format!("{rows} x {cols} = {total}");
        return Err(count_error(path, pre, "values", announced, total, seen));
    }
    Array2::from_shape_vec((rows, cols), values)
        .map_err(|e| Error::Runtime(format!("internal error: {e}")))
}

/// Reads a Matrix Market file into a CSR matrix. Accepts `coordinate` (real, integer or
/// pattern; general or symmetric) and `array` real general. Malformed files are an
/// [`Error::Input`] naming the file and line.
///
/// Duplicate coordinate entries are summed, symmetric files are mirrored, zeros are dropped,
/// columns are sorted within rows. The file is streamed: besides the result, reading holds one
/// block of text and its parsed entries (entries out of row order cost 4 more bytes each).
pub fn read_sparse(path: &Path) -> Result<Matrix> {
    let (pre, mut r) = open(path)?;
    match pre.header.format {
        Format::Coordinate => read_coordinate(path, &pre, &mut r),
        Format::Array => {
            let a = read_array(path, &pre, &mut r)?;
            let mut indptr = zeroed_indptr(path, a.nrows() + 1)?;
            indptr.truncate(1);
            let mut indices = Vec::new();
            let mut data = Vec::new();
            for row in a.rows() {
                for (c, &v) in row.iter().enumerate() {
                    if v != 0.0 {
                        indices.push(c as Idx);
                        data.push(v);
                    }
                }
                indptr.push(indices.len());
            }
            Matrix::try_new(a.dim(), indptr, indices, data)
                .map_err(|(_, _, _, e)| Error::Runtime(format!("internal error building CSR: {e}")))
        }
    }
}

/// Reads a dense `array` Matrix Market file (a `coordinate` file is densified, duplicates
/// summed).
pub fn read_dense(path: &Path) -> Result<Array2<f64>> {
    let (pre, mut r) = open(path)?;
    match pre.header.format {
        Format::Array => read_array(path, &pre, &mut r),
        Format::Coordinate => {
            let (rows, cols) = (pre.rows, pre.cols);
            let total = rows.checked_mul(cols).filter(|&t| t <= (1usize << 34));
            let Some(total) = total else {
                return Err(Error::input(format!(
                    "{}: a {rows} x {cols} coordinate matrix is too large to read as a dense matrix",
                    path.display()
                )));
            };
            let x = read_coordinate(path, &pre, &mut r)?;
            let mut buf = Vec::new();
            buf.try_reserve_exact(total).map_err(|_| {
                Error::input(format!(
                    "{}: not enough memory to densify a {rows} x {cols} matrix",
                    path.display()
                ))
            })?;
            buf.resize(total, 0.0);
            for (&v, (i, j)) in x.iter() {
                buf[i as usize * cols + j as usize] = v;
            }
            Array2::from_shape_vec((rows, cols), buf)
                .map_err(|e| Error::Runtime(format!("internal error: {e}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn err_of(dir: &tempfile::TempDir, text: &str) -> String {
        let p = write(dir, "bad.mtx", text);
        match read_sparse(&p) {
            Err(Error::Input(msg)) => msg,
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn coordinate_round_trip_is_bit_exact() {
        let dir = tmp();
        let vals = [
            0.1,
            1.0 / 3.0,
            2.5e-300,
            1.7976931348623157e308,
            123456.789,
            5e-324,
            7.0,
        ];
        let x = Matrix::new(
            (3, 5),
            vec![0, 3, 3, 7],
            vec![0, 2, 4, 0, 1, 3, 4],
            vals.to_vec(),
        );
        let p = dir.path().join("x.mtx");
        write_coordinate(&p, &x).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("%%MatrixMarket matrix coordinate real general\n%"));
        assert!(text.contains("\n3 5 7\n1 1 0.1\n"));
        let y = read_sparse(&p).unwrap();
        assert_eq!(y.shape(), (3, 5));
        assert_eq!(y.indptr().raw_storage(), x.indptr().raw_storage());
        assert_eq!(y.indices(), x.indices());
        let bits = |m: &Matrix| m.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&y), bits(&x));
    }

    #[test]
    fn empty_matrix_round_trips() {
        let dir = tmp();
        let x: Matrix = Matrix::zero((4, 2));
        let p = dir.path().join("z.mtx");
        write_coordinate(&p, &x).unwrap();
        let y = read_sparse(&p).unwrap();
        assert_eq!(y.shape(), (4, 2));
        assert_eq!(y.nnz(), 0);
    }

    #[test]
    fn large_coordinate_round_trip_spans_blocks() {
        let dir = tmp();
        let (rows, cols) = (700, 300);
        let mut tri = crate::matrix::Triplets::new((rows, cols));
        for r in 0..rows {
            for c in (r % 7..cols).step_by(3) {
                tri.add_triplet(r, c, ((1 + r * cols + c) as f64).sqrt() / 7.0);
            }
        }
        let x: Matrix = tri.to_csr();
        assert!(x.nnz() > 2 * BLOCK_VALUES);
        let p = dir.path().join("big.mtx");
        write_coordinate(&p, &x).unwrap();
        let y = read_sparse(&p).unwrap();
        assert!(x == y, "round trip changed the matrix");
    }

    #[test]
    fn written_bytes_do_not_depend_on_threads() {
        let dir = tmp();
        let mut tri = crate::matrix::Triplets::new((900, 200));
        for r in 0..900 {
            for c in (r % 5..200).step_by(2) {
                tri.add_triplet(r, c, 1.0 / (1 + r + c) as f64);
            }
        }
        let x: Matrix = tri.to_csr();
        let a = ndarray::Array2::from_shape_fn((700, 90), |(i, j)| (i * j) as f64 / 7.0);
        let mut outputs = Vec::new();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (p, q) = (
                dir.path().join(format!("x{threads}.mtx")),
                dir.path().join(format!("a{threads}.mtx")),
            );
            pool.install(|| {
                write_coordinate(&p, &x).unwrap();
                write_array(&q, a.view()).unwrap();
            });
            outputs.push((std::fs::read(&p).unwrap(), std::fs::read(&q).unwrap()));
        }
        assert!(outputs[0] == outputs[1]);
        assert_eq!(read_dense(&dir.path().join("a1.mtx")).unwrap(), a);
    }

    #[test]
    fn non_finite_values_are_not_written() {
        let dir = tmp();
        let x = Matrix::new((1, 1), vec![0, 1], vec![0], vec![f64::NAN]);
        assert!(matches!(
            write_coordinate(&dir.path().join("n.mtx"), &x),
            Err(Error::Runtime(_))
        ));
    }

    #[test]
    fn array_round_trip_is_bit_exact_and_column_major() {
        let dir = tmp();
        let a = array![[1.0, 0.25, 1e-20], [1.0 / 7.0, 0.0, 3.0]];
        let p = dir.path().join("a.mtx");
        write_array(&p, a.view()).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "%%MatrixMarket matrix array real general");
        assert_eq!(lines[2], "2 3");
        assert_eq!(&lines[3..5], &["1.0", "0.14285714285714285"]);
        let b = read_dense(&p).unwrap();
        assert_eq!(b.dim(), (2, 3));
        for (u, v) in a.iter().zip(b.iter()) {
            assert_eq!(u.to_bits(), v.to_bits());
        }
        // The array file read as sparse drops the zero.
        let s = read_sparse(&p).unwrap();
        assert_eq!(s.nnz(), 5);
        assert_eq!(s.get(1, 0), Some(&(1.0 / 7.0)));
        assert_eq!(s.get(1, 1), None);
    }

    #[test]
    fn reads_integer_pattern_symmetric_duplicates_and_comments() {
        let dir = tmp();
        let p = write(
            &dir,
            "s.mtx",
            "%%matrixmarket MATRIX Coordinate Integer Symmetric\n% a comment\n\n3 3 4\n1 1 2\n3 1 5\n% inside\n2 1 1\n3 1 1\n",
        );
        let x = read_sparse(&p).unwrap();
        assert_eq!(x.get(0, 0), Some(&2.0));
        assert_eq!(x.get(2, 0), Some(&6.0));
        assert_eq!(x.get(0, 2), Some(&6.0));
        assert_eq!(x.get(0, 1), Some(&1.0));
        assert_eq!(x.get(1, 0), Some(&1.0));
        assert_eq!(x.nnz(), 5);

        let p = write(
            &dir,
            "p.mtx",
            "%%MatrixMarket matrix coordinate pattern general\n2 3 2\n2 3\n1 2\n",
        );
        let x = read_sparse(&p).unwrap();
        assert_eq!(x.get(1, 2), Some(&1.0));
        assert_eq!(x.get(0, 1), Some(&1.0));
        let d = read_dense(&p).unwrap();
        assert_eq!(d, array![[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
    }

    #[test]
    fn reads_crlf_lines_and_blank_lines() {
        let dir = tmp();
        let p = write(
            &dir,
            "crlf.mtx",
            "%%MatrixMarket matrix coordinate real general\r\n%\r\n2 2 2\r\n1 2 0.5\r\n\r\n2 1 -1e-3\r\n",
        );
        let x = read_sparse(&p).unwrap();
        assert_eq!(x.get(0, 1), Some(&0.5));
        assert_eq!(x.get(1, 0), Some(&-1e-3));
        let p = write(
            &dir,
            "arr.mtx",
            "%%MatrixMarket matrix array integer general\r\n2 1\r\n3\r\n4\r\n",
        );
        assert_eq!(read_dense(&p).unwrap(), array![[3.0], [4.0]]);
    }

    #[test]
    fn rejects_bad_banner() {
        let dir = tmp();
        let msg = err_of(&dir, "hello\n1 1 1\n1 1 1\n");
        assert!(
            msg.contains("bad.mtx:1:") && msg.contains("%%MatrixMarket"),
            "{msg}"
        );
        let msg = err_of(
            &dir,
            "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n",
        );
        assert!(msg.contains("complex"), "{msg}");
        let msg = err_of(
            &dir,
            "%%MatrixMarket matrix coordinate real\n1 1 1\n1 1 1\n",
        );
        assert!(msg.contains(":1: malformed banner"), "{msg}");
        let msg = err_of(&dir, "");
        assert!(msg.contains("empty file"), "{msg}");
    }

    #[test]
    fn rejects_bad_size_line() {
        let dir = tmp();
        let h = "%%MatrixMarket matrix coordinate real general\n% c\n";
        let msg = err_of(&dir, &format!("{h}3 3\n1 1 1\n"));
        assert!(msg.contains("bad.mtx:3: malformed size line"), "{msg}");
        let msg = err_of(&dir, &format!("{h}3 x 1\n1 1 1\n"));
        assert!(msg.contains(":3: malformed size line"), "{msg}");
        let msg = err_of(&dir, &format!("{h}-3 3 1\n1 1 1\n"));
        assert!(msg.contains(":3: malformed size line"), "{msg}");
        let msg = err_of(&dir, h);
        assert!(msg.contains("missing size line"), "{msg}");
        let msg = err_of(&dir, &format!("{h}99999999999999 3 0\n"));
        assert!(msg.contains("too large"), "{msg}");
    }

    #[test]
    fn rejects_wrong_entry_counts() {
        let dir = tmp();
        let h = "%%MatrixMarket matrix coordinate real general\n2 2 3\n";
        let msg = err_of(&dir, &format!("{h}1 1 1\n2 2 1\n"));
        assert!(
            msg.contains("too few entries") && msg.contains("announces 3"),
            "{msg}"
        );
        let msg = err_of(&dir, &format!("{h}1 1 1\n2 2 1\n1 2 1\n2 1 1\n"));
        assert!(msg.contains("too many entries"), "{msg}");
        let msg = err_of(
            &dir,
            "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n",
        );
        assert!(msg.contains("too few values"), "{msg}");
    }

    #[test]
    fn rejects_index_out_of_range() {
        let dir = tmp();
        let h = "%%MatrixMarket matrix coordinate real general\n2 2 2\n";
        let msg = err_of(&dir, &format!("{h}1 1 1\n3 1 1\n"));
        assert!(
            msg.contains("bad.mtx:4: row index 3 is out of range"),
            "{msg}"
        );
        let msg = err_of(&dir, &format!("{h}1 0 1\n1 1 1\n"));
        assert!(msg.contains(":3: column index 0"), "{msg}");
    }

    #[test]
    fn rejects_non_numeric_and_non_finite_values() {
        let dir = tmp();
        let h = "%%MatrixMarket matrix coordinate real general\n2 2 2\n";
        let msg = err_of(&dir, &format!("{h}1 1 1\n2 2 abc\n"));
        assert!(msg.contains(":4: value 'abc' is not a number"), "{msg}");
        let msg = err_of(&dir, &format!("{h}1 1 NaN\n2 2 1\n"));
        assert!(msg.contains(":3: value 'NaN' is not finite"), "{msg}");
        let msg = err_of(&dir, &format!("{h}1 1 inf\n2 2 1\n"));
        assert!(msg.contains("not finite"), "{msg}");
        let msg = err_of(&dir, &format!("{h}1 x 1\n2 2 1\n"));
        assert!(msg.contains(":3: column index 'x'"), "{msg}");
        let msg = err_of(&dir, &format!("{h}1 1\n2 2 1\n"));
        assert!(msg.contains(":3: expected 3 fields"), "{msg}");
        let msg = err_of(&dir, &format!("{h}1 1 1 1\n2 2 1\n"));
        assert!(msg.contains(":3: expected 3 fields"), "{msg}");
    }

    #[test]
    fn line_numbers_are_right_across_parallel_pieces() {
        let dir = tmp();
        let n = 200_000;
        let mut text = format!("%%MatrixMarket matrix coordinate real general\n{n} 1 {n}\n");
        for i in 1..=n {
            if i == 150_000 {
                text.push_str("150000 1 oops\n");
            } else {
                text.push_str(&format!("{i} 1 0.5\n"));
            }
        }
        assert!(text.len() > 2 * PIECE_BYTES);
        let msg = err_of(&dir, &text);
        assert!(
            msg.contains(&format!(":{}: value 'oops'", 150_000 + 2)),
            "{msg}"
        );
    }

    /// A coordinate file of `entries` (1-based) in the given order, with a comment and a blank
    /// line every 1000 entries.
    fn coordinate_text(rows: usize, cols: usize, entries: &[(usize, usize, f64)]) -> String {
        let mut text = format!(
            "%%MatrixMarket matrix coordinate real general\n{rows} {cols} {}\n",
            entries.len()
        );
        for (t, (i, j, v)) in entries.iter().enumerate() {
            if t % 1000 == 999 {
                text.push_str("% a comment\n\n");
            }
            text.push_str(&format!("{i} {j} {v}\n"));
        }
        text
    }

    #[test]
    fn entries_in_any_order_across_blocks_give_the_same_matrix() {
        use rand::seq::SliceRandom;
        use rand::{Rng, SeedableRng};
        let dir = tmp();
        let (rows, cols) = (500, 300);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // Duplicates (summed), explicit zeros and pairs that cancel (dropped).
        let mut entries: Vec<(usize, usize, f64)> = (0..40_000)
            .map(|_| {
                let v = match rng.random_range(0..10) {
                    0 => 0.0,
                    _ => f64::from(rng.random_range(1..100u32)) / 8.0,
                };
                (rng.random_range(1..=rows), rng.random_range(1..=cols), v)
            })
            .collect();
        entries.push((3, 3, 2.5));
        entries.push((3, 3, -2.5));
        let mut expected = BTreeMap::new();
        for &(i, j, v) in &entries {
            *expected.entry((i - 1, j - 1)).or_insert(0.0) += v;
        }
        expected.retain(|_, v| *v != 0.0);

        let mut sorted = entries.clone();
        sorted.sort_by_key(|e| e.0); // row order, columns in file order
        entries.shuffle(&mut rng);
        for (name, list) in [("sorted.mtx", &sorted), ("shuffled.mtx", &entries)] {
            let text = coordinate_text(rows, cols, list);
            assert!(text.len() > 4 * READ_BLOCK_BYTES);
            let x = read_sparse(&write(&dir, name, &text)).unwrap();
            let got: BTreeMap<(usize, usize), f64> = x
                .iter()
                .map(|(&v, (i, j))| ((i as usize, j as usize), v))
                .collect();
            assert_eq!(got.len(), expected.len(), "{name}");
            for (key, v) in &expected {
                let g = got[key];
                assert!(
                    (g - v).abs() <= 1e-12 * v.abs(),
                    "{name} {key:?}: {g} vs {v}"
                );
            }
            assert!(x.is_csr());
            let d = read_dense(&write(&dir, name, &text)).unwrap();
            assert_eq!(d.dim(), (rows, cols));
            assert_eq!(d.iter().filter(|v| **v != 0.0).count(), expected.len());
        }
    }

    #[test]
    fn a_line_longer_than_a_block_is_read() {
        let dir = tmp();
        let long_comment = format!("%{}\n", "x".repeat(3 * READ_BLOCK_BYTES));
        let text = format!(
            "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n{long_comment}2 2 3\n"
        );
        let x = read_sparse(&write(&dir, "long.mtx", &text)).unwrap();
        assert_eq!(x.nnz(), 2);
        assert_eq!(x.get(1, 1), Some(&3.0));
        // Line numbers after it are still right.
        let text = format!(
            "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n{long_comment}2 2 x\n"
        );
        let msg = err_of(&dir, &text);
        assert!(msg.contains("bad.mtx:5: value 'x'"), "{msg}");
    }

    #[test]
    fn a_bogus_size_line_does_not_allocate_for_it() {
        let dir = tmp();
        // 10^9 announced values or entries, three present: a count error, no 8 GB buffer.
        let msg = err_of(
            &dir,
            "%%MatrixMarket matrix coordinate real general\n100000 100000 1000000000\n1 1 1\n",
        );
        assert!(msg.contains("too few entries"), "{msg}");
        let p = write(
            &dir,
            "a.mtx",
            "%%MatrixMarket matrix array real general\n100000 10000\n1\n2\n3\n",
        );
        let msg = read_dense(&p).unwrap_err().to_string();
        assert!(
            msg.contains("too few values") && msg.contains("has 3"),
            "{msg}"
        );
    }

    #[test]
    fn invalid_utf8_in_a_later_block_names_its_line() {
        let dir = tmp();
        let n = 20_000;
        let mut bytes =
            format!("%%MatrixMarket matrix coordinate real general\n{n} 1 {n}\n").into_bytes();
        for i in 1..=n {
            if i == 15_000 {
                bytes.extend_from_slice(b"15000 1 \xff\n");
            } else {
                bytes.extend_from_slice(format!("{i} 1 0.5\n").as_bytes());
            }
        }
        assert!(bytes.len() > 2 * READ_BLOCK_BYTES);
        let p = dir.path().join("u.mtx");
        std::fs::write(&p, &bytes).unwrap();
        let msg = read_sparse(&p).unwrap_err().to_string();
        assert!(
            msg.contains("u.mtx:15002: the file is not valid UTF-8"),
            "{msg}"
        );
    }

    #[test]
    fn garbage_never_panics() {
        let dir = tmp();
        let cases = [
            "%%MatrixMarket",
            "%%MatrixMarket matrix array pattern general\n1 1\n1\n",
            "%%MatrixMarket matrix array real symmetric\n1 1\n1\n",
            "%%MatrixMarket matrix coordinate real symmetric\n2 3 0\n",
            "%%MatrixMarket matrix coordinate real general\n0 0 0\n",
            "%%MatrixMarket matrix coordinate real general\n1 1 1\n\u{e9}\u{e9} 1 1\n",
            "%%MatrixMarket matrix array real general\n99999999 99999999\n1\n",
            "%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 1e999\n",
        ];
        for c in cases {
            let p = write(&dir, "g.mtx", c);
            let _ = read_sparse(&p);
            let _ = read_dense(&p);
        }
        let p = dir.path().join("bin.mtx");
        std::fs::write(&p, [0xff, 0xfe, 0x00, 0x10]).unwrap();
        assert!(matches!(read_sparse(&p), Err(Error::Input(_))));
        assert!(matches!(
            read_sparse(&dir.path().join("missing.mtx")),
            Err(Error::Io { .. })
        ));
    }
}
