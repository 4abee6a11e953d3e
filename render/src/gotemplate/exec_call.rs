//! Function and method calls: finding the function, checking the argument count, evaluating
//! and converting each argument to its parameter type as Go's `reflect`-based executor does
//! (with its error texts), and Helm's engine functions `include` and `tpl`.

use super::ast::Arg;
use super::builtins::Builtin;
use super::exec::{Cur, Ev, Res, State};
use super::value::{Func, Object, Ty, Value};
use std::rc::Rc;

/// A parameter type: one of Go's types, `reflect.Value` (Go's built-ins take their arguments
/// unconverted, invalid values included), or no type at all (a chain's operand).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum PTy {
    Ty(Ty),
    Value,
    Untyped,
}

impl PTy {
    fn name(self) -> &'static str {
        match self {
            PTy::Ty(t) => t.go_name(),
            PTy::Value => "reflect.Value",
            PTy::Untyped => "<nil>",
        }
    }
}

/// What a command names.
#[derive(Clone, Copy)]
enum Callee {
    User(Func),
    Builtin(Builtin),
    Include,
    Tpl,
}

const INCLUDE_SIG: &[PTy] = &[PTy::Ty(Ty::String), PTy::Ty(Ty::Any)];

/// How many times one name may be nested in `include`s, as Helm allows.
const MAX_INCLUDE_NESTING: usize = 1000;

impl<'t> State<'t, '_> {
    fn find_function(&self, name: &str) -> Option<Callee> {
        if let Some(f) = self.funcs().get(name) {
            return Some(Callee::User(*f));
        }
        if self.env.helm {
            match name {
                "include" => return Some(Callee::Include),
                "tpl" => return Some(Callee::Tpl),
                _ => {}
            }
        }
        Builtin::lookup(name).map(Callee::Builtin)
    }

    /// A function named by an identifier, with the command's arguments (`args[0]` is the
    /// identifier) and the pipeline's value.
    pub(crate) fn eval_function(
        &mut self,
        dot: &Ev,
        ident: &'t Arg,
        cmd: Cur<'t>,
        args: &'t [Arg],
        final_: Option<Ev>,
    ) -> Res<Ev> {
        self.at(Cur::Arg(ident));
        let name = ident.to_string();
        let Some(callee) = self.find_function(&name) else {
            return Err(self.err(format!("{} is not a defined function", super::fmt::quote(&name))));
        };
        let (params, variadic): (Vec<PTy>, Option<PTy>) = match callee {
            Callee::User(f) => (f.params.iter().map(|t| PTy::Ty(*t)).collect(), f.variadic.map(PTy::Ty)),
            Callee::Builtin(b) => {
                let (p, v) = b.sig();
                (p.to_vec(), v)
            }
            Callee::Include | Callee::Tpl => (INCLUDE_SIG.to_vec(), None),
        };
        let arg_nodes = args.get(1..).unwrap_or(&[]);
        let num_in = arg_nodes.len() + usize::from(final_.is_some());
        if variadic.is_some() {
            if num_in < params.len() {
                return Err(self.err(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    params.len(),
                    arg_nodes.len()
                )));
            }
        } else if num_in != params.len() {
            return Err(self.err(format!(
                "wrong number of args for {name}: want {} got {num_in}",
                params.len()
            )));
        }
        // Go's built-in and/or evaluate their arguments only until the result is known.
        if let Callee::Builtin(b @ (Builtin::And | Builtin::Or)) = callee {
            let want = matches!(b, Builtin::Or);
            let mut v = Ev::invalid();
            for a in arg_nodes {
                v = self.eval_arg(dot, PTy::Value, a)?;
                if v.indirect().is_some_and(super::builtins::truth) == want {
                    return Ok(v);
                }
            }
            if let Some(f) = final_ {
                v = f;
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in arg_nodes.iter().enumerate() {
            let t = params.get(i).copied().or(variadic).unwrap_or(PTy::Ty(Ty::Any));
            argv.push(self.eval_arg(dot, t, a)?);
        }
        if let Some(f) = final_ {
            let t = if variadic.is_some() && num_in > params.len() {
                variadic.unwrap_or(PTy::Ty(Ty::Any))
            } else {
                params.get(num_in - 1).copied().unwrap_or(PTy::Ty(Ty::Any))
            };
            argv.push(self.validate(f, t)?);
        }
        let result = match callee {
            Callee::User(f) => {
                let vals: Vec<Value> = argv.into_iter().map(|e| e.v.unwrap_or_default()).collect();
                let v = (f.call)(&vals);
                // No value a function makes may outgrow the output bound: a pipeline that keeps
                // growing a value (`b64enc` after `b64enc`) stops at the first step beyond it.
                let max = self.limits().max_output_bytes;
                if let Ok(Value::Str(s)) = &v
                    && s.len() > max
                {
                    return Err(self.limit(format!("{name} made a value over the limit of {max} bytes")));
                }
                if let Ok(Value::Bytes(b)) = &v
                    && b.len() > max
                {
                    return Err(self.limit(format!("{name} made a value over the limit of {max} bytes")));
                }
                v.map(|v| Ev {
                    iface: v.is_nil(),
                    v: Some(v),
                })
            }
            Callee::Builtin(b) => {
                let callee_text = arg_nodes.first().map(|a| a.to_string()).unwrap_or_default();
                b.call(&argv, &callee_text)
            }
            Callee::Include => self.include(&argv)?,
            Callee::Tpl => self.tpl(&argv)?,
        };
        result.map_err(|msg| {
            self.at(cmd);
            self.err(format!("error calling {name}: {msg}"))
        })
    }

    /// A method of an object, called with arguments (or a zero-argument method the object
    /// does not list as a field).
    pub(crate) fn call_method(
        &mut self,
        dot: &Ev,
        o: &Rc<dyn Object>,
        name: &str,
        args: &'t [Arg],
        final_: Option<Ev>,
        typ: &str,
    ) -> Res<Ev> {
        let here = self.node;
        let mut vals = Vec::new();
        for a in args.get(1..).unwrap_or(&[]) {
            vals.push(self.eval_arg(dot, PTy::Ty(Ty::Any), a)?.v.unwrap_or_default());
        }
        if let Some(f) = final_ {
            vals.push(f.v.unwrap_or_default());
        }
        self.at(here);
        match o.method(name, &vals) {
            Some(Ok(v)) => Ok(Ev {
                iface: v.is_nil(),
                v: Some(v),
            }),
            Some(Err(m)) => Err(self.err(format!("error calling {name}: {m}"))),
            None if o.field(name).is_some() => {
                Err(self.err(format!("{name} has arguments but cannot be invoked as function")))
            }
            None => Err(self.err(format!("can't evaluate field {name} in type {typ}"))),
        }
    }

    /// One argument, evaluated for a parameter of type `t`.
    pub(crate) fn eval_arg(&mut self, dot: &Ev, t: PTy, arg: &'t Arg) -> Res<Ev> {
        self.at(Cur::Arg(arg));
        match arg {
            Arg::Dot(_) => return self.validate(dot.clone(), t),
            Arg::Nil(_) => {
                return match t {
                    PTy::Value | PTy::Untyped => Ok(Ev::invalid()),
                    PTy::Ty(ty) => match zero(ty) {
                        Some(z) => Ok(z),
                        None => Err(self.err(format!("cannot assign nil to {}", ty.go_name()))),
                    },
                };
            }
            Arg::Field(..) => {
                let v = self.eval_field_node(dot, arg, std::slice::from_ref(arg), None)?;
                return self.validate(v, t);
            }
            Arg::Variable(..) => {
                let v = self.eval_variable(dot, arg, &[], None)?;
                return self.validate(v, t);
            }
            Arg::Pipe(p) => {
                let v = self.eval_pipeline(dot, p)?;
                return self.validate(v, t);
            }
            Arg::Identifier(..) => {
                let v = self.eval_function(dot, arg, Cur::Arg(arg), &[], None)?;
                return self.validate(v, t);
            }
            Arg::Chain(..) => {
                let v = self.eval_chain(dot, arg, &[], None)?;
                return self.validate(v, t);
            }
            _ => {}
        }
        let found = |what: &str| format!("expected {what}; found {arg}");
        match t {
            PTy::Ty(Ty::Bool) => match arg {
                Arg::Bool(_, b) => Ok(Ev::of(Value::Bool(*b))),
                _ => Err(self.err(found("bool"))),
            },
            PTy::Ty(Ty::Float64) => match arg {
                Arg::Number(_, n) if n.float.is_some() => Ok(Ev::of(Value::Float(n.float.unwrap_or_default()))),
                _ => Err(self.err(found("float"))),
            },
            PTy::Ty(ty @ (Ty::Int | Ty::Int64)) => match arg {
                Arg::Number(_, n) if n.int.is_some() => {
                    let i = n.int.unwrap_or_default();
                    Ok(Ev::of(if ty == Ty::Int { Value::Int(i) } else { Value::Int64(i) }))
                }
                _ => Err(self.err(found("integer"))),
            },
            PTy::Ty(Ty::String) => match arg {
                Arg::Str(_, _, s) => Ok(Ev::of(Value::str(s.clone()))),
                _ => Err(self.err(found("string"))),
            },
            PTy::Ty(Ty::Any) | PTy::Value | PTy::Untyped => match arg {
                Arg::Bool(_, b) => Ok(Ev::of(Value::Bool(*b))),
                Arg::Number(_, n) => self.ideal_constant(n),
                Arg::Str(_, _, s) => Ok(Ev::of(Value::str(s.clone()))),
                _ => Err(self.err(format!("can't handle assignment of {arg} to empty interface argument"))),
            },
            PTy::Ty(ty) => Err(self.err(format!("can't handle {arg} for arg of type {}", ty.go_name()))),
        }
    }

    /// Go's `validateType`: whether a value can be passed as `t`.
    pub(crate) fn validate(&self, v: Ev, t: PTy) -> Res<Ev> {
        let Some(value) = &v.v else {
            return match t {
                PTy::Value | PTy::Untyped => Ok(Ev::invalid()),
                PTy::Ty(ty) => match zero(ty) {
                    Some(z) => Ok(z),
                    None => Err(self.err(format!("invalid value; expected {}", t.name()))),
                },
            };
        };
        let ty = match t {
            PTy::Value | PTy::Untyped | PTy::Ty(Ty::Any) => return Ok(v),
            PTy::Ty(ty) => ty,
        };
        let ok = matches!(
            (value, ty),
            (Value::Str(_), Ty::String)
                | (Value::Int(_), Ty::Int)
                | (Value::Int64(_), Ty::Int64)
                | (Value::Float(_), Ty::Float64)
                | (Value::Bool(_), Ty::Bool)
                | (Value::List(_), Ty::List)
                | (Value::Map(_), Ty::Map)
                | (Value::Bytes(_), Ty::Bytes)
        );
        if ok {
            return Ok(Ev::of(value.clone()));
        }
        let got = if value.is_nil() {
            "interface {}".to_string()
        } else {
            value.type_name()
        };
        Err(self.err(format!("wrong type for value; expected {}; got {got}", ty.go_name())))
    }

    /// Helm's `include NAME DATA`: the named template executed into a string.
    fn include(&mut self, argv: &[Ev]) -> Res<Result<Ev, String>> {
        let name = argv
            .first()
            .and_then(|e| e.v.as_ref())
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let data = argv.get(1).cloned().unwrap_or_default();
        let count = *self.shared.include_counts.borrow().get(&name).unwrap_or(&0);
        if count > MAX_INCLUDE_NESTING {
            return Ok(Err(format!(
                "rendering template has a nested reference name: {name}: unable to execute template"
            )));
        }
        let Some(list) = self.set.trees.get(&name) else {
            return Ok(Err(super::TemplateError::NotDefined {
                name,
                root: self.set.root.clone(),
            }
            .to_string()));
        };
        *self.shared.include_counts.borrow_mut().entry(name.clone()).or_insert(0) += 1;
        let dot = Ev::of(data.v.unwrap_or_default()).dig_nil();
        let mut inner = State::new(self.set, self.env, self.shared, &name, dot.clone(), 0);
        let r = inner.walk_list(&dot, list);
        if let Some(c) = self.shared.include_counts.borrow_mut().get_mut(&name) {
            *c = c.saturating_sub(1);
        }
        match r {
            Ok(_) => Ok(Ok(Ev::of(Value::str(std::mem::take(&mut inner.out))))),
            Err(e @ super::TemplateError::Limit { .. }) => Err(e),
            Err(e) => Ok(Err(e.to_string())),
        }
    }

    /// Helm's `tpl TEXT DATA`: TEXT parsed as a new template in a copy of the set, executed
    /// with DATA.
    fn tpl(&mut self, argv: &[Ev]) -> Res<Result<Ev, String>> {
        let text = argv
            .first()
            .and_then(|e| e.v.as_ref())
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let data = argv.get(1).cloned().unwrap_or_default();
        let mut set = self.set.clone();
        let name = "gotpl";
        // The text's own tree is executed, even when (empty) it left an earlier `gotpl` in
        // the set.
        let list = match set.parse_tree(name, &text, self.funcs()) {
            Ok(list) => list,
            Err(e) => return Ok(Err(format!("cannot parse template {}: {e}", super::fmt::quote(&text)))),
        };
        let dot = Ev::of(data.v.unwrap_or_default()).dig_nil();
        let mut inner = State::new(&set, self.env, self.shared, name, dot.clone(), 0);
        match inner.walk_list(&dot, &list) {
            Ok(_) => {
                let out = inner.out.replace("<no value>", "");
                Ok(Ok(Ev::of(Value::str(out))))
            }
            Err(e @ super::TemplateError::Limit { .. }) => Err(e),
            Err(e) => Ok(Err(format!(
                "error during tpl function execution for {}: {e}",
                super::fmt::quote(&text)
            ))),
        }
    }
}

impl Ev {
    /// Data handed to a template as `interface{}`: `nil` becomes Go's invalid value.
    fn dig_nil(self) -> Ev {
        match self.v {
            Some(Value::Nil) => Ev::invalid(),
            _ => self,
        }
    }
}

/// The zero value of a type that can be nil (`nil` passed for it), if it can.
fn zero(ty: Ty) -> Option<Ev> {
    match ty {
        Ty::Any => Some(Ev::iface(Value::Nil)),
        Ty::List => Some(Ev::of(Value::list(Vec::new()))),
        Ty::Map => Some(Ev::of(Value::map(Default::default()))),
        Ty::Bytes => Some(Ev::of(Value::bytes(Vec::new()))),
        _ => None,
    }
}
