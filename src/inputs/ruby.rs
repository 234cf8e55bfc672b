//! Reads `config.<path> = <value>` assignments out of Jets' Ruby config files.
//!
//! Jets config files are Ruby programs, and the only fully faithful way to know a value is to
//! run them. iam-doctor never runs user code: it parses the file with prism (Ruby's own parser),
//! takes what is written out literally, and reports everything else (interpolation, method calls,
//! `ENV` lookups, variables) as [`NotLiteral`] with the line and the source text, so the caller
//! can say exactly what it could not take into account instead of guessing.
//!
//! Jets evaluates `Jets.<scope>.configure do ... end` blocks with `instance_eval` and defines
//! `config` as `self`, so `config.a.b = v`, `c.a.b = v` in `configure do |c|`, `self.a.b = v` and
//! a bare `a.b = v` inside the block all write the same setting; all of them are recognised.

use ruby_prism::{
    CallAndWriteNode, CallNode, CallOperatorWriteNode, CallOrWriteNode, Location, Node, Visit,
};

use crate::core::jets::Literal;

/// Deeper literals than this are reported as not literal rather than walked, so that a
/// pathological file cannot exhaust the stack.
const MAX_LITERAL_DEPTH: usize = 64;

/// Deeper syntax trees than this are not searched for assignments, for the same reason.
const MAX_TREE_DEPTH: usize = 512;

/// Enough for prism's deepest nesting plus the visitor, with room to spare; only the pages
/// touched are ever committed.
const PARSE_STACK_BYTES: usize = 64 << 20;

/// The longest snippet quoted back to the user, in characters.
const SNIPPET_CHARS: usize = 60;

/// How an assignment changes the setting, because `<<` and `+=` build on the current value
/// (which may be Jets' default) while `=` replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignOp {
    /// `config.x = value`: replaces the current value.
    Set,
    /// `config.x << v`, `config.x += [..]`, `config.x.push(..)`, `config.x.concat([..])`: the
    /// value is an array of items added at the end of the current value.
    Append,
    /// Any other operator (`-=`, `||=`, `&&=`, `+=` with a non-array value, ...), written as in
    /// the source: its effect depends on the current value.
    Other(String),
}

/// A part of a value that is not a literal, quoted back to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotLiteral {
    /// The 1-based line where the non-literal part starts.
    pub line: usize,
    /// Its source text on one line, shortened to about 60 characters.
    pub snippet: String,
}

/// One write to a config setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The setting's path without the `config.` prefix, e.g. `codebuild.iam.policy`.
    pub key: String,
    /// The 1-based line of the assignment.
    pub line: usize,
    /// The value, or the first part of it that is not a literal.
    pub value: Result<Literal, NotLiteral>,
    pub op: AssignOp,
    /// The `X` of the enclosing `Jets.X.configure` block (`bootstrap`, `deploy`, `project`,
    /// `application`). Jets keeps one config object per scope, so the same key set in the wrong
    /// block does not reach the setting the user meant.
    pub scope: Option<String>,
    /// Inside `if`/`unless`/`case`/a loop/`rescue`/`&&`/`||`/a method or lambda body: whether it
    /// runs depends on code that is not evaluated.
    pub conditional: bool,
}

/// The file is not valid Ruby; Jets itself would fail to load it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RubySyntaxError {
    /// The 1-based line of the first error.
    pub line: usize,
    /// Prism's message for the first error.
    pub message: String,
}

/// Every write to a `config` setting in `source`, in source order.
///
/// # Errors
/// A [`RubySyntaxError`] for the first syntax error, since a file Ruby cannot parse is not one
/// Jets can load, and whatever prism recovers from it would be a guess.
pub fn assignments(source: &str) -> Result<Vec<Assignment>, RubySyntaxError> {
    assignments_of_each(&[source])
        .into_iter()
        .next()
        .unwrap_or_else(|| parse(source))
}

/// [`assignments`] of each source, in order. All are parsed on one thread: a run pays for the
/// parser's large stack once rather than once per file.
pub fn assignments_of_each(sources: &[&str]) -> Vec<Result<Vec<Assignment>, RubySyntaxError>> {
    let mut results = Vec::with_capacity(sources.len());
    while let Some(rest) = sources.get(results.len()..).filter(|r| !r.is_empty()) {
        // Prism recurses up to its nesting limit of 10,000 levels, which overflows the 2 MiB
        // stacks of test and async worker threads; a dedicated thread gets a stack that always
        // suffices.
        let (sender, parsed) = std::sync::mpsc::channel();
        let outcome = std::thread::scope(|scope| {
            let parser = std::thread::Builder::new()
                .name("ruby-parse".to_owned())
                .stack_size(PARSE_STACK_BYTES)
                .spawn_scoped(scope, move || {
                    for source in rest {
                        if sender.send(parse(source)).is_err() {
                            break;
                        }
                    }
                });
            parser.map(std::thread::ScopedJoinHandle::join)
        });
        results.extend(parsed.try_iter());
        match outcome {
            Ok(Ok(())) => {}
            // The parser panicked on the file after the last one it finished; the files after
            // it get a thread of their own.
            Ok(Err(_)) => results.push(Err(RubySyntaxError {
                line: 1,
                message: "the ruby parser failed on this file".to_owned(),
            })),
            // No thread to be had: parsing here still works for any real file.
            Err(_) => {
                let rest = sources.get(results.len()..).unwrap_or_default();
                results.extend(rest.iter().map(|source| parse(source)));
            }
        }
    }
    results
}

fn parse(source: &str) -> Result<Vec<Assignment>, RubySyntaxError> {
    let result = ruby_prism::parse(source.as_bytes());
    if let Some(error) = result.errors().next() {
        return Err(RubySyntaxError {
            line: error_line(source.as_bytes(), &error.location()),
            message: String::from_utf8_lossy(error.message()).into_owned(),
        });
    }
    let mut collector = Collector::default();
    collector.visit(&result.node());
    if let Some(line) = collector.too_deep {
        // What lies below is skipped, so the assignments found are not the whole story.
        return Err(RubySyntaxError {
            line,
            message: "nesting too deep".to_owned(),
        });
    }
    Ok(collector.found)
}

#[derive(Default)]
struct Collector {
    found: Vec<Assignment>,
    /// Names of `configure do |c|` block parameters in scope.
    aliases: Vec<Vec<u8>>,
    /// Enclosing `configure` blocks, innermost last: the `X` of `Jets.X.configure`, if any.
    scopes: Vec<Option<String>>,
    conditional: usize,
    depth: usize,
    /// The line where the tree got deeper than [`MAX_TREE_DEPTH`], if it did.
    too_deep: Option<usize>,
}

impl Collector {
    /// Directly inside `Jets.X.configure`, where `self` is the config object.
    fn in_jets_block(&self) -> bool {
        matches!(self.scopes.last(), Some(Some(_)))
    }

    fn too_deep(&mut self, location: &Location<'_>) -> bool {
        if self.depth <= MAX_TREE_DEPTH {
            return false;
        }
        self.too_deep.get_or_insert_with(|| line_of(location));
        true
    }

    fn push(
        &mut self,
        key: Vec<String>,
        location: &Location<'_>,
        value: Result<Literal, NotLiteral>,
        op: AssignOp,
    ) {
        if key.is_empty() {
            return;
        }
        self.found.push(Assignment {
            key: key.join("."),
            line: line_of(location),
            value,
            op,
            scope: self.scopes.iter().rev().find_map(Clone::clone),
            conditional: self.conditional > 0,
        });
    }

    /// The setting path a receiver chain names (`config.a.b` → `[a, b]`), or `None` when the
    /// chain does not start at the config object.
    fn chain(&self, node: &Node<'_>) -> Option<Vec<String>> {
        self.chain_at(node, 0)
    }

    fn chain_at(&self, node: &Node<'_>, depth: usize) -> Option<Vec<String>> {
        if depth > MAX_LITERAL_DEPTH {
            return None;
        }
        if let Some(local) = node.as_local_variable_read_node() {
            let name = local.name().as_slice();
            return (name == b"config" || self.aliases.iter().any(|a| a == name)).then(Vec::new);
        }
        if node.as_self_node().is_some() {
            return self.in_jets_block().then(Vec::new);
        }
        let call = node.as_call_node()?;
        if call.block().is_some() {
            return None;
        }
        let name = call.name().as_slice();
        let args: Vec<Node<'_>> = call
            .arguments()
            .map(|a| a.arguments().iter().collect())
            .unwrap_or_default();
        let Some(receiver) = call.receiver() else {
            if !args.is_empty() {
                return None;
            }
            if name == b"config" {
                return Some(Vec::new());
            }
            // Inside `configure`, `self` is the config object, so a bare method name is a setting.
            let bare = self.in_jets_block() && call.opening_loc().is_none();
            return (bare && is_identifier(name)).then(|| vec![text(name)]);
        };
        let segment = match (name, args.as_slice()) {
            (b"[]", [index]) => match literal(index, 0) {
                Ok(Literal::Sym(s) | Literal::Str(s)) => s,
                _ => return None,
            },
            (_, []) if is_identifier(name) => text(name),
            _ => return None,
        };
        let mut path = self.chain_at(&receiver, depth + 1)?;
        path.push(segment);
        Some(path)
    }

    /// Records `call` when it writes a setting; returns whether it did.
    fn record_call(&mut self, call: &CallNode<'_>) -> bool {
        let Some(receiver) = call.receiver() else {
            return false;
        };
        let name = call.name().as_slice();
        let args: Vec<Node<'_>> = call
            .arguments()
            .map(|a| a.arguments().iter().collect())
            .unwrap_or_default();
        let location = call.location();
        if call.is_attribute_write() || name == b"[]=" {
            let (segment, value) = match (name, args.as_slice()) {
                (b"[]=", [index, value]) => match literal(index, 0) {
                    Ok(Literal::Sym(s) | Literal::Str(s)) => (s, value),
                    _ => return false,
                },
                ([.., b'='], [value]) => (text(&name[..name.len() - 1]), value),
                _ => return false,
            };
            let Some(mut key) = self.chain(&receiver) else {
                return false;
            };
            key.push(segment);
            self.push(key, &location, literal(value, 0), AssignOp::Set);
            return true;
        }
        if call.block().is_some() {
            return false;
        }
        match name {
            b"<<" => {
                let [first] = args.as_slice() else {
                    return false;
                };
                // `config.x << a << b` nests: the innermost receiver is the setting.
                let mut items = vec![literal(first, 0)];
                let mut base = receiver;
                while let Some(inner) = base.as_call_node() {
                    let inner_args: Vec<Node<'_>> = inner
                        .arguments()
                        .map(|a| a.arguments().iter().collect())
                        .unwrap_or_default();
                    match (
                        inner.name().as_slice(),
                        inner.receiver(),
                        inner_args.as_slice(),
                    ) {
                        (b"<<", Some(next), [arg]) if inner.block().is_none() => {
                            items.push(literal(arg, 0));
                            base = next;
                        }
                        _ => break,
                    }
                }
                let Some(key) = self.chain(&base) else {
                    return false;
                };
                items.reverse();
                let value = items.into_iter().collect::<Result<Vec<_>, _>>();
                self.push(key, &location, value.map(Literal::Array), AssignOp::Append);
                true
            }
            b"push" | b"append" if !args.is_empty() => {
                let Some(key) = self.chain(&receiver) else {
                    return false;
                };
                let value = args
                    .iter()
                    .map(|a| literal(a, 0))
                    .collect::<Result<Vec<_>, _>>();
                self.push(key, &location, value.map(Literal::Array), AssignOp::Append);
                true
            }
            b"concat" if !args.is_empty() => {
                let Some(key) = self.chain(&receiver) else {
                    return false;
                };
                let mut items = Vec::new();
                let mut value = Ok(());
                for arg in &args {
                    match literal(arg, 0) {
                        Ok(Literal::Array(more)) => items.extend(more),
                        Ok(_) => {
                            value = Err(not_literal(arg));
                            break;
                        }
                        Err(e) => {
                            value = Err(e);
                            break;
                        }
                    }
                }
                let value = value.map(|()| Literal::Array(items));
                self.push(key, &location, value, AssignOp::Append);
                true
            }
            _ => false,
        }
    }

    /// Records an operator write (`config.x += v`, `||=`, `&&=`); returns whether it did.
    fn record_op_write(
        &mut self,
        receiver: Option<Node<'_>>,
        read_name: &[u8],
        operator: &str,
        value: &Node<'_>,
        location: &Location<'_>,
    ) -> bool {
        let Some(mut key) = receiver.and_then(|r| self.chain(&r)) else {
            return false;
        };
        key.push(text(read_name));
        let value = literal(value, 0);
        let op = match (operator, &value) {
            ("+=", Ok(Literal::Array(_)) | Err(_)) => AssignOp::Append,
            _ => AssignOp::Other(operator.to_owned()),
        };
        self.push(key, location, value, op);
        true
    }

    /// For a `X.configure do |c| ... end` call: the scope name (`X` when the receiver is
    /// `Jets.X`) and the block parameter that names the config object.
    fn configure_block(call: &CallNode<'_>) -> Option<(Option<String>, Option<Vec<u8>>)> {
        if call.name().as_slice() != b"configure" {
            return None;
        }
        let block = call.block()?.as_block_node()?;
        let scope = call.receiver().and_then(|r| {
            let jets_x = r.as_call_node()?;
            let jets = jets_x.receiver()?.as_constant_read_node()?;
            (jets.name().as_slice() == b"Jets").then(|| text(jets_x.name().as_slice()))
        });
        let param = block
            .parameters()
            .and_then(|p| p.as_block_parameters_node())
            .and_then(|p| p.parameters())
            .and_then(|p| p.requireds().first())
            .and_then(|p| p.as_required_parameter_node())
            .map(|p| p.name().as_slice().to_vec());
        Some((scope, param))
    }
}

/// Visit methods that stop at [`MAX_TREE_DEPTH`] (these nodes can nest without bound on the
/// left, as in `a if b if c ...`, which prism's own nesting limit does not cover) and, when
/// marked `true`, count what they contain as conditional.
macro_rules! guarded {
    ($($method:ident: $node:ident => $conditional:expr),* $(,)?) => {
        $(
            fn $method(&mut self, node: &ruby_prism::$node<'pr>) {
                if self.too_deep(&node.location()) {
                    return;
                }
                let conditional = usize::from($conditional);
                self.conditional += conditional;
                ruby_prism::$method(self, node);
                self.conditional -= conditional;
            }
        )*
    };
}

impl<'pr> Visit<'pr> for Collector {
    fn visit_branch_node_enter(&mut self, _node: Node<'pr>) {
        self.depth += 1;
    }

    fn visit_branch_node_leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn visit_call_node(&mut self, node: &CallNode<'pr>) {
        if self.too_deep(&node.location()) || self.record_call(node) {
            return;
        }
        if let Some((scope, param)) = Self::configure_block(node) {
            let param = param.filter(|_| scope.is_some());
            let has_param = param.is_some();
            self.scopes.push(scope);
            if let Some(param) = param {
                self.aliases.push(param);
            }
            ruby_prism::visit_call_node(self, node);
            if has_param {
                self.aliases.pop();
            }
            self.scopes.pop();
            return;
        }
        ruby_prism::visit_call_node(self, node);
    }

    fn visit_call_operator_write_node(&mut self, node: &CallOperatorWriteNode<'pr>) {
        let operator = format!("{}=", text(node.binary_operator().as_slice()));
        let location = node.location();
        if self.too_deep(&location)
            || self.record_op_write(
                node.receiver(),
                node.read_name().as_slice(),
                &operator,
                &node.value(),
                &location,
            )
        {
            return;
        }
        ruby_prism::visit_call_operator_write_node(self, node);
    }

    fn visit_call_or_write_node(&mut self, node: &CallOrWriteNode<'pr>) {
        let location = node.location();
        if self.too_deep(&location)
            || self.record_op_write(
                node.receiver(),
                node.read_name().as_slice(),
                "||=",
                &node.value(),
                &location,
            )
        {
            return;
        }
        ruby_prism::visit_call_or_write_node(self, node);
    }

    fn visit_call_and_write_node(&mut self, node: &CallAndWriteNode<'pr>) {
        let location = node.location();
        if self.too_deep(&location)
            || self.record_op_write(
                node.receiver(),
                node.read_name().as_slice(),
                "&&=",
                &node.value(),
                &location,
            )
        {
            return;
        }
        ruby_prism::visit_call_and_write_node(self, node);
    }

    guarded! {
        visit_if_node: IfNode => true,
        visit_unless_node: UnlessNode => true,
        visit_case_node: CaseNode => true,
        visit_case_match_node: CaseMatchNode => true,
        visit_while_node: WhileNode => true,
        visit_until_node: UntilNode => true,
        visit_for_node: ForNode => true,
        visit_and_node: AndNode => true,
        visit_or_node: OrNode => true,
        visit_rescue_node: RescueNode => true,
        visit_def_node: DefNode => true,
        visit_lambda_node: LambdaNode => true,
        visit_rescue_modifier_node: RescueModifierNode => false,
        visit_constant_path_node: ConstantPathNode => false,
        visit_interpolated_string_node: InterpolatedStringNode => false,
        visit_match_predicate_node: MatchPredicateNode => false,
        visit_match_required_node: MatchRequiredNode => false,
        visit_alternation_pattern_node: AlternationPatternNode => false,
        visit_range_node: RangeNode => false,
        visit_flip_flop_node: FlipFlopNode => false,
    }
}

/// The value of `node` when it is written out literally.
fn literal(node: &Node<'_>, depth: usize) -> Result<Literal, NotLiteral> {
    if depth > MAX_LITERAL_DEPTH {
        return Err(not_literal(node));
    }
    let next = depth + 1;
    match node {
        Node::NilNode { .. } => Ok(Literal::Nil),
        Node::TrueNode { .. } => Ok(Literal::Bool(true)),
        Node::FalseNode { .. } => Ok(Literal::Bool(false)),
        Node::IntegerNode { .. } => node
            .as_integer_node()
            .and_then(|i| integer(&i.value()))
            .map(Literal::Int)
            .ok_or_else(|| not_literal(node)),
        Node::FloatNode { .. } => node
            .as_float_node()
            .map(|f| Literal::Float(f.value()))
            .ok_or_else(|| not_literal(node)),
        Node::StringNode { .. } => node
            .as_string_node()
            .map(|s| Literal::Str(text(s.unescaped())))
            .ok_or_else(|| not_literal(node)),
        Node::SymbolNode { .. } => node
            .as_symbol_node()
            .map(|s| Literal::Sym(text(s.unescaped())))
            .ok_or_else(|| not_literal(node)),
        // Adjacent literals (`"a" "b"`) parse as an interpolated string of plain parts.
        Node::InterpolatedStringNode { .. } => {
            let parts = node
                .as_interpolated_string_node()
                .ok_or_else(|| not_literal(node))?
                .parts();
            let mut joined = String::new();
            for part in &parts {
                match literal(&part, next) {
                    Ok(Literal::Str(s)) => joined.push_str(&s),
                    _ => return Err(not_literal(node)),
                }
            }
            Ok(Literal::Str(joined))
        }
        Node::ArrayNode { .. } => {
            let array = node.as_array_node().ok_or_else(|| not_literal(node))?;
            array
                .elements()
                .iter()
                .map(|e| literal(&e, next))
                .collect::<Result<Vec<_>, _>>()
                .map(Literal::Array)
        }
        Node::HashNode { .. } => {
            let hash = node.as_hash_node().ok_or_else(|| not_literal(node))?;
            hash_pairs(hash.elements().iter(), next)
        }
        // `[Action: "s3:*"]` is an array holding one hash written without braces.
        Node::KeywordHashNode { .. } => {
            let hash = node
                .as_keyword_hash_node()
                .ok_or_else(|| not_literal(node))?;
            hash_pairs(hash.elements().iter(), next)
        }
        Node::ParenthesesNode { .. } => {
            let body = node
                .as_parentheses_node()
                .and_then(|p| p.body())
                .and_then(|b| b.as_statements_node())
                .ok_or_else(|| not_literal(node))?
                .body();
            match (body.len(), body.first()) {
                (1, Some(only)) => literal(&only, next),
                _ => Err(not_literal(node)),
            }
        }
        // `%w[...].freeze` is still the literal.
        Node::CallNode { .. } => {
            let call = node.as_call_node().ok_or_else(|| not_literal(node))?;
            match (call.name().as_slice(), call.receiver()) {
                (b"freeze", Some(receiver))
                    if call.arguments().is_none() && call.block().is_none() =>
                {
                    literal(&receiver, next)
                }
                _ => Err(not_literal(node)),
            }
        }
        _ => Err(not_literal(node)),
    }
}

fn hash_pairs<'pr>(
    elements: impl Iterator<Item = Node<'pr>>,
    depth: usize,
) -> Result<Literal, NotLiteral> {
    let mut pairs = Vec::new();
    for element in elements {
        let Some(assoc) = element.as_assoc_node() else {
            return Err(not_literal(&element));
        };
        pairs.push((
            literal(&assoc.key(), depth)?,
            literal(&assoc.value(), depth)?,
        ));
    }
    Ok(Literal::Hash(pairs))
}

fn integer(value: &ruby_prism::Integer<'_>) -> Option<i64> {
    let (negative, digits) = value.to_u32_digits();
    if digits.len() > 2 {
        return None;
    }
    let magnitude = digits
        .iter()
        .rev()
        .fold(0i128, |acc, d| (acc << 32) | i128::from(*d));
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

fn not_literal(node: &Node<'_>) -> NotLiteral {
    let location = node.location();
    NotLiteral {
        line: line_of(&location),
        snippet: snippet(location.as_slice()),
    }
}

/// The source text on one line (whitespace runs collapsed) and at most [`SNIPPET_CHARS`] long.
fn snippet(source: &[u8]) -> String {
    let one_line = String::from_utf8_lossy(source)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if one_line.chars().count() <= SNIPPET_CHARS {
        return one_line;
    }
    let mut short: String = one_line.chars().take(SNIPPET_CHARS - 3).collect();
    short.push_str("...");
    short
}

/// The line of a syntax error. Prism places "expected X" errors as an empty range right after
/// the last good token, often on a blank line; the token it complains about comes next.
fn error_line(source: &[u8], location: &Location<'_>) -> usize {
    if location.start() != location.end() {
        return line_of(location);
    }
    let start = usize::try_from(location.start()).unwrap_or(usize::MAX);
    let Some(rest) = source.get(start..) else {
        return line_of(location);
    };
    let next_token = start + rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
    if next_token >= source.len() {
        return line_of(location);
    }
    let before = source.get(..next_token).unwrap_or(source);
    1 + before.iter().filter(|b| **b == b'\n').count()
}

fn line_of(location: &Location<'_>) -> usize {
    usize::try_from(location.start_line()).unwrap_or(1)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A plain method name: setting names are never operators, predicates or bang methods.
fn is_identifier(name: &[u8]) -> bool {
    name.first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_' || *c >= 0x80)
        && name
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Literal {
        Literal::Str(v.to_owned())
    }

    fn sym(v: &str) -> Literal {
        Literal::Sym(v.to_owned())
    }

    fn one(source: &str) -> Assignment {
        let mut found = assignments(source).unwrap();
        assert_eq!(found.len(), 1, "{found:#?}");
        found.remove(0)
    }

    fn value(source: &str) -> Literal {
        one(source).value.unwrap()
    }

    fn not_literal(source: &str) -> NotLiteral {
        one(source).value.unwrap_err()
    }

    #[test]
    fn finds_assignments_in_configure_blocks_with_key_line_and_scope() {
        let source = r#"# frozen_string_literal: true

Jets.bootstrap.configure do
  # the remote runner needs these too
  config.codebuild.iam.policy = ["s3", "ec2"]
  config.codebuild.iam.managed_policy = ["AmazonS3FullAccess"]
end
"#;
        let found = assignments(source).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].key, "codebuild.iam.policy");
        assert_eq!(found[0].line, 5);
        assert_eq!(found[0].op, AssignOp::Set);
        assert_eq!(found[0].scope.as_deref(), Some("bootstrap"));
        assert!(!found[0].conditional);
        assert_eq!(found[0].value, Ok(Literal::Array(vec![s("s3"), s("ec2")])));
        assert_eq!(found[1].key, "codebuild.iam.managed_policy");
        assert_eq!(found[1].line, 6);
    }

    #[test]
    fn block_parameter_self_and_bare_names_are_the_config_object() {
        let source = r#"
Jets.deploy.configure do |c|
  c.ci.iam.policy = ["s3"]
  self.ci.iam.managed_policy = []
  ci.iam.default_policy = ["logs"]
end
Jets.application.configure do |config|
  config.function.vpc_config = {}
end
"#;
        let found = assignments(source).unwrap();
        let keys: Vec<_> = found.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "ci.iam.policy",
                "ci.iam.managed_policy",
                "ci.iam.default_policy",
                "function.vpc_config"
            ]
        );
        assert_eq!(found[3].scope.as_deref(), Some("application"));
    }

    #[test]
    fn top_level_config_has_no_scope_and_other_receivers_are_ignored() {
        let source = r#"
config.codebuild.iam.policy = ["s3"]
settings.codebuild.iam.policy = ["ec2"]
c.codebuild.iam.policy = ["ec2"]
codebuild.iam.policy = ["ec2"]
Other.configure do |x|
  y.codebuild.iam.policy = ["ec2"]
end
"#;
        let found = assignments(source).unwrap();
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].scope, None);
        let found =
            assignments("Rails.application.configure do |config|\n  config.x.y = 1\nend").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].scope, None);
    }

    #[test]
    fn scalar_literals() {
        assert_eq!(value("config.a = 'single'"), s("single"));
        assert_eq!(
            value(r#"config.a = "double\tescaped""#),
            s("double\tescaped")
        );
        assert_eq!(value("config.a = :sym"), sym("sym"));
        assert_eq!(value(r#"config.a = :"quoted sym""#), sym("quoted sym"));
        assert_eq!(value("config.a = 42"), Literal::Int(42));
        assert_eq!(value("config.a = -7"), Literal::Int(-7));
        assert_eq!(value("config.a = 0x10"), Literal::Int(16));
        assert_eq!(value("config.a = 1_000"), Literal::Int(1000));
        assert_eq!(value("config.a = 1.5"), Literal::Float(1.5));
        assert_eq!(value("config.a = true"), Literal::Bool(true));
        assert_eq!(value("config.a = false"), Literal::Bool(false));
        assert_eq!(value("config.a = nil"), Literal::Nil);
        assert_eq!(value(r#"config.a = "con" "cat""#), s("concat"));
        assert_eq!(value("config.a = (\"paren\")"), s("paren"));
        assert_eq!(
            value("config.a = %w[a b].freeze"),
            Literal::Array(vec![s("a"), s("b")])
        );
        assert_eq!(
            value("config.a = <<~TEXT\n  heredoc\nTEXT\n"),
            s("heredoc\n")
        );
    }

    #[test]
    fn huge_integers_are_not_literal_i64() {
        let not = not_literal("config.a = 123456789012345678901234567890");
        assert_eq!(not.snippet, "123456789012345678901234567890");
        assert_eq!(
            value("config.a = -9223372036854775808"),
            Literal::Int(i64::MIN)
        );
    }

    #[test]
    fn percent_arrays_and_nested_hashes() {
        assert_eq!(
            value("config.a = %w[s3 ec2 sqs]"),
            Literal::Array(vec![s("s3"), s("ec2"), s("sqs")])
        );
        assert_eq!(
            value("config.a = %i[s3 ec2]"),
            Literal::Array(vec![sym("s3"), sym("ec2")])
        );
        let policy = r#"config.a = {
  Version: "2012-10-17",
  "Statement" => [
    {"Action" => ["s3:GetObject"], :Effect => "Allow", Resource: "*"},
  ],
}"#;
        assert_eq!(
            value(policy),
            Literal::Hash(vec![
                (sym("Version"), s("2012-10-17")),
                (
                    s("Statement"),
                    Literal::Array(vec![Literal::Hash(vec![
                        (s("Action"), Literal::Array(vec![s("s3:GetObject")])),
                        (sym("Effect"), s("Allow")),
                        (sym("Resource"), s("*")),
                    ])])
                ),
            ])
        );
    }

    #[test]
    fn braceless_hash_in_array() {
        assert_eq!(
            value(r#"config.a = ["s3", Action: ["sqs:*"], Resource: "*"]"#),
            Literal::Array(vec![
                s("s3"),
                Literal::Hash(vec![
                    (sym("Action"), Literal::Array(vec![s("sqs:*")])),
                    (sym("Resource"), s("*")),
                ])
            ])
        );
    }

    #[test]
    fn non_literals_quote_the_offending_part_and_its_line() {
        let source = "config.a = [\n  \"s3\",\n  \"SSM:/#{ssm_env}/KEY\",\n]";
        let not = not_literal(source);
        assert_eq!(not.line, 3);
        assert_eq!(not.snippet, r#""SSM:/#{ssm_env}/KEY""#);

        let not = not_literal(r#"config.a = acm_cert_arn(domain: "example.com")"#);
        assert_eq!(not.snippet, r#"acm_cert_arn(domain: "example.com")"#);
        assert_eq!(
            not_literal(r#"config.a = ENV["SG"]"#).snippet,
            r#"ENV["SG"]"#
        );
        assert_eq!(not_literal("config.a = SUBNETS").snippet, "SUBNETS");
        assert_eq!(not_literal("x = 1\nconfig.a = x").snippet, "x");
        assert_eq!(
            not_literal("config.a = prod? ? 1 : 2").snippet,
            "prod? ? 1 : 2"
        );
        assert_eq!(not_literal("config.a = [*more]").snippet, "*more");
        assert_eq!(not_literal("config.a = {**more}").snippet, "**more");
        assert_eq!(not_literal("config.a = :\"x#{y}\"").snippet, ":\"x#{y}\"");
        assert_eq!(not_literal("config.a = `ls`").snippet, "`ls`");
        assert_eq!(not_literal("config.a = 1r").snippet, "1r");
    }

    #[test]
    fn long_and_multiline_snippets_are_shortened_to_one_line() {
        let source = format!("config.a = lookup(\n  {:?}\n)", "x".repeat(100));
        let not = not_literal(&source);
        assert_eq!(not.line, 1);
        assert!(!not.snippet.contains('\n'));
        assert_eq!(not.snippet.chars().count(), 60);
        assert!(not.snippet.starts_with("lookup( \"xxx"));
        assert!(not.snippet.ends_with("..."));
    }

    #[test]
    fn appends() {
        let found = assignments(
            r#"
config.codebuild.iam.policy << "ec2"
config.codebuild.iam.policy << "sqs" << "sns"
config.codebuild.iam.policy += ["kms"]
config.codebuild.iam.policy.push("a", "b")
config.codebuild.iam.managed_policy.concat(%w[X], ["Y"])
"#,
        )
        .unwrap();
        let values: Vec<_> = found
            .iter()
            .map(|a| (a.op.clone(), a.value.clone().unwrap()))
            .collect();
        assert_eq!(
            values,
            [
                (AssignOp::Append, Literal::Array(vec![s("ec2")])),
                (AssignOp::Append, Literal::Array(vec![s("sqs"), s("sns")])),
                (AssignOp::Append, Literal::Array(vec![s("kms")])),
                (AssignOp::Append, Literal::Array(vec![s("a"), s("b")])),
                (AssignOp::Append, Literal::Array(vec![s("X"), s("Y")])),
            ]
        );
        assert!(found.iter().all(|a| a.key.starts_with("codebuild.iam.")));
    }

    #[test]
    fn other_operators_are_reported_with_their_operator() {
        let found = assignments(
            "config.a.b -= [\"ec2\"]\nconfig.a.c ||= []\nconfig.a.d &&= 1\nconfig.a.e += \"x\"",
        )
        .unwrap();
        let ops: Vec<_> = found
            .iter()
            .map(|a| (a.key.as_str(), a.op.clone()))
            .collect();
        assert_eq!(
            ops,
            [
                ("a.b", AssignOp::Other("-=".into())),
                ("a.c", AssignOp::Other("||=".into())),
                ("a.d", AssignOp::Other("&&=".into())),
                ("a.e", AssignOp::Other("+=".into())),
            ]
        );
    }

    #[test]
    fn index_access_names_a_setting() {
        let found = assignments(
            "config.codebuild.iam[:policy] = [\"s3\"]\nconfig.ci[\"iam\"].policy << \"x\"",
        )
        .unwrap();
        assert_eq!(found[0].key, "codebuild.iam.policy");
        assert_eq!(found[1].key, "ci.iam.policy");
    }

    #[test]
    fn reads_of_settings_are_not_assignments() {
        let found = assignments(
            "puts config.codebuild.iam.policy\nx = config.a.b\nconfig.a.b == 1\nconfig.a.b.each { |p| p }",
        )
        .unwrap();
        assert!(found.is_empty(), "{found:#?}");
    }

    /// Parsing a run's files on one thread gives each file what parsing it alone gives, in
    /// order, a syntax error in one file included.
    #[test]
    fn assignments_of_each_file_are_those_of_the_file_alone() {
        let sources = [
            "Jets.bootstrap.configure do\n  config.codebuild.iam.policy = [\"s3\"]\nend\n",
            "Jets.deploy.configure do\n  config.a = [1, 2\nend\n",
            "",
            "Jets.deploy.configure do\n  config.lambda.vpc_config = { subnet_ids: [\"s-1\"] }\nend\n",
        ];
        let each = assignments_of_each(&sources);
        assert_eq!(each.len(), sources.len());
        for (source, parsed) in sources.iter().zip(&each) {
            assert_eq!(parsed, &assignments(source), "{source}");
        }
        assert!(each[1].is_err() && each[0].as_ref().is_ok_and(|a| !a.is_empty()));
        assert!(assignments_of_each(&[]).is_empty());
    }

    #[test]
    fn assignments_under_conditions_are_marked() {
        let source = r#"
Jets.bootstrap.configure do
  config.a.plain = 1
  if Jets.env.production?
    config.a.in_if = 1
  end
  config.a.modifier = 1 unless ENV["CI"]
  case Jets.env
  when "prod" then config.a.in_case = 1
  end
  ENV["X"] && config.a.in_and = 1
  def helper
    config.a.in_def = 1
  end
  config.a.after = 1
end
"#;
        let found = assignments(source).unwrap();
        let marks: Vec<_> = found
            .iter()
            .map(|a| (a.key.as_str(), a.conditional))
            .collect();
        assert_eq!(
            marks,
            [
                ("a.plain", false),
                ("a.in_if", true),
                ("a.modifier", true),
                ("a.in_case", true),
                ("a.in_and", true),
                ("a.in_def", true),
                ("a.after", false),
            ]
        );
    }

    #[test]
    fn syntax_errors_give_a_line_not_a_panic() {
        let err =
            assignments("Jets.bootstrap.configure do\n  config.a = [1, 2\nend\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
        assert!(!err.message.is_empty());
        let err = assignments("Jets.bootstrap.configure do\n  config.a = 1\n").unwrap_err();
        assert!(err.to_string().starts_with("line "), "{err}");
        assert!(err.line <= 3, "{err:?}");
        let err = assignments("config.a = [\n  \"s3\"\n\n  config.b = 1\n]").unwrap_err();
        assert_eq!(err.line, 4, "{err:?}");
    }

    /// Odd sources give what they hold, or a one-line syntax error with its line; nesting deeper
    /// than the parser allows is an error, not a stack overflow.
    #[test]
    fn odd_inputs_give_their_assignments_or_a_located_error() {
        for source in ["", "__END__\nconfig.a = [", "config"] {
            assert_eq!(assignments(source).map(|a| a.len()), Ok(0), "{source:?}");
        }
        let bom = one("\u{feff}config.a = 1");
        assert_eq!((bom.key.as_str(), bom.line), ("a", 1));
        assert_eq!(bom.value, Ok(Literal::Int(1)));
        // Invalid UTF-8 in a string literal is read lossily, as the file reader does.
        assert_eq!(
            one("config.a = \"\\xff\"").value,
            Ok(Literal::Str("\u{fffd}".to_owned()))
        );
        for source in ["config. = 1", "config.a=", "<<"] {
            let err = assignments(source).expect_err(source);
            assert_eq!(err.line, 1, "{source:?}: {err}");
            assert!(!err.message.contains('\n'), "{source:?}: {err}");
        }
        for open_close in [("[", "]"), ("(", ")")] {
            let deep = format!(
                "config.a = {}1{}",
                open_close.0.repeat(5000),
                open_close.1.repeat(5000)
            );
            assert!(one(&deep).value.is_err(), "{}", open_close.0);
        }
        let deep = format!(
            "{}config.a = 1{}",
            "if x\n".repeat(3000),
            "\nend".repeat(3000)
        );
        let err = assignments(&deep).expect_err("nesting too deep");
        assert!(err.line > 1 && err.message.contains("nesting"), "{err}");
    }

    #[test]
    fn deep_literals_are_not_literal() {
        let deep = format!("config.a = {}1{}", "[".repeat(100), "]".repeat(100));
        assert!(one(&deep).value.is_err());
        let ok = format!("config.a = {}1{}", "[".repeat(10), "]".repeat(10));
        assert!(one(&ok).value.is_ok());
    }
}
