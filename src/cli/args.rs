//! Argument groups shared by several commands, written once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use iam_doctor::core::jets::Literal;
use iam_doctor::core::profile::{
    self, Expansion, ProfileError, ProfileInputs, RequiredAction, RequiredPermissions,
};
use iam_doctor::core::request_keys::{self, Supplied};
use iam_doctor::inputs::jets_config;
use iam_doctor::inputs::template::{self, TemplateContext};

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
    /// CloudFormation templates (JSON or YAML) whose resources the deploy creates: adds the
    /// actions CloudFormation needs for each resource type, and turns the VPC part on when a
    /// function has a `VpcConfig`.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub template: Vec<PathBuf>,
    /// Stack name for ARNs derived from templates (stack and role ARNs).
    #[arg(long, value_name = "NAME")]
    pub stack_name: Option<String>,
}

/// Values of request-context keys the check cannot know (`aws:SourceIp`, `aws:CurrentTime`, …).
#[derive(Debug, Clone, Default, Args)]
pub struct ContextArgs {
    /// A value the real requests carry for a condition key the check cannot know, e.g.
    /// `aws:SourceIp=203.0.113.7` or `aws:CurrentTime=2026-01-31T12:00:00Z`; repeatable, and
    /// repeating a key gives it several values. Overrides the profile's stated values. Without
    /// it, a decision that depends on such a key is unknown (exit 3), never allowed.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
}

impl ContextArgs {
    /// The profile's stated values (when there is a profile), then the `--context` values.
    pub fn supplied(&self, profile_name: Option<&str>) -> Result<Supplied, Failure> {
        let mut supplied = match profile_name {
            Some(name) => profile::profile(name)
                .map_err(Failure::from_error)?
                .stated_context(),
            None => Supplied::default(),
        };
        let mut given: Vec<(String, Vec<String>)> = Vec::new();
        for arg in &self.context {
            let (key, value) = parse_context(arg)?;
            match given.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                Some((_, values)) => values.push(value),
                None => given.push((key, vec![value])),
            }
        }
        for (key, values) in given {
            supplied.state(&key, Some(values));
        }
        Ok(supplied)
    }
}

/// `KEY=VALUE`, with the value checked against the key's type when the key is a known one.
fn parse_context(arg: &str) -> Result<(String, String), Failure> {
    let example = "give it as KEY=VALUE, e.g. `--context aws:SourceIp=203.0.113.7`";
    let Some((key, value)) = arg.split_once('=') else {
        return Err(Failure::input(
            format!("`--context {arg}` has no value: expected KEY=VALUE"),
            example,
        ));
    };
    let key = key.trim();
    let well_formed = key
        .split_once(':')
        .is_some_and(|(prefix, name)| !prefix.is_empty() && !name.is_empty())
        && !key.chars().any(char::is_whitespace);
    if !well_formed {
        return Err(Failure::input(
            format!(
                "`--context {arg}`: `{key}` is not a condition key (expected `prefix:Name`, e.g. `aws:SourceIp`)"
            ),
            example,
        ));
    }
    if let Some(known) = request_keys::lookup(key)
        && !known.value_type.accepts(value)
    {
        return Err(Failure::input(
            format!(
                "`--context {arg}`: `{value}` is not a valid value for `{}`",
                known.key
            ),
            format!("`{}` takes {}", known.key, known.value_type.describe()),
        ));
    }
    Ok((key.to_string(), value.to_string()))
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

/// For commands whose result is not a list of required actions: only these two are rendered,
/// so any other format is refused rather than silently replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableOrJson {
    /// For people.
    Table,
    /// Machine-readable.
    Json,
}

impl ProfileArgs {
    /// Reads the project's config and builds the profile's required permissions, with notes
    /// on what the config switched on.
    pub fn required(
        &self,
        region: Option<&str>,
        account: Option<&str>,
    ) -> Result<(RequiredPermissions, Vec<String>), Failure> {
        let profile = profile::profile(&self.profile).map_err(Failure::from_error)?;
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
        let mut unchecked = Vec::new();
        let templates = self
            .template
            .iter()
            .map(|t| template::load(t).map_err(Failure::from_error))
            .collect::<Result<Vec<_>, _>>()?;
        let from_templates = if templates.is_empty() {
            None
        } else {
            let ctx = TemplateContext {
                region: region.map(str::to_string),
                account: account.map(str::to_string),
                stack_name: self.stack_name.clone(),
                ..TemplateContext::default()
            };
            let reqs = template::requirements(&templates, &ctx);
            if reqs.vpc {
                inputs.vpc = true;
                notes.push("a template has a Lambda function with `VpcConfig`, so the EC2 permissions are required".to_string());
            }
            unchecked.extend(reqs.unchecked.iter().cloned());
            warnings.extend(reqs.warnings.iter().cloned());
            Some(reqs)
        };
        let settings = dir
            .map(|dir| jets_config::load(&dir, &self.jets_env).map_err(Failure::from_error))
            .transpose()?;
        if let Some(settings) = &settings {
            if let Some(v) = &settings.vpc {
                inputs.vpc = true;
                if profile.has_vpc_policy() {
                    notes.push(format!(
                        "VPC config found: `config.{}` in {}:{}, so the EC2 permissions are required",
                        v.key,
                        v.file.display(),
                        v.line
                    ));
                }
            }
            warnings.extend(settings.warnings.iter().map(ToString::to_string));
            let prefix = format!("{}.", profile.config.prefix);
            for (key, at) in &settings.skipped {
                if key
                    .strip_prefix(&prefix)
                    .is_some_and(|rel| profile.reads_key(rel))
                {
                    unchecked.push(format!(
                        "`config.{key}` ({}:{}) could not be read as a literal, so what it grants is not checked",
                        at.file.display(),
                        at.line
                    ));
                }
            }
            for (key, setting) in &settings.values {
                // Keys Jets does not read were reported with their file:line when loading.
                let Some(rel) = key
                    .strip_prefix(&prefix)
                    .filter(|rel| profile.reads_key(rel))
                else {
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
        let mut req = profile.build(&inputs).map_err(|e| match e {
            ProfileError::JetsFails {
                ref key,
                ref failure,
                ..
            } => {
                let at = settings
                    .as_ref()
                    .and_then(|s| s.get(key))
                    .map(|s| format!("{}:{}: ", s.file.display(), s.line))
                    .unwrap_or_default();
                Failure::input(format!("{at}{e}"), failure.fix())
            }
            other => Failure::from_error(other),
        })?;
        warnings.append(&mut req.warnings);
        if let Some(reqs) = from_templates {
            for p in reqs.permissions {
                let duplicate = req
                    .actions
                    .iter()
                    .any(|a| a.action.eq_ignore_ascii_case(&p.action) && a.resource == p.resource);
                if !duplicate {
                    req.actions.push(RequiredAction {
                        grant: format!("template resource `{}`", p.logical_id),
                        policy: p.resource_type.clone(),
                        action: p.action,
                        resource: p.resource,
                        reason: p.reason,
                    });
                }
            }
        }
        req.warnings = warnings;
        req.unchecked = unchecked;
        Ok((req, notes))
    }
}
