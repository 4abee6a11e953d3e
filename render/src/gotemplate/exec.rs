//! Execution: walking a tree with a dot and variables, as Go's `text/template` executor does
//! (its notion of "invalid" values beside `nil` interfaces, its current node for error
//! contexts, variable scoping, `range` over lists, maps, and integers).

use super::ast::{Arg, Branch, Command, List, Node, Pipe, Pos, TemplateCall};
use super::error::TemplateError;
use super::value::{FuncMap, Value};
use super::{Env, Limits, MissingKey, Templates};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// A value as the executor holds it: Go's `reflect.Value`, which may be invalid ("no value":
/// a missing map key, an unset variable) and whose static type may be `interface{}` (a map
/// element, a list element: `nil` there is a typed nil, and error texts name
/// `interface {}`).
#[derive(Clone, Default)]
pub(crate) struct Ev {
    /// `None`: the invalid value.
    pub v: Option<Value>,
    /// Whether the static type is `interface {}`.
    pub iface: bool,
}

impl Ev {
    pub(crate) fn invalid() -> Ev {
        Ev { v: None, iface: false }
    }
    pub(crate) fn of(v: Value) -> Ev {
        Ev {
            v: Some(v),
            iface: false,
        }
    }
    pub(crate) fn iface(v: Value) -> Ev {
        Ev {
            v: Some(v),
            iface: true,
        }
    }
    /// Go's `indirectInterface`: a nil interface becomes invalid, others their content.
    pub(crate) fn indirect(&self) -> Option<&Value> {
        match &self.v {
            Some(Value::Nil) if self.iface => None,
            v => v.as_ref(),
        }
    }
    /// Go's name of the static type (for "can't evaluate field X in type T").
    pub(crate) fn static_type(&self) -> String {
        match &self.v {
            _ if self.iface => "interface {}".into(),
            Some(v) => v.type_name(),
            None => "<nil>".into(),
        }
    }
    /// A pipeline stage's result with an `interface{}` type dug into (a nil one becomes
    /// invalid).
    fn dig(self) -> Ev {
        if self.iface {
            match self.v {
                Some(Value::Nil) | None => Ev::invalid(),
                Some(v) => Ev::of(v),
            }
        } else {
            self
        }
    }
}

/// What an action prints for a value, as Go's `printableValue` has it: a pointer is printed
/// as the value it points to, and a value whose pointer has a `String` method (one reached
/// through a field is addressable) through that method.
fn printable(v: &Value) -> String {
    let Value::Object(o) = v else {
        return v.format_v();
    };
    if let Some(Ok(Value::Str(s))) = o.method("String", &[]) {
        return s.to_string();
    }
    let text = o.format_v();
    match text.strip_prefix('&') {
        Some(rest) if o.type_name().starts_with('*') => rest.to_string(),
        _ => text,
    }
}

/// The node Go's executor last visited: errors are located at it and quote its text.
#[derive(Clone, Copy)]
pub(crate) enum Cur<'t> {
    None,
    Arg(&'t Arg),
    Cmd(&'t Command),
    Pipe(&'t Pipe),
    Tmpl(&'t TemplateCall),
}

/// How a walk ended: normally or by `{{break}}`/`{{continue}}`.
pub(crate) enum Flow {
    Normal,
    Break,
    Continue,
}

/// What all the nested executions of one `execute` share.
pub(crate) struct Shared {
    pub iterations: Cell<usize>,
    pub include_counts: RefCell<HashMap<String, usize>>,
    /// Levels of recursion in progress (see [`Limits::max_nesting`]).
    pub frames: Cell<usize>,
}

pub(crate) type Res<T> = Result<T, TemplateError>;

pub(crate) struct State<'t, 'e> {
    pub set: &'t Templates,
    pub env: &'e Env<'e>,
    pub shared: &'e Shared,
    pub tmpl: String,
    pub vars: Vec<(String, Ev)>,
    pub node: Cur<'t>,
    pub out: String,
    pub depth: usize,
}

impl<'t, 'e> State<'t, 'e> {
    pub(crate) fn new(
        set: &'t Templates,
        env: &'e Env<'e>,
        shared: &'e Shared,
        tmpl: &str,
        dot: Ev,
        depth: usize,
    ) -> Self {
        State {
            set,
            env,
            shared,
            tmpl: tmpl.to_string(),
            vars: vec![("$".into(), dot)],
            node: Cur::None,
            out: String::new(),
            depth,
        }
    }

    pub(crate) fn funcs(&self) -> &'e FuncMap {
        self.env.funcs
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.env.limits
    }

    pub(crate) fn at(&mut self, n: Cur<'t>) {
        self.node = n;
    }

    /// An execution error at the current node.
    pub(crate) fn err(&self, message: impl Into<String>) -> TemplateError {
        let message = message.into();
        let (pos, context): (&Pos, String) = match self.node {
            Cur::None => {
                return TemplateError::ExecNoNode {
                    template: self.tmpl.clone(),
                    message,
                };
            }
            Cur::Arg(a) => (a.pos(), a.to_string()),
            Cur::Cmd(c) => (&c.pos, c.to_string()),
            Cur::Pipe(p) => (&p.pos, p.to_string()),
            Cur::Tmpl(t) => (&t.pos, super::ast::template_text(t)),
        };
        TemplateError::Exec {
            name: pos.parse_name.to_string(),
            line: pos.line,
            col: pos.col,
            template: self.tmpl.clone(),
            context,
            message,
        }
    }

    pub(crate) fn limit(&self, message: String) -> TemplateError {
        TemplateError::Limit {
            template: self.tmpl.clone(),
            message,
        }
    }

    fn write(&mut self, s: &str) -> Res<()> {
        if self.out.len() + s.len() > self.limits().max_output_bytes {
            return Err(self.limit(format!(
                "output exceeds the limit of {} bytes",
                self.limits().max_output_bytes
            )));
        }
        self.out.push_str(s);
        Ok(())
    }

    /// Counts one level of the executor's recursion against [`Limits::max_nesting`].
    fn enter(&self) -> Res<()> {
        let n = self.shared.frames.get() + 1;
        self.shared.frames.set(n);
        if n > self.limits().max_nesting {
            return Err(self.limit(format!(
                "nesting of templates, control structures and pipelines exceeds the limit of {}",
                self.limits().max_nesting
            )));
        }
        Ok(())
    }

    fn leave(&self) {
        self.shared.frames.set(self.shared.frames.get().saturating_sub(1));
    }

    pub(crate) fn walk_list(&mut self, dot: &Ev, list: &'t List) -> Res<Flow> {
        self.enter()?;
        let r = self.walk_list_inner(dot, list);
        self.leave();
        r
    }

    fn walk_list_inner(&mut self, dot: &Ev, list: &'t List) -> Res<Flow> {
        for n in &list.nodes {
            match self.walk(dot, n)? {
                Flow::Normal => {}
                f => return Ok(f),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Ev, node: &'t Node) -> Res<Flow> {
        match node {
            Node::Text(t) => self.write(t)?,
            Node::Action(pipe) => {
                self.at(Cur::Pipe(pipe));
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    let text = match &v.v {
                        None => "<no value>".to_string(),
                        Some(v) => printable(v),
                    };
                    self.write(&text)?;
                }
            }
            Node::If(b) => return self.walk_if_with(dot, b, false),
            Node::With(b) => return self.walk_if_with(dot, b, true),
            Node::Range(b) => return self.walk_range(dot, b),
            Node::Template(t) => self.walk_template(dot, t)?,
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_if_with(&mut self, dot: &Ev, b: &'t Branch, with: bool) -> Res<Flow> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let truth = val.indirect().is_some_and(super::builtins::truth);
        let flow = if truth {
            let d = if with { val } else { dot.clone() };
            self.walk_list(&d, &b.list)?
        } else if let Some(e) = &b.else_list {
            self.walk_list(dot, e)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn count_iteration(&self) -> Res<()> {
        let n = self.shared.iterations.get() + 1;
        self.shared.iterations.set(n);
        if n > self.limits().max_iterations {
            return Err(self.limit(format!(
                "range iterations exceed the limit of {}",
                self.limits().max_iterations
            )));
        }
        Ok(())
    }

    fn walk_range(&mut self, dot: &Ev, r: &'t Branch) -> Res<Flow> {
        let outer = self.vars.len();
        let val = self.eval_pipeline(dot, &r.pipe)?;
        let mark = self.vars.len();
        let decl = r.pipe.decl.len();
        let seen = val.indirect().map(|v| super::builtins::underlying(v).into_owned());
        let items: Vec<(Ev, Ev)> = match seen.as_ref() {
            Some(Value::List(l)) => l
                .iter()
                .enumerate()
                .map(|(i, v)| (Ev::of(Value::Int(i as i64)), Ev::iface(v.clone())))
                .collect(),
            Some(Value::Bytes(b)) => b
                .iter()
                .enumerate()
                .map(|(i, v)| (Ev::of(Value::Int(i as i64)), Ev::of(Value::Int(i64::from(*v)))))
                .collect(),
            Some(Value::Map(m)) => m
                .borrow()
                .iter()
                .map(|(k, v)| (Ev::of(Value::str(k.clone())), Ev::iface(v.clone())))
                .collect(),
            Some(v @ (Value::Int(n) | Value::Int64(n))) => {
                if decl > 1 {
                    return Err(self.err(format!(
                        "can't use {} to iterate over more than one variable",
                        v.format_v()
                    )));
                }
                let n = *n;
                if n > self.limits().max_iterations as i64 {
                    return Err(self.limit(format!(
                        "range iterations exceed the limit of {}",
                        self.limits().max_iterations
                    )));
                }
                let int = matches!(v, Value::Int(_));
                (0..n.max(0))
                    .map(|i| {
                        let e = if int { Value::Int(i) } else { Value::Int64(i) };
                        (Ev::invalid(), Ev::of(e))
                    })
                    .collect()
            }
            None => Vec::new(),
            Some(v) => {
                return Err(self.err(format!("range can't iterate over {}", v.format_v())));
            }
        };
        if items.is_empty() {
            let flow = match &r.else_list {
                Some(e) => self.walk_list(dot, e)?,
                None => Flow::Normal,
            };
            self.vars.truncate(outer);
            return Ok(flow);
        }
        for (index, elem) in items {
            self.count_iteration()?;
            if decl > 0 {
                if r.pipe.is_assign {
                    let first = if decl > 1 { index.clone() } else { elem.clone() };
                    self.set_var(&r.pipe.decl[0], first)?;
                } else if let Some(top) = self.vars.get_mut(mark.wrapping_sub(1)) {
                    top.1 = elem.clone();
                }
            }
            if decl > 1 {
                if r.pipe.is_assign {
                    self.set_var(&r.pipe.decl[1], elem.clone())?;
                } else if let Some(second) = self.vars.get_mut(mark.wrapping_sub(2)) {
                    second.1 = index;
                }
            }
            let flow = self.walk_list(&elem, &r.list)?;
            self.vars.truncate(mark);
            if let Flow::Break = flow {
                break;
            }
        }
        self.vars.truncate(outer);
        Ok(Flow::Normal)
    }

    fn walk_template(&mut self, dot: &Ev, t: &'t TemplateCall) -> Res<()> {
        self.at(Cur::Tmpl(t));
        let Some(list) = self.set.trees.get(&t.name) else {
            return Err(self.err(format!("template {} not defined", super::fmt::quote(&t.name))));
        };
        if self.depth >= self.limits().max_depth {
            return Err(self.err(format!("exceeded maximum template depth ({})", self.limits().max_depth)));
        }
        let d = match &t.pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Ev::invalid(),
        };
        let mut inner = State::new(self.set, self.env, self.shared, &t.name, d.clone(), self.depth + 1);
        inner.out = std::mem::take(&mut self.out);
        let r = inner.walk_list(&d, list);
        self.out = std::mem::take(&mut inner.out);
        r.map(|_| ())
    }

    pub(crate) fn eval_pipeline(&mut self, dot: &Ev, pipe: &'t Pipe) -> Res<Ev> {
        self.enter()?;
        let r = self.eval_pipeline_inner(dot, pipe);
        self.leave();
        r
    }

    fn eval_pipeline_inner(&mut self, dot: &Ev, pipe: &'t Pipe) -> Res<Ev> {
        self.at(Cur::Pipe(pipe));
        let mut value: Option<Ev> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?.dig());
        }
        let value = value.unwrap_or_default();
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn set_var(&mut self, name: &str, value: Ev) -> Res<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(self.err(format!("undefined variable: {name}"))),
        }
    }

    fn var_value(&self, name: &str) -> Res<Ev> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.err(format!("undefined variable: {name}"))),
        }
    }

    fn not_a_function(&self, args: &'t [Arg], final_: &Option<Ev>) -> Res<()> {
        if args.len() > 1 || final_.is_some() {
            let first = args.first().map(|a| a.to_string()).unwrap_or_default();
            return Err(self.err(format!("can't give argument to non-function {first}")));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Ev, cmd: &'t Command, final_: Option<Ev>) -> Res<Ev> {
        let Some(first) = cmd.args.first() else {
            return Ok(Ev::invalid());
        };
        match first {
            Arg::Field(..) => return self.eval_field_node(dot, first, &cmd.args, final_),
            Arg::Chain(..) => return self.eval_chain(dot, first, &cmd.args, final_),
            Arg::Identifier(..) => {
                return self.eval_function(dot, first, Cur::Cmd(cmd), &cmd.args, final_);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable(..) => return self.eval_variable(dot, first, &cmd.args, final_),
            _ => {}
        }
        self.at(Cur::Arg(first));
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool(_, b) => Ok(Ev::of(Value::Bool(*b))),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Err(self.err("nil is not a command")),
            Arg::Number(_, n) => self.ideal_constant(n),
            Arg::Str(_, _, s) => Ok(Ev::of(Value::str(s.clone()))),
            _ => Err(self.err(format!("can't evaluate command {first}"))),
        }
    }

    pub(crate) fn eval_field_node(&mut self, dot: &Ev, field: &'t Arg, args: &'t [Arg], final_: Option<Ev>) -> Res<Ev> {
        self.at(Cur::Arg(field));
        let Arg::Field(_, idents) = field else {
            return Ok(Ev::invalid());
        };
        self.eval_field_chain(dot, dot.clone(), idents, args, final_)
    }

    pub(crate) fn eval_chain(&mut self, dot: &Ev, chain: &'t Arg, args: &'t [Arg], final_: Option<Ev>) -> Res<Ev> {
        self.at(Cur::Arg(chain));
        let Arg::Chain(_, node, fields) = chain else {
            return Ok(Ev::invalid());
        };
        if let Arg::Nil(_) = node.as_ref() {
            return Err(self.err(format!("indirection through explicit nil in {chain}")));
        }
        let pipe = self.eval_arg(dot, super::exec_call::PTy::Untyped, node)?;
        self.at(Cur::Arg(chain));
        self.eval_field_chain(dot, pipe, fields, args, final_)
    }

    pub(crate) fn eval_variable(&mut self, dot: &Ev, var: &'t Arg, args: &'t [Arg], final_: Option<Ev>) -> Res<Ev> {
        self.at(Cur::Arg(var));
        let Arg::Variable(_, idents) = var else {
            return Ok(Ev::invalid());
        };
        let value = self.var_value(idents.first().map(String::as_str).unwrap_or("$"))?;
        if idents.len() == 1 {
            self.not_a_function(args, &final_)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, &idents[1..], args, final_)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Ev,
        mut receiver: Ev,
        idents: &[String],
        args: &'t [Arg],
        final_: Option<Ev>,
    ) -> Res<Ev> {
        let n = idents.len();
        for name in idents.iter().take(n.saturating_sub(1)) {
            receiver = self.eval_field(dot, name, &[], None, receiver)?;
        }
        match idents.last() {
            Some(name) => self.eval_field(dot, name, args, final_, receiver),
            None => Ok(receiver),
        }
    }

    fn eval_field(&mut self, dot: &Ev, name: &str, args: &'t [Arg], final_: Option<Ev>, receiver: Ev) -> Res<Ev> {
        let Some(rv) = &receiver.v else {
            if self.env.missing_key == MissingKey::Error {
                return Err(self.err(format!("nil data; no entry for key {}", super::fmt::quote(name))));
            }
            return Ok(Ev::invalid());
        };
        let typ = receiver.static_type();
        let has_args = args.len() > 1 || final_.is_some();
        match rv {
            Value::Nil => Err(self.err(format!("nil pointer evaluating {typ}.{name}"))),
            Value::Object(o) => {
                let o = o.clone();
                if has_args {
                    return self.call_method(dot, &o, name, args, final_, &typ);
                }
                if let Some(v) = o.field(name) {
                    return Ok(Ev {
                        iface: v.is_nil(),
                        v: Some(v),
                    });
                }
                self.call_method(dot, &o, name, args, final_, &typ)
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.err(format!("{name} is not a method but has arguments")));
                }
                let got = m.borrow().get(name).cloned();
                match got {
                    Some(v) => Ok(Ev::iface(v)),
                    None => match self.env.missing_key {
                        MissingKey::Default => Ok(Ev::invalid()),
                        MissingKey::Zero => Ok(Ev::iface(Value::Nil)),
                        MissingKey::Error => {
                            Err(self.err(format!("map has no entry for key {}", super::fmt::quote(name))))
                        }
                    },
                }
            }
            _ => Err(self.err(format!("can't evaluate field {name} in type {typ}"))),
        }
    }

    /// Go's `idealConstant`: an untyped number with no type to convert to.
    pub(crate) fn ideal_constant(&self, n: &super::ast::Number) -> Res<Ev> {
        let t = n.text.as_str();
        let hex_int = t.len() > 2
            && t.starts_with('0')
            && matches!(t.as_bytes().get(1), Some(b'x' | b'X'))
            && !t.contains(['p', 'P']);
        let rune = t.starts_with('\'');
        if let Some(f) = n.float
            && !hex_int
            && !rune
            && t.contains(['.', 'e', 'E', 'p', 'P'])
        {
            return Ok(Ev::of(Value::Float(f)));
        }
        if let Some(i) = n.int {
            return Ok(Ev::of(Value::Int(i)));
        }
        if n.uint.is_some() {
            return Err(self.err(format!("{t} overflows int")));
        }
        Ok(Ev::invalid())
    }
}
