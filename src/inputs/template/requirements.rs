//! The permissions deploying a set of templates needs, resource by resource.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::intrinsics::{FUNCTION_TYPE, MAX_DEPTH, Resolver, STACK_TYPE, TemplateContext};
use super::parse::Template;
use crate::core::arn::Arn;
use crate::core::cfn;

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

const SAM_FUNCTION_TYPE: &str = "AWS::Serverless::Function";
const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

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
        let arn = Arn::parse(&target);
        let action = if arn.as_ref().is_some_and(|a| a.service == "sns") {
            "sns:Publish"
        } else {
            "lambda:InvokeFunction"
        };
        // A function's ARN names it after its type (`function:NAME`); `*` there is any function.
        let known =
            arn.is_some_and(|a| a.resource.split(':').nth(1).is_none_or(|name| name != "*"));
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
