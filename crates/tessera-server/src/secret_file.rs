//! Files holding secrets (the operator token, the master keys): readable by the owner only
//! (mode 0600), written completely and synced before they count.

use std::io::Write as _;
use std::path::Path;

fn options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

fn write_to(mut f: std::fs::File, contents: &str) -> std::io::Result<()> {
    f.write_all(contents.as_bytes())?;
    if !contents.ends_with('\n') {
        f.write_all(b"\n")?;
    }
    f.sync_all()
}

/// Writes `contents` to `path` (made or truncated), mode 0600.
pub fn write(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_to(options().create(true).truncate(true).open(path)?, contents)
}

/// Writes a new file at `path`, mode 0600; `AlreadyExists` if there is one (two processes
/// starting at once: one writes, the other reads what it wrote).
pub fn create_new(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_to(options().create_new(true).open(path)?, contents)
}

/// Replaces the file at `path` at once: a temporary file beside it, synced, then renamed over
/// it, so a reader sees the old contents or the new, never a part.
pub fn replace(path: &Path, contents: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    write_to(options().create_new(true).open(&tmp)?, contents)?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself is durable once the directory is synced.
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Whether others than the owner may read the file (a warning, not an error: the operator's
/// files are the operator's business).
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}
