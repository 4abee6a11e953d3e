//! `Chart.yaml` (and a v1 chart's `requirements.yaml`): the chart's metadata and its declared
//! dependencies, read as Helm reads them (sigs.k8s.io/yaml into Go structs: unknown keys are
//! ignored, a number or boolean where a string belongs becomes its text), and the map with Go
//! field names that templates see as `.Chart`.

use std::collections::BTreeMap;

use crate::gotemplate::value::{Map, Value};

/// A maintainer listed in `Chart.yaml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Maintainer {
    /// `name`.
    pub name: String,
    /// `email`.
    pub email: String,
    /// `url`.
    pub url: String,
}

/// One entry of `dependencies:`.
#[derive(Clone, Default)]
pub struct Dependency {
    /// `name`: the subchart's name (after processing, its alias if it has one).
    pub name: String,
    /// `version`: a semver constraint the subchart's version must meet.
    pub version: String,
    /// `repository`.
    pub repository: String,
    /// `condition`: comma-separated values paths; the first that is a boolean decides.
    pub condition: String,
    /// `tags`.
    pub tags: Vec<String>,
    /// `enabled`.
    pub enabled: bool,
    /// `import-values`: strings (`exports.` tables) or `{child, parent}` maps.
    pub import_values: Vec<Value>,
    /// `alias`.
    pub alias: String,
}

/// `Chart.yaml`.
#[derive(Clone, Default)]
pub struct Metadata {
    /// `name`.
    pub name: String,
    /// `home`.
    pub home: String,
    /// `sources`.
    pub sources: Vec<String>,
    /// `version`.
    pub version: String,
    /// `description`.
    pub description: String,
    /// `keywords`.
    pub keywords: Vec<String>,
    /// `maintainers`.
    pub maintainers: Vec<Maintainer>,
    /// `icon`.
    pub icon: String,
    /// `apiVersion` (`v1` when absent).
    pub api_version: String,
    /// `condition`.
    pub condition: String,
    /// `tags`.
    pub tags: String,
    /// `appVersion`.
    pub app_version: String,
    /// `deprecated`.
    pub deprecated: bool,
    /// `annotations`.
    pub annotations: BTreeMap<String, String>,
    /// `kubeVersion`.
    pub kube_version: String,
    /// `dependencies` (v2) or `requirements.yaml`'s (v1).
    pub dependencies: Vec<Dependency>,
    /// `type`: `application`, `library` or empty.
    pub chart_type: String,
}

/// What is wrong with a `Chart.yaml`, in Go's words where Go has them.
type Result<T> = std::result::Result<T, String>;

/// sigs.k8s.io/yaml's text for a scalar decoded where a string belongs.
fn scalar_text(v: &Value, field: &str) -> Result<String> {
    Ok(match v {
        Value::Nil => String::new(),
        Value::Str(s) => s.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) | Value::Int64(i) => i.to_string(),
        Value::Float(f) => float_text(*f),
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go struct field {field} of type string",
                json_kind(other)
            ));
        }
    })
}

/// A YAML number where a string belongs: integers as integers, other numbers with the
/// shortest float32 digits, as sigs.k8s.io/yaml converts them.
fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.0e18 {
        return format!("{}", f as i64);
    }
    let single = f as f32;
    if !single.is_finite() {
        return crate::gotemplate::value::format_float_g(f);
    }
    // Rust prints the shortest digits that read back as the same f32.
    let e = format!("{single:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if mantissa.starts_with('-') { "-" } else { "" };
    if !(-4..21).contains(&exp) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    format!("{sign}{}", format!("{single}").trim_start_matches('-'))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "array",
        Value::Map(_) | Value::Object(_) => "object",
        Value::Bool(_) => "bool",
        Value::Str(_) | Value::Bytes(_) => "string",
        _ => "number",
    }
}

fn string_list(v: &Value, field: &str) -> Result<Vec<String>> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::List(items) => items.iter().map(|i| scalar_text(i, field)).collect(),
        other => Err(format!(
            "json: cannot unmarshal {} into Go struct field {field} of type []string",
            json_kind(other)
        )),
    }
}

fn boolean(v: &Value, field: &str) -> Result<bool> {
    match v {
        Value::Nil => Ok(false),
        Value::Bool(b) => Ok(*b),
        other => Err(format!(
            "json: cannot unmarshal {} into Go struct field {field} of type bool",
            json_kind(other)
        )),
    }
}

fn table(v: &Value, what: &str) -> Result<Map> {
    match v {
        Value::Nil => Ok(Map::new()),
        Value::Map(m) => Ok(m.borrow().clone()),
        other => Err(format!(
            "json: cannot unmarshal {} into Go value of type {what}",
            json_kind(other)
        )),
    }
}

fn text(m: &Map, key: &str, field: &str) -> Result<String> {
    m.get(key).map_or(Ok(String::new()), |v| scalar_text(v, field))
}

impl Dependency {
    fn from_value(v: &Value) -> Result<Dependency> {
        let m = table(v, "chart.Dependency")?;
        let import_values = match m.get("import-values") {
            None | Some(Value::Nil) => Vec::new(),
            Some(Value::List(l)) => l.iter().cloned().collect(),
            Some(other) => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go struct field Dependency.import-values of type []interface {{}}",
                    json_kind(other)
                ));
            }
        };
        Ok(Dependency {
            name: text(&m, "name", "Dependency.name")?,
            version: text(&m, "version", "Dependency.version")?,
            repository: text(&m, "repository", "Dependency.repository")?,
            condition: text(&m, "condition", "Dependency.condition")?,
            tags: string_list(m.get("tags").unwrap_or(&Value::Nil), "Dependency.tags")?,
            enabled: boolean(m.get("enabled").unwrap_or(&Value::Nil), "Dependency.enabled")?,
            import_values,
            alias: text(&m, "alias", "Dependency.alias")?,
        })
    }

    /// The map with Go field names `.Chart.Dependencies` holds.
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("Name".into(), Value::str(&self.name));
        m.insert("Version".into(), Value::str(&self.version));
        m.insert("Repository".into(), Value::str(&self.repository));
        m.insert("Condition".into(), Value::str(&self.condition));
        m.insert("Tags".into(), str_list(&self.tags));
        m.insert("Enabled".into(), Value::Bool(self.enabled));
        m.insert("ImportValues".into(), Value::list(self.import_values.clone()));
        m.insert("Alias".into(), Value::str(&self.alias));
        Value::map(m)
    }
}

fn str_list(items: &[String]) -> Value {
    Value::list(items.iter().map(Value::str).collect())
}

/// The `dependencies:` list of a decoded `Chart.yaml` or `requirements.yaml`.
pub(crate) fn dependencies_from(doc: &Value) -> Result<Vec<Dependency>> {
    let m = table(doc, "chart.Metadata")?;
    match m.get("dependencies") {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(Value::List(l)) => l.iter().map(Dependency::from_value).collect(),
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go struct field Metadata.dependencies of type []*v2.Dependency",
            json_kind(other)
        )),
    }
}

impl Metadata {
    /// The metadata of a decoded `Chart.yaml`.
    pub(crate) fn from_value(doc: &Value) -> Result<Metadata> {
        let m = table(doc, "chart.Metadata")?;
        let maintainers = match m.get("maintainers") {
            None | Some(Value::Nil) => Vec::new(),
            Some(Value::List(l)) => l
                .iter()
                .map(|v| {
                    if v.is_nil() {
                        return Err("maintainers must not contain empty or null nodes".to_string());
                    }
                    let mm = table(v, "chart.Maintainer")?;
                    Ok(Maintainer {
                        name: text(&mm, "name", "Maintainer.name")?,
                        email: text(&mm, "email", "Maintainer.email")?,
                        url: text(&mm, "url", "Maintainer.url")?,
                    })
                })
                .collect::<Result<_>>()?,
            Some(other) => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go struct field Metadata.maintainers of type []*v2.Maintainer",
                    json_kind(other)
                ));
            }
        };
        let mut annotations = BTreeMap::new();
        for (k, v) in table(m.get("annotations").unwrap_or(&Value::Nil), "map[string]string")? {
            annotations.insert(k, scalar_text(&v, "Metadata.annotations")?);
        }
        let mut api_version = text(&m, "apiVersion", "Metadata.apiVersion")?;
        if api_version.is_empty() {
            api_version = "v1".into();
        }
        Ok(Metadata {
            name: text(&m, "name", "Metadata.name")?,
            home: text(&m, "home", "Metadata.home")?,
            sources: string_list(m.get("sources").unwrap_or(&Value::Nil), "Metadata.sources")?,
            version: text(&m, "version", "Metadata.version")?,
            description: text(&m, "description", "Metadata.description")?,
            keywords: string_list(m.get("keywords").unwrap_or(&Value::Nil), "Metadata.keywords")?,
            maintainers,
            icon: text(&m, "icon", "Metadata.icon")?,
            api_version,
            condition: text(&m, "condition", "Metadata.condition")?,
            tags: text(&m, "tags", "Metadata.tags")?,
            app_version: text(&m, "appVersion", "Metadata.appVersion")?,
            deprecated: boolean(m.get("deprecated").unwrap_or(&Value::Nil), "Metadata.deprecated")?,
            annotations,
            kube_version: text(&m, "kubeVersion", "Metadata.kubeVersion")?,
            dependencies: dependencies_from(doc)?,
            chart_type: text(&m, "type", "Metadata.type")?,
        })
    }

    /// Helm's checks of the metadata (`chart.metadata.name is required`, ...), after
    /// replacing whitespace by spaces and dropping unprintable characters as Helm does.
    pub(crate) fn validate(&mut self) -> Result<()> {
        for s in [
            &mut self.name,
            &mut self.description,
            &mut self.home,
            &mut self.icon,
            &mut self.condition,
            &mut self.tags,
            &mut self.app_version,
            &mut self.kube_version,
        ] {
            *s = sanitize(s);
        }
        for s in self.sources.iter_mut().chain(self.keywords.iter_mut()) {
            *s = sanitize(s);
        }
        for m in &mut self.maintainers {
            m.name = sanitize(&m.name);
            m.email = sanitize(&m.email);
            m.url = sanitize(&m.url);
        }
        if self.api_version.is_empty() {
            return Err("validation: chart.metadata.apiVersion is required".into());
        }
        if self.name.is_empty() {
            return Err("validation: chart.metadata.name is required".into());
        }
        if self.name == "." || self.name == ".." {
            return Err(format!(
                "validation: chart.metadata.name {:?} is not allowed",
                self.name
            ));
        }
        if self.name.contains('/') {
            return Err(format!("validation: chart.metadata.name {:?} is invalid", self.name));
        }
        if self.version.is_empty() {
            return Err("validation: chart.metadata.version is required".into());
        }
        if !super::semver::is_version(&self.version) {
            return Err(format!(
                "validation: chart.metadata.version {:?} is invalid",
                self.version
            ));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return Err("validation: chart.metadata.type must be application or library".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for d in &mut self.dependencies {
            d.name = sanitize(&d.name);
            d.version = sanitize(&d.version);
            d.repository = sanitize(&d.repository);
            d.condition = sanitize(&d.condition);
            for t in &mut d.tags {
                *t = sanitize(t);
            }
            if !d.alias.is_empty()
                && !d
                    .alias
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(format!(
                    "validation: dependency {:?} has disallowed characters in the alias",
                    d.name
                ));
            }
            let key = if d.alias.is_empty() { &d.name } else { &d.alias };
            if !seen.insert(key.clone()) {
                return Err(format!(
                    "validation: more than one dependency with name or alias {key:?}"
                ));
            }
        }
        Ok(())
    }

    /// Whether this is a library chart (templates shared, never rendered).
    pub fn is_library(&self) -> bool {
        self.chart_type.eq_ignore_ascii_case("library")
    }

    /// The map templates see as `.Chart`: every field under its Go name, plus `IsRoot`.
    pub(crate) fn to_value(&self, is_root: bool) -> Value {
        let mut m = Map::new();
        m.insert("Name".into(), Value::str(&self.name));
        m.insert("Home".into(), Value::str(&self.home));
        m.insert("Sources".into(), str_list(&self.sources));
        m.insert("Version".into(), Value::str(&self.version));
        m.insert("Description".into(), Value::str(&self.description));
        m.insert("Keywords".into(), str_list(&self.keywords));
        let maintainers = self
            .maintainers
            .iter()
            .map(|mt| {
                let mut mm = Map::new();
                mm.insert("Name".into(), Value::str(&mt.name));
                mm.insert("Email".into(), Value::str(&mt.email));
                mm.insert("URL".into(), Value::str(&mt.url));
                Value::map(mm)
            })
            .collect();
        m.insert("Maintainers".into(), Value::list(maintainers));
        m.insert("Icon".into(), Value::str(&self.icon));
        m.insert("APIVersion".into(), Value::str(&self.api_version));
        m.insert("Condition".into(), Value::str(&self.condition));
        m.insert("Tags".into(), Value::str(&self.tags));
        m.insert("AppVersion".into(), Value::str(&self.app_version));
        m.insert("Deprecated".into(), Value::Bool(self.deprecated));
        let annotations = self
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), Value::str(v)))
            .collect();
        m.insert("Annotations".into(), Value::map(annotations));
        m.insert("KubeVersion".into(), Value::str(&self.kube_version));
        let deps = self.dependencies.iter().map(Dependency::to_value).collect();
        m.insert("Dependencies".into(), Value::list(deps));
        m.insert("Type".into(), Value::str(&self.chart_type));
        m.insert("IsRoot".into(), Value::Bool(is_root));
        Value::map(m)
    }
}

/// Whitespace becomes a space, unprintable characters are dropped.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_where_strings_belong() {
        assert_eq!(float_text(1.1), "1.1");
        assert_eq!(float_text(3.0), "3");
        assert_eq!(float_text(0.25), "0.25");
    }
}
