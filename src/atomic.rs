//! Atomic output files and output sets.
//!
//! - [`write_atomic`] writes one file to a temporary name beside it and renames it into place,
//!   so an interrupted run never leaves a half-written file under the final name.
//! - [`StagedDir`] does the same for a set of files: they are all written into a hidden
//!   staging folder inside the output folder (`DIR/.nmf-topics-tmp-<pid>/`) and moved into
//!   place by [`StagedDir::commit`] only once every one of them is complete. Until then the
//!   folder keeps its previous set untouched; a staging folder that is dropped without a
//!   commit (an error, an interrupt handled by the caller) is removed.

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

/// Prefix of the staging folders [`StagedDir`] creates (followed by the process id).
pub const STAGING_PREFIX: &str = ".nmf-topics-tmp-";

/// A set of output files written into a hidden staging folder and moved into the output
/// folder together (see the [module documentation](self)).
#[derive(Debug)]
pub struct StagedDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl StagedDir {
    /// Creates `target` if missing, and the empty staging folder
    /// `target/.nmf-topics-tmp-<pid>` inside it (one left by an earlier run of the same process
    /// id is emptied first).
    ///
    /// Errors: [`Error::Io`] naming the folder that cannot be created.
    pub fn new(target: &Path) -> Result<Self> {
        fs::create_dir_all(target).map_err(|e| Error::io(target, e))?;
        let staging = target.join(format!("{STAGING_PREFIX}{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        Ok(StagedDir {
            target: target.to_path_buf(),
            staging,
            committed: false,
        })
    }

    /// The staging folder: write every file of the set here, under its final name.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The output folder the set is moved into.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Moves every file of the staging folder into the output folder (replacing files of the
    /// same name), removes the files named in `stale` that this set does not contain (outputs
    /// of an earlier run that would otherwise sit beside the new ones, such as `W.mtx` of a run
    /// with `--save-factors`), and removes the staging folder. Returns the final paths, sorted.
    ///
    /// Errors: [`Error::Io`] naming the file that could not be moved; the files not yet moved
    /// stay in the staging folder, which is then removed.
    pub fn commit(mut self, stale: &[&str]) -> Result<Vec<PathBuf>> {
        let mut names: Vec<std::ffi::OsString> = fs::read_dir(&self.staging)
            .map_err(|e| Error::io(&self.staging, e))?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<std::io::Result<_>>()
            .map_err(|e| Error::io(&self.staging, e))?;
        names.sort();
        let mut moved = Vec::with_capacity(names.len());
        for name in &names {
            let to = self.target.join(name);
            fs::rename(self.staging.join(name), &to).map_err(|e| Error::io(&to, e))?;
            moved.push(to);
        }
        for name in stale {
            if !names.iter().any(|n| n == std::ffi::OsStr::new(name)) {
                let path = self.target.join(name);
                match fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(Error::io(&path, e))
                    }
                    _ => {}
                }
            }
        }
        self.committed = true;
        fs::remove_dir(&self.staging).map_err(|e| Error::io(&self.staging, e))?;
        Ok(moved)
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_committed_set_replaces_the_old_one_and_drops_stale_outputs() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "old a").unwrap();
        fs::write(dir.path().join("W.mtx"), "old W").unwrap();
        fs::write(dir.path().join("mine.txt"), "not ours").unwrap();
        let staged = StagedDir::new(dir.path()).unwrap();
        fs::write(staged.path().join("a.txt"), "new a").unwrap();
        fs::write(staged.path().join("b.txt"), "new b").unwrap();
        let moved = staged.commit(&["a.txt", "b.txt", "W.mtx"]).unwrap();
        assert_eq!(moved.len(), 2);
        assert_eq!(names(dir.path()), ["a.txt", "b.txt", "mine.txt"]);
        assert_eq!(
            fs::read_to_string(dir.path().join("a.txt")).unwrap(),
            "new a"
        );
    }

    #[test]
    fn a_dropped_set_leaves_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "old a").unwrap();
        {
            let staged = StagedDir::new(dir.path()).unwrap();
            fs::write(staged.path().join("a.txt"), "new a").unwrap();
        }
        assert_eq!(names(dir.path()), ["a.txt"]);
        assert_eq!(
            fs::read_to_string(dir.path().join("a.txt")).unwrap(),
            "old a"
        );
    }
}
