//! The parser: items to trees, following Go's `text/template/parse` (its grammar, its checks
//! at parse time — undefined variables and functions, `break` outside `range` — and its error
//! texts).

use super::ast::{Arg, Branch, Command, List, Node, Pipe, Pos, TemplateCall};
use super::lex::{Item, Tok, lex};
use std::rc::Rc;

/// Deepest nesting of parentheses and control structures a template may have (the executor
/// and this parser recurse on it).
pub(crate) const MAX_NESTING: usize = 100;

/// A parse failure: the line Go reports and its message.
#[derive(Debug)]
pub(crate) struct ParseFail {
    pub line: usize,
    pub message: String,
}

/// The trees of one parsed text: its own body and its `define`s (in source order).
pub(crate) struct Parsed {
    pub root: List,
    pub defines: Vec<(String, List)>,
}

type R<T> = Result<T, ParseFail>;

/// Parses `text` (from the file `parse_name`); `has_func` tells which function names exist.
pub(crate) fn parse(parse_name: &str, text: &str, has_func: &dyn Fn(&str) -> bool) -> Result<Parsed, ParseFail> {
    let items: Vec<Item> = lex(text).into_iter().filter(|i| i.tok != Tok::Comment).collect();
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let mut p = Parser {
        items,
        idx: 0,
        last_line: 1,
        vars: vec!["$".into()],
        has_func,
        parse_name: Rc::from(parse_name),
        line_starts,
        range_depth: 0,
        depth: 0,
        action_line: 0,
        defines: Vec::new(),
    };
    let root = p.parse_top()?;
    Ok(Parsed {
        root,
        defines: p.defines,
    })
}

/// Whether a tree holds nothing but spaces (Go's `IsEmptyTree`): such a definition does not
/// replace an existing one.
pub(crate) fn is_empty_tree(list: &List) -> bool {
    list.nodes.iter().all(|n| match n {
        Node::Text(t) => t.trim().is_empty(),
        _ => false,
    })
}

struct Parser<'a> {
    items: Vec<Item>,
    idx: usize,
    last_line: usize,
    vars: Vec<String>,
    has_func: &'a dyn Fn(&str) -> bool,
    parse_name: Rc<str>,
    line_starts: Vec<usize>,
    range_depth: usize,
    depth: usize,
    action_line: usize,
    defines: Vec<(String, List)>,
}

/// What ended an item list.
enum End {
    End,
    Else,
}

impl Parser<'_> {
    fn fail<T>(&self, message: impl Into<String>) -> R<T> {
        Err(ParseFail {
            line: self.last_line,
            message: message.into(),
        })
    }

    fn pos(&self, offset: usize) -> Pos {
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts.get(line.saturating_sub(1)).copied().unwrap_or(0);
        Pos {
            parse_name: self.parse_name.clone(),
            line,
            col: offset - start,
        }
    }

    fn eof(&self) -> Item {
        let (pos, line) = self.items.last().map(|i| (i.pos, i.line)).unwrap_or((0, 1));
        Item {
            tok: Tok::Eof,
            pos,
            line,
            val: String::new(),
        }
    }

    fn next(&mut self) -> Item {
        let it = self.items.get(self.idx).cloned().unwrap_or_else(|| self.eof());
        if self.idx < self.items.len() {
            self.idx += 1;
        }
        self.last_line = it.line;
        it
    }

    fn backup(&mut self) {
        self.idx = self.idx.saturating_sub(1);
    }

    fn peek(&self) -> Item {
        self.items.get(self.idx).cloned().unwrap_or_else(|| self.eof())
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let it = self.next();
            if it.tok != Tok::Space {
                return it;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let it = self.next_non_space();
        self.backup();
        it
    }

    fn unexpected<T>(&self, it: &Item, context: &str) -> R<T> {
        if it.tok == Tok::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != it.line {
                extra = format!(" in action started at {}:{}", self.parse_name, self.action_line);
                if it.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.fail(format!("{}{extra}", it.val));
        }
        self.fail(format!("unexpected {it} in {context}"))
    }

    fn expect(&mut self, tok: Tok, context: &str) -> R<Item> {
        let it = self.next_non_space();
        if it.tok != tok {
            return self.unexpected(&it, context);
        }
        Ok(it)
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.fail("max expression depth exceeded");
        }
        Ok(())
    }

    fn parse_top(&mut self) -> R<List> {
        let mut root = List::default();
        while self.peek().tok != Tok::Eof {
            if self.peek().tok == Tok::LeftDelim {
                let save = self.idx;
                self.next();
                if self.next_non_space().tok == Tok::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.idx = save;
            }
            match self.text_or_action()? {
                Ok(n) => root.nodes.push(n),
                Err(End::End) => return self.fail("unexpected {{end}}"),
                Err(End::Else) => return self.fail("unexpected {{else}}"),
            }
        }
        Ok(root)
    }

    fn template_name(&mut self, it: &Item, context: &str) -> R<String> {
        match it.tok {
            Tok::Str | Tok::RawStr => match super::fmt::unquote(&it.val) {
                Some(s) => Ok(s),
                None => self.fail("invalid syntax"),
            },
            _ => self.unexpected(it, context),
        }
    }

    fn parse_definition(&mut self) -> R<()> {
        let context = "define clause";
        let it = self.next_non_space();
        let name = self.template_name(&it, context)?;
        self.expect(Tok::RightDelim, context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        if let End::Else = end {
            return self.fail(format!("unexpected {{{{else}}}} in {context}"));
        }
        self.defines.push((name, list));
        Ok(())
    }

    fn item_list(&mut self) -> R<(List, End)> {
        let mut list = List::default();
        while self.peek_non_space().tok != Tok::Eof {
            match self.text_or_action()? {
                Ok(n) => list.nodes.push(n),
                Err(end) => return Ok((list, end)),
            }
        }
        self.fail("unexpected EOF")
    }

    /// A node, or the `{{end}}`/`{{else}}` that ends the current list.
    fn text_or_action(&mut self) -> R<Result<Node, End>> {
        let it = self.next_non_space();
        match it.tok {
            Tok::Text => Ok(Ok(Node::Text(it.val))),
            Tok::LeftDelim => {
                let saved = self.action_line;
                self.action_line = it.line;
                let r = self.action();
                self.action_line = saved;
                r
            }
            _ => self.unexpected(&it, "input"),
        }
    }

    fn action(&mut self) -> R<Result<Node, End>> {
        let it = self.next_non_space();
        match it.tok {
            Tok::Block => return self.block_control().map(Ok),
            Tok::Break | Tok::Continue => {
                let word = if it.tok == Tok::Break { "break" } else { "continue" };
                let n = self.next_non_space();
                if n.tok != Tok::RightDelim {
                    return self.unexpected(&n, &format!("{{{{{word}}}}}"));
                }
                if self.range_depth == 0 {
                    return self.fail(format!("{{{{{word}}}}} outside {{{{range}}}}"));
                }
                return Ok(Ok(if it.tok == Tok::Break {
                    Node::Break
                } else {
                    Node::Continue
                }));
            }
            Tok::Else => return self.else_control().map(Err),
            Tok::End => {
                self.expect(Tok::RightDelim, "end")?;
                return Ok(Err(End::End));
            }
            Tok::If => return self.branch_control(false, "if").map(|b| Ok(Node::If(b))),
            Tok::Range => return self.branch_control(true, "range").map(|b| Ok(Node::Range(b))),
            Tok::With => return self.branch_control(false, "with").map(|b| Ok(Node::With(b))),
            Tok::Template => return self.template_control().map(Ok),
            _ => {}
        }
        self.backup();
        Ok(Ok(Node::Action(self.pipeline("command", Tok::RightDelim)?)))
    }

    fn else_control(&mut self) -> R<End> {
        let it = self.peek_non_space();
        if matches!(it.tok, Tok::If | Tok::With) {
            // "{{else if ...}}" and "{{else with ...}}" open a nested branch ended by the
            // enclosing {{end}}.
            return Ok(End::Else);
        }
        self.expect(Tok::RightDelim, "else")?;
        Ok(End::Else)
    }

    fn branch_control(&mut self, is_range: bool, context: &str) -> R<Branch> {
        self.enter()?;
        let vars_mark = self.vars.len();
        let pipe = self.pipeline(context, Tok::RightDelim)?;
        if is_range {
            self.range_depth += 1;
        }
        let body = self.item_list();
        if is_range {
            self.range_depth -= 1;
        }
        let (list, end) = body?;
        let else_list = match end {
            End::End => None,
            End::Else => {
                let next = self.peek_non_space().tok;
                if !is_range && matches!(next, Tok::If | Tok::With) && {
                    // Only "if" chains with "else if", "with" with "else with".
                    (context == "if") == (next == Tok::If)
                } {
                    // Parse the chained branch as the whole else list; it consumes the {{end}}.
                    let kw = self.next_non_space();
                    let node = if kw.tok == Tok::If {
                        Node::If(self.branch_control(false, "if")?)
                    } else {
                        Node::With(self.branch_control(false, "with")?)
                    };
                    Some(List { nodes: vec![node] })
                } else {
                    let (l, end2) = self.item_list()?;
                    if let End::Else = end2 {
                        return self.fail("expected end; found {{else}}");
                    }
                    Some(l)
                }
            }
        };
        self.vars.truncate(vars_mark);
        self.depth -= 1;
        Ok(Branch { pipe, list, else_list })
    }

    fn template_control(&mut self) -> R<Node> {
        let context = "template clause";
        let it = self.next_non_space();
        let name = self.template_name(&it, context)?;
        let pipe = if self.next_non_space().tok != Tok::RightDelim {
            self.backup();
            Some(self.pipeline(context, Tok::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template(TemplateCall {
            pos: self.pos(it.pos),
            name,
            pipe,
        }))
    }

    fn block_control(&mut self) -> R<Node> {
        let context = "block clause";
        let it = self.next_non_space();
        let name = self.template_name(&it, context)?;
        let pipe = self.pipeline(context, Tok::RightDelim)?;
        self.enter()?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_range = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        self.range_depth = saved_range;
        self.depth -= 1;
        if let End::Else = end {
            return self.fail(format!("unexpected {{{{else}}}} in {context}"));
        }
        self.defines.push((name.clone(), list));
        Ok(Node::Template(TemplateCall {
            pos: self.pos(it.pos),
            name,
            pipe: Some(pipe),
        }))
    }

    fn pipeline(&mut self, context: &str, end: Tok) -> R<Pipe> {
        let first = self.peek_non_space();
        let mut pipe = Pipe {
            pos: self.pos(first.pos),
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        loop {
            let v = self.peek_non_space();
            if v.tok != Tok::Variable {
                break;
            }
            let save = self.idx;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.tok {
                Tok::Assign | Tok::Declare => {
                    pipe.is_assign = next.tok == Tok::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    break;
                }
                Tok::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().tok {
                            Tok::Variable | Tok::RightDelim | Tok::RightParen => continue,
                            _ => return self.fail("range can only initialize variables"),
                        }
                    }
                    return self.fail(format!("too many declarations in {context}"));
                }
                _ => {
                    self.idx = save;
                    break;
                }
            }
        }
        loop {
            let it = self.next_non_space();
            match it.tok {
                t if t == end => {
                    if pipe.cmds.is_empty() {
                        return self.fail(format!("missing value for {context}"));
                    }
                    for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                        if matches!(
                            c.args.first(),
                            Some(Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number(..) | Arg::Str(..))
                        ) {
                            return self.fail(format!("non executable command in pipeline stage {}", i + 1));
                        }
                    }
                    return Ok(pipe);
                }
                Tok::Bool
                | Tok::CharConst
                | Tok::Complex
                | Tok::Dot
                | Tok::Field
                | Tok::Identifier
                | Tok::Number
                | Tok::Nil
                | Tok::RawStr
                | Tok::Str
                | Tok::Variable
                | Tok::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return self.unexpected(&it, context),
            }
        }
    }

    fn command(&mut self) -> R<Command> {
        let first = self.peek_non_space();
        let mut cmd = Command {
            pos: self.pos(first.pos),
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let it = self.next();
            match it.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.backup(),
                Tok::Pipe => {}
                _ => return self.unexpected(&it, "operand"),
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.fail("empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> R<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().tok != Tok::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.pos(self.peek().pos);
        let mut fields = Vec::new();
        while self.peek().tok == Tok::Field {
            let f = self.next();
            fields.push(f.val.get(1..).unwrap_or("").to_string());
        }
        Ok(Some(match node {
            Arg::Field(_, mut idents) => {
                idents.extend(fields);
                Arg::Field(chain_pos, idents)
            }
            Arg::Variable(_, mut idents) => {
                idents.extend(fields);
                Arg::Variable(chain_pos, idents)
            }
            Arg::Bool(..) | Arg::Str(..) | Arg::Number(..) | Arg::Nil(_) | Arg::Dot(_) => {
                return self.fail(format!(
                    "unexpected . after term {}",
                    super::fmt::quote(&node.to_string())
                ));
            }
            other => Arg::Chain(chain_pos, Box::new(other), fields),
        }))
    }

    fn term(&mut self) -> R<Option<Arg>> {
        let it = self.next_non_space();
        let pos = self.pos(it.pos);
        Ok(Some(match it.tok {
            Tok::Identifier => {
                if !(self.has_func)(&it.val) {
                    return self.fail(format!("function {} not defined", super::fmt::quote(&it.val)));
                }
                Arg::Identifier(pos, it.val)
            }
            Tok::Dot => Arg::Dot(pos),
            Tok::Nil => Arg::Nil(pos),
            Tok::Variable => {
                if !self.vars.contains(&it.val) {
                    return self.fail(format!("undefined variable {}", super::fmt::quote(&it.val)));
                }
                Arg::Variable(pos, vec![it.val])
            }
            Tok::Field => Arg::Field(pos, vec![it.val.get(1..).unwrap_or("").to_string()]),
            Tok::Bool => Arg::Bool(pos, it.val == "true"),
            Tok::CharConst | Tok::Number => match super::number::number(&it.val, it.tok == Tok::CharConst) {
                Ok(n) => Arg::Number(pos, n),
                Err(m) => return self.fail(m),
            },
            Tok::Complex => return self.fail("complex numbers are not supported"),
            Tok::LeftParen => {
                self.enter()?;
                let p = self.pipeline("parenthesized pipeline", Tok::RightParen)?;
                self.depth -= 1;
                Arg::Pipe(Box::new(p))
            }
            Tok::Str | Tok::RawStr => match super::fmt::unquote(&it.val) {
                Some(s) => Arg::Str(pos, it.val, s),
                None => return self.fail("invalid syntax"),
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse("t", text, &|n| n == "f") {
            Ok(_) => "ok".into(),
            Err(e) => format!("{}: {}", e.line, e.message),
        }
    }

    #[test]
    fn go_parse_errors() {
        assert_eq!(err("{{ nofunc }}"), "1: function \"nofunc\" not defined");
        assert_eq!(err("{{ $x }}"), "1: undefined variable \"$x\"");
        assert_eq!(err("{{ end }}"), "1: unexpected {{end}}");
        assert_eq!(err("\n{{ if . }}"), "2: unexpected EOF");
        assert_eq!(err("{{ break }}"), "1: {{break}} outside {{range}}");
        assert_eq!(err("{{ . | 3 }}"), "1: non executable command in pipeline stage 2");
        assert_eq!(err("{{ }}"), "1: missing value for command");
        assert_eq!(err("{{ \"x\".y }}"), "1: unexpected . after term \"\\\"x\\\"\"");
        assert_eq!(
            err("{{ 99999999999999999999 }}"),
            "1: integer overflow: \"99999999999999999999\""
        );
        assert_eq!(err("{{ 1__0 }}"), "1: illegal number syntax: \"1__0\"");
        assert_eq!(err("{{ range $i, $v := . }}{{ $v }}{{ end }}"), "ok");
        assert_eq!(
            err("{{ if . }}{{ $x := 1 }}{{ end }}{{ $x }}"),
            "1: undefined variable \"$x\""
        );
    }

    #[test]
    fn node_text() {
        let p = parse(
            "t",
            "{{ f (f .a.b) $ | f \"x\" }}{{ if .x }}a{{ else if .y }}b{{ end }}",
            &|n| n == "f",
        )
        .map_err(|e| e.message)
        .unwrap_or_else(|e| panic!("{e}"));
        let text: Vec<String> = p.root.nodes.iter().map(|n| n.to_string()).collect();
        assert_eq!(text[0], "{{f (f .a.b) $ | f \"x\"}}");
        assert_eq!(text[1], "{{if .x}}a{{else}}{{if .y}}b{{end}}{{end}}");
    }
}
