//! The parse tree, with Go's node positions (for error locations) and Go's `String()` text of
//! each node (the `<CONTEXT>` of an execution error).

use std::fmt::{self, Display, Write as _};
use std::rc::Rc;

/// Where a node is: the file it was parsed from, its byte offset there, and the line/column
/// Go reports (column counted in bytes from 0, as Go's `ErrorContext` does).
#[derive(Clone, Debug)]
pub(crate) struct Pos {
    pub parse_name: Rc<str>,
    pub line: usize,
    pub col: usize,
}

/// A list of nodes (a template body, an `if` branch).
#[derive(Debug, Default)]
pub(crate) struct List {
    pub nodes: Vec<Node>,
}

/// A node of a template body.
#[derive(Debug)]
pub(crate) enum Node {
    Text(String),
    Action(Pipe),
    If(Branch),
    Range(Branch),
    With(Branch),
    Template(TemplateCall),
    Break,
    Continue,
}

/// `if`, `range` and `with`: a pipeline, a body and an optional `else` body.
#[derive(Debug)]
pub(crate) struct Branch {
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

/// `{{template "name" pipeline}}`.
#[derive(Debug)]
pub(crate) struct TemplateCall {
    pub pos: Pos,
    pub name: String,
    pub pipe: Option<Pipe>,
}

/// A pipeline, with the variables it declares or assigns.
#[derive(Debug)]
pub(crate) struct Pipe {
    pub pos: Pos,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

/// One command of a pipeline: an operand and its arguments.
#[derive(Debug)]
pub(crate) struct Command {
    pub pos: Pos,
    pub args: Vec<Arg>,
}

/// An untyped numeric constant, as Go's parser classifies it.
#[derive(Debug, Clone)]
pub(crate) struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub uint: Option<u64>,
    pub float: Option<f64>,
}

/// An operand.
#[derive(Debug)]
pub(crate) enum Arg {
    /// `.A.B` (the identifiers without dots).
    Field(Pos, Vec<String>),
    /// `$x.A.B`: the variable name (`$x`) then the fields.
    Variable(Pos, Vec<String>),
    /// `(pipeline).A.B`, or a function/literal with fields (an execution error).
    Chain(Pos, Box<Arg>, Vec<String>),
    Identifier(Pos, String),
    Dot(Pos),
    Nil(Pos),
    Bool(Pos, bool),
    Number(Pos, Number),
    /// The quoted source text and the unquoted string.
    Str(Pos, String, String),
    Pipe(Box<Pipe>),
}

impl Arg {
    pub(crate) fn pos(&self) -> &Pos {
        match self {
            Arg::Field(p, _)
            | Arg::Variable(p, _)
            | Arg::Chain(p, _, _)
            | Arg::Identifier(p, _)
            | Arg::Dot(p)
            | Arg::Nil(p)
            | Arg::Bool(p, _)
            | Arg::Number(p, _)
            | Arg::Str(p, _, _) => p,
            Arg::Pipe(p) => &p.pos,
        }
    }
}

impl Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field(_, idents) => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Variable(_, idents) => f.write_str(&idents.join(".")),
            Arg::Chain(_, node, fields) => {
                if let Arg::Pipe(p) = node.as_ref() {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Identifier(_, s) => f.write_str(s),
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number(_, n) => f.write_str(&n.text),
            Arg::Str(_, quoted, _) => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, a) in self.args.iter().enumerate() {
            if n > 0 {
                f.write_char(' ')?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (n, c) in self.cmds.iter().enumerate() {
            if n > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl Display for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for n in &self.nodes {
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

fn write_branch(f: &mut fmt::Formatter<'_>, name: &str, b: &Branch) -> fmt::Result {
    write!(f, "{{{{{name} {}}}}}{}", b.pipe, b.list)?;
    if let Some(e) = &b.else_list {
        write!(f, "{{{{else}}}}{e}")?;
    }
    f.write_str("{{end}}")
}

impl Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text(t) => f.write_str(t),
            Node::Action(p) => write!(f, "{{{{{p}}}}}"),
            Node::If(b) => write_branch(f, "if", b),
            Node::Range(b) => write_branch(f, "range", b),
            Node::With(b) => write_branch(f, "with", b),
            Node::Template(t) => f.write_str(&template_text(t)),
            Node::Break => f.write_str("{{break}}"),
            Node::Continue => f.write_str("{{continue}}"),
        }
    }
}

/// The text of a `{{template}}` node, as Go prints it.
pub(crate) fn template_text(t: &TemplateCall) -> String {
    let name = crate::gotemplate::fmt::quote(&t.name);
    match &t.pipe {
        Some(p) => format!("{{{{template {name} {p}}}}}"),
        None => format!("{{{{template {name}}}}}"),
    }
}
