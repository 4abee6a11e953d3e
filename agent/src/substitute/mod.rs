//! Post-build variable substitution, as Flux's `spec.postBuild`: after the render (SOPS files
//! already decrypted), each object's YAML text is expanded with the variables (`expand`) and
//! read back, so `replicas: ${replicas}` becomes a number. Objects labelled or annotated
//! `sigil.dev/substitute: disabled` are left alone; with no variables at all nothing runs
//! (Flux's default strategy). Values coming from Secrets are secrets: kept in zeroizing
//! buffers and never part of an error message.

pub mod expand;

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use crate::object::Object;

/// The label or annotation that opts an object out.
pub const DISABLED_KEY: &str = "sigil.dev/substitute";
/// Its value.
pub const DISABLED: &str = "disabled";
/// What a variable name must match (Flux's rule).
pub const NAME_RULE: &str = "^[_[:alpha:]][_[:alpha:][:digit:]]*$";

/// Why substitution failed; names objects and variables, never values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubstituteError {
    /// A variable name breaks [`NAME_RULE`].
    #[error("'{0}' var name is invalid, must match '{NAME_RULE}'")]
    InvalidName(String),
    /// Expansion failed in an object.
    #[error("post build substitution failed for {object}: {source}")]
    Expand {
        /// `Kind ns/name`.
        object: String,
        /// Why.
        #[source]
        source: expand::ExpandError,
    },
    /// The expanded text is not one YAML object.
    #[error("post build substitution failed for {object}: the result is not a single YAML object ({reason})")]
    NotAnObject {
        /// `Kind ns/name`.
        object: String,
        /// Why (no text of the object).
        reason: String,
    },
}

/// The variables of a Sync, in the order Flux merges them: `substituteFrom` entries in list
/// order (later ones win), then the inline `substitute` over all of them.
#[derive(Default)]
pub struct Vars {
    values: BTreeMap<String, Zeroizing<String>>,
}

impl Vars {
    /// No variables.
    pub fn new() -> Self {
        Vars::default()
    }

    /// Sets `name` (overriding an earlier value); newlines are removed from the value, as
    /// Flux does.
    pub fn set(&mut self, name: &str, value: &str) {
        let v = Zeroizing::new(value.replace('\n', ""));
        self.values.insert(name.to_string(), v);
    }

    /// Whether there is none (then substitution does not run).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|v| v.as_str())
    }

    fn check_names(&self) -> Result<(), SubstituteError> {
        for k in self.values.keys() {
            let mut chars = k.chars();
            let ok = chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                && chars.all(|c| c == '_' || c.is_ascii_alphanumeric());
            if !ok {
                return Err(SubstituteError::InvalidName(k.clone()));
            }
        }
        Ok(())
    }
}

fn opted_out(o: &Object) -> bool {
    ["labels", "annotations"].iter().any(|f| {
        o.0.get("metadata")
            .and_then(|m| m.get(*f))
            .and_then(|m| m.get(DISABLED_KEY))
            .and_then(|v| v.as_str())
            == Some(DISABLED)
    })
}

/// Substitutes `vars` into every object that has not opted out.
pub fn substitute(objects: Vec<Object>, vars: &Vars) -> Result<Vec<Object>, SubstituteError> {
    if vars.is_empty() {
        return Ok(objects);
    }
    vars.check_names()?;
    let lookup = |k: &str| vars.get(k);
    let mut out = Vec::with_capacity(objects.len());
    for o in objects {
        if opted_out(&o) {
            out.push(o);
            continue;
        }
        let text = Zeroizing::new(sigil_crds::manifest::to_yaml(std::slice::from_ref(&o.0)));
        let expanded =
            expand::expand(&text, &lookup).map_err(|source| SubstituteError::Expand { object: o.id(), source })?;
        let not_object = |reason: &str| SubstituteError::NotAnObject {
            object: o.id(),
            reason: reason.to_string(),
        };
        let mut docs = sigil_crds::manifest::load(expanded.as_bytes()).map_err(|_| not_object("invalid YAML"))?;
        if docs.len() != 1 || !docs[0].is_object() {
            return Err(not_object(&format!("{} documents", docs.len())));
        }
        out.push(Object(docs.remove(0)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(yaml: &str) -> Object {
        Object(sigil_crds::manifest::load(yaml.as_bytes()).unwrap().remove(0))
    }

    #[test]
    fn values_keep_their_yaml_types_and_opted_out_objects_are_left() {
        let mut vars = Vars::new();
        vars.set("replicas", "3");
        vars.set("env", "prod\n");
        let d = obj(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-${env}\nspec:\n  replicas: ${replicas}\n  paused: ${paused:=false}\n",
        );
        let kept = obj(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\n  annotations:\n    sigil.dev/substitute: disabled\ndata:\n  x: ${nope}\n",
        );
        let out = substitute(vec![d, kept], &vars).unwrap();
        assert_eq!(out[0].name(), "web-prod");
        assert_eq!(out[0].0["spec"]["replicas"], 3);
        assert_eq!(out[0].0["spec"]["paused"], false);
        assert_eq!(out[1].0["data"]["x"], "${nope}");
    }

    #[test]
    fn errors_name_the_object_and_variable_never_a_value() {
        let mut vars = Vars::new();
        vars.set("password", "Hunter2-Secret");
        let o = obj(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: apps\ndata:\n  a: ${password}\n  b: ${missing}\n",
        );
        let e = substitute(vec![o], &vars).unwrap_err().to_string();
        assert_eq!(
            e,
            "post build substitution failed for ConfigMap apps/c: variable not set (strict mode): \"missing\""
        );
        let mut bad = Vars::new();
        bad.set("my-key", "v");
        let o = obj("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
        assert!(
            substitute(vec![o], &bad)
                .unwrap_err()
                .to_string()
                .starts_with("'my-key' var name is invalid")
        );
        let mut breaks = Vars::new();
        breaks.set("x", "a: [Hunter2-Secret");
        let o = obj("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  k: ${x}\n");
        let e = substitute(vec![o], &breaks).unwrap_err().to_string();
        assert!(e.contains("ConfigMap c") && !e.contains("Hunter2"), "{e}");
    }

    #[test]
    fn no_variables_no_substitution() {
        let o = obj("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: ${x}\n  b: $$\n");
        let out = substitute(vec![o], &Vars::new()).unwrap();
        assert_eq!(out[0].0["data"]["a"], "${x}");
        assert_eq!(out[0].0["data"]["b"], "$$");
    }
}
