//! Files named by the user (a config file, a recorded log): only regular files are read. A
//! device, a FIFO or a directory, even behind a symlink, is refused before it is opened
//! (opening a FIFO would wait for a writer; reading `/dev/zero` never ends), and again on what
//! was opened (the path may have changed in between).

use std::fs::{File, Metadata};
use std::io;
use std::path::Path;

/// Why a path could not be opened as a regular file.
#[derive(Debug)]
pub enum OpenError {
    /// The OS's error (missing, no permission, ...).
    Io(io::Error),
    /// The path is something else: "a directory", "a FIFO", "a character device", ...
    NotAFile(&'static str),
}

/// Open `path` for reading if it is a regular file; its metadata comes with it.
pub fn open_regular(path: &Path) -> Result<(File, Metadata), OpenError> {
    let regular = |meta: Metadata| {
        if meta.is_file() {
            Ok(meta)
        } else {
            Err(OpenError::NotAFile(kind(&meta)))
        }
    };
    regular(std::fs::metadata(path).map_err(OpenError::Io)?)?;
    let file = File::open(path).map_err(OpenError::Io)?;
    let meta = regular(file.metadata().map_err(OpenError::Io)?)?;
    Ok((file, meta))
}

/// What a path is, in words, when it is not a regular file.
pub fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_char_device() {
            return "a character device";
        } else if t.is_block_device() {
            return "a block device";
        } else if t.is_fifo() {
            return "a FIFO";
        } else if t.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_open_and_everything_else_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.toml");
        std::fs::write(&file, "x = 1").expect("write");
        let (_, meta) = open_regular(&file).expect("a regular file opens");
        assert_eq!(meta.len(), 5);
        assert!(matches!(
            open_regular(dir.path()),
            Err(OpenError::NotAFile("a directory"))
        ));
        #[cfg(unix)]
        {
            let link = dir.path().join("zero.jsonl");
            std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
            assert!(matches!(
                open_regular(&link),
                Err(OpenError::NotAFile("a character device"))
            ));
        }
        assert!(matches!(
            open_regular(&dir.path().join("missing")),
            Err(OpenError::Io(_))
        ));
    }
}
