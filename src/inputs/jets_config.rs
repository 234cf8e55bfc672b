//! Loads the IAM-relevant settings of a Jets project from its `config/jets/*.rb` files.
//!
//! Jets reads `config/jets/<name>.rb` and then `config/jets/<name>/<JETS_ENV>.rb` for `bootstrap`,
//! `deploy` and `project`, a later file overriding an earlier one per key. The roles a deploy
//! runs under are shaped by only a few of those settings (`codebuild.iam.*`, `ci.iam.*`), the
//! project name (to find the stacks), and whether a VPC config is set (which decides whether EC2
//! permissions are required). Those are kept; everything else is skipped silently. A value that
//! is not written out literally becomes a warning naming the file and line, never a guess.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::core::fuzzy;
use crate::core::jets::Literal;
use crate::inputs::ruby::{self, AssignOp, Assignment, NotLiteral};

/// The config files Jets layers with per-environment overrides, in the order they are read.
const LAYERED: [&str; 3] = ["bootstrap", "deploy", "project"];

/// The remote runner (`CodeBuild`) role settings, set in `Jets.bootstrap.configure`.
pub const CODEBUILD_IAM_KEYS: [&str; 5] = [
    "policy",
    "managed_policy",
    "default_policy",
    "default_managed_policy",
    "default_vpc_policy",
];

/// The CI role settings, set in `Jets.deploy.configure`.
pub const CI_IAM_KEYS: [&str; 4] = [
    "policy",
    "managed_policy",
    "default_policy",
    "default_managed_policy",
];

/// Folder nesting below `config/jets` that is searched for VPC settings; deeper is not a layout
/// anyone uses, and the bound keeps a symlink loop or a huge tree from stalling the load.
const MAX_DIR_DEPTH: usize = 8;

/// One setting's effective value and where it was last written.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub value: Literal,
    pub file: PathBuf,
    pub line: usize,
    /// The files only added to the setting (`<<`, `+=`, `push`) without assigning it first, so
    /// the effective value is Jets' default for the key followed by `value`.
    pub extends_default: bool,
}

/// Where an IAM setting's value was last made unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSetting {
    pub file: PathBuf,
    pub line: usize,
}

/// Where a VPC config is set, which makes the EC2 network-interface permissions required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcEvidence {
    /// The setting, e.g. `lambda.function.vpc_config`.
    pub key: String,
    pub file: PathBuf,
    pub line: usize,
}

/// Something in the config that was skipped or assumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// What the config files say about the deploy roles.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JetsSettings {
    /// `config.name` from `config/jets/project.rb` (or its env override).
    pub name: Option<String>,
    /// `codebuild.iam.*` and `ci.iam.*` settings whose value is known, keyed without `config.`.
    pub values: BTreeMap<String, Setting>,
    /// Set when some file sets a non-empty `*.vpc_config`.
    pub vpc: Option<VpcEvidence>,
    pub warnings: Vec<ConfigWarning>,
    /// IAM settings (`codebuild.iam.policy` …) whose effective value could not be read (not a
    /// literal, or an operation on one that is not understood), with where that happened: what
    /// they grant is unknown, so a check of that role is incomplete.
    pub skipped: BTreeMap<String, SkippedSetting>,
    /// Every file read, in the order applied. Empty when the project has no `config/jets`.
    pub files_read: Vec<PathBuf>,
}

impl JetsSettings {
    /// The setting at `key` (e.g. `codebuild.iam.policy`), when the config files set it.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.values.get(key)
    }
}

/// The config could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("project directory `{}` does not exist", path.display())]
    MissingProjectDir { path: PathBuf },
    #[error("`{}` is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`{}:{line}` is not valid ruby: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl ConfigError {
    /// What the user can do about it, for the help line under the error.
    #[must_use]
    pub fn help(&self) -> String {
        match self {
            Self::MissingProjectDir { .. } | Self::NotADirectory { .. } => {
                "pass the Jets project root, the folder that holds `config/jets`".to_owned()
            }
            Self::Read { .. } => "check that the file exists and is readable".to_owned(),
            Self::Syntax { path, .. } => format!(
                "fix the file (`ruby -c {}` shows the error); Jets cannot load it either",
                path.display()
            ),
        }
    }
}

/// Reads the config of the Jets project in `project_dir` for `JETS_ENV=jets_env`.
///
/// Reads `config/jets/{bootstrap,deploy,project}.rb` each followed by its `<jets_env>.rb`
/// override, then every other `.rb` file under `config/jets` for VPC settings only (projects
/// split their VPC config into a file that `deploy.rb` requires). Overrides for other
/// environments are not read. Missing files are fine. Without `config/jets`, IAM settings in a
/// Jets <= 5 `config/application.rb` give one warning that Jets 6 ignores them.
///
/// # Errors
/// When `project_dir` is not a directory, a file cannot be read, or one of the layered files is
/// not valid Ruby.
pub fn load(project_dir: &Path, jets_env: &str) -> Result<JetsSettings, ConfigError> {
    match fs::metadata(project_dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(ConfigError::NotADirectory {
                path: project_dir.to_path_buf(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ConfigError::MissingProjectDir {
                path: project_dir.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: project_dir.to_path_buf(),
                source,
            });
        }
    }
    let config_dir = project_dir.join("config").join("jets");
    let env_usable = !jets_env.is_empty() && !jets_env.contains(['/', '\\']) && jets_env != "..";
    let mut paths = Vec::new();
    for name in LAYERED {
        paths.push(config_dir.join(format!("{name}.rb")));
        if env_usable {
            paths.push(config_dir.join(name).join(format!("{jets_env}.rb")));
        }
    }
    let mut others = Vec::new();
    other_ruby_files(&config_dir, 0, &mut others)?;
    others.sort();

    let mut sources = Vec::new();
    for path in paths.into_iter().chain(others) {
        match super::file::read_regular(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                sources.push((path, text));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(ConfigError::Read { path, source }),
        }
    }
    let mut settings = from_sources(&sources)?;
    if !config_dir.is_dir() {
        settings.warnings.extend(jets5_iam_settings(
            &project_dir.join("config").join("application.rb"),
        ));
    }
    Ok(settings)
}

/// The `config/application.rb` keys through which Jets <= 5 shaped the Lambda functions'
/// execution role. Jets 6 does not read that file.
const JETS5_IAM_KEYS: [&str; 4] = [
    "iam_policy",
    "managed_iam_policy",
    "default_iam_policy",
    "function.vpc_config",
];

/// A warning at the first Jets <= 5 IAM key in `application_rb`, for a project without
/// `config/jets`: such a project is on the Jets <= 5 layout, whose IAM settings Jets 6 ignores,
/// so the deploy role gets Jets 6's defaults. A file that is missing, unreadable or not valid
/// Ruby says nothing here, since Jets 6 never loads it either.
fn jets5_iam_settings(application_rb: &Path) -> Option<ConfigWarning> {
    let bytes = super::file::read_regular(application_rb).ok()?;
    let found = ruby::assignments(&String::from_utf8_lossy(&bytes)).ok()?;
    let first = found
        .into_iter()
        .find(|a| JETS5_IAM_KEYS.contains(&a.key.as_str()))?;
    Some(ConfigWarning {
        file: application_rb.to_path_buf(),
        line: first.line,
        message: format!(
            "`config.{}` is a Jets <= 5 setting of the Lambda functions' execution role, not of the deploy role: Jets 6 ignores the IAM and VPC settings in `config/application.rb` and reads `config/jets/*.rb` (`config.codebuild.iam.*` in config/jets/bootstrap.rb for the deploy role), so the deploy role's defaults apply",
            first.key
        ),
    })
}

/// The settings from already-read files, applied in the order given.
///
/// A file's role is taken from its path: `bootstrap.rb`, `deploy.rb`, `project.rb` (directly or under `config/jets`)
/// and `<that name>/<env>.rb` are layered config; any other file counts for VPC settings only.
///
/// # Errors
/// When a layered file is not valid Ruby. Other files with syntax errors only warn, since Jets
/// may never load them.
pub fn from_sources(files: &[(PathBuf, String)]) -> Result<JetsSettings, ConfigError> {
    let mut state = State::default();
    let sources: Vec<&str> = files.iter().map(|(_, source)| source.as_str()).collect();
    for ((path, _), parsed) in files.iter().zip(ruby::assignments_of_each(&sources)) {
        let role = role(path);
        state.settings.files_read.push(path.clone());
        let found = match parsed {
            Ok(found) => found,
            Err(e) if role == Role::Other => {
                state.warn(
                    path,
                    e.line,
                    format!(
                        "not valid ruby ({}): it was not checked for a VPC config",
                        e.message
                    ),
                );
                continue;
            }
            Err(e) => {
                return Err(ConfigError::Syntax {
                    path: path.clone(),
                    line: e.line,
                    message: e.message,
                });
            }
        };
        for assignment in found {
            state.apply(path, role, assignment);
        }
    }
    Ok(state.finish())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// One of the layered files; `project` is true for `project.rb` and its overrides.
    Layered {
        project: bool,
    },
    Other,
}

fn name_of(path: Option<&Path>) -> Option<&str> {
    path.and_then(Path::file_name).and_then(|n| n.to_str())
}

fn role(path: &Path) -> Role {
    if path.extension().and_then(|e| e.to_str()) != Some("rb") {
        return Role::Other;
    }
    let stem = path.file_stem().and_then(|s| s.to_str());
    let parent = path.parent();
    let parent_name = name_of(parent);
    let grandparent_name = name_of(parent.and_then(Path::parent));
    let under_jets = |name: Option<&str>| matches!(name, None | Some("jets"));
    match (stem, parent_name) {
        (Some(stem), dir) if LAYERED.contains(&stem) && under_jets(dir) => Role::Layered {
            project: stem == "project",
        },
        (Some(_), Some(dir)) if LAYERED.contains(&dir) && under_jets(grandparent_name) => {
            Role::Layered {
                project: dir == "project",
            }
        }
        _ => Role::Other,
    }
}

/// `.rb` files under `config/jets` other than the layered ones and their env overrides.
fn other_ruby_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), ConfigError> {
    if depth > MAX_DIR_DEPTH {
        return Ok(());
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ConfigError::Read {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    for entry in entries {
        let entry = entry.map_err(|source| ConfigError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            if depth == 0 && LAYERED.contains(&name.as_ref()) {
                continue;
            }
            other_ruby_files(&path, depth + 1, out)?;
        } else if path.extension().is_some_and(|e| e == "rb") && path.is_file() {
            let layered = depth == 0
                && path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| LAYERED.contains(&s));
            if !layered {
                out.push(path);
            }
        }
    }
    Ok(())
}

#[derive(Default)]
struct State {
    settings: JetsSettings,
    /// IAM keys whose current value could not be read, so later additions cannot be applied.
    unknown: BTreeMap<String, (PathBuf, usize)>,
    /// VPC settings in the order first seen, with their current state.
    vpc: Vec<VpcState>,
}

struct VpcState {
    key: String,
    set: bool,
    file: PathBuf,
    line: usize,
    /// The warning to give when the final decision rests on an assumption.
    assumed: Option<ConfigWarning>,
}

impl State {
    fn warn(&mut self, file: &Path, line: usize, message: String) {
        self.settings.warnings.push(ConfigWarning {
            file: file.to_path_buf(),
            line,
            message,
        });
    }

    fn apply(&mut self, file: &Path, role: Role, assignment: Assignment) {
        if is_vpc_key(&assignment.key) {
            self.apply_vpc(file, &assignment);
            return;
        }
        let Role::Layered { project } = role else {
            return;
        };
        if project && assignment.key == "name" {
            self.apply_name(file, &assignment);
        } else if is_iam_key(&assignment.key) {
            self.apply_iam(file, assignment);
        }
    }

    fn apply_name(&mut self, file: &Path, assignment: &Assignment) {
        if assignment.op != AssignOp::Set {
            return;
        }
        match &assignment.value {
            Ok(Literal::Str(name) | Literal::Sym(name)) => {
                self.settings.name = Some(name.clone());
                if assignment.conditional {
                    self.warn(file, assignment.line, conditional_message("config.name"));
                }
            }
            Ok(_) => {}
            Err(not) => {
                self.settings.name = None;
                self.warn(
                    file,
                    not.line,
                    format!(
                        "`config.name` is not a literal (`{}`): the project name is unknown; set JETS_PROJECT",
                        not.snippet
                    ),
                );
            }
        }
    }

    fn apply_iam(&mut self, file: &Path, assignment: Assignment) {
        let Assignment {
            key,
            line,
            value,
            op,
            scope,
            conditional,
        } = assignment;
        let shown = format!("config.{key}");
        self.check_iam_name(file, line, &key, scope.as_deref());
        if conditional {
            self.warn(file, line, conditional_message(&shown));
        }
        let value = match value {
            Ok(value) => value,
            Err(not) => return self.skip(file, &key, &not),
        };
        match op {
            AssignOp::Set => self.set(file, line, key, value, false),
            AssignOp::Append => self.append(file, line, key, value),
            AssignOp::Other(operator) => self.operate(file, line, key, value, &operator),
        }
    }

    /// Warns about a key Jets never reads (a typo) or one set in another scope's block.
    fn check_iam_name(&mut self, file: &Path, line: usize, key: &str, scope: Option<&str>) {
        let (group, known, expected) = if key.starts_with("codebuild.") {
            ("codebuild.iam", &CODEBUILD_IAM_KEYS[..], "bootstrap")
        } else {
            ("ci.iam", &CI_IAM_KEYS[..], "deploy")
        };
        let field = key.get(group.len() + 1..).unwrap_or_default();
        if !known.contains(&field) {
            let hint = match fuzzy::closest(field, known.iter().copied()) {
                Some(close) => format!("did you mean `config.{group}.{close}`?"),
                None => format!("Jets reads `{}`", known.join("`, `")),
            };
            self.warn(
                file,
                line,
                format!("`config.{key}` is not a setting Jets reads: {hint}"),
            );
        }
        if let Some(scope) = scope.filter(|s| *s != expected) {
            self.warn(
                file,
                line,
                format!(
                    "`config.{key}` is set in `Jets.{scope}.configure`, but Jets reads it from `Jets.{expected}.configure` (config/jets/{expected}.rb): it was still used"
                ),
            );
        }
    }

    fn set(&mut self, file: &Path, line: usize, key: String, value: Literal, extends: bool) {
        self.unknown.remove(&key);
        self.settings.values.insert(
            key,
            Setting {
                value,
                file: file.to_path_buf(),
                line,
                extends_default: extends,
            },
        );
    }

    fn skip(&mut self, file: &Path, key: &str, not: &NotLiteral) {
        self.forget(file, not.line, key);
        self.warn(
            file,
            not.line,
            format!(
                "`config.{key}` is not a literal (`{}`): it was skipped, so what it grants is not checked; write the value out as a literal",
                not.snippet
            ),
        );
    }

    fn forget(&mut self, file: &Path, line: usize, key: &str) {
        self.settings.values.remove(key);
        self.unknown
            .insert(key.to_owned(), (file.to_path_buf(), line));
    }

    fn append(&mut self, file: &Path, line: usize, key: String, value: Literal) {
        if self.unknown.contains_key(&key) {
            self.warn(
                file,
                line,
                format!("`config.{key}` adds to a value that was skipped: it was skipped too"),
            );
            return;
        }
        let Literal::Array(items) = value else {
            return self.not_understood(file, line, &key, "<<");
        };
        match self.settings.values.get_mut(&key) {
            Some(Setting {
                value: Literal::Array(current),
                file: at_file,
                line: at_line,
                ..
            }) => {
                current.extend(items);
                *at_file = file.to_path_buf();
                *at_line = line;
            }
            Some(_) => self.not_understood(file, line, &key, "<<"),
            None => self.set(file, line, key, Literal::Array(items), true),
        }
    }

    /// `||=`, `&&=` and `-=`, which need the current value. Every IAM setting has a non-nil
    /// default in Jets, so an unset key counts as truthy.
    fn operate(&mut self, file: &Path, line: usize, key: String, value: Literal, operator: &str) {
        if self.unknown.contains_key(&key) {
            self.warn(
                file,
                line,
                format!(
                    "`config.{key} {operator}` uses a value that was skipped: it was skipped too"
                ),
            );
            return;
        }
        let current = self.settings.values.get(&key).map(|s| &s.value);
        let truthy = !matches!(current, Some(Literal::Nil | Literal::Bool(false)));
        match (operator, current) {
            ("||=", _) if truthy => {}
            ("||=", _) => self.set(file, line, key, value, false),
            ("&&=", _) if truthy => self.set(file, line, key, value, false),
            ("&&=", _) => {}
            ("-=", Some(Literal::Array(current))) => match &value {
                Literal::Array(removed) => {
                    let kept = current
                        .iter()
                        .filter(|item| !removed.contains(item))
                        .cloned()
                        .collect();
                    self.set(file, line, key, Literal::Array(kept), false);
                }
                _ => self.not_understood(file, line, &key, operator),
            },
            _ => self.not_understood(file, line, &key, operator),
        }
    }

    fn not_understood(&mut self, file: &Path, line: usize, key: &str, operator: &str) {
        self.forget(file, line, key);
        self.warn(
            file,
            line,
            format!(
                "`config.{key} {operator} ...` is not understood here: it was skipped; write the whole value out with `=`"
            ),
        );
    }

    fn apply_vpc(&mut self, file: &Path, assignment: &Assignment) {
        let index = match self.vpc.iter().position(|v| v.key == assignment.key) {
            Some(index) => index,
            None => {
                self.vpc.push(VpcState {
                    key: assignment.key.clone(),
                    set: false,
                    file: file.to_path_buf(),
                    line: assignment.line,
                    assumed: None,
                });
                self.vpc.len() - 1
            }
        };
        let shown = format!("config.{}", assignment.key);
        let Some(state) = self.vpc.get_mut(index) else {
            return;
        };
        let currently = state.set;
        // `None`: the write leaves the current decision as it is.
        let outcome = match (&assignment.op, &assignment.value) {
            (_, Err(not)) => Some((
                true,
                Some(format!(
                    "`{shown}` is not a literal (`{}`): assumed a VPC config is set, so EC2 permissions are required",
                    not.snippet
                )),
            )),
            (AssignOp::Set, Ok(value)) => Some((vpc_is_set(value), None)),
            (AssignOp::Append, Ok(value)) => vpc_is_set(value).then_some((true, None)),
            (AssignOp::Other(op), Ok(value)) if op == "||=" => {
                (!currently).then(|| (vpc_is_set(value), None))
            }
            (AssignOp::Other(op), Ok(value)) if op == "&&=" => {
                currently.then(|| (vpc_is_set(value), None))
            }
            (AssignOp::Other(op), Ok(_)) => Some((
                true,
                Some(format!(
                    "`{shown} {op} ...` is not understood here: assumed a VPC config is set"
                )),
            )),
        };
        let Some((set, assumed)) = outcome else {
            return;
        };
        let assumed = match assumed {
            Some(message) => Some(message),
            None if set && assignment.conditional => Some(conditional_message(&shown)),
            None => None,
        };
        let line = match &assignment.value {
            Err(not) => not.line,
            Ok(_) => assignment.line,
        };
        state.set = set;
        state.file = file.to_path_buf();
        state.line = assignment.line;
        state.assumed = assumed.map(|message| ConfigWarning {
            file: file.to_path_buf(),
            line,
            message,
        });
    }

    fn finish(mut self) -> JetsSettings {
        self.settings.skipped = self
            .unknown
            .into_iter()
            .map(|(key, (file, line))| {
                let setting = SkippedSetting { file, line };
                (key, setting)
            })
            .collect();
        if let Some(vpc) = self.vpc.into_iter().find(|v| v.set) {
            if let Some(warning) = vpc.assumed {
                self.settings.warnings.push(warning);
            }
            self.settings.vpc = Some(VpcEvidence {
                key: vpc.key,
                file: vpc.file,
                line: vpc.line,
            });
        }
        self.settings
    }
}

fn conditional_message(shown: &str) -> String {
    format!("`{shown}` is set inside a condition that is not evaluated: assumed it applies")
}

fn is_iam_key(key: &str) -> bool {
    key.starts_with("codebuild.iam.") || key.starts_with("ci.iam.")
}

/// `lambda.function.vpc_config`, `function.vpc_config` and any other `*.vpc_config`.
fn is_vpc_key(key: &str) -> bool {
    key == "vpc_config" || key.ends_with(".vpc_config")
}

/// Whether a literal VPC config attaches functions to a VPC. A hash counts only when some entry
/// is non-empty: `{SubnetIds: [], SecurityGroupIds: []}` attaches nothing.
fn vpc_is_set(value: &Literal) -> bool {
    match value {
        Literal::Nil | Literal::Bool(false) => false,
        Literal::Str(s) => !s.trim().is_empty(),
        Literal::Array(items) => !items.is_empty(),
        Literal::Hash(pairs) => pairs.iter().any(|(_, v)| vpc_is_set(v)),
        Literal::Bool(true) | Literal::Int(_) | Literal::Float(_) | Literal::Sym(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Literal {
        Literal::Str(v.to_owned())
    }

    fn strs(items: &[&str]) -> Literal {
        Literal::Array(items.iter().map(|i| s(i)).collect())
    }

    fn settings(files: &[(&str, &str)]) -> JetsSettings {
        let files: Vec<_> = files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), (*t).to_owned()))
            .collect();
        from_sources(&files).unwrap()
    }

    fn messages(settings: &JetsSettings) -> Vec<String> {
        settings.warnings.iter().map(ToString::to_string).collect()
    }

    /// Ruby-like rendering, so expected files read like the config they come from.
    fn ruby(value: &Literal) -> String {
        match value {
            Literal::Nil => "nil".into(),
            Literal::Bool(b) => b.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::Float(f) => format!("{f:?}"),
            Literal::Str(s) => format!("{s:?}"),
            Literal::Sym(s) => format!(":{s}"),
            Literal::Array(items) => {
                let items: Vec<_> = items.iter().map(ruby).collect();
                format!("[{}]", items.join(", "))
            }
            Literal::Hash(pairs) => {
                let pairs: Vec<_> = pairs
                    .iter()
                    .map(|(k, v)| match k {
                        Literal::Sym(k) => format!("{k}: {}", ruby(v)),
                        k => format!("{} => {}", ruby(k), ruby(v)),
                    })
                    .collect();
                format!("{{{}}}", pairs.join(", "))
            }
        }
    }

    fn render(dir: &Path, env: &str) -> String {
        let rel = |p: &Path| p.strip_prefix(dir).unwrap_or(p).display().to_string();
        let mut out = format!("env: {env}\n");
        match load(dir, env) {
            Err(e) => {
                out.push_str(&format!(
                    "error: {}\n",
                    e.to_string().replace(&format!("{}/", dir.display()), "")
                ));
                out.push_str(&format!(
                    "help: {}\n",
                    e.help().replace(&format!("{}/", dir.display()), "")
                ));
            }
            Ok(settings) => {
                out.push_str("files:\n");
                for file in &settings.files_read {
                    out.push_str(&format!("  {}\n", rel(file)));
                }
                if let Some(name) = &settings.name {
                    out.push_str(&format!("name: {name}\n"));
                }
                for (key, setting) in &settings.values {
                    let op = if setting.extends_default {
                        "+= default"
                    } else {
                        "="
                    };
                    out.push_str(&format!(
                        "{key} {op} {}  # {}:{}\n",
                        ruby(&setting.value),
                        rel(&setting.file),
                        setting.line
                    ));
                }
                for (key, at) in &settings.skipped {
                    out.push_str(&format!(
                        "skipped: {key}  # {}:{}\n",
                        rel(&at.file),
                        at.line
                    ));
                }
                match &settings.vpc {
                    Some(vpc) => out.push_str(&format!(
                        "vpc: {}  # {}:{}\n",
                        vpc.key,
                        rel(&vpc.file),
                        vpc.line
                    )),
                    None => out.push_str("vpc: none\n"),
                }
                for w in &settings.warnings {
                    out.push_str(&format!(
                        "warning: {}:{}: {}\n",
                        rel(&w.file),
                        w.line,
                        w.message
                    ));
                }
            }
        }
        out
    }

    /// Every folder under `tests/fixtures/jets-config` is a project; its `expected.snap` holds
    /// what loading it gives (for `JETS_ENV` from an optional `jets_env` file, else `dev`).
    /// `INSTA_UPDATE=always` rewrites the snapshots instead of comparing; review the diff.
    #[test]
    fn fixtures() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jets-config");
        let mut cases: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        cases.sort();
        assert!(
            cases.len() >= 15,
            "fixtures missing under {}",
            root.display()
        );
        for case in cases {
            let env = fs::read_to_string(case.join("jets_env"))
                .map(|e| e.trim().to_owned())
                .unwrap_or_else(|_| "dev".to_owned());
            let actual = render(&case, &env);
            insta::with_settings!({
                snapshot_path => &case,
                prepend_module_to_snapshot => false,
                input_file => &case,
                omit_expression => true,
            }, {
                insta::assert_snapshot!("expected", actual);
            });
        }
    }

    #[test]
    fn later_files_override_earlier_ones_per_key() {
        let settings = settings(&[
            (
                "config/jets/bootstrap.rb",
                "Jets.bootstrap.configure do\n  config.codebuild.iam.policy = [\"s3\"]\n  config.codebuild.iam.managed_policy = [\"A\"]\nend\n",
            ),
            (
                "config/jets/bootstrap/prod.rb",
                "Jets.bootstrap.configure do\n  config.codebuild.iam.policy = [\"sqs\"]\nend\n",
            ),
        ]);
        let policy = settings.get("codebuild.iam.policy").unwrap();
        assert_eq!(policy.value, strs(&["sqs"]));
        assert_eq!(policy.file, Path::new("config/jets/bootstrap/prod.rb"));
        assert_eq!(policy.line, 2);
        assert_eq!(
            settings.get("codebuild.iam.managed_policy").unwrap().value,
            strs(&["A"])
        );
        assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
    }

    #[test]
    fn non_iam_keys_are_skipped_silently_even_when_not_literal() {
        let settings = settings(&[(
            "config/jets/bootstrap.rb",
            "Jets.bootstrap.configure do\n  config.codebuild.project.env.vars = {KEY: \"SSM:/#{ssm_env}/KEY\"}\n  config.domain.cert_arn = acm_cert_arn(domain: \"x\")\nend\n",
        )]);
        assert!(settings.values.is_empty());
        assert!(settings.warnings.is_empty());
    }

    #[test]
    fn a_non_literal_iam_value_warns_with_file_line_and_snippet_and_is_not_set() {
        let settings = settings(&[
            (
                "config/jets/bootstrap.rb",
                "Jets.bootstrap.configure do\n  config.codebuild.iam.policy = [\"s3\"]\nend\n",
            ),
            (
                "config/jets/bootstrap/dev.rb",
                "Jets.bootstrap.configure do\n  config.codebuild.iam.policy = [\n    acm_cert_arn(domain: \"x\")\n  ]\n  config.codebuild.iam.policy << \"sqs\"\nend\n",
            ),
        ]);
        assert!(settings.get("codebuild.iam.policy").is_none());
        assert_eq!(
            messages(&settings),
            [
                "config/jets/bootstrap/dev.rb:3: `config.codebuild.iam.policy` is not a literal (`acm_cert_arn(domain: \"x\")`): it was skipped, so what it grants is not checked; write the value out as a literal",
                "config/jets/bootstrap/dev.rb:5: `config.codebuild.iam.policy` adds to a value that was skipped: it was skipped too",
            ]
        );
    }

    #[test]
    fn appends_extend_the_current_value_or_the_default() {
        let settings = settings(&[(
            "config/jets/bootstrap.rb",
            "Jets.bootstrap.configure do\n  config.codebuild.iam.policy = [\"s3\"]\n  config.codebuild.iam.policy << \"sqs\"\n  config.codebuild.iam.default_policy << \"kms\"\n  config.codebuild.iam.managed_policy ||= [\"X\"]\nend\n",
        )]);
        let policy = settings.get("codebuild.iam.policy").unwrap();
        assert_eq!(policy.value, strs(&["s3", "sqs"]));
        assert!(!policy.extends_default);
        assert_eq!(policy.line, 3);
        let default = settings.get("codebuild.iam.default_policy").unwrap();
        assert_eq!(default.value, strs(&["kms"]));
        assert!(default.extends_default);
        // Jets' default for every IAM setting is an array, which `||=` keeps.
        assert!(settings.get("codebuild.iam.managed_policy").is_none());
        assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
    }

    #[test]
    fn subtracting_from_the_default_is_not_guessed() {
        let settings = settings(&[(
            "config/jets/deploy.rb",
            "Jets.deploy.configure do\n  config.ci.iam.default_policy -= [\"iam\"]\n  config.ci.iam.policy = [\"s3\", \"sqs\"]\n  config.ci.iam.policy -= [\"sqs\"]\nend\n",
        )]);
        assert!(settings.get("ci.iam.default_policy").is_none());
        assert_eq!(settings.get("ci.iam.policy").unwrap().value, strs(&["s3"]));
        assert_eq!(
            messages(&settings),
            [
                "config/jets/deploy.rb:2: `config.ci.iam.default_policy -= ...` is not understood here: it was skipped; write the whole value out with `=`"
            ]
        );
    }

    #[test]
    fn vpc_config_set_unset_and_overridden() {
        let set = "Jets.deploy.configure do\n  config.lambda.function.vpc_config = {SubnetIds: [\"subnet-1\"]}\nend\n";
        let empty = "Jets.deploy.configure do\n  config.lambda.function.vpc_config = {}\nend\n";
        let on = settings(&[("config/jets/deploy.rb", set)]);
        assert_eq!(
            on.vpc,
            Some(VpcEvidence {
                key: "lambda.function.vpc_config".into(),
                file: "config/jets/deploy.rb".into(),
                line: 2
            })
        );
        assert_eq!(settings(&[("config/jets/deploy.rb", empty)]).vpc, None);
        let off = settings(&[
            ("config/jets/deploy.rb", set),
            ("config/jets/deploy/prod.rb", empty),
        ]);
        assert_eq!(off.vpc, None);
        let nil = settings(&[(
            "config/jets/deploy.rb",
            "Jets.deploy.configure do\n  config.function.vpc_config = nil\nend\n",
        )]);
        assert_eq!(nil.vpc, None);
    }

    #[test]
    fn a_non_literal_vpc_config_is_assumed_set_with_a_warning() {
        let settings = settings(&[(
            "config/jets/deploy.rb",
            "Jets.deploy.configure do\n  config.lambda.function.vpc_config = vpc_settings\nend\n",
        )]);
        assert!(settings.vpc.is_some());
        assert_eq!(
            messages(&settings),
            [
                "config/jets/deploy.rb:2: `config.lambda.function.vpc_config` is not a literal (`vpc_settings`): assumed a VPC config is set, so EC2 permissions are required"
            ]
        );
    }

    #[test]
    fn other_files_count_for_vpc_only() {
        let settings = settings(&[(
            "config/jets/network.rb",
            "Jets.deploy.configure do\n  config.ci.iam.policy = [\"s3\"]\n  config.lambda.function.vpc_config = {SubnetIds: [\"subnet-1\"]}\nend\n",
        )]);
        assert!(settings.values.is_empty());
        assert_eq!(
            settings.vpc.unwrap().file,
            Path::new("config/jets/network.rb")
        );
    }

    #[test]
    fn syntax_errors_in_layered_files_are_errors_elsewhere_warnings() {
        let broken = "Jets.deploy.configure do\n  config.ci.iam.policy = [\nend\n";
        let files = [(PathBuf::from("config/jets/deploy.rb"), broken.to_owned())];
        let err = from_sources(&files).unwrap_err();
        assert!(
            err.to_string().starts_with("`config/jets/deploy.rb:"),
            "{err}"
        );
        assert!(err.to_string().contains("is not valid ruby: "), "{err}");
        assert!(err.help().contains("ruby -c config/jets/deploy.rb"));
        let settings = settings(&[("config/jets/extra.rb", broken)]);
        assert_eq!(settings.warnings.len(), 1);
        assert!(
            settings.warnings[0]
                .message
                .ends_with("it was not checked for a VPC config")
        );
    }

    #[test]
    fn project_name_comes_from_project_files_only() {
        let settings = settings(&[
            (
                "config/jets/bootstrap.rb",
                "Jets.bootstrap.configure do\n  config.name = \"wrong\"\nend\n",
            ),
            (
                "config/jets/project.rb",
                "Jets.project.configure do\n  config.name = \"demo\"\nend\n",
            ),
        ]);
        assert_eq!(settings.name.as_deref(), Some("demo"));
        let settings = settings_with_env_name();
        assert_eq!(settings.name, None);
        assert_eq!(
            messages(&settings),
            [
                "config/jets/project.rb:2: `config.name` is not a literal (`ENV.fetch(\"APP\")`): the project name is unknown; set JETS_PROJECT"
            ]
        );
    }

    fn settings_with_env_name() -> JetsSettings {
        settings(&[(
            "config/jets/project.rb",
            "Jets.project.configure do\n  config.name = ENV.fetch(\"APP\")\nend\n",
        )])
    }

    #[test]
    fn typos_and_wrong_blocks_are_pointed_out() {
        let settings = settings(&[
            (
                "config/jets/bootstrap.rb",
                "Jets.bootstrap.configure do\n  config.codebuild.iam.manged_policy = []\n  config.codebuild.iam.zzz = []\nend\n",
            ),
            (
                "config/jets/deploy.rb",
                "Jets.deploy.configure do\n  config.codebuild.iam.policy = [\"s3\"]\nend\n",
            ),
        ]);
        assert_eq!(
            messages(&settings),
            [
                "config/jets/bootstrap.rb:2: `config.codebuild.iam.manged_policy` is not a setting Jets reads: did you mean `config.codebuild.iam.managed_policy`?",
                "config/jets/bootstrap.rb:3: `config.codebuild.iam.zzz` is not a setting Jets reads: Jets reads `policy`, `managed_policy`, `default_policy`, `default_managed_policy`, `default_vpc_policy`",
                "config/jets/deploy.rb:2: `config.codebuild.iam.policy` is set in `Jets.deploy.configure`, but Jets reads it from `Jets.bootstrap.configure` (config/jets/bootstrap.rb): it was still used",
            ]
        );
        assert!(settings.get("codebuild.iam.policy").is_some());
    }

    #[test]
    fn roles_come_from_paths() {
        assert_eq!(
            role(Path::new("bootstrap.rb")),
            Role::Layered { project: false }
        );
        assert_eq!(
            role(Path::new("/p/config/jets/project.rb")),
            Role::Layered { project: true }
        );
        assert_eq!(
            role(Path::new("/p/config/jets/project/prod.rb")),
            Role::Layered { project: true }
        );
        assert_eq!(
            role(Path::new("deploy/dev.rb")),
            Role::Layered { project: false }
        );
        assert_eq!(role(Path::new("/p/config/jets/vpc.rb")), Role::Other);
        assert_eq!(role(Path::new("/p/config/jets/x/deploy.rb")), Role::Other);
        assert_eq!(role(Path::new("/p/config/jets/deploy.txt")), Role::Other);
    }

    #[test]
    fn missing_project_dir_and_file_instead_of_dir_are_errors() {
        let err = load(Path::new("/nonexistent/iam-doctor-project"), "dev").unwrap_err();
        assert_eq!(
            err.to_string(),
            "project directory `/nonexistent/iam-doctor-project` does not exist"
        );
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let err = load(&file, "dev").unwrap_err();
        assert!(matches!(err, ConfigError::NotADirectory { .. }), "{err}");
    }

    #[test]
    fn unreadable_files_are_errors_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let jets = dir.path().join("config/jets");
        fs::create_dir_all(jets.join("bootstrap.rb")).unwrap();
        let err = load(dir.path(), "dev").unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
        assert!(
            err.to_string().contains("config/jets/bootstrap.rb"),
            "{err}"
        );
    }

    #[test]
    fn other_environments_and_empty_env_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let jets = dir.path().join("config/jets");
        fs::create_dir_all(jets.join("deploy")).unwrap();
        fs::write(jets.join("deploy.rb"), "Jets.deploy.configure do\nend\n").unwrap();
        fs::write(
            jets.join("deploy/prod.rb"),
            "Jets.deploy.configure do\n  config.lambda.function.vpc_config = {SubnetIds: [\"s\"]}\nend\n",
        )
        .unwrap();
        assert_eq!(load(dir.path(), "dev").unwrap().vpc, None);
        assert!(load(dir.path(), "prod").unwrap().vpc.is_some());
        assert_eq!(load(dir.path(), "").unwrap().files_read.len(), 1);
    }
}
