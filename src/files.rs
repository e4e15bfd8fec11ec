//! Owner-only files and directories: the data directory and its SQLite stores are
//! created 0700 / 0600 (and tightened if an older version left them wider), and a master
//! key file readable by group or others is refused at start-up.
//!
//! This module only ever narrows permissions; it never widens one, and its messages name
//! paths, never file contents.

use std::path::Path;

/// Creates `dir` (and missing parents) readable by its owner only, and tightens an
/// existing one to 0700: the directory lists account ids and holds every store.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    set_mode(dir, 0o700)
}

/// Creates `path` empty if missing, with mode 0600, and tightens an existing one to 0600.
/// SQLite gives its `-wal` and `-shm` files the mode of the database file, so they
/// follow.
pub fn private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?;
    set_mode(path, 0o600)
}

/// Tightens an existing file to 0600; a missing one is fine.
pub fn tighten_if_exists(path: &Path) -> std::io::Result<()> {
    match set_mode(path, 0o600) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Narrows `path` to at most `mode`. A path owned by another user (which this process
/// may use but not chmod) is left as it is, with a warning naming it.
#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current & !mode != 0 {
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(current & mode)) {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{current:03o}"),
                    "cannot restrict the mode of a path owned by another user"
                );
            }
            other => other?,
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Refuses a master key file that group or others may read or write, naming the file and
/// the `chmod` that fixes it.
pub fn check_key_file_mode(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| format!("cannot read master key file {}: {e}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "master key file {} is accessible by group or others (mode {:03o}); \
                 restrict it with `chmod 600 {}` and start again",
                path.display(),
                mode & 0o777,
                path.display()
            ));
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn dirs_and_files_become_owner_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let f = dir.join("x.db");
        std::fs::write(&f, b"").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_file(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
        // Never widened.
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o400)).unwrap();
        tighten_if_exists(&f).unwrap();
        assert_eq!(mode(&f), 0o400);
        tighten_if_exists(&dir.join("missing")).unwrap();
    }

    #[test]
    fn group_readable_key_file_is_refused_with_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("master.key");
        std::fs::write(&f, b"k").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
        let msg = check_key_file_mode(&f).unwrap_err();
        assert!(msg.contains(&format!("chmod 600 {}", f.display())), "{msg}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        check_key_file_mode(&f).unwrap();
    }
}
