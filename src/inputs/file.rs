//! Reading the files people name, without ever blocking on one.
//!
//! Opening a FIFO for reading waits until something writes to it, and a character device can
//! stream forever: a path given as a config file, template, snapshot file or input must be a
//! regular file, and is checked before it is opened. `-` for stdin is handled by the callers
//! that accept it.

use std::fs::Metadata;
use std::io::{self, Read};
use std::path::Path;

/// Reads a whole regular file (symlinks followed); anything else is an
/// [`io::ErrorKind::InvalidInput`] error saying what the path is instead.
pub fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    check_regular(&std::fs::metadata(path)?)?;
    let mut file = std::fs::File::open(path)?;
    // The path may have been swapped between the check and the open: check what was opened.
    check_regular(&file.metadata()?)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Like [`read_regular`], as UTF-8 text.
pub fn read_regular_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read_regular(path)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

fn check_regular(meta: &Metadata) -> io::Result<()> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            not_regular_reason(meta),
        ))
    }
}

/// "it is a FIFO, not a regular file": what a non-regular path is, for messages.
pub fn not_regular_reason(meta: &Metadata) -> String {
    format!("it is {}, not a regular file", kind_of(meta))
}

fn kind_of(meta: &Metadata) -> &'static str {
    let file_type = meta.file_type();
    if file_type.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.json");
        std::fs::write(&path, "{}").expect("write");
        assert_eq!(read_regular_to_string(&path).expect("read"), "{}");
    }

    #[test]
    fn a_folder_is_refused_with_what_it_is() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read_regular(dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(err.to_string(), "it is a folder, not a regular file");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        // Opening it would block this test forever; the check must come first.
        let err = read_regular(&fifo).unwrap_err();
        assert_eq!(
            err.to_string(),
            "it is a FIFO (named pipe), not a regular file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_character_device_is_refused() {
        let err = read_regular(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "it is a character device, not a regular file"
        );
    }
}
