//! The lab's directory, handled as a place that holds tokens: created 0700 when missing,
//! refused when someone else owns it or others may write to it, and written without ever
//! following a symbolic link (new file beside, then rename; a symlink in place is refused).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::LabError;

/// Makes sure `dir` is a private directory of this user: creates it (mode 0700) when it does
/// not exist; refuses one owned by another user or writable by group or others.
pub fn prepare_dir(dir: &Path) -> Result<(), LabError> {
    let unsafe_dir = |why: String| LabError::UnsafeDir {
        path: dir.to_path_buf(),
        why,
    };
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(|source| LabError::Write {
                path: dir.to_path_buf(),
                source,
            })
        }
        Err(source) => Err(LabError::Write {
            path: dir.to_path_buf(),
            source,
        }),
        Ok(meta) if !meta.is_dir() => Err(unsafe_dir("it is not a directory".into())),
        Ok(meta) => check_private(&meta).map_err(unsafe_dir),
    }
}

#[cfg(unix)]
fn check_private(meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    #[cfg(target_os = "linux")]
    {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(format!(
                "it belongs to user id {}, not to you (user id {me})",
                meta.uid()
            ));
        }
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(format!(
            "it is writable by {} (mode {mode:o})",
            if mode & 0o002 != 0 {
                "everyone"
            } else {
                "its group"
            }
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_meta: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

/// Writes `dir/name` with `bytes`: into a new file beside it (created exclusively, mode 0600
/// when `private`, else 0644), then renamed over it, so a symbolic link planted at either
/// path is never followed. A symbolic link at `dir/name` is refused.
pub fn write(dir: &Path, name: &str, bytes: &[u8], private: bool) -> Result<PathBuf, LabError> {
    let path = dir.join(name);
    refuse_symlink(&path)?;
    let err = |source| LabError::Write {
        path: path.clone(),
        source,
    };
    let temp = dir.join(format!(
        ".{name}.{}-{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if private { 0o600 } else { 0o644 });
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, &path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(err(e));
    }
    Ok(path)
}

/// The text of `dir/name`, `None` when there is no such file; a symbolic link is refused.
pub fn read(dir: &Path, name: &str) -> Result<Option<String>, LabError> {
    let path = dir.join(name);
    refuse_symlink(&path)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    let text = options.open(&path).and_then(|mut file| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text)?;
        Ok(text)
    });
    match text {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LabError::State {
            message: format!("it cannot be read: {e}"),
            path,
        }),
    }
}

fn refuse_symlink(path: &Path) -> Result<(), LabError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(LabError::Symlink {
            path: path.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_missing_dir_is_made_private_and_a_shared_one_refused() {
        let base = tempfile::tempdir().unwrap();
        let fresh = base.path().join("a/lab");
        prepare_dir(&fresh).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let shared = base.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o770)).unwrap();
        let err = prepare_dir(&shared).unwrap_err().to_string();
        assert!(err.contains(&shared.display().to_string()), "{err}");
        assert!(err.contains("writable by its group"), "{err}");
        assert!(err.contains("chmod 700"), "{err}");
    }

    #[test]
    fn files_are_written_private_and_never_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "kubeconfig", b"one", true).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // An older, readable kubeconfig is replaced by a private one.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(dir.path(), "kubeconfig", b"two", true).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            read(dir.path(), "kubeconfig").unwrap().as_deref(),
            Some("two")
        );
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "keep").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("lab.json")).unwrap();
        let err = write(dir.path(), "lab.json", b"x", false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("symbolic link"), "{err}");
        assert!(read(dir.path(), "lab.json").is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }
}
