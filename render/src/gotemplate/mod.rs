//! Go's `text/template` language as Helm runs it: parse, execute, and the function table
//! (Go's built-ins, sprig, Helm's own).
//!
//! [`Templates`] is a set of named templates (Go's template with its associated templates);
//! [`Templates::execute`] runs one with data under an [`Env`]: the functions, the
//! missing-key mode, Helm mode (`include`, `tpl`, `<no value>` stripped) and [`Limits`].

mod ast;
mod builtins;
pub mod error;
mod exec;
mod exec_call;
pub mod fmt;
mod lex;
mod number;
mod parse;
mod quote;
pub mod value;

pub use error::TemplateError;
pub use fmt::{sprint, sprintf, sprintln};
pub use value::{Func, FuncMap, Object, Ty, Value};
pub mod sprig;

use std::collections::HashMap;
use std::rc::Rc;
use zeroize::Zeroizing;

/// What a missing map key gives (Go's `missingkey` option).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingKey {
    /// "No value": prints `<no value>`, is false, is `nil` to functions (`missingkey=default`).
    #[default]
    Default,
    /// The map's zero element: a `nil` interface (`missingkey=zero`, as Helm runs).
    Zero,
    /// An execution error (`missingkey=error`, Helm's strict mode).
    Error,
}

/// Bounds on one execution; exceeding one is a [`TemplateError::Limit`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes of output of a template (and of each `include`d one).
    pub max_output_bytes: usize,
    /// Nesting of `template` calls within one execution (Go's limit; `include` and `tpl`
    /// start executions of their own, as in Go).
    pub max_depth: usize,
    /// `range` iterations over the whole execution.
    pub max_iterations: usize,
    /// Levels of the executor's recursion at once: each template body, control-structure
    /// body and pipeline being evaluated (across `template`, `include` and `tpl`) is one.
    /// This bounds the stack: a level takes up to about 7.2 KiB in an unoptimised build and
    /// 1.5 KiB in a release build, so the default (200) fits a 2 MiB thread stack either way;
    /// a caller on a bigger stack may raise it (Helm's render thread does).
    pub max_nesting: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_output_bytes: 64 << 20,
            max_depth: 100_000,
            max_iterations: 10_000_000,
            max_nesting: 200,
        }
    }
}

/// How to execute: the functions templates may call and the options.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// Functions beyond Go's built-ins (they take precedence, as in Go).
    pub funcs: &'a FuncMap,
    /// What a missing map key gives.
    pub missing_key: MissingKey,
    /// Helm mode: `include` and `tpl`, and `<no value>` removed from the output.
    pub helm: bool,
    /// Resource bounds.
    pub limits: Limits,
}

/// A set of named templates: each parsed text under its name, and every `define` and
/// `block` in them. Cloning is cheap (trees are shared).
#[derive(Clone, Default)]
pub struct Templates {
    trees: HashMap<String, Rc<ast::List>>,
    root: String,
    engine: bool,
}

impl Templates {
    /// An empty set.
    pub fn new() -> Self {
        Templates::default()
    }

    /// An empty set for Helm: `include` and `tpl` are known functions when parsing, and
    /// the set's root name (in "no template associated with template" errors) is Helm's
    /// `gotpl`.
    pub fn helm() -> Self {
        Templates {
            trees: HashMap::new(),
            root: "gotpl".into(),
            engine: true,
        }
    }

    /// Parses `text` as the template `name`, adding it and its `define`s to the set. A
    /// definition replaces an earlier one of the same name unless it is empty (only
    /// spaces), as in Go; a function not in `funcs` (nor built in) is a parse error.
    pub fn parse(&mut self, name: &str, text: &str, funcs: &FuncMap) -> Result<(), TemplateError> {
        self.parse_tree(name, text, funcs).map(|_| ())
    }

    /// [`Templates::parse`], returning the tree parsed for `name` itself (Go's
    /// `t.New(name).Parse(text)` executes it even when, being empty, it did not replace an
    /// earlier `name` in the set).
    pub(crate) fn parse_tree(
        &mut self,
        name: &str,
        text: &str,
        funcs: &FuncMap,
    ) -> Result<Rc<ast::List>, TemplateError> {
        let engine = self.engine;
        let has_func = |n: &str| {
            funcs.contains_key(n) || builtins::NAMES.contains(&n) || (engine && (n == "include" || n == "tpl"))
        };
        let parsed = parse::parse(name, text, &has_func).map_err(|e| TemplateError::Parse {
            name: name.to_string(),
            line: e.line,
            message: e.message,
        })?;
        let mut seen: HashMap<&str, bool> = HashMap::new();
        for (n, list) in &parsed.defines {
            let empty = parse::is_empty_tree(list);
            if let Some(prev_empty) = seen.get(n.as_str())
                && !prev_empty
                && !empty
            {
                return Err(TemplateError::Parse {
                    name: name.to_string(),
                    line: 1,
                    message: format!("template: multiple definition of template {}", fmt::quote(n)),
                });
            }
            seen.insert(n, empty && seen.get(n.as_str()).is_none_or(|e| *e));
        }
        let root = Rc::new(parsed.root);
        for (n, list) in parsed.defines {
            if parse::is_empty_tree(&list) && self.trees.contains_key(&n) {
                continue;
            }
            self.trees.insert(n, Rc::new(list));
        }
        if !(parse::is_empty_tree(&root) && self.trees.contains_key(name)) {
            self.trees.insert(name.to_string(), Rc::clone(&root));
        }
        Ok(root)
    }

    /// Whether the set holds a template `name`.
    pub fn has(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// The names of the set's templates (in no particular order).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.trees.keys().map(String::as_str)
    }

    /// Executes the template `name` with `data` as `.` and `$`.
    pub fn execute(&self, name: &str, data: &Value, env: &Env) -> Result<Zeroizing<String>, TemplateError> {
        let Some(list) = self.trees.get(name) else {
            return Err(TemplateError::NotDefined {
                name: name.to_string(),
                root: self.root.clone(),
            });
        };
        let shared = exec::Shared {
            iterations: Default::default(),
            include_counts: Default::default(),
            frames: Default::default(),
        };
        let dot = match data {
            Value::Nil => exec::Ev::invalid(),
            v => exec::Ev::of(v.clone()),
        };
        let mut state = exec::State::new(self, env, &shared, name, dot.clone(), 0);
        state.walk_list(&dot, list)?;
        let out = std::mem::take(&mut state.out);
        Ok(Zeroizing::new(if env.helm {
            out.replace("<no value>", "")
        } else {
            out
        }))
    }
}

#[cfg(test)]
mod tests;
