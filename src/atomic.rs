//! Atomic output files: every output is written to a temporary file beside its final name and
//! renamed into place, so an interrupted run (Ctrl-C, a full disk) never leaves a half-written
//! file under the final name.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The temporary name [`write_atomic`] writes to before renaming: `NAME.tmp-<pid>` in the same
/// folder as `path`.
pub fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_string());
    path.with_file_name(format!("{name}.tmp-{}", std::process::id()))
}

/// Writes `path` atomically: `write` fills a temporary file beside it (see
/// [`temporary_path`]), which is then renamed over `path`. On any error the temporary file is
/// removed and `path` is left as it was.
pub fn write_atomic_path(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = temporary_path(path);
    let result = write(&tmp).and_then(|()| fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Like [`write_atomic_path`], with a buffered writer on the temporary file (flushed before the
/// rename).
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    write_atomic_path(path, |tmp| {
        let file = fs::File::create(tmp).map_err(|e| Error::io(path, e))?;
        let mut out = BufWriter::new(file);
        write(&mut out)?;
        out.flush().map_err(|e| Error::io(path, e))
    })
}
