//! Argument groups shared by several commands, written once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use iam_doctor::core::jets::Literal;
use iam_doctor::core::profile::{self, Expansion, ProfileInputs, RequiredPermissions};
use iam_doctor::inputs::jets_config;

use super::Failure;

/// Which required permissions, from which project.
#[derive(Debug, Clone, Args)]
pub struct ProfileArgs {
    /// Required-permission profile: `jets-remote` (the remote runner's CodeBuild role) or `jets-ci`.
    #[arg(long, default_value = "jets-remote")]
    pub profile: String,
    /// Jets project root (the folder holding `config/jets`); defaults to the current folder when
    /// it has one.
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Jets environment whose override files are read (`config/jets/<file>/<env>.rb`).
    #[arg(long = "env", env = "JETS_ENV", default_value = "dev")]
    pub jets_env: String,
    /// Treat the deploy as using a VPC config (adds the EC2 network-interface permissions).
    #[arg(long)]
    pub vpc: bool,
    /// Expand every `service:*` grant to all of the service's actions from the action catalog,
    /// instead of the deploy's known calls.
    #[arg(long)]
    pub exhaustive: bool,
}

/// Output controls.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Print no warnings or notes on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Denials with their explanation and the fix, for people.
    Table,
    /// Every result, machine-readable.
    Json,
    /// A pull-request comment.
    Markdown,
    /// JUnit XML: a test case per required action.
    Junit,
    /// SARIF 2.1.0 for code-scanning uploads.
    Sarif,
}

impl ProfileArgs {
    /// Reads the project's config and builds the profile's required permissions, with notes
    /// on what the config switched on.
    pub fn required(&self) -> Result<(RequiredPermissions, Vec<String>), Failure> {
        let profile = profile::profile(&self.profile).map_err(|e| {
            Failure::input(e).help(format!("profiles: {}", profile::profile_names().join(", ")))
        })?;
        let dir: Option<PathBuf> = match &self.config_dir {
            Some(d) => Some(d.clone()),
            None if Path::new("config/jets").is_dir() => Some(PathBuf::from(".")),
            None => None,
        };
        let mut inputs = ProfileInputs {
            vpc: self.vpc,
            expansion: if self.exhaustive {
                Expansion::Exhaustive
            } else {
                Expansion::KnownCalls
            },
            overrides: BTreeMap::new(),
        };
        let mut warnings = Vec::new();
        let mut notes = Vec::new();
        if let Some(dir) = dir {
            let settings = jets_config::load(&dir, &self.jets_env).map_err(|e| {
                let help = e.help();
                Failure::input(e).help(help)
            })?;
            if let Some(v) = &settings.vpc {
                inputs.vpc = true;
                notes.push(format!(
                    "VPC config found: `config.{}` in {}:{}, so the EC2 permissions are required",
                    v.key,
                    v.file.display(),
                    v.line
                ));
            }
            warnings.extend(settings.warnings.iter().map(ToString::to_string));
            let prefix = format!("{}.", profile.config.prefix);
            for (key, setting) in &settings.values {
                let Some(rel) = key.strip_prefix(&prefix) else {
                    continue;
                };
                let value = if setting.extends_default {
                    let defaults = profile
                        .policies
                        .iter()
                        .find(|p| p.key == rel)
                        .map(|p| p.default.clone())
                        .or_else(|| {
                            profile
                                .managed_policies
                                .iter()
                                .find(|m| m.key == rel)
                                .map(|m| m.default.clone())
                        })
                        .unwrap_or_default();
                    let mut items: Vec<Literal> = defaults.into_iter().map(Literal::Str).collect();
                    items.push(setting.value.clone());
                    Literal::Array(items)
                } else {
                    setting.value.clone()
                };
                inputs.overrides.insert(rel.to_string(), value);
            }
        }
        let mut req = profile.build(&inputs).map_err(Failure::input)?;
        warnings.append(&mut req.warnings);
        req.warnings = warnings;
        Ok((req, notes))
    }
}
