//! `.Capabilities`: the Kubernetes and Helm versions and the API group/versions a chart may
//! test for. The defaults are what Helm v4.2 assumes offline (`helm template`).

use std::rc::Rc;

use crate::gotemplate::value::{Object, Value};

/// The group/versions Helm v4.2 (client-go v0.36) knows without a cluster.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha2",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// What `.Capabilities` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// The cluster's version as given (`v1.36.0`, `v1.33.4-gke.1245000`).
    pub kube_version: String,
    /// Its major version (`1`).
    pub kube_major: String,
    /// Its minor version (`36`).
    pub kube_minor: String,
    /// The API group/versions (`apps/v1`) the cluster serves.
    pub api_versions: Vec<String>,
    /// Helm's version (`v4.2`).
    pub helm_version: String,
    /// The Go version Helm was built with.
    pub go_version: String,
    /// The client-go version Helm was built with (`v1.36`).
    pub kube_client_version: String,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            kube_version: "v1.36.0".into(),
            kube_major: "1".into(),
            kube_minor: "36".into(),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
            helm_version: "v4.2".into(),
            go_version: "go1.26.6".into(),
            kube_client_version: "v1.36".into(),
        }
    }
}

impl Capabilities {
    /// The object templates see.
    pub(crate) fn to_value(&self) -> Value {
        Value::Object(Rc::new(CapsObject(Rc::new(self.clone()))))
    }
}

struct CapsObject(Rc<Capabilities>);
struct KubeVersionObject(Rc<Capabilities>);
struct VersionSetObject(Rc<Capabilities>);
struct BuildInfoObject(Rc<Capabilities>);

impl Object for CapsObject {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }
    fn field(&self, name: &str) -> Option<Value> {
        let c = self.0.clone();
        Some(match name {
            "KubeVersion" => Value::Object(Rc::new(KubeVersionObject(c))),
            "APIVersions" => Value::Object(Rc::new(VersionSetObject(c))),
            "HelmVersion" => Value::Object(Rc::new(BuildInfoObject(c))),
            _ => return None,
        })
    }
    fn format_v(&self) -> String {
        format!(
            "&{{{} {} {}}}",
            kube_struct(&self.0),
            VersionSetObject(self.0.clone()).format_v(),
            BuildInfoObject(self.0.clone()).format_v()
        )
    }
}

fn kube_struct(c: &Capabilities) -> String {
    format!(
        "{{{} {} {} {}}}",
        c.kube_version, c.kube_version, c.kube_major, c.kube_minor
    )
}

impl Object for KubeVersionObject {
    fn type_name(&self) -> &str {
        "common.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(Value::str(match name {
            "Version" | "GitVersion" | "String" => &self.0.kube_version,
            "Major" => &self.0.kube_major,
            "Minor" => &self.0.kube_minor,
            _ => return None,
        }))
    }
    /// `String` has a pointer receiver: an action printing the (addressable) field calls it.
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match (name, args) {
            ("String", []) => Some(Ok(Value::str(&self.0.kube_version))),
            _ => None,
        }
    }
    /// The struct: a copy handed to a function (`quote`, `printf`) is no `fmt.Stringer`.
    fn format_v(&self) -> String {
        kube_struct(&self.0)
    }
}

impl Object for VersionSetObject {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if name != "Has" {
            return None;
        }
        Some(match args {
            [Value::Str(s)] => Ok(Value::Bool(self.0.api_versions.iter().any(|v| v == s.as_str()))),
            [other] => Err(format!(
                "wrong type for value; expected string; got {}",
                other.type_name()
            )),
            _ => Err(format!("wrong number of args for Has: want 1 got {}", args.len())),
        })
    }
    /// A `[]string`.
    fn elements(&self) -> Option<Value> {
        Some(Value::list(self.0.api_versions.iter().map(Value::str).collect()))
    }
    fn format_v(&self) -> String {
        format!("[{}]", self.0.api_versions.join(" "))
    }
}

impl Object for BuildInfoObject {
    fn type_name(&self) -> &str {
        "version.BuildInfo"
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(Value::str(match name {
            "Version" => &self.0.helm_version,
            "GitCommit" | "GitTreeState" => "",
            "GoVersion" => &self.0.go_version,
            "KubeClientVersion" => &self.0.kube_client_version,
            _ => return None,
        }))
    }
    fn format_v(&self) -> String {
        format!(
            "{{{}   {} {}}}",
            self.0.helm_version, self.0.go_version, self.0.kube_client_version
        )
    }
}
