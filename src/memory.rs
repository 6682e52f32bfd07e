//! How much memory the process can still allocate, so that work which cannot fit is refused
//! with a clear error before anything is allocated for it (instead of an allocation failure,
//! or a machine brought to its knees).
//!
//! The figure is the smaller of the system's available memory (`MemAvailable` of
//! `/proc/meminfo`) and what the address-space limit (`ulimit -v`, `/proc/self/limits`) leaves
//! beyond the process's current size (`VmSize` of `/proc/self/status`). Where these files do
//! not exist (not Linux), nothing is known and nothing is refused.

use crate::{Error, Result};

/// Hands the memory freed so far back to the system, where the allocator keeps it for later
/// allocations otherwise: glibc's `malloc_trim(0)` on Linux, nothing elsewhere. Worth calling
/// after a phase that freed many blocks (the counted rows of the vectorizer as the matrix is
/// built from them, a group of chunks at a time: 0.2 GiB kept at 400k documents without it).
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused pages of the allocator's heaps to the system; it
    // takes no pointer and may be called at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Bytes the process can still allocate, if known.
pub fn available_bytes() -> Option<u64> {
    let system = read_kib_field("/proc/meminfo", "MemAvailable:");
    let limit = address_space_limit().map(|limit| {
        let used = read_kib_field("/proc/self/status", "VmSize:").unwrap_or(0);
        limit.saturating_sub(used)
    });
    match (system, limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The value in bytes of a `Name:   123 kB` line of a /proc file.
fn read_kib_field(path: &str, name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// The soft limit of the address space in bytes (`Max address space` of /proc/self/limits),
/// `None` when unlimited or unknown.
fn address_space_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `bytes` for people: `512 B`, `3.2 MiB`, `16.0 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Refuses (with an [`Error::Input`] starting with `what`) an allocation of `bytes` that is
/// more than the process can still allocate ([`available_bytes`]); accepts it when that is
/// not known.
pub fn check(what: &str, bytes: u64) -> Result<()> {
    match available_bytes() {
        Some(available) if bytes > available => Err(Error::input(format!(
            "{what} need{} {} of memory, more than the {} available",
            if what.ends_with('s') { "" } else { "s" },
            format_bytes(bytes),
            format_bytes(available)
        ))),
        _ => Ok(()),
    }
}

/// The least memory any NMF solver holds for k topics of an n × m matrix: W (n × k) and H
/// (k × m) and one update numerator of each shape, in f64.
pub fn factor_bytes(n: usize, m: usize, k: usize) -> u64 {
    let cells = (n as u128 + m as u128)
        .saturating_mul(k as u128)
        .saturating_mul(2);
    u64::try_from(cells.saturating_mul(8)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_like_sizes() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(16 << 30), "16.0 GiB");
        assert_eq!(format_bytes(1536), "1.5 KiB");
    }

    #[test]
    fn impossible_allocations_are_refused() {
        if available_bytes().is_none() {
            return;
        }
        let err = check("the test's buffers", u64::MAX)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("the test's buffers need 16.0 EiB") || err.contains("PiB"),
            "{err}"
        );
        check("a byte", 1).unwrap();
        assert_eq!(factor_bytes(10, 20, 3), 2 * 30 * 3 * 8);
        assert_eq!(factor_bytes(usize::MAX, usize::MAX, usize::MAX), u64::MAX);
    }
}
