//! The shared AWS config and credentials files, checked before the SDK reads them.
//!
//! The SDK reads both files itself; two of its behaviours need a check first. A profile that
//! is named but defined nowhere surfaces as "no credentials found" (or is silently passed over
//! when the environment has keys), which sends people looking in the wrong place. And a file
//! that is not a regular file (a FIFO, a device) would block the read forever.

use std::path::PathBuf;

use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

use super::error::AwsError;

/// The two shared files, where the SDK looks for them: `AWS_CONFIG_FILE` else
/// `~/.aws/config`, and `AWS_SHARED_CREDENTIALS_FILE` else `~/.aws/credentials` (the SDK's
/// "Location of Profile Files" rules).
fn shared_files() -> [(&'static str, PathBuf); 2] {
    let home = || {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
    };
    let path = |var: &str, default: &str| match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(p) => expand_home(PathBuf::from(p)),
        None => home().join(".aws").join(default),
    };
    [
        ("config", path("AWS_CONFIG_FILE", "config")),
        (
            "credentials",
            path("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        ),
    ]
}

/// `~/x` → `$HOME/x`, as the SDK expands it.
fn expand_home(path: PathBuf) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path,
    }
}

/// Checks the shared files can be read without blocking, and that the selected profile
/// (`--aws-profile`, else `AWS_PROFILE`) is defined in one of them. `default` is not checked:
/// the SDK works without it (environment keys, instance roles).
pub(crate) async fn check_selected(explicit: Option<&str>) -> Result<(), AwsError> {
    let files = shared_files();
    for (what, path) in &files {
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => {
                return Err(AwsError::AwsConfigFile {
                    what,
                    path: path.display().to_string(),
                    reason: crate::inputs::file::not_regular_reason(&meta),
                });
            }
            _ => {}
        }
    }
    let from_env = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
    let Some(name) = explicit.map(str::to_string).or(from_env) else {
        return Ok(());
    };
    if name == "default" {
        return Ok(());
    }
    // A file that does not parse is left to the SDK, which names the line.
    let Ok(set) =
        aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), None)
            .await
    else {
        return Ok(());
    };
    if set.get_profile(&name).is_some() {
        return Ok(());
    }
    let mut known: Vec<String> = set.profiles().map(str::to_string).collect();
    known.sort();
    let [(_, config), (_, credentials)] = files;
    Err(AwsError::ProfileNotFound {
        name: super::network::shown_value(&name),
        config_file: config.display().to_string(),
        credentials_file: credentials.display().to_string(),
        known,
    })
}
