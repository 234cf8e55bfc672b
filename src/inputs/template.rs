//! CloudFormation templates (JSON or YAML) and the permissions deploying them needs.
//!
//! A template is the most precise statement of what a deploy will touch, so it can replace the
//! broad per-service grants of a profile with the exact actions CloudFormation's handlers call
//! (see [`crate::core::cfn`]). YAML short-form tags (`!Ref`, `!GetAtt A.B`, `!Sub` …) are turned
//! into the long JSON form first, so everything downstream reads one shape.
//!
//! What is derived, and how precisely:
//! - Handler actions (create, update and delete of every resource) are required on `*`: the
//!   registry data names actions, not the ARNs they act on.
//! - Stack operations the deployer calls are required on
//!   `arn:<partition>:cloudformation:<region>:<account>:stack/<stack>/*`; an unknown region or
//!   account becomes `*` in its segment, an unknown stack name makes the whole resource `*`.
//!   `ValidateTemplate` and `GetTemplateSummary` act on a template body, not a stack, so they are
//!   always `*`.
//! - `iam:PassRole` is required for every role a resource is given (keys `Role`, `ServiceRole`,
//!   `ExecutionRole`, `TaskRole`, any key ending in `RoleArn`/`RoleARN`/`RoleArns`, and the
//!   `Credentials` of an API Gateway method integration). The resource is the literal ARN; for a
//!   role created in the same template, `arn:<partition>:iam::<account>:role<path><RoleName>`
//!   when it has a `RoleName`, else `…:role<path><stack>-<LogicalId>-*`, the name CloudFormation
//!   generates. When the stack name is unknown, or the generated name could exceed IAM's 64
//!   characters (CloudFormation then truncates it in ways we do not model), the resource is `*`.
//!   An unknown account becomes `*` in the account segment. Handlers list `iam:PassRole` for
//!   every type that *can* take a role (an S3 bucket's replication role, say), and call it only
//!   when one is given; so the handler's own `iam:PassRole` on `*` is replaced by the roles found
//!   in the properties, and a resource given no role needs none. Otherwise a policy that scopes
//!   `iam:PassRole` to the app's roles would be reported as missing a grant on `*`.
//! - Parameters resolve to the value the parent stack passes (when the parent template is given
//!   and names this file in its `TemplateURL`), else to their `Default`.
//! - Custom resources have no handler data: the deployer needs `lambda:InvokeFunction` (or
//!   `sns:Publish` for a topic) on their `ServiceToken`.
//! - SAM resources are approximated by the resource each expands to; the transform itself needs
//!   `cloudformation:CreateChangeSet` on the transform's ARN.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value};

use crate::core::cfn;

/// Why a template could not be read. Messages are one line and name the file.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template `{path}` not found")]
    NotFound { path: String },
    #[error("cannot read template `{path}`: {source}")]
    Read {
        path: String,
        kind: std::io::ErrorKind,
        #[source]
        source: std::io::Error,
    },
    #[error("template `{path}` is not UTF-8 text")]
    NotUtf8 { path: String },
    #[error("invalid JSON in template `{path}`{}: {message}", at(*line, *column))]
    InvalidJson {
        path: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    #[error("invalid YAML in template `{path}`{}: {message}", at(*line, *column))]
    InvalidYaml {
        path: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    #[error("unsupported YAML tag `{tag}` in template `{path}` at `{at}`")]
    UnsupportedTag {
        path: String,
        tag: String,
        at: String,
    },
    #[error("template `{path}` is not a mapping")]
    NotAMapping { path: String },
    #[error("template `{path}` has no `Resources`")]
    NoResources { path: String },
    #[error("`Resources` in template `{path}` is not a mapping")]
    ResourcesNotAMapping { path: String },
}

fn at(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

/// A parsed template, in long JSON form whatever it was written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The path or name as given; used in messages and to match nested `TemplateURL`s.
    pub name: String,
    /// The whole document. Its `Resources` is known to be a non-empty mapping.
    pub body: Value,
}

impl Template {
    /// The `Resources` mapping, in document order.
    pub fn resources(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        self.body
            .get("Resources")
            .and_then(Value::as_object)
            .unwrap_or(&EMPTY)
    }

    fn section(&self, key: &str) -> Option<&Map<String, Value>> {
        self.body.get(key).and_then(Value::as_object)
    }

    fn file_name(&self) -> &str {
        Path::new(&self.name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&self.name)
    }
}

/// Read and parse a template file.
pub fn load(path: &Path) -> Result<Template, TemplateError> {
    let name = path.display().to_string();
    let bytes = super::file::read_regular(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => TemplateError::NotFound { path: name.clone() },
        kind => TemplateError::Read {
            path: name.clone(),
            kind,
            source,
        },
    })?;
    parse_bytes(&name, &bytes)
}

/// Parse template bytes; `name` is only used in messages and nested-stack matching.
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<Template, TemplateError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| TemplateError::NotUtf8 { path: name.into() })?;
    parse(name, text)
}

/// Parse template text. A `.json` name, or text starting with `{` without a YAML extension, is
/// read strictly as JSON: YAML would accept a JSON file's trailing commas and hide the error
/// CloudFormation will report.
pub fn parse(name: &str, text: &str) -> Result<Template, TemplateError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lower = name.to_ascii_lowercase();
    let yaml_name = lower.ends_with(".yml") || lower.ends_with(".yaml");
    let is_json = lower.ends_with(".json") || (!yaml_name && text.trim_start().starts_with('{'));
    let body = if is_json {
        serde_json::from_str::<Value>(text).map_err(|e| {
            let (line, column) = (e.line(), e.column());
            TemplateError::InvalidJson {
                path: name.into(),
                line: (line > 0).then_some(line),
                column: (line > 0).then_some(column),
                message: strip_location(&e.to_string(), line, column),
            }
        })?
    } else {
        parse_yaml(name, text)?
    };
    let Some(top) = body.as_object() else {
        return Err(TemplateError::NotAMapping { path: name.into() });
    };
    match top.get("Resources") {
        None | Some(Value::Null) => Err(TemplateError::NoResources { path: name.into() }),
        Some(Value::Object(r)) if r.is_empty() => {
            Err(TemplateError::NoResources { path: name.into() })
        }
        Some(Value::Object(_)) => Ok(Template {
            name: name.into(),
            body,
        }),
        Some(_) => Err(TemplateError::ResourcesNotAMapping { path: name.into() }),
    }
}

fn parse_yaml(name: &str, text: &str) -> Result<Value, TemplateError> {
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
        let loc = e.location();
        let (line, column) = (
            loc.as_ref().map(|l| l.line()),
            loc.as_ref().map(|l| l.column()),
        );
        TemplateError::InvalidYaml {
            path: name.into(),
            line,
            column,
            message: strip_location(&e.to_string(), line.unwrap_or(0), column.unwrap_or(0)),
        }
    })?;
    let mut at = Vec::new();
    yaml_to_json(yaml, &mut at).map_err(|e| match e {
        ConvertError::Tag { tag, at } => TemplateError::UnsupportedTag {
            path: name.into(),
            tag,
            at,
        },
        ConvertError::Key { at } => TemplateError::InvalidYaml {
            path: name.into(),
            line: None,
            column: None,
            message: format!("mapping key at `{at}` is not a string"),
        },
    })
}

/// Parser messages embed their own location; it is reported once, in our format.
fn strip_location(message: &str, line: usize, column: usize) -> String {
    let one_line = message.replace(['\n', '\r'], " ");
    one_line.replacen(&format!(" at line {line} column {column}"), "", 1)
}

enum ConvertError {
    Tag { tag: String, at: String },
    Key { at: String },
}

/// Short-form tags that become `Fn::<Name>`.
const FN_TAGS: &[&str] = &[
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "ForEach",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
];

fn yaml_to_json(value: serde_yaml::Value, at: &mut Vec<String>) -> Result<Value, ConvertError> {
    use serde_yaml::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => yaml_number(&n),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                at.push(format!("[{i}]"));
                out.push(yaml_to_json(item, at)?);
                at.pop();
            }
            Value::Array(out)
        }
        Y::Mapping(mapping) => {
            let mut out = Map::new();
            for (k, v) in mapping {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".to_string(),
                    _ => return Err(ConvertError::Key { at: path_text(at) }),
                };
                at.push(key.clone());
                let v = yaml_to_json(v, at)?;
                at.pop();
                out.insert(key, v);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.strip_prefix('!').unwrap_or(&tag).to_string();
            at.push(tag.clone());
            let inner = yaml_to_json(tagged.value, at)?;
            at.pop();
            let (key, inner) = match name.as_str() {
                "Ref" | "Condition" => (name, inner),
                "GetAtt" => ("Fn::GetAtt".to_string(), split_get_att(inner)),
                n if FN_TAGS.contains(&n) => (format!("Fn::{n}"), inner),
                _ => {
                    return Err(ConvertError::Tag {
                        tag,
                        at: path_text(at),
                    });
                }
            };
            let mut out = Map::new();
            out.insert(key, inner);
            Value::Object(out)
        }
    })
}

/// `!GetAtt Res.Attr.Sub` is `["Res", "Attr.Sub"]`: attribute names may contain dots.
fn split_get_att(inner: Value) -> Value {
    match inner {
        Value::String(s) => match s.split_once('.') {
            Some((res, attr)) => Value::Array(vec![res.into(), attr.into()]),
            None => Value::Array(vec![Value::String(s)]),
        },
        other => other,
    }
}

fn yaml_number(n: &serde_yaml::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(n.to_string()), Value::Number)
    }
}

fn path_text(at: &[String]) -> String {
    let mut out = String::new();
    for part in at {
        if !out.is_empty() && !part.starts_with('[') {
            out.push('.');
        }
        out.push_str(part);
    }
    if out.is_empty() { "(top)".into() } else { out }
}

/// Deploy-time facts that sharpen resource ARNs; anything unknown widens to `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateContext {
    pub region: Option<String>,
    pub account: Option<String>,
    /// The name of the top-level stack the templates are deployed as.
    pub stack_name: Option<String>,
    pub partition: String,
}

impl Default for TemplateContext {
    fn default() -> Self {
        Self {
            region: None,
            account: None,
            stack_name: None,
            partition: "aws".into(),
        }
    }
}

/// One permission a deploy needs, with the template resource that needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplatePermission {
    pub action: String,
    /// An ARN (possibly with `*` for the parts not known before deploy) or `*`.
    pub resource: String,
    /// e.g. "create AWS::Lambda::Function `JetsPreheatJob`".
    pub reason: String,
    /// The resource's type; `AWS::CloudFormation::Stack` for the stack operations themselves.
    pub resource_type: String,
    /// The resource's logical id; empty for stack-level operations.
    pub logical_id: String,
}

/// Everything the templates imply for the deployer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateRequirements {
    /// Deduplicated by (action, resource), the first reason kept, in template order.
    pub permissions: Vec<TemplatePermission>,
    /// A Lambda function (or SAM function) has a `VpcConfig`.
    pub vpc: bool,
    /// Role ARNs (or ARN patterns) passed to resources; roles that cannot be identified are
    /// not listed here but reported in `warnings`.
    pub passed_roles: Vec<String>,
    /// Resource types neither in the registry data nor custom resources, in template order.
    pub unknown_types: Vec<String>,
    /// What could not be turned into permissions (the unknown types, grouped in one line): a
    /// check against these requirements is incomplete.
    pub unchecked: Vec<String>,
    pub warnings: Vec<String>,
}

/// How many unknown resource types are named, with their resources and a suggestion, in the
/// one line that reports them; the rest are counted.
const UNKNOWN_TYPES_SHOWN: usize = 10;

/// The resources of one unknown type: (logical id, template name), in template order.
#[derive(Default)]
struct UnknownType {
    resources: Vec<(String, String)>,
}

const STACK_ACTIONS: &[&str] = &[
    "cloudformation:CreateStack",
    "cloudformation:UpdateStack",
    "cloudformation:DeleteStack",
    "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResource",
    "cloudformation:DescribeStackResources",
    "cloudformation:GetTemplate",
    "cloudformation:CreateChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:ValidateTemplate",
    "cloudformation:GetTemplateSummary",
];

/// Actions that do not act on a stack resource.
const STACKLESS_ACTIONS: &[&str] = &[
    "cloudformation:ValidateTemplate",
    "cloudformation:GetTemplateSummary",
];

const STACK_TYPE: &str = "AWS::CloudFormation::Stack";
const ROLE_TYPE: &str = "AWS::IAM::Role";
const FUNCTION_TYPE: &str = "AWS::Lambda::Function";
const SAM_FUNCTION_TYPE: &str = "AWS::Serverless::Function";
const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

/// IAM role and Lambda function names are at most 64 characters.
const MAX_NAME: usize = 64;
/// Length of the random suffix CloudFormation appends to generated names (12–13 characters).
const SUFFIX_LEN: usize = 13;
/// Bounds intrinsic-function resolution (nesting, parameter chains through parents).
const MAX_DEPTH: usize = 16;
/// Bounds the alternatives `Fn::If` can multiply into.
const MAX_ALTERNATIVES: usize = 8;
/// Bounds the work one value may cause, so references fanning out to references (`Fn::Join`
/// of parameters defaulting to joins of themselves) end quickly as `*` instead of hanging.
const RESOLVE_BUDGET: usize = 10_000;

/// The resource each SAM type mainly expands to.
fn sam_primary(resource_type: &str) -> Option<&'static str> {
    Some(match resource_type {
        SAM_FUNCTION_TYPE => FUNCTION_TYPE,
        "AWS::Serverless::Api" => "AWS::ApiGateway::RestApi",
        "AWS::Serverless::HttpApi" => "AWS::ApiGatewayV2::Api",
        "AWS::Serverless::SimpleTable" => "AWS::DynamoDB::Table",
        "AWS::Serverless::LayerVersion" => "AWS::Lambda::LayerVersion",
        "AWS::Serverless::StateMachine" => "AWS::StepFunctions::StateMachine",
        "AWS::Serverless::Application" => STACK_TYPE,
        _ => return None,
    })
}

/// Derive the permissions deploying `templates` needs.
pub fn requirements(templates: &[Template], ctx: &TemplateContext) -> TemplateRequirements {
    let mut out = Collector::default();
    let resolver = Resolver::new(templates, ctx);

    stack_operations(ctx, &mut out);
    for (index, template) in templates.iter().enumerate() {
        transforms(template, ctx, &mut out);
        let mut sam_warned = false;
        let mut sam_function = false;
        for (logical_id, resource) in template.resources() {
            let Some(resource_type) = resource.get("Type").and_then(Value::as_str) else {
                out.warn(format!(
                    "resource `{logical_id}` in `{}` has no `Type`; skipped",
                    template.name
                ));
                continue;
            };
            let props = resource.get("Properties");
            let res = ExaminedResource {
                index,
                logical_id,
                resource_type,
                props,
            };
            if resource_type.starts_with("Custom::")
                || resource_type == "AWS::CloudFormation::CustomResource"
            {
                custom_resource(&resolver, &res, &mut out);
                continue;
            }
            sam_function |= resource_type == SAM_FUNCTION_TYPE;
            if matches!(resource_type, FUNCTION_TYPE | SAM_FUNCTION_TYPE) && has_vpc_config(props) {
                out.req.vpc = true;
            }
            let roles = passed_roles(&resolver, &res, &mut out);
            let lookup = match sam_primary(resource_type) {
                Some(primary) => {
                    if !sam_warned {
                        sam_warned = true;
                        out.warn(format!(
                            "SAM resources in `{}` are checked as the resource each expands to; the \
                             roles, permissions and event sources the transform generates are not listed",
                            template.name
                        ));
                    }
                    primary
                }
                None => resource_type,
            };
            handler_actions(&res, lookup, templates, &mut out);
            for (role, key) in roles {
                out.push(
                    "iam:PassRole",
                    &role,
                    format!("pass role to {resource_type} `{logical_id}` (`{key}`)"),
                    &res,
                );
            }
            if resource_type == STACK_TYPE && resolver.nested_child(index, logical_id).is_none() {
                let url = props
                    .and_then(|p| p.get("TemplateURL"))
                    .map(|u| resolver.resolve(index, u, 0).join(" | "))
                    .unwrap_or_default();
                out.warn(format!(
                    "nested stack `{logical_id}` in `{}` (TemplateURL `{url}`) is not followed; \
                     pass its template file too to include its resources",
                    template.name
                ));
            }
        }
        if sam_function
            && template
                .section("Globals")
                .and_then(|g| g.get("Function"))
                .is_some_and(|f| has_vpc_config(Some(f)))
        {
            out.req.vpc = true;
        }
    }
    out.report_unknown_types();
    out.req
}

/// One resource being examined.
struct ExaminedResource<'a> {
    index: usize,
    logical_id: &'a str,
    resource_type: &'a str,
    props: Option<&'a Value>,
}

#[derive(Default)]
struct Collector {
    req: TemplateRequirements,
    seen: HashSet<(String, String)>,
    seen_warnings: HashSet<String>,
    /// Unknown resource types by name, their order kept in `req.unknown_types`.
    unknown: HashMap<String, UnknownType>,
}

impl Collector {
    fn unknown_type(&mut self, resource_type: &str, logical_id: &str, file: &str) {
        let entry = self
            .unknown
            .entry(resource_type.to_owned())
            .or_insert_with(|| {
                self.req.unknown_types.push(resource_type.to_owned());
                UnknownType::default()
            });
        entry
            .resources
            .push((logical_id.to_owned(), file.to_owned()));
    }

    /// One line for every unknown type: the first few named with their resources and the
    /// nearest known type (looked up once per type shown), the rest counted.
    fn report_unknown_types(&mut self) {
        let types = &self.req.unknown_types;
        if types.is_empty() {
            return;
        }
        let mut shown = Vec::new();
        for name in types.iter().take(UNKNOWN_TYPES_SHOWN) {
            let resources = self
                .unknown
                .get(name)
                .map(|u| u.resources.as_slice())
                .unwrap_or_default();
            let place = match resources {
                [(id, file)] => format!("`{id}` in `{file}`"),
                [(id, file), rest @ ..] => {
                    format!("`{id}` in `{file}` and {} more", rest.len())
                }
                [] => String::new(),
            };
            let hint = cfn::closest_type(name)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            shown.push(format!("`{name}` ({place}{hint})"));
        }
        let more = types.len().saturating_sub(UNKNOWN_TYPES_SHOWN);
        let resources: usize = self.unknown.values().map(|u| u.resources.len()).sum();
        self.req.unchecked.push(format!(
            "{} resource type(s) of {resources} resource(s) are not CloudFormation types this tool knows, so what deploying them needs is not checked: {}{}",
            types.len(),
            shown.join(", "),
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            }
        ));
    }

    fn push(&mut self, action: &str, resource: &str, reason: String, res: &ExaminedResource<'_>) {
        self.push_raw(action, resource, reason, res.resource_type, res.logical_id);
    }

    fn push_raw(
        &mut self,
        action: &str,
        resource: &str,
        reason: String,
        resource_type: &str,
        logical_id: &str,
    ) {
        if self.seen.insert((action.to_string(), resource.to_string())) {
            self.req.permissions.push(TemplatePermission {
                action: action.into(),
                resource: resource.into(),
                reason,
                resource_type: resource_type.into(),
                logical_id: logical_id.into(),
            });
        }
    }

    fn warn(&mut self, message: String) {
        if self.seen_warnings.insert(message.clone()) {
            self.req.warnings.push(message);
        }
    }
}

fn stack_operations(ctx: &TemplateContext, out: &mut Collector) {
    let (arn, reason) = match &ctx.stack_name {
        Some(stack) => (
            format!(
                "arn:{}:cloudformation:{}:{}:stack/{stack}/*",
                ctx.partition,
                ctx.region.as_deref().unwrap_or("*"),
                ctx.account.as_deref().unwrap_or("*"),
            ),
            format!("deploy stack `{stack}`"),
        ),
        None => ("*".to_string(), "deploy the stack".to_string()),
    };
    for action in STACK_ACTIONS {
        let resource = if STACKLESS_ACTIONS.contains(action) {
            "*"
        } else {
            arn.as_str()
        };
        out.push_raw(action, resource, reason.clone(), STACK_TYPE, "");
    }
}

/// AWS transforms are macros CloudFormation runs on the deployer's behalf during
/// `CreateChangeSet`, which IAM authorizes against the transform's own ARN.
fn transforms(template: &Template, ctx: &TemplateContext, out: &mut Collector) {
    let names: Vec<&str> = match template.body.get("Transform") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for name in names {
        let region = ctx.region.as_deref().unwrap_or("*");
        if let Some(short) = name.strip_prefix("AWS::") {
            let arn = format!(
                "arn:{}:cloudformation:{region}:aws:transform/{short}",
                ctx.partition
            );
            out.push_raw(
                "cloudformation:CreateChangeSet",
                &arn,
                format!("expand transform `{name}`"),
                STACK_TYPE,
                "",
            );
            if name != SAM_TRANSFORM {
                out.warn(format!(
                    "transform `{name}` in `{}` is not expanded; resources it adds are not listed",
                    template.name
                ));
            }
        } else {
            out.warn(format!(
                "macro `{name}` in `{}` is not expanded; resources it adds and the permissions it \
                 needs are not listed",
                template.name
            ));
        }
    }
}

fn handler_actions(
    res: &ExaminedResource<'_>,
    lookup: &str,
    templates: &[Template],
    out: &mut Collector,
) {
    let (resource_type, logical_id) = (res.resource_type, res.logical_id);
    let Some(handlers) = cfn::handler_permissions(lookup) else {
        let file = templates.get(res.index).map_or("", |t| t.name.as_str());
        out.unknown_type(resource_type, logical_id, file);
        return;
    };
    if handlers.is_empty() {
        out.warn(format!(
            "no handler permissions are published for {resource_type} (`{logical_id}`); add its \
             service's actions by hand"
        ));
        return;
    }
    let via = if lookup == resource_type {
        String::new()
    } else {
        format!(" (as {lookup})")
    };
    for (verb, actions) in [
        ("create", &handlers.create),
        ("update", &handlers.update),
        ("delete", &handlers.delete),
    ] {
        for action in actions {
            if action.eq_ignore_ascii_case("iam:PassRole") {
                continue;
            }
            out.push(
                action,
                "*",
                format!("{verb} {resource_type} `{logical_id}`{via}"),
                res,
            );
        }
    }
}

/// A `VpcConfig` that is present and not removed (`AWS::NoValue`) or literally empty.
fn has_vpc_config(props: Option<&Value>) -> bool {
    let Some(vpc) = props.and_then(|p| p.get("VpcConfig")) else {
        return false;
    };
    match vpc {
        Value::Null => false,
        Value::Object(_) if is_no_value(vpc) => false,
        Value::Object(m) => {
            let empty = |k: &str| {
                m.get(k)
                    .is_none_or(|v| v.as_array().is_some_and(Vec::is_empty))
            };
            !(empty("SubnetIds") && empty("SecurityGroupIds"))
        }
        _ => true,
    }
}

fn is_no_value(v: &Value) -> bool {
    v.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue")
}

/// Property keys never holding a passed role, skipped to avoid reading policy documents.
const SKIP_KEYS: &[&str] = &[
    "AssumeRolePolicyDocument",
    "PolicyDocument",
    "Policies",
    "Tags",
    "Definition",
    "DefinitionString",
];

fn is_role_key(resource_type: &str, key: &str) -> bool {
    matches!(key, "Role" | "ServiceRole" | "ExecutionRole" | "TaskRole")
        || key.ends_with("RoleArn")
        || key.ends_with("RoleARN")
        || key.ends_with("RoleArns")
        || (resource_type == "AWS::ApiGateway::Method" && key == "Credentials")
}

/// The roles a resource is given, as (ARN or `*`, property key).
fn passed_roles(
    resolver: &Resolver<'_>,
    res: &ExaminedResource<'_>,
    out: &mut Collector,
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    if let Some(props) = res.props {
        collect_role_values(res.resource_type, props, &mut found, 0);
    }
    let mut roles: Vec<(String, String)> = Vec::new();
    for (key, value) in found {
        let values: Vec<&Value> = match value {
            Value::Array(items) if key.ends_with('s') => items.iter().collect(),
            other => vec![other],
        };
        for value in values {
            for arn in resolver.resolve(res.index, value, 0) {
                if arn.contains(":user/") {
                    continue;
                }
                let arn = resolver.role_pattern(&arn);
                if arn == "*" {
                    out.warn(format!(
                        "cannot tell which role `{key}` of `{}` passes; iam:PassRole is checked on `*`",
                        res.logical_id
                    ));
                } else if !out.req.passed_roles.contains(&arn) {
                    out.req.passed_roles.push(arn.clone());
                }
                if !roles.iter().any(|(r, _)| *r == arn) {
                    roles.push((arn, key.to_string()));
                }
            }
        }
    }
    roles
}

fn collect_role_values<'a>(
    resource_type: &str,
    value: &'a Value,
    found: &mut Vec<(&'a str, &'a Value)>,
    depth: usize,
) {
    if depth > MAX_DEPTH * 4 {
        return;
    }
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                if SKIP_KEYS.contains(&k.as_str()) {
                    continue;
                }
                if is_role_key(resource_type, k) && !is_no_value(v) {
                    found.push((k.as_str(), v));
                } else {
                    collect_role_values(resource_type, v, found, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_role_values(resource_type, item, found, depth + 1);
            }
        }
        _ => {}
    }
}

fn custom_resource(resolver: &Resolver<'_>, res: &ExaminedResource<'_>, out: &mut Collector) {
    let Some(token) = res.props.and_then(|p| p.get("ServiceToken")) else {
        out.warn(format!(
            "custom resource `{}` has no `ServiceToken`",
            res.logical_id
        ));
        return;
    };
    for target in resolver.resolve(res.index, token, 0) {
        let action = if target.contains(":sns:") {
            "sns:Publish"
        } else {
            "lambda:InvokeFunction"
        };
        let known =
            target.starts_with("arn:") && target.split(':').nth(6).is_none_or(|name| name != "*");
        let resource = if known { target } else { "*".to_string() };
        if !known {
            out.warn(format!(
                "cannot tell what custom resource `{}` calls; {action} is checked on `*`",
                res.logical_id
            ));
        }
        let reason = format!(
            "call {} `{}` (ServiceToken)",
            res.resource_type, res.logical_id
        );
        out.push(action, &resource, reason, res);
    }
}

/// Turns intrinsic functions into the strings they will produce, with `*` for what cannot be
/// known before deploy.
struct Resolver<'a> {
    templates: &'a [Template],
    ctx: &'a TemplateContext,
    /// For each template, the (parent template, nested stack logical id) it is deployed by.
    parents: Vec<Option<(usize, &'a str)>>,
    /// For each template, its stack name or name pattern.
    stacks: Vec<Option<String>>,
    /// Steps left for the value being resolved; reset for each top-level value.
    budget: std::cell::Cell<usize>,
}

impl<'a> Resolver<'a> {
    fn new(templates: &'a [Template], ctx: &'a TemplateContext) -> Self {
        let mut resolver = Resolver {
            templates,
            ctx,
            parents: vec![None; templates.len()],
            stacks: vec![None; templates.len()],
            budget: std::cell::Cell::new(RESOLVE_BUDGET),
        };
        for (i, template) in templates.iter().enumerate() {
            for (logical_id, resource) in template.resources() {
                if resource.get("Type").and_then(Value::as_str) != Some(STACK_TYPE) {
                    continue;
                }
                let Some(url) = resource
                    .get("Properties")
                    .and_then(|p| p.get("TemplateURL"))
                else {
                    continue;
                };
                for url in resolver.resolve(i, url, 0) {
                    let base = url
                        .rsplit('/')
                        .next()
                        .unwrap_or("")
                        .split('?')
                        .next()
                        .unwrap_or("");
                    if base.is_empty() || base.contains('*') {
                        continue;
                    }
                    let child = templates.iter().position(|t| t.file_name() == base);
                    if let Some(j) = child.filter(|&j| j != i && resolver.parents[j].is_none()) {
                        resolver.parents[j] = Some((i, logical_id.as_str()));
                    }
                }
            }
        }
        let stacks = (0..templates.len())
            .map(|i| resolver.stack_name_of(i, 0))
            .collect();
        resolver.stacks = stacks;
        resolver
    }

    fn stack_name_of(&self, index: usize, depth: usize) -> Option<String> {
        match self.parents.get(index).copied().flatten() {
            None => self.ctx.stack_name.clone(),
            Some(_) if depth > self.templates.len() => None,
            Some((parent, logical_id)) => self
                .stack_name_of(parent, depth + 1)
                .map(|s| format!("{s}-{logical_id}-*")),
        }
    }

    fn nested_child(&self, parent: usize, logical_id: &str) -> Option<usize> {
        self.parents
            .iter()
            .position(|p| *p == Some((parent, logical_id)))
    }

    fn account(&self) -> &str {
        self.ctx.account.as_deref().unwrap_or("*")
    }

    fn region(&self) -> &str {
        self.ctx.region.as_deref().unwrap_or("*")
    }

    fn resource(&self, index: usize, logical_id: &str) -> Option<&'a Value> {
        self.templates.get(index)?.resources().get(logical_id)
    }

    fn resolve(&self, index: usize, value: &Value, depth: usize) -> Vec<String> {
        if depth == 0 {
            self.budget.set(RESOLVE_BUDGET);
        }
        let mut out: Vec<String> = Vec::new();
        for s in self.resolve_inner(index, value, depth) {
            if !out.contains(&s) && out.len() < MAX_ALTERNATIVES {
                out.push(s);
            }
        }
        out
    }

    fn resolve_inner(&self, index: usize, value: &Value, depth: usize) -> Vec<String> {
        let unknown = || vec!["*".to_string()];
        let left = self.budget.get();
        if depth > MAX_DEPTH || left == 0 {
            return unknown();
        }
        self.budget.set(left - 1);
        match value {
            Value::String(s) => vec![s.clone()],
            Value::Number(n) => vec![n.to_string()],
            Value::Bool(b) => vec![b.to_string()],
            Value::Object(m) if m.len() == 1 => {
                let Some((key, arg)) = m.iter().next() else {
                    return unknown();
                };
                match key.as_str() {
                    "Ref" => arg
                        .as_str()
                        .map_or_else(unknown, |name| self.resolve_ref(index, name, depth)),
                    "Fn::GetAtt" => self.resolve_get_att(index, arg, depth),
                    "Fn::Sub" => self.resolve_sub(index, arg, depth),
                    "Fn::Join" => self.resolve_join(index, arg, depth),
                    "Fn::If" => match arg.as_array().map(Vec::as_slice) {
                        Some([_, a, b]) => {
                            let mut both = self.resolve(index, a, depth + 1);
                            both.extend(self.resolve(index, b, depth + 1));
                            both
                        }
                        _ => unknown(),
                    },
                    "Fn::Select" => match arg.as_array().map(Vec::as_slice) {
                        Some([i, Value::Array(items)]) => {
                            let i = i
                                .as_u64()
                                .or_else(|| i.as_str().and_then(|s| s.parse().ok()));
                            match i.and_then(|i| items.get(usize::try_from(i).ok()?)) {
                                Some(item) => self.resolve(index, item, depth + 1),
                                None => unknown(),
                            }
                        }
                        _ => unknown(),
                    },
                    _ => unknown(),
                }
            }
            _ => unknown(),
        }
    }

    /// One string for a value, or `*` when it has several alternatives or none is known.
    fn single(&self, index: usize, value: &Value, depth: usize) -> String {
        match self.resolve(index, value, depth + 1).as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            _ => "*".into(),
        }
    }

    fn resolve_ref(&self, index: usize, name: &str, depth: usize) -> Vec<String> {
        let one = |s: &str| vec![s.to_string()];
        match name {
            "AWS::NoValue" => return Vec::new(),
            "AWS::AccountId" => return one(self.account()),
            "AWS::Region" => return one(self.region()),
            "AWS::Partition" => return one(&self.ctx.partition),
            "AWS::StackName" => {
                return one(self
                    .stacks
                    .get(index)
                    .cloned()
                    .flatten()
                    .as_deref()
                    .unwrap_or("*"));
            }
            "AWS::URLSuffix" => {
                return one(if self.ctx.partition == "aws-cn" {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                });
            }
            _ => {}
        }
        let Some(template) = self.templates.get(index) else {
            return one("*");
        };
        if let Some(param) = template.section("Parameters").and_then(|p| p.get(name)) {
            if let Some((parent, nested)) = self.parents.get(index).copied().flatten() {
                let passed = self
                    .resource(parent, nested)
                    .and_then(|r| r.get("Properties"))
                    .and_then(|p| p.get("Parameters"))
                    .and_then(|p| p.get(name));
                if let Some(passed) = passed {
                    return self.resolve(parent, passed, depth + 1);
                }
            }
            return match param.get("Default") {
                Some(default) => self.resolve(index, default, depth + 1),
                None => one("*"),
            };
        }
        match self
            .resource(index, name)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
        {
            Some(ROLE_TYPE) => one(&self.physical_name(index, name, "RoleName", depth)),
            Some(FUNCTION_TYPE) => one(&self.physical_name(index, name, "FunctionName", depth)),
            _ => one("*"),
        }
    }

    fn resolve_get_att(&self, index: usize, arg: &Value, depth: usize) -> Vec<String> {
        let (logical_id, attr) = match arg.as_array().map(Vec::as_slice) {
            Some([Value::String(r), Value::String(a)]) => (r.as_str(), a.as_str()),
            _ => return vec!["*".into()],
        };
        let resource_type = self
            .resource(index, logical_id)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str);
        vec![match (resource_type, attr) {
            (Some(ROLE_TYPE), "Arn") => self.role_arn(index, logical_id, depth),
            (Some(FUNCTION_TYPE), "Arn") => {
                let name = self.physical_name(index, logical_id, "FunctionName", depth);
                if name == "*" {
                    "*".into()
                } else {
                    format!(
                        "arn:{}:lambda:{}:{}:function:{name}",
                        self.ctx.partition,
                        self.region(),
                        self.account()
                    )
                }
            }
            _ => "*".into(),
        }]
    }

    fn resolve_sub(&self, index: usize, arg: &Value, depth: usize) -> Vec<String> {
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), None),
            Value::Array(items) => match items.as_slice() {
                [Value::String(s), Value::Object(vars)] => (s.as_str(), Some(vars)),
                [Value::String(s)] => (s.as_str(), None),
                _ => return vec!["*".into()],
            },
            _ => return vec!["*".into()],
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let var = &after[..end];
            if let Some(literal) = var.strip_prefix('!') {
                let _ = write!(out, "${{{literal}}}");
            } else if let Some(value) = vars.and_then(|v| v.get(var)) {
                out.push_str(&self.single(index, value, depth));
            } else if let Some((resource, attr)) = var.split_once('.') {
                let get_att = Value::Array(vec![resource.into(), attr.into()]);
                out.push_str(&one_of(self.resolve_get_att(index, &get_att, depth + 1)));
            } else {
                out.push_str(&one_of(self.resolve_ref(index, var, depth + 1)));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        vec![out]
    }

    fn resolve_join(&self, index: usize, arg: &Value, depth: usize) -> Vec<String> {
        match arg.as_array().map(Vec::as_slice) {
            Some([Value::String(sep), Value::Array(parts)]) => {
                let parts: Vec<String> =
                    parts.iter().map(|p| self.single(index, p, depth)).collect();
                vec![parts.join(sep)]
            }
            _ => vec!["*".into()],
        }
    }

    /// The physical name of a resource created by the template: its explicit name property, or
    /// the `<stack>-<LogicalId>-<suffix>` pattern CloudFormation generates, or `*`.
    fn physical_name(
        &self,
        index: usize,
        logical_id: &str,
        name_key: &str,
        depth: usize,
    ) -> String {
        let props = self
            .resource(index, logical_id)
            .and_then(|r| r.get("Properties"));
        if let Some(name) = props.and_then(|p| p.get(name_key)) {
            let name = self.single(index, name, depth);
            return if name.is_empty() { "*".into() } else { name };
        }
        let Some(stack) = self.stacks.get(index).cloned().flatten() else {
            return "*".into();
        };
        let stars = stack.matches('*').count();
        let estimate =
            stack.len() - stars + stars * SUFFIX_LEN + 1 + logical_id.len() + 1 + SUFFIX_LEN;
        if estimate > MAX_NAME {
            return "*".into();
        }
        format!("{stack}-{logical_id}-*")
    }

    fn role_arn(&self, index: usize, logical_id: &str, depth: usize) -> String {
        let name = self.physical_name(index, logical_id, "RoleName", depth);
        if name == "*" {
            return "*".into();
        }
        let path = self
            .resource(index, logical_id)
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get("Path"))
            .map_or_else(|| "/".to_string(), |p| self.single(index, p, depth));
        let path = match path.as_str() {
            "" | "/" => "/".to_string(),
            p if p.starts_with('/') && p.ends_with('/') => p.to_string(),
            _ => "/*".to_string(),
        };
        format!(
            "arn:{}:iam::{}:role{path}{name}",
            self.ctx.partition,
            self.account()
        )
    }

    /// A resolved role value as an ARN pattern: names become ARNs; a role whose name is not
    /// known at all is `*`.
    fn role_pattern(&self, value: &str) -> String {
        let arn = if value.is_empty() || value == "*" {
            return "*".into();
        } else if value.starts_with("arn:") {
            value.to_string()
        } else {
            let name = value.trim_start_matches('/');
            format!(
                "arn:{}:iam::{}:role/{name}",
                self.ctx.partition,
                self.account()
            )
        };
        match arn.split_once(":role/") {
            Some((_, name)) if name.trim_matches(['*', '/']).is_empty() => "*".into(),
            _ => arn,
        }
    }
}

fn one_of(values: Vec<String>) -> String {
    match values.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        _ => "*".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates")
    }

    fn fixture(name: &str) -> Template {
        load(&fixtures().join(name)).expect("fixture parses")
    }

    fn body(yaml: &str) -> Value {
        parse("t.yml", yaml).expect("parses").body
    }

    fn ctx() -> TemplateContext {
        TemplateContext {
            region: Some("us-east-1".into()),
            account: Some("111122223333".into()),
            stack_name: Some("demo-dev".into()),
            ..TemplateContext::default()
        }
    }

    fn has(req: &TemplateRequirements, action: &str, resource: &str) -> bool {
        req.permissions
            .iter()
            .any(|p| p.action == action && p.resource == resource)
    }

    #[test]
    fn every_short_form_tag_becomes_long_form() {
        let yaml = r#"
Resources:
  R:
    Type: AWS::S3::Bucket
    Properties:
      Ref: !Ref Bucket
      GetAtt: !GetAtt Role.Arn
      GetAttDotted: !GetAtt Db.Endpoint.Address
      GetAttList: !GetAtt [Role, Arn]
      Sub: !Sub "${AWS::StackName}-x"
      SubList: !Sub ["${A}-b", {A: !Ref X}]
      Join: !Join ["-", [a, !Ref B]]
      If: !If [IsProd, a, !Ref AWS::NoValue]
      Select: !Select [0, !GetAZs ""]
      Split: !Split [",", "a,b"]
      FindInMap: !FindInMap [M, K, V]
      ImportValue: !ImportValue shared-vpc
      GetAZs: !GetAZs us-east-1
      Base64: !Base64 hello
      Cidr: !Cidr ["10.0.0.0/16", 4, 8]
      Equals: !Equals [!Ref Env, prod]
      Not: !Not [!Condition IsProd]
      And: !And [!Condition A, !Condition B]
      Or: !Or [!Condition A, !Condition B]
      Condition: !Condition IsProd
"#;
        let props = body(yaml)["Resources"]["R"]["Properties"].clone();
        let expected = json!({
            "Ref": {"Ref": "Bucket"},
            "GetAtt": {"Fn::GetAtt": ["Role", "Arn"]},
            "GetAttDotted": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
            "GetAttList": {"Fn::GetAtt": ["Role", "Arn"]},
            "Sub": {"Fn::Sub": "${AWS::StackName}-x"},
            "SubList": {"Fn::Sub": ["${A}-b", {"A": {"Ref": "X"}}]},
            "Join": {"Fn::Join": ["-", ["a", {"Ref": "B"}]]},
            "If": {"Fn::If": ["IsProd", "a", {"Ref": "AWS::NoValue"}]},
            "Select": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
            "Split": {"Fn::Split": [",", "a,b"]},
            "FindInMap": {"Fn::FindInMap": ["M", "K", "V"]},
            "ImportValue": {"Fn::ImportValue": "shared-vpc"},
            "GetAZs": {"Fn::GetAZs": "us-east-1"},
            "Base64": {"Fn::Base64": "hello"},
            "Cidr": {"Fn::Cidr": ["10.0.0.0/16", 4, 8]},
            "Equals": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "Not": {"Fn::Not": [{"Condition": "IsProd"}]},
            "And": {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]},
            "Or": {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]},
            "Condition": {"Condition": "IsProd"},
        });
        assert_eq!(props, expected);
    }

    #[test]
    fn unsupported_tag_is_an_error_naming_where() {
        let err = parse("t.yml", "Resources:\n  R:\n    Type: !Foo x\n").expect_err("unknown tag");
        let msg = err.to_string();
        assert!(
            msg.contains("`!Foo`") && msg.contains("`t.yml`") && msg.contains("Resources.R.Type"),
            "{msg}"
        );
    }

    #[test]
    fn yaml_and_json_fixtures_read_the_same_way() {
        let yaml = fixture("jets-app.yml");
        let json = fixture("jets-controllers.json");
        assert_eq!(
            yaml.body["Resources"]["JetsPreheatJob"]["Properties"]["Role"],
            json!({"Fn::GetAtt": ["IamRole", "Arn"]})
        );
        assert_eq!(
            json.body["Resources"]["PostsControllerIndex"]["Properties"]["Role"],
            json!({"Ref": "IamRole"})
        );
    }

    #[test]
    fn every_good_fixture_parses_and_every_broken_one_fails_with_one_line() {
        let mut good = 0;
        for entry in std::fs::read_dir(fixtures()).expect("fixtures dir") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                good += 1;
            }
        }
        let mut broken = 0;
        for entry in std::fs::read_dir(fixtures().join("broken")).expect("broken dir") {
            let path = entry.expect("entry").path();
            let err = load(&path).expect_err("broken fixture must fail");
            let msg = err.to_string();
            let file = path.file_name().and_then(|n| n.to_str()).expect("name");
            assert!(msg.contains(file), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
            broken += 1;
        }
        assert!(good >= 3 && broken >= 5, "{good} good, {broken} broken");
    }

    #[test]
    fn broken_templates_give_specific_errors() {
        let dir = fixtures().join("broken");
        let err = load(&dir.join("bad-indent.yml")).expect_err("bad yaml");
        assert!(
            matches!(err, TemplateError::InvalidYaml { line: Some(_), .. }),
            "{err}"
        );
        assert!(err.to_string().contains("at line"), "{err}");
        let err = load(&dir.join("trailing-comma.json")).expect_err("bad json");
        assert!(
            matches!(err, TemplateError::InvalidJson { line: Some(_), .. }),
            "{err}"
        );
        let err = load(&dir.join("no-resources.yml")).expect_err("no resources");
        assert!(matches!(err, TemplateError::NoResources { .. }), "{err}");
        let err = load(&dir.join("list.yml")).expect_err("not a mapping");
        assert!(matches!(err, TemplateError::NotAMapping { .. }), "{err}");
        let err = load(&dir.join("resources-list.json")).expect_err("resources list");
        assert!(
            matches!(err, TemplateError::ResourcesNotAMapping { .. }),
            "{err}"
        );
        let err = load(&fixtures().join("does-not-exist.yml")).expect_err("missing");
        assert!(matches!(err, TemplateError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("does-not-exist.yml"), "{err}");
        let err = parse_bytes("bin", &[0xff, 0xfe, 0x00]).expect_err("binary");
        assert!(matches!(err, TemplateError::NotUtf8 { .. }), "{err}");
        let err = parse("empty.yml", "").expect_err("empty");
        assert!(matches!(err, TemplateError::NotAMapping { .. }), "{err}");
    }

    #[test]
    fn jets_app_requires_lambda_and_pass_role_scoped_to_the_stack_role() {
        let templates = [fixture("jets-app.yml"), fixture("jets-controllers.json")];
        let req = requirements(&templates, &ctx());
        assert!(has(&req, "lambda:CreateFunction", "*"));
        assert!(has(&req, "iam:CreateRole", "*"));
        assert!(has(&req, "apigateway:POST", "*"));
        assert!(has(&req, "events:PutRule", "*"));
        assert!(has(&req, "logs:CreateLogGroup", "*"));
        assert!(has(&req, "s3:CreateBucket", "*"));
        let role = "arn:aws:iam::111122223333:role/demo-dev-IamRole-*";
        assert!(has(&req, "iam:PassRole", role), "{:#?}", req.permissions);
        assert!(
            !has(&req, "iam:PassRole", "*"),
            "handler PassRole on * replaced by the known role"
        );
        assert_eq!(req.passed_roles, vec![role.to_string()]);
        let create = req
            .permissions
            .iter()
            .find(|p| p.action == "lambda:CreateFunction")
            .expect("create function");
        assert_eq!(
            create.reason,
            "create AWS::Lambda::Function `JetsPreheatJob`"
        );
        assert_eq!(create.logical_id, "JetsPreheatJob");
        let pass = req
            .permissions
            .iter()
            .find(|p| p.action == "iam:PassRole")
            .expect("pass role");
        assert_eq!(
            pass.reason,
            "pass role to AWS::Lambda::Function `JetsPreheatJob` (`Role`)"
        );
        assert!(req.vpc);
        assert!(req.unknown_types.is_empty(), "{:?}", req.unknown_types);
        assert!(
            !req.warnings
                .iter()
                .any(|w| w.contains("`ControllersStack`")),
            "nested stack given as a file is followed: {:?}",
            req.warnings
        );
        assert!(
            req.warnings
                .iter()
                .any(|w| w.contains("nested stack `JetsPreheatStack`")),
            "{:?}",
            req.warnings
        );
    }

    #[test]
    fn permissions_are_deduplicated_keeping_the_first_reason() {
        let templates = [fixture("jets-app.yml"), fixture("jets-controllers.json")];
        let req = requirements(&templates, &ctx());
        let mut seen = HashSet::new();
        for p in &req.permissions {
            assert!(
                seen.insert((&p.action, &p.resource)),
                "duplicate {} {}",
                p.action,
                p.resource
            );
        }
        let get_function = req
            .permissions
            .iter()
            .find(|p| p.action == "lambda:GetFunction")
            .expect("get");
        assert_eq!(
            get_function.reason,
            "create AWS::Lambda::Function `JetsPreheatJob`"
        );
    }

    #[test]
    fn stack_operations_use_the_stack_arn_when_known() {
        let t = [fixture("jets-controllers.json")];
        let req = requirements(&t, &ctx());
        let arn = "arn:aws:cloudformation:us-east-1:111122223333:stack/demo-dev/*";
        for action in [
            "cloudformation:CreateStack",
            "cloudformation:ExecuteChangeSet",
            "cloudformation:DescribeStackEvents",
        ] {
            assert!(has(&req, action, arn), "{action}");
        }
        assert!(has(&req, "cloudformation:ValidateTemplate", "*"));
        let req = requirements(&t, &TemplateContext::default());
        assert!(has(&req, "cloudformation:CreateStack", "*"));
        let partial = TemplateContext {
            stack_name: Some("s".into()),
            partition: "aws-cn".into(),
            ..TemplateContext::default()
        };
        let req = requirements(&t, &partial);
        assert!(has(
            &req,
            "cloudformation:UpdateStack",
            "arn:aws-cn:cloudformation:*:*:stack/s/*"
        ));
    }

    #[test]
    fn vpc_detection_on_and_off() {
        let req = requirements(&[fixture("jets-controllers.json")], &ctx());
        assert!(!req.vpc);
        let req = requirements(&[fixture("jets-app.yml")], &ctx());
        assert!(req.vpc);
        let no_value = parse(
            "t.yml",
            "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      VpcConfig: !Ref AWS::NoValue\n",
        )
        .expect("parses");
        assert!(!requirements(&[no_value], &ctx()).vpc);
        let sam = parse(
            "t.yml",
            "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    VpcConfig:\n      SubnetIds: [subnet-1]\nResources:\n  F:\n    Type: AWS::Serverless::Function\n",
        )
        .expect("parses");
        let req = requirements(&[sam], &ctx());
        assert!(req.vpc);
        assert!(has(
            &req,
            "cloudformation:CreateChangeSet",
            "arn:aws:cloudformation:us-east-1:aws:transform/Serverless-2016-10-31"
        ));
        assert!(has(&req, "lambda:CreateFunction", "*"));
    }

    #[test]
    fn pass_role_resources_follow_how_the_role_is_named() {
        let req = requirements(&[fixture("misc.yml")], &ctx());
        assert!(
            has(
                &req,
                "iam:PassRole",
                "arn:aws:iam::111122223333:role/ci/demo-dev-codebuild"
            ),
            "{:#?}",
            req.passed_roles
        );
        assert!(has(
            &req,
            "iam:PassRole",
            "arn:aws:iam::111122223333:role/external-scheduler"
        ));
        assert!(has(
            &req,
            "iam:PassRole",
            "arn:aws:iam::111122223333:role/demo-dev-states"
        ));
        assert!(
            has(&req, "iam:PassRole", "*"),
            "imported role is unknowable"
        );
        assert!(
            req.warnings.iter().any(|w| w.contains("`Imported`")),
            "{:?}",
            req.warnings
        );

        let no_stack = TemplateContext {
            account: Some("111122223333".into()),
            ..TemplateContext::default()
        };
        let req = requirements(&[fixture("jets-app.yml")], &no_stack);
        assert!(
            has(&req, "iam:PassRole", "*"),
            "CloudFormation-named role without a stack name"
        );
        assert!(req.passed_roles.is_empty());

        let long = TemplateContext {
            stack_name: Some("x".repeat(50)),
            ..ctx()
        };
        let req = requirements(&[fixture("jets-app.yml")], &long);
        assert!(
            has(&req, "iam:PassRole", "*"),
            "generated name may be truncated"
        );
    }

    #[test]
    fn nested_template_parameters_resolve_through_the_parent() {
        let templates = [fixture("jets-app.yml"), fixture("jets-controllers.json")];
        let req = requirements(&templates, &ctx());
        let pass = req
            .permissions
            .iter()
            .filter(|p| p.action == "iam:PassRole" && p.logical_id == "PostsControllerIndex")
            .count();
        assert_eq!(pass, 0, "same role as the parent's, deduplicated");
        let alone = requirements(&[fixture("jets-controllers.json")], &ctx());
        assert!(
            has(&alone, "iam:PassRole", "*"),
            "parameter without parent or default"
        );
    }

    #[test]
    fn unknown_and_custom_types() {
        let req = requirements(&[fixture("misc.yml")], &ctx());
        assert_eq!(req.unknown_types, vec!["AWS::Lamda::Function".to_string()]);
        assert_eq!(req.unchecked.len(), 1);
        assert!(
            req.unchecked[0].starts_with("1 resource type(s) of 1 resource(s) are not CloudFormation types this tool knows, so what deploying them needs is not checked: `AWS::Lamda::Function` (`Typo` in `")
                && req.unchecked[0].ends_with("misc.yml`; did you mean `AWS::Lambda::Function`?)"),
            "{:?}",
            req.unchecked
        );
        assert!(has(
            &req,
            "lambda:InvokeFunction",
            "arn:aws:lambda:us-east-1:111122223333:function:demo-dev-seed"
        ));
        assert!(has(
            &req,
            "sns:Publish",
            "arn:aws:sns:us-east-1:111122223333:provisioner"
        ));
        assert!(
            req.warnings
                .iter()
                .any(|w| w.contains("AWS::CodeBuild::Project")),
            "{:?}",
            req.warnings
        );
        assert!(!req.vpc);
    }

    /// xorshift64*: deterministic bytes without a dependency.
    fn noise(seed: &mut u64) -> u64 {
        *seed ^= *seed >> 12;
        *seed ^= *seed << 25;
        *seed ^= *seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let base = std::fs::read(fixtures().join("jets-app.yml")).expect("fixture");
        let json = std::fs::read(fixtures().join("jets-controllers.json")).expect("fixture");
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..400 {
            let mut bytes = if round % 2 == 0 {
                base.clone()
            } else {
                json.clone()
            };
            if round % 5 == 4 {
                let len = usize::try_from(noise(&mut seed) % 200).unwrap_or(0);
                bytes = (0..len).map(|_| (noise(&mut seed) & 0xff) as u8).collect();
            } else {
                for _ in 0..(1 + noise(&mut seed) % 8) {
                    if bytes.is_empty() {
                        break;
                    }
                    let len = u64::try_from(bytes.len()).unwrap_or(1);
                    let i = usize::try_from(noise(&mut seed) % len).unwrap_or(0);
                    match noise(&mut seed) % 3 {
                        0 => bytes[i] = b"{}[]:!-,'\"\n #&*|>"[i % 17],
                        1 => {
                            bytes.remove(i);
                        }
                        _ => bytes.truncate(i),
                    }
                }
            }
            if let Ok(t) = parse_bytes("fuzz.yml", &bytes) {
                let _ = requirements(&[t.clone(), t], &ctx());
            }
        }
    }

    #[test]
    fn self_referencing_parameters_and_cycles_terminate() {
        let t = parse(
            "a.yml",
            "Parameters:\n  P: {Type: String, Default: !Ref P}\nResources:\n  S:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: https://x/a.yml\n      Parameters: {P: !Ref P}\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !Sub '${P}'\n",
        )
        .expect("parses");
        let b = Template {
            name: "dir/a.yml".into(),
            body: t.body.clone(),
        };
        let req = requirements(&[t, b], &ctx());
        assert!(has(&req, "iam:PassRole", "*"));
    }

    #[test]
    fn fan_out_references_end_quickly() {
        let parts = ["!Ref P"; 12].join(", ");
        let yaml = format!(
            "Parameters:\n  P: {{Type: String, Default: !Join ['', [{parts}]]}}\nResources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !Ref P\n"
        );
        let t = parse("fan.yml", &yaml).expect("parses");
        let start = std::time::Instant::now();
        let req = requirements(&[t], &ctx());
        assert!(has(&req, "iam:PassRole", "*"));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}
