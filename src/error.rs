//! The library's error type.
//!
//! Every error carries enough context to be printed as one line naming the file or option at
//! fault. [`Error::exit_code`] maps an error to the command line's exit codes: 2 for bad usage or
//! bad input (a missing input file among them), 1 for runtime failures.

use std::path::PathBuf;

use crate::nmf::NmfError;

/// Errors of the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input data or an impossible option value (exit code 2). The message names the file
    /// or option.
    #[error("{0}")]
    Input(String),
    /// An I/O failure on a named file: exit code 2 when the file does not exist (a wrong path
    /// on the command line), 1 otherwise. The message is the path and the OS error; the OS
    /// error is not also reported as a separate source, so a printed error chain shows it once.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file or folder that could not be read or written.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// A failure of the factorization (bad parameters are exit code 2, the rest 1).
    #[error(transparent)]
    Nmf(#[from] NmfError),
    /// Any other runtime failure (exit code 1).
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    /// Shorthand for an [`Error::Input`] from anything printable.
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }

    /// Shorthand for an [`Error::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }

    /// The process exit code for this error: 2 for bad usage or input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_) => 2,
            Error::Io { cause, .. } if cause.kind() == std::io::ErrorKind::NotFound => 2,
            Error::Nmf(e) if e.is_bad_input() => 2,
            _ => 1,
        }
    }
}

/// Result with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
