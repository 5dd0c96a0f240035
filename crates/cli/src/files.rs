//! Reading and writing files, with errors that name the file.

use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

pub use gateway_policy::dir::{io_message, read_text};

pub fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read `{}`: {}", path.display(), io_message(&e)))
}

/// Writes `text` to `path` through a temporary sibling and a rename, so a reader never
/// sees half a file and a failed write leaves the old file as it was.
pub fn write_text(path: &Path, text: &str) -> Result<(), String> {
    let cannot = |e: io::Error| format!("cannot write `{}`: {}", path.display(), io_message(&e));
    let file_name = path
        .file_name()
        .ok_or_else(|| format!("cannot write `{}`: not a file name", path.display()))?;
    let mut temporary_name = file_name.to_owned();
    temporary_name.push(format!(".tmp-{}", std::process::id()));
    let temporary: PathBuf = path.with_file_name(temporary_name);
    let written = std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(cannot(error));
    }
    Ok(())
}

/// Creates `path` readable and writable by its owner only (mode 0600), refusing to touch
/// a file that already exists.
pub fn create_secret(path: &Path, text: &str) -> Result<(), String> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            format!(
                "`{}` already exists; refusing to overwrite a key file",
                path.display()
            )
        } else {
            format!("cannot create `{}`: {}", path.display(), io_message(&e))
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write `{}`: {}", path.display(), io_message(&e)))
}
