//! Writing the page without ever leaving half of it: a temporary file in the target directory
//! (same file system, so the rename is atomic), written and synced, then renamed over the
//! target. On any failure the temporary file is removed and the target is untouched.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::redact::escape_control;

/// Why the report could not be written. Paths are shown escaped; the OS's words once.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write the report to {}: {error}", shown(path))]
    Io { path: PathBuf, error: io::Error },
    #[error("cannot write the report to {}: it is a directory", shown(path))]
    IsDir { path: PathBuf },
}

fn shown(path: &Path) -> String {
    escape_control(&path.display().to_string())
}

/// Do two paths name the same file (an input that `-o` would overwrite)?
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Write `bytes` to `path` through a temporary file in the same directory.
pub fn atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    if path.is_dir() {
        return Err(WriteError::IsDir {
            path: path.to_path_buf(),
        });
    }
    let io_err = |error| WriteError::Io {
        path: path.to_path_buf(),
        error,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let (tmp, file) = create_temp(&dir, &name).map_err(io_err)?;
    let written = write_all(file, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    Ok(())
}

fn write_all(mut file: File, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes)?;
    file.flush()?;
    file.sync_all()
}

/// `.NAME.PID.N.tmp` in `dir`, created new (never follows or reuses an existing file).
fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    let mut last = None;
    for n in 0..16 {
        let tmp = dir.join(format!(".{name}.{pid}.{n}.tmp"));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no temporary file name left")))
}
