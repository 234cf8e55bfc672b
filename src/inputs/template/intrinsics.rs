//! The intrinsic-function resolver: what `Ref`, `Fn::GetAtt`, `Fn::Sub` … will produce.

use std::fmt::Write as _;

use serde_json::Value;

use super::parse::Template;
use crate::core::arn::Arn;

pub(super) const STACK_TYPE: &str = "AWS::CloudFormation::Stack";
const ROLE_TYPE: &str = "AWS::IAM::Role";
pub(super) const FUNCTION_TYPE: &str = "AWS::Lambda::Function";

/// IAM role and Lambda function names are at most 64 characters.
const MAX_NAME: usize = 64;

/// Length of the random suffix CloudFormation appends to generated names (12–13 characters).
const SUFFIX_LEN: usize = 13;

/// Bounds intrinsic-function resolution (nesting, parameter chains through parents).
pub(super) const MAX_DEPTH: usize = 16;

/// Bounds the alternatives `Fn::If` can multiply into.
const MAX_ALTERNATIVES: usize = 8;

/// Bounds the work one value may cause, so references fanning out to references (`Fn::Join`
/// of parameters defaulting to joins of themselves) end quickly as `*` instead of hanging.
const RESOLVE_BUDGET: usize = 10_000;

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

/// Turns intrinsic functions into the strings they will produce, with `*` for what cannot be
/// known before deploy.
pub(super) struct Resolver<'a> {
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
    pub(super) fn new(templates: &'a [Template], ctx: &'a TemplateContext) -> Self {
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

    pub(super) fn nested_child(&self, parent: usize, logical_id: &str) -> Option<usize> {
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

    pub(super) fn resolve(&self, index: usize, value: &Value, depth: usize) -> Vec<String> {
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
    pub(super) fn role_pattern(&self, value: &str) -> String {
        if value.is_empty() || value == "*" {
            return "*".into();
        }
        let (arn, path_and_name) = match Arn::parse(value) {
            Some(parsed) => (value.to_string(), parsed.resource.strip_prefix("role/")),
            None => {
                let name = value.trim_start_matches('/');
                let arn = format!(
                    "arn:{}:iam::{}:role/{name}",
                    self.ctx.partition,
                    self.account()
                );
                (arn, Some(name))
            }
        };
        // A role whose path and name are only wildcards may be any role.
        if path_and_name.is_some_and(|p| p.trim_matches(['*', '/']).is_empty()) {
            "*".into()
        } else {
            arn
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
