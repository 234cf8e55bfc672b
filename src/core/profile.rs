//! Required-permission profiles: what a deploy role must be allowed to do, and why.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::catalog;
use super::fuzzy;
use super::jets::{self, GeneratedPolicy, Literal};
use super::pattern::{action_matches, has_wildcard};
use super::request_keys::Supplied;

const EMBEDDED: &[(&str, &str)] = &[
    (
        "jets-remote",
        include_str!("../../policies/profiles/jets-remote.yaml"),
    ),
    (
        "jets-ci",
        include_str!("../../policies/profiles/jets-ci.yaml"),
    ),
];

/// Services whose API is served from us-east-1 only (global services, and ECR Public, whose
/// API endpoint is in us-east-1): `aws:RequestedRegion` is `us-east-1` whatever region the
/// deploy targets. Region-lock SCPs must exempt them, and a check must use that region for them.
pub const GLOBAL_SERVICES: &[&str] = &[
    "iam",
    "ecr-public",
    "cloudfront",
    "route53",
    "waf",
    "organizations",
    "support",
    "budgets",
    "globalaccelerator",
];

/// The region `aws:RequestedRegion` takes for an action when the deploy targets `region`.
pub fn requested_region<'a>(action: &str, region: &'a str) -> &'a str {
    let service = action.split(':').next().unwrap_or("");
    if GLOBAL_SERVICES
        .iter()
        .any(|g| g.eq_ignore_ascii_case(service))
    {
        "us-east-1"
    } else {
        region
    }
}

/// One inline policy of the role, as Jets builds it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySlot {
    pub name: String,
    pub key: String,
    #[serde(default)]
    pub default: Vec<String>,
    /// `vpc`: only when a VPC config is set.
    #[serde(default)]
    pub when: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedSlot {
    pub key: String,
    #[serde(default)]
    pub default: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLocation {
    pub file: String,
    pub block: String,
    /// Key prefix under `config.`, e.g. `codebuild.iam`.
    pub prefix: String,
}

/// A profile as stored in `policies/profiles/`.
///
/// A profile is data (`policies/profiles/*.yaml`, embedded): the inline policies Jets puts on
/// the role with their defaults and config keys, the managed policies, and the concrete
/// actions the deploy calls per service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub title: String,
    /// Where the role lives, for people.
    pub role: String,
    pub config: ConfigLocation,
    /// The command that builds the role with Jets 6's own policy code (`jets bootstrap`), when
    /// that code is public: values are then turned into policies exactly as that code does,
    /// and a value it fails on is an error. Without it the documented forms are followed.
    #[serde(default)]
    pub built_by: Option<String>,
    pub policies: Vec<PolicySlot>,
    pub managed_policies: Vec<ManagedSlot>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// service prefix → action name → reason.
    pub calls: BTreeMap<String, BTreeMap<String, String>>,
    /// managed policy name → `service:Action` → reason.
    #[serde(default)]
    pub managed_calls: BTreeMap<String, BTreeMap<String, String>>,
    /// Values the role's real requests are known to carry for keys a check cannot otherwise
    /// know (see [`super::request_keys`]), each with its reason. `--context` overrides them.
    #[serde(default)]
    pub request_context: Vec<ContextDefault>,
}

impl Profile {
    /// The request-context values the profile states, to apply before the user's `--context`.
    pub fn stated_context(&self) -> Supplied {
        let mut s = Supplied::default();
        for d in &self.request_context {
            s.state(&d.key, d.value.clone().map(|v| vec![v]));
        }
        s
    }
}

/// A request-context value a profile states for its role's requests.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ContextDefault {
    pub key: String,
    /// The value; none when the key is known to be absent from the role's requests.
    pub value: Option<String>,
    /// Why the role's requests carry this value, for people.
    pub reason: String,
}

/// A profile name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("unknown profile `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Unknown {
        name: String,
        suggestion: Option<String>,
    },
    #[error("embedded profile `{name}` is broken: {message}")]
    Broken { name: String, message: String },
    /// Jets' own code fails on the value, so the role cannot be built from this config.
    #[error("`config.{key}` {failure}, so {}", failure.consequence(built_by))]
    JetsFails {
        key: String,
        built_by: String,
        failure: jets::JetsFailure,
    },
    #[error("`config.{key}`: {source}")]
    Form {
        key: String,
        #[source]
        source: jets::FormError,
    },
}

/// Each bundled profile, parsed the first time it is asked for: a run pays only for its own.
static PROFILES: [OnceLock<Result<Profile, ProfileError>>; EMBEDDED.len()] =
    [const { OnceLock::new() }; EMBEDDED.len()];

/// The names of the bundled profiles.
pub fn profile_names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _)| *n).collect()
}

/// Looks a bundled profile up by name.
pub fn profile(name: &str) -> Result<&'static Profile, ProfileError> {
    let ((_, text), parsed) = EMBEDDED
        .iter()
        .zip(&PROFILES)
        .find(|((n, _), _)| *n == name)
        .ok_or_else(|| ProfileError::Unknown {
            name: name.to_string(),
            suggestion: fuzzy::closest(name, profile_names()).map(str::to_string),
        })?;
    let parsed = parsed.get_or_init(|| {
        serde_norway::from_str::<Profile>(text).map_err(|e| ProfileError::Broken {
            name: name.to_string(),
            message: e.to_string(),
        })
    });
    match parsed {
        Ok(p) => Ok(p),
        Err(e) => Err(e.clone()),
    }
}

/// How far `service:*` grants are expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expansion {
    /// The deploy's known calls per service.
    #[default]
    KnownCalls,
    /// Every action of the service in the action catalog.
    Exhaustive,
}

/// What the user's project says, already read from its config.
#[derive(Debug, Clone, Default)]
pub struct ProfileInputs {
    pub vpc: bool,
    /// Config values by key relative to the profile's prefix (`policy`, `default_policy` …).
    pub overrides: BTreeMap<String, Literal>,
    pub expansion: Expansion,
}

/// One action the role must be allowed, with where it is granted and why it is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequiredAction {
    pub action: String,
    /// An ARN, or `*` when the resource is not known in advance.
    pub resource: String,
    /// The grant that covers it in the generated role (`ec2:*`, a managed policy ARN).
    pub grant: String,
    /// The policy that holds the grant (`VpcPolicy`, `AmazonSSMReadOnlyAccess`).
    pub policy: String,
    pub reason: String,
}

/// The required permissions of one deploy role.
#[derive(Debug, Clone, PartialEq)]
pub struct RequiredPermissions {
    pub profile: String,
    pub vpc: bool,
    pub policies: Vec<GeneratedPolicy>,
    pub managed_policy_arns: Vec<String>,
    pub actions: Vec<RequiredAction>,
    pub warnings: Vec<String>,
    /// Required inputs that could not be turned into permissions (a template resource of an
    /// unknown type, an IAM setting that is not a literal). What they need is missing from
    /// `actions`, so every answer built on these requirements is incomplete.
    pub unchecked: Vec<String>,
}

impl Profile {
    /// Applies the inputs as Jets would and derives the actions to check.
    ///
    /// The actions come from what the generated policies grant: a `service:*` grant cannot be
    /// simulated, so it stands for the service's known calls (or, with `exhaustive`, every action
    /// of the service in the catalog).
    pub fn build(&self, inputs: &ProfileInputs) -> Result<RequiredPermissions, ProfileError> {
        let mut warnings = Vec::new();
        for key in inputs.overrides.keys() {
            let known = self.policies.iter().any(|p| &p.key == key)
                || self.managed_policies.iter().any(|m| &m.key == key);
            if !known {
                let keys: Vec<&str> = self
                    .policies
                    .iter()
                    .map(|p| p.key.as_str())
                    .chain(self.managed_policies.iter().map(|m| m.key.as_str()))
                    .collect();
                let hint = fuzzy::closest(key, keys.iter().copied())
                    .map(|s| format!(" (did you mean `config.{}.{s}`?)", self.config.prefix))
                    .unwrap_or_default();
                warnings.push(format!(
                    "`config.{}.{key}` is not a Jets setting and was ignored{hint}",
                    self.config.prefix
                ));
            }
        }

        let mut policies = Vec::new();
        // Whether each generated policy's grants are required (VpcPolicy only with a VPC).
        let mut required_policy = Vec::new();
        for slot in &self.policies {
            let vpc_only = slot.when.as_deref() == Some("vpc");
            let value = match inputs.overrides.get(&slot.key) {
                Some(v) => {
                    if slot.key.starts_with("default_") {
                        self.warn_dropped_defaults(slot, v, &mut warnings);
                    }
                    v.clone()
                }
                None => Literal::Array(slot.default.iter().cloned().map(Literal::Str).collect()),
            };
            let key = format!("{}.{}", self.config.prefix, slot.key);
            let generated = match &self.built_by {
                // Jets' `vpc_policy` skips a nil or empty value before building the policy.
                Some(_) if vpc_only && is_nil_or_empty(&value) => None,
                Some(built_by) => jets::jets6_policy(&slot.name, &value).map_err(|failure| {
                    ProfileError::JetsFails {
                        key,
                        built_by: built_by.clone(),
                        failure,
                    }
                })?,
                None if vpc_only && !inputs.vpc => None,
                None => {
                    let (generated, form_warnings) = jets::standardize(&slot.name, &value)
                        .map_err(|source| ProfileError::Form { key, source })?;
                    warnings.extend(form_warnings);
                    generated
                }
            };
            let Some(generated) = generated else {
                continue;
            };
            if vpc_only && !inputs.vpc {
                warnings.push(format!(
                    "no VPC config is set, so `{}` is not required; Jets 6 still grants it unless `config.{}.{} = []`",
                    slot.name, self.config.prefix, slot.key
                ));
            }
            required_policy.push(!vpc_only || inputs.vpc);
            policies.push(generated);
        }

        let mut managed_policy_arns: Vec<String> = Vec::new();
        for slot in &self.managed_policies {
            let value = inputs.overrides.get(&slot.key);
            if let Some(built_by) = &self.built_by {
                let value = value.cloned().unwrap_or_else(|| {
                    Literal::Array(slot.default.iter().cloned().map(Literal::Str).collect())
                });
                let arns = jets::jets6_managed_policy_arns(&value).map_err(|failure| {
                    ProfileError::JetsFails {
                        key: format!("{}.{}", self.config.prefix, slot.key),
                        built_by: built_by.clone(),
                        failure,
                    }
                })?;
                managed_policy_arns.extend(arns);
                continue;
            }
            let arns = match value {
                Some(v) => jets::managed_policy_arns(v),
                None => slot
                    .default
                    .iter()
                    .map(|n| jets::managed_policy_arn(n))
                    .collect(),
            };
            for arn in arns {
                if !managed_policy_arns.contains(&arn) {
                    managed_policy_arns.push(arn);
                }
            }
        }

        let mut actions = UniqueActions::default();
        for (p, _) in policies.iter().zip(&required_policy).filter(|(_, r)| **r) {
            self.actions_of_policy(p, inputs, &mut actions, &mut warnings);
        }
        let mut seen_managed = Vec::new();
        for arn in &managed_policy_arns {
            if seen_managed.contains(&arn) {
                continue;
            }
            seen_managed.push(arn);
            let name = arn.rsplit('/').next().unwrap_or(arn);
            if let Some(calls) = self.managed_calls.get(name) {
                for (action, reason) in calls {
                    actions.push(RequiredAction {
                        action: action.clone(),
                        resource: "*".into(),
                        grant: arn.clone(),
                        policy: name.to_string(),
                        reason: reason.clone(),
                    });
                }
            }
        }
        Ok(RequiredPermissions {
            profile: self.name.clone(),
            vpc: inputs.vpc,
            policies,
            managed_policy_arns,
            actions: actions.into_unique(),
            warnings,
            unchecked: Vec::new(),
        })
    }

    fn warn_dropped_defaults(
        &self,
        slot: &PolicySlot,
        value: &Literal,
        warnings: &mut Vec<String>,
    ) {
        let given = value.to_json().to_string().to_ascii_lowercase();
        let dropped: Vec<&str> = slot
            .default
            .iter()
            .map(String::as_str)
            .filter(|d| {
                let svc = d.split(':').next().unwrap_or(d).to_ascii_lowercase();
                !given.contains(&format!("\"{svc}\"")) && !given.contains(&format!("\"{svc}:"))
            })
            .collect();
        if !dropped.is_empty() {
            warnings.push(format!(
                "`config.{}.{}` replaces the defaults and drops {}: the deploy fails if the app uses them",
                self.config.prefix,
                slot.key,
                dropped.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
            ));
        }
    }

    fn actions_of_policy(
        &self,
        p: &GeneratedPolicy,
        inputs: &ProfileInputs,
        out: &mut UniqueActions,
        warnings: &mut Vec<String>,
    ) {
        let statements = match &p.document["Statement"] {
            Value::Array(items) => items.clone(),
            Value::Object(_) => vec![p.document["Statement"].clone()],
            _ => Vec::new(),
        };
        for st in statements {
            if st["Effect"].as_str() != Some("Allow") {
                continue;
            }
            if st.get("NotAction").is_some() {
                warnings.push(format!(
                    "`{}` has a NotAction statement: its grants are not expanded into required actions",
                    p.name
                ));
                continue;
            }
            let resource = match &st["Resource"] {
                Value::String(r) => r.clone(),
                _ => "*".to_string(),
            };
            let grants: Vec<String> = match &st["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(items) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            for grant in grants {
                self.actions_of_grant(&grant, &resource, &p.name, inputs, out, warnings);
            }
        }
    }

    fn actions_of_grant(
        &self,
        grant: &str,
        resource: &str,
        policy: &str,
        inputs: &ProfileInputs,
        out: &mut UniqueActions,
        warnings: &mut Vec<String>,
    ) {
        let expansion = inputs.expansion;
        let cat = catalog();
        if let Err(e) = cat.check(grant) {
            warnings.push(format!("`{policy}`: {e}"));
            return;
        }
        let service = grant.split(':').next().unwrap_or("").to_ascii_lowercase();
        let known = self.calls.get(&service);
        // Without a VPC config, the known calls of a VPC-only service (EC2's network
        // interfaces) are not why the deploy needs them: they are listed because another
        // policy grants the service.
        let vpc_only_service = !inputs.vpc && self.is_vpc_only_service(&service, policy);
        let reason_for = |action: &str| -> Option<String> {
            let name = action.split(':').nth(1)?;
            let reason = known?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, r)| r.clone())?;
            Some(if vpc_only_service {
                format!(
                    "covered by `{grant}` in `{policy}` (no VPC config is set; with one, the deploy calls it to {reason})"
                )
            } else {
                reason
            })
        };
        let mut push = |action: String, reason: String| {
            out.push(RequiredAction {
                action,
                resource: resource.to_string(),
                grant: grant.to_string(),
                policy: policy.to_string(),
                reason,
            })
        };
        if !has_wildcard(grant) {
            let action = cat.canonical(grant).unwrap_or_else(|| grant.to_string());
            let reason =
                reason_for(&action).unwrap_or_else(|| format!("granted explicitly in `{policy}`"));
            push(action, reason);
            return;
        }
        let known_matches: Vec<(String, String)> = known
            .map(|calls| {
                calls
                    .keys()
                    .map(|name| format!("{service}:{name}"))
                    .filter(|a| action_matches(grant, a))
                    .filter_map(|a| reason_for(&a).map(|r| (a, r)))
                    .collect()
            })
            .unwrap_or_default();
        if expansion == Expansion::KnownCalls && !known_matches.is_empty() {
            for (a, r) in known_matches {
                let action = cat.canonical(&a).unwrap_or(a);
                push(action, r);
            }
            return;
        }
        let expanded = cat.expand(grant);
        if expansion == Expansion::KnownCalls {
            warnings.push(format!(
                "`{grant}` in `{policy}`: no known deploy calls for `{service}`, so all {} matching actions are checked",
                expanded.len()
            ));
        }
        for a in expanded {
            let reason =
                reason_for(&a).unwrap_or_else(|| format!("covered by `{grant}` in `{policy}`"));
            push(a, reason);
        }
    }
}

impl Profile {
    /// Whether the role has a policy that a VPC config switches on (`VpcPolicy`).
    #[must_use]
    pub fn has_vpc_policy(&self) -> bool {
        self.policies
            .iter()
            .any(|p| p.when.as_deref() == Some("vpc"))
    }

    /// Whether `key` (relative to the config prefix, e.g. `policy`) is a setting of this role.
    #[must_use]
    pub fn reads_key(&self, key: &str) -> bool {
        self.policies.iter().any(|p| p.key == key)
            || self.managed_policies.iter().any(|m| m.key == key)
    }

    /// A service granted only by the VPC policy's defaults (`ec2`), granted here by `policy`.
    fn is_vpc_only_service(&self, service: &str, policy: &str) -> bool {
        self.policies.iter().any(|slot| {
            slot.when.as_deref() == Some("vpc")
                && slot.name != policy
                && slot.default.iter().any(|d| {
                    d.split(':')
                        .next()
                        .is_some_and(|s| s.eq_ignore_ascii_case(service))
                })
        })
    }
}

/// Required actions in the order first found, each action (case-insensitively) on each
/// resource once: a later grant of the same action adds nothing.
#[derive(Default)]
struct UniqueActions {
    /// Every action pushed, repeats included: they are dropped once, in [`Self::into_unique`],
    /// by sorting rather than through a set of lowercased copies built for each push.
    actions: Vec<RequiredAction>,
}

impl UniqueActions {
    fn push(&mut self, action: RequiredAction) {
        self.actions.push(action);
    }

    /// The actions in the order pushed, each action on each resource only as first pushed.
    fn into_unique(self) -> Vec<RequiredAction> {
        let mut actions = self.actions;
        let mut order: Vec<(usize, &RequiredAction)> = actions.iter().enumerate().collect();
        // A stable sort: of equal actions, the first pushed comes first.
        order.sort_by(|(_, a), (_, b)| {
            folded(&a.action)
                .cmp(folded(&b.action))
                .then_with(|| a.resource.cmp(&b.resource))
        });
        let mut repeated = vec![false; actions.len()];
        for pair in order.windows(2) {
            if let [(_, a), (later, b)] = pair
                && a.action.eq_ignore_ascii_case(&b.action)
                && a.resource == b.resource
                && let Some(r) = repeated.get_mut(*later)
            {
                *r = true;
            }
        }
        let mut repeated = repeated.into_iter();
        actions.retain(|_| !repeated.next().unwrap_or(false));
        actions
    }
}

/// `text`'s bytes in ASCII lower case, for comparing as IAM compares action names.
fn folded(text: &str) -> impl Iterator<Item = u8> + '_ {
    text.bytes().map(|b| b.to_ascii_lowercase())
}

/// Ruby's `nil? || empty?` as Jets' `vpc_policy` tests it.
fn is_nil_or_empty(v: &Literal) -> bool {
    match v {
        Literal::Nil => true,
        Literal::Array(items) => items.is_empty(),
        Literal::Hash(pairs) => pairs.is_empty(),
        Literal::Str(s) | Literal::Sym(s) => s.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
