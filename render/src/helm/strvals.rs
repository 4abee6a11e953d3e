//! Helm's `--set` language (`strvals.ParseInto`): `a.b=c,list[0]=x,tags={a,b}`, with `\`
//! escaping the next character, values typed as Helm types them (`true`/`false`/`null` in
//! any case are booleans and nil — nil deletes a chart default when the values are
//! coalesced —, an integer without a leading zero is an `int64`, everything else a string),
//! applied in place onto the values already given. Later assignments win.
//!
//! Helm's parser reads the argument left to right and stops quietly where the text runs out
//! (`a[0` or `a.` set nothing and are no error); a path through a value of another type is
//! Go's failed type assertion, which Helm reports as `unable to parse key: interface
//! conversion: ...`. Both are kept as Helm has them.

use crate::gotemplate::value::{Map, Value};

/// The largest list index `--set` accepts (Helm's own bound).
const MAX_INDEX: usize = 65_536;
/// How many `.` levels a key may nest (Helm's own bound).
const MAX_NESTED_NAMES: usize = 30;
/// How many `.` and `[i]` levels a key may nest together (Helm bounds only the names; this
/// keeps the stack small).
const MAX_NESTING: usize = 200;

/// Applies one `--set` argument (several comma-separated assignments) to `values`.
pub fn apply_set(values: &mut Map, arg: &str) -> Result<(), String> {
    let mut p = Parser {
        chars: arg.chars().collect(),
        pos: 0,
        depth: 0,
    };
    loop {
        match p.key(values, 0) {
            Ok(()) => {}
            Err(Stop::End) => return Ok(()),
            Err(Stop::Error(e)) => return Err(e),
        }
    }
}

/// Why parsing stopped: the text ran out (success, as Go's `io.EOF`), or an error.
enum Stop {
    End,
    Error(String),
}

fn err<T>(msg: String) -> Result<T, Stop> {
    Err(Stop::Error(msg))
}

/// Go's failed type assertion on a value already present.
fn conversion(found: &Value, want: &str) -> Stop {
    let found = if found.is_nil() {
        "nil".to_string()
    } else {
        found.type_name()
    };
    Stop::Error(format!(
        "unable to parse key: interface conversion: interface {{}} is {found}, not {want}"
    ))
}

const MAP_TYPE: &str = "map[string]interface {}";
const LIST_TYPE: &str = "[]interface {}";

struct Parser {
    chars: Vec<char>,
    pos: usize,
    /// `key`/`list_item` calls under way.
    depth: usize,
}

impl Parser {
    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    /// Reads up to one of `stop` (consumed, returned), a `\` taking the next character as
    /// it is. `Err` when the text ends first, with what was read.
    fn until(&mut self, stop: &[char]) -> Result<(String, char), String> {
        let mut out = String::new();
        loop {
            match self.read() {
                None => return Err(out),
                Some(c) if stop.contains(&c) => return Ok((out, c)),
                Some('\\') => match self.read() {
                    Some(n) => out.push(n),
                    None => return Err(out),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// One assignment below `data`, from its key on.
    fn key(&mut self, data: &mut Map, nested: usize) -> Result<(), Stop> {
        if self.depth >= MAX_NESTING {
            return err(format!("a key nests more than {MAX_NESTING} levels"));
        }
        self.depth += 1;
        let outcome = self.key_inner(data, nested);
        self.depth -= 1;
        outcome
    }

    fn key_inner(&mut self, data: &mut Map, nested: usize) -> Result<(), Stop> {
        let (k, last) = match self.until(&['=', '[', ',', '.']) {
            Ok(found) => found,
            Err(k) if k.is_empty() => return Err(Stop::End),
            Err(k) => return err(format!("key {k:?} has no value")),
        };
        match last {
            '[' => {
                let i = self.index()?;
                let list = match data.get(&k) {
                    None => Vec::new(),
                    Some(Value::List(l)) => l.as_ref().clone(),
                    Some(other) => return Err(conversion(other, LIST_TYPE)),
                };
                let (list, outcome) = self.list_item(list, i, nested);
                set(data, &k, Value::list(list));
                outcome
            }
            '=' => match self.value_list() {
                Ok(Some(items)) => {
                    set(data, &k, Value::list(items));
                    Ok(())
                }
                Err(Stop::End) => {
                    set(data, &k, Value::str(""));
                    Err(Stop::End)
                }
                Err(e) => Err(e),
                Ok(None) => {
                    let v = self.value();
                    set(data, &k, typed(&v));
                    Ok(())
                }
            },
            ',' => {
                set(data, &k, Value::str(""));
                err(format!("key {k:?} has no value (cannot end with ,)"))
            }
            _ => {
                let nested = nested + 1;
                if nested > MAX_NESTED_NAMES {
                    return err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAMES}"
                    ));
                }
                let mut inner = match data.get(&k) {
                    None => Map::new(),
                    Some(Value::Map(m)) => m.borrow().clone(),
                    Some(other) => return Err(conversion(other, MAP_TYPE)),
                };
                let outcome = self.key(&mut inner, nested);
                let empty = inner.is_empty();
                if !empty {
                    set(data, &k, Value::map(inner));
                }
                match outcome {
                    Ok(()) if empty => err(format!("key map {k:?} has no value")),
                    other => other,
                }
            }
        }
    }

    /// The index of `[i]`, after the `[`.
    fn index(&mut self) -> Result<i64, Stop> {
        let (digits, _) = self.until(&[']']).map_err(|_| Stop::End)?;
        parse_go_int(&digits).ok_or_else(|| {
            Stop::Error(format!(
                "error parsing index: strconv.Atoi: parsing {digits:?}: invalid syntax"
            ))
        })
    }

    /// What follows `[i]`: the list with its item `i` set, and how parsing goes on.
    fn list_item(&mut self, list: Vec<Value>, i: i64, nested: usize) -> (Vec<Value>, Result<(), Stop>) {
        if self.depth >= MAX_NESTING {
            return (list, err(format!("a key nests more than {MAX_NESTING} levels")));
        }
        self.depth += 1;
        let outcome = self.list_item_inner(list, i, nested);
        self.depth -= 1;
        outcome
    }

    fn list_item_inner(&mut self, mut list: Vec<Value>, i: i64, nested: usize) -> (Vec<Value>, Result<(), Stop>) {
        if i < 0 {
            return (list, err(format!("negative {i} index not allowed")));
        }
        let (_, last) = match self.until(&['[', '.', '=']) {
            Ok((rest, _)) | Err(rest) if !rest.is_empty() => {
                return (list, err(format!("unexpected data at end of array index: {rest:?}")));
            }
            Ok(found) => found,
            Err(_) => return (list, Err(Stop::End)),
        };
        match last {
            '=' => match self.value_list() {
                Ok(Some(items)) => set_index(list, i, Value::list(items)),
                Err(Stop::End) => set_index(list, i, Value::str("")),
                Err(e) => (list, Err(e)),
                Ok(None) => {
                    let v = self.value();
                    set_index(list, i, typed(&v))
                }
            },
            '[' => {
                let next = match self.index() {
                    Ok(n) => n,
                    Err(e) => return (list, Err(e)),
                };
                let slot = usize::try_from(i).ok().filter(|&i| i < list.len());
                let (current, shared) = match slot.and_then(|i| list.get(i)) {
                    None | Some(Value::Nil) => (Vec::new(), false),
                    Some(Value::List(l)) => (l.as_ref().clone(), true),
                    Some(other) => {
                        let e = conversion(other, LIST_TYPE);
                        return (list, Err(e));
                    }
                };
                match self.list_item(current, next, nested) {
                    (inner, Ok(())) => set_index(list, i, Value::list(inner)),
                    (inner, e) => {
                        // Go changed the list it found in place; a new one is dropped.
                        if shared {
                            list = set_index(list, i, Value::list(inner)).0;
                        }
                        (list, e)
                    }
                }
            }
            _ => {
                let slot = usize::try_from(i).ok().filter(|&i| i < list.len());
                let mut inner = match slot.and_then(|i| list.get(i)) {
                    Some(Value::Map(m)) => m.borrow().clone(),
                    _ => Map::new(),
                };
                match self.key(&mut inner, nested) {
                    Ok(()) => set_index(list, i, Value::map(inner)),
                    Err(e) => {
                        // Go put the map into an existing item before filling it.
                        if slot.is_some() {
                            list = set_index(list, i, Value::map(inner)).0;
                        }
                        (list, Err(e))
                    }
                }
            }
        }
    }

    /// A `{a,b}` list after `=`: `Ok(None)` when the value is not one (nothing consumed),
    /// `Stop::End` when the text ends right after the `=`.
    fn value_list(&mut self) -> Result<Option<Vec<Value>>, Stop> {
        match self.read() {
            None => return Err(Stop::End),
            Some('{') => {}
            Some(_) => {
                self.unread();
                return Ok(None);
            }
        }
        let mut items = Vec::new();
        loop {
            match self.until(&[',', '}']) {
                Err(_) => return err("list must terminate with '}'".into()),
                Ok((item, '}')) => {
                    if let Some(c) = self.read()
                        && c != ','
                    {
                        self.unread();
                    }
                    items.push(typed(&item));
                    return Ok(Some(items));
                }
                Ok((item, _)) => items.push(typed(&item)),
            }
        }
    }

    /// A plain value after `=`, up to the next `,` or the end.
    fn value(&mut self) -> String {
        match self.until(&[',']) {
            Ok((v, _)) | Err(v) => v,
        }
    }
}

/// Go's `data[key] = val`, except that an empty key sets nothing (as Helm).
fn set(data: &mut Map, key: &str, v: Value) {
    if !key.is_empty() {
        data.insert(key.to_string(), v);
    }
}

/// Sets item `i` of `list`, growing it with nils.
fn set_index(mut list: Vec<Value>, i: i64, v: Value) -> (Vec<Value>, Result<(), Stop>) {
    let Ok(index) = usize::try_from(i) else {
        return (list, err(format!("negative {i} index not allowed")));
    };
    if index > MAX_INDEX {
        return (
            list,
            err(format!(
                "index of {index} is greater than maximum supported index of {MAX_INDEX}"
            )),
        );
    }
    if list.len() <= index {
        list.resize(index + 1, Value::Nil);
    }
    if let Some(slot) = list.get_mut(index) {
        *slot = v;
    }
    (list, Ok(()))
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits, in range.
fn parse_go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Helm's typing of a `--set` value.
fn typed(s: &str) -> Value {
    if s.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if s.eq_ignore_ascii_case("null") {
        return Value::Nil;
    }
    if s == "0" {
        return Value::Int64(0);
    }
    // As Helm: only a leading `0` keeps digits a string (`007`), so `-05` is -5.
    if !s.starts_with('0')
        && let Some(i) = parse_go_int(s)
    {
        return Value::Int64(i);
    }
    Value::str(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goyaml::to_json;

    fn set(args: &[&str]) -> String {
        let mut m = Map::new();
        for a in args {
            apply_set(&mut m, a).unwrap();
        }
        to_json(&Value::map(m)).unwrap()
    }

    fn fails(arg: &str) -> String {
        apply_set(&mut Map::new(), arg).unwrap_err()
    }

    // Expected outputs are helm_python.parse_set_string's (Helm v4.2.3).
    #[test]
    fn assignments_as_helm_types_them() {
        assert_eq!(
            set(&["a.b=c,n=5,z=0,lead=007,f=1.5,t=true,nil=null,e=,m=-05,big=99999999999999999999"]),
            r#"{"a":{"b":"c"},"big":"99999999999999999999","e":"","f":"1.5","lead":"007","m":-5,"n":5,"nil":null,"t":true,"z":0}"#
        );
        assert_eq!(set(&["l[1]=x,l[0].k=v"]), r#"{"l":[{"k":"v"},"x"]}"#);
        assert_eq!(set(&["tags={a,b,3}"]), r#"{"tags":["a","b",3]}"#);
        assert_eq!(set(&[r"a\.b=c\,d"]), r#"{"a.b":"c,d"}"#);
        assert_eq!(set(&["a.b=1", "a.c=2", "a.b=3"]), r#"{"a":{"b":3,"c":2}}"#);
        assert_eq!(set(&["c=TRUE,d=yes,e=Null"]), r#"{"c":true,"d":"yes","e":null}"#);
    }

    #[test]
    fn where_helm_stops_quietly() {
        assert_eq!(set(&["=a"]), "{}");
        assert_eq!(set(&[".a=1"]), "{}");
        assert_eq!(set(&["a[0=1"]), "{}");
        assert_eq!(set(&["a.b=1,a.=2"]), r#"{"a":{"b":1}}"#);
        assert_eq!(set(&["a={}"]), r#"{"a":[""]}"#);
        assert_eq!(set(&["l[0]=0x1,l[0].k="]), r#"{"l":[{"k":""}]}"#);
        assert_eq!(set(&["l[0][0]=a,l[0][0].k="]), r#"{"l":[[{"k":""}]]}"#);
    }

    #[test]
    fn bad_input_is_helms_error() {
        assert_eq!(fails("novalue"), r#"key "novalue" has no value"#);
        assert_eq!(fails(",,a=1"), r#"key "" has no value (cannot end with ,)"#);
        assert_eq!(fails("a..b=1"), r#"key map "a" has no value"#);
        assert_eq!(fails("a={x"), "list must terminate with '}'");
        assert_eq!(
            fails("a=1,a.b=2"),
            "unable to parse key: interface conversion: interface {} is int64, not map[string]interface {}"
        );
        assert_eq!(
            fails("a=null,a.b=1"),
            "unable to parse key: interface conversion: interface {} is nil, not map[string]interface {}"
        );
        assert!(fails("l[x]=1").contains("invalid syntax"));
        assert!(fails("l[99999999]=1").contains("maximum supported index"));
        assert!(fails(&format!("{}=1", "a.".repeat(200))).contains("maximum supported nested level"));
        assert!(fails(&format!("a{}=1", "[0]".repeat(5000))).contains("nests more than"));
        assert!(fails(&format!("a{}=1", "[0].b".repeat(5000))).contains("nests more than"));
    }
}
