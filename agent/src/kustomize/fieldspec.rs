//! Field specs: "the field at this path, in resources of this type". Transformers (labels,
//! namespace, images, name references, ...) find the fields they touch through them;
//! kustomize's built-in defaults are below, and a kustomization's `configurations` add more.

use serde_json::Value;

use super::KustomizeError;
use super::resource::Gvk;

/// A field in resources of a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// Which types (empty parts match anything).
    pub gvk: Gvk,
    /// `/`-separated path (`\/` escapes a slash inside a key); sequences are walked through.
    pub path: String,
    /// Whether a missing field is created.
    pub create: bool,
}

impl FieldSpec {
    fn new(group: &str, version: &str, kind: &str, path: &str, create: bool) -> FieldSpec {
        FieldSpec {
            gvk: Gvk {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
            },
            path: path.into(),
            create,
        }
    }

    /// Parses a field spec from configuration (`group`, `version`, `kind`, `path`, `create`).
    pub fn from_json(v: &Value) -> Result<FieldSpec, KustomizeError> {
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let path = s("path");
        if path.is_empty() {
            return Err(KustomizeError::msg("fieldSpec without a path".to_string()));
        }
        Ok(FieldSpec {
            gvk: Gvk {
                group: s("group"),
                version: s("version"),
                kind: s("kind"),
            },
            path,
            create: v.get("create").and_then(|x| x.as_bool()).unwrap_or(false),
        })
    }

    /// The path split into keys.
    pub fn segments(&self) -> Vec<String> {
        split_path(&self.path)
    }
}

/// Splits a `/`-separated path, honouring `\/` escapes.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                cur.push('/');
                chars.next();
            }
            '/' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// Adds `more` to `fs`, skipping exact duplicates.
pub fn merge_all(fs: &mut Vec<FieldSpec>, more: &[FieldSpec]) {
    for m in more {
        if !fs.contains(m) {
            fs.push(m.clone());
        }
    }
}

/// What to create at a missing leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// A mapping (labels, annotations).
    Map,
    /// A scalar.
    Scalar,
}

/// Applies `set` to the field at `path` under `v`, walking through sequences, creating
/// missing fields when `create` says so.
pub fn apply(
    v: &mut Value,
    path: &[String],
    create: Option<Create>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), KustomizeError>,
) -> Result<(), KustomizeError> {
    if path.is_empty() {
        return set(v);
    }
    match v {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for it in items {
                apply(it, path, create, set)?;
            }
            Ok(())
        }
        Value::Object(m) => {
            let (key, is_seq) = match path[0].strip_suffix("[]") {
                Some(k) => (k, true),
                None => (path[0].as_str(), false),
            };
            let last = path.len() == 1;
            if !m.contains_key(key) {
                match create {
                    Some(_) if is_seq => return Ok(()),
                    Some(kind) if last => {
                        m.insert(
                            key.to_string(),
                            match kind {
                                Create::Map => Value::Object(serde_json::Map::new()),
                                Create::Scalar => Value::Null,
                            },
                        );
                    }
                    Some(_) => {
                        m.insert(key.to_string(), Value::Object(serde_json::Map::new()));
                    }
                    None => return Ok(()),
                }
            }
            let child = m.get_mut(key).expect("present");
            if child.is_null() {
                // A null field takes the kind expected of it (as kustomize does).
                match create {
                    _ if is_seq => *child = Value::Array(Vec::new()),
                    Some(Create::Map) if last => *child = Value::Object(serde_json::Map::new()),
                    Some(_) if !last => *child = Value::Object(serde_json::Map::new()),
                    _ => {}
                }
            }
            apply(child, &path[1..], create, set)
        }
        _ => Err(KustomizeError::msg(format!(
            "expected sequence or mapping node at '{}'",
            path[0]
        ))),
    }
}

/// Applies `set` at every field spec matching `gvk`.
pub fn apply_all(
    v: &mut Value,
    gvk: &Gvk,
    specs: &[FieldSpec],
    create_kind: Option<Create>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), KustomizeError>,
) -> Result<(), KustomizeError> {
    for fs in specs {
        if gvk.selected_by(&fs.gvk) {
            let segs = fs.segments();
            apply(v, &segs, create_kind.filter(|_| fs.create), set)
                .map_err(|e| e.context(format!("considering field '{}' of object {}", fs.path, gvk.display())))?;
        }
    }
    Ok(())
}

/// The transformer configuration: field specs per transformer.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `namePrefix`.
    pub name_prefix: Vec<FieldSpec>,
    /// `nameSuffix`.
    pub name_suffix: Vec<FieldSpec>,
    /// `namespace`.
    pub namespace: Vec<FieldSpec>,
    /// `commonLabels` (selectors included).
    pub common_labels: Vec<FieldSpec>,
    /// `labels` with `includeTemplates`.
    pub template_labels: Vec<FieldSpec>,
    /// Extra `labels` specs from configurations.
    pub labels: Vec<FieldSpec>,
    /// `commonAnnotations`.
    pub common_annotations: Vec<FieldSpec>,
    /// `images`.
    pub images: Vec<FieldSpec>,
    /// `replicas`.
    pub replicas: Vec<FieldSpec>,
    /// `nameReference`: target type and its referrer fields.
    pub name_reference: Vec<(Gvk, Vec<FieldSpec>)>,
    /// `varReference`.
    pub var_reference: Vec<FieldSpec>,
}

fn parse_table(table: &str) -> Vec<FieldSpec> {
    table
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.split_whitespace();
            let gvk = parts.next().unwrap_or("");
            let path = parts.next().unwrap_or("");
            let create = parts.next() == Some("+");
            let mut g = gvk.split('/');
            let (group, version, kind) = (g.next().unwrap_or(""), g.next().unwrap_or(""), g.next().unwrap_or(""));
            FieldSpec::new(group, version, kind, path, create)
        })
        .collect()
}

// Tables: `group/version/kind path [+]` (`+` = create when missing).
const METADATA_LABELS: &str = "
//  metadata/labels +
/v1/ReplicationController spec/template/metadata/labels +
//Deployment spec/template/metadata/labels +
//ReplicaSet spec/template/metadata/labels +
//DaemonSet spec/template/metadata/labels +
apps//StatefulSet spec/template/metadata/labels +
batch//Job spec/template/metadata/labels +
batch//CronJob spec/jobTemplate/metadata/labels +
batch//CronJob spec/jobTemplate/spec/template/metadata/labels +
apps//StatefulSet spec/volumeClaimTemplates[]/metadata/labels +
";

const SELECTORS: &str = "
/v1/Service spec/selector +
/v1/ReplicationController spec/selector +
//Deployment spec/selector/matchLabels +
apps//Deployment spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
apps//Deployment spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
apps//Deployment spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
apps//Deployment spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
apps//Deployment spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels
//ReplicaSet spec/selector/matchLabels +
//DaemonSet spec/selector/matchLabels +
apps//StatefulSet spec/selector/matchLabels +
apps//StatefulSet spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
apps//StatefulSet spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
apps//StatefulSet spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
apps//StatefulSet spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
apps//StatefulSet spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels
batch//Job spec/selector/matchLabels
batch//CronJob spec/jobTemplate/spec/selector/matchLabels
policy//PodDisruptionBudget spec/selector/matchLabels
networking.k8s.io//NetworkPolicy spec/podSelector/matchLabels
networking.k8s.io//NetworkPolicy spec/ingress/from/podSelector/matchLabels
networking.k8s.io//NetworkPolicy spec/egress/to/podSelector/matchLabels
";

const ANNOTATIONS: &str = "
//  metadata/annotations +
/v1/ReplicationController spec/template/metadata/annotations +
//Deployment spec/template/metadata/annotations +
//ReplicaSet spec/template/metadata/annotations +
//DaemonSet spec/template/metadata/annotations +
//StatefulSet spec/template/metadata/annotations +
batch//Job spec/template/metadata/annotations +
batch//CronJob spec/jobTemplate/metadata/annotations +
batch//CronJob spec/jobTemplate/spec/template/metadata/annotations +
";

const IMAGES: &str = "
// spec/containers[]/image +
// spec/initContainers[]/image +
// spec/template/spec/containers[]/image +
// spec/template/spec/initContainers[]/image +
";

const REPLICAS: &str = "
//Deployment spec/replicas +
//ReplicationController spec/replicas +
//ReplicaSet spec/replicas +
//StatefulSet spec/replicas +
";

const NAMESPACE: &str = "
//Namespace metadata/name +
apiregistration.k8s.io//APIService spec/service/namespace +
apiextensions.k8s.io//CustomResourceDefinition spec/conversion/webhook/clientConfig/service/namespace
";

/// Pod-spec locations of workload kinds, for the reference tables.
const POD_SPECS: &[(&str, &str)] = &[
    ("/v1/Pod", "spec"),
    ("//PodTemplate", "template/spec"),
    ("//Deployment", "spec/template/spec"),
    ("//ReplicaSet", "spec/template/spec"),
    ("//DaemonSet", "spec/template/spec"),
    ("//StatefulSet", "spec/template/spec"),
    ("//Job", "spec/template/spec"),
    ("//CronJob", "spec/jobTemplate/spec/template/spec"),
    ("//ReplicationController", "spec/template/spec"),
];

fn pod_refs(paths: &[&str]) -> String {
    let mut out = String::new();
    for (gvk, base) in POD_SPECS {
        for p in paths {
            out.push_str(&format!("{gvk} {base}/{p}\n"));
        }
    }
    out
}

fn name_reference() -> Vec<(Gvk, Vec<FieldSpec>)> {
    let t = |g: &str, v: &str, k: &str| Gvk {
        group: g.into(),
        version: v.into(),
        kind: k.into(),
    };
    let cm = pod_refs(&[
        "volumes/configMap/name",
        "containers/env/valueFrom/configMapKeyRef/name",
        "initContainers/env/valueFrom/configMapKeyRef/name",
        "containers/envFrom/configMapRef/name",
        "initContainers/envFrom/configMapRef/name",
        "volumes/projected/sources/configMap/name",
    ]) + "
//Ingress metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap
/v1/Node spec/configSource/configMap
rbac.authorization.k8s.io//Role rules/resourceNames
rbac.authorization.k8s.io//ClusterRole rules/resourceNames
";
    let secret = pod_refs(&[
        "volumes/secret/secretName",
        "containers/env/valueFrom/secretKeyRef/name",
        "initContainers/env/valueFrom/secretKeyRef/name",
        "containers/envFrom/secretRef/name",
        "initContainers/envFrom/secretRef/name",
        "imagePullSecrets/name",
        "volumes/projected/sources/secret/name",
    ]) + "
//Ingress spec/tls/secretName
//Ingress metadata/annotations/ingress.kubernetes.io\\/auth-secret
//Ingress metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret
//Ingress metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret
networking.k8s.io//Ingress spec/tls/secretName
//ServiceAccount imagePullSecrets/name
//StorageClass parameters/secretName
//StorageClass parameters/adminSecretName
//StorageClass parameters/userSecretName
//StorageClass parameters/secretRef
rbac.authorization.k8s.io//Role rules/resourceNames
rbac.authorization.k8s.io//ClusterRole rules/resourceNames
/v1/PersistentVolume spec/azureFile/secretName
";
    let sa = "
rbac.authorization.k8s.io//RoleBinding subjects
rbac.authorization.k8s.io//ClusterRoleBinding subjects
"
    .to_string()
        + &pod_refs(&["serviceAccountName"]);
    let pvc = pod_refs(&["volumes/persistentVolumeClaim/claimName"]);
    let prio = pod_refs(&["priorityClassName"]);
    let hpa = "//HorizontalPodAutoscaler spec/scaleTargetRef/name";
    vec![
        (t("", "", "Deployment"), parse_table(hpa)),
        (t("", "", "ReplicationController"), parse_table(hpa)),
        (t("", "", "ReplicaSet"), parse_table(hpa)),
        (t("", "", "StatefulSet"), parse_table(hpa)),
        (t("", "v1", "ConfigMap"), parse_table(&cm)),
        (t("", "v1", "Secret"), parse_table(&secret)),
        (
            t("", "v1", "Service"),
            parse_table(
                "
apps//StatefulSet spec/serviceName
//Ingress spec/rules/http/paths/backend/serviceName
//Ingress spec/backend/serviceName
//Ingress spec/rules/http/paths/backend/service/name
//Ingress spec/defaultBackend/service/name
apiregistration.k8s.io//APIService spec/service/name
admissionregistration.k8s.io//ValidatingWebhookConfiguration webhooks/clientConfig/service
admissionregistration.k8s.io//MutatingWebhookConfiguration webhooks/clientConfig/service
",
            ),
        ),
        (
            t("rbac.authorization.k8s.io", "", "Role"),
            parse_table("rbac.authorization.k8s.io//RoleBinding roleRef/name"),
        ),
        (
            t("rbac.authorization.k8s.io", "", "ClusterRole"),
            parse_table(
                "rbac.authorization.k8s.io//RoleBinding roleRef/name
rbac.authorization.k8s.io//ClusterRoleBinding roleRef/name",
            ),
        ),
        (t("", "v1", "ServiceAccount"), parse_table(&sa)),
        (t("", "v1", "PersistentVolumeClaim"), parse_table(&pvc)),
        (
            t("", "v1", "PersistentVolume"),
            parse_table(
                "//PersistentVolumeClaim spec/volumeName
rbac.authorization.k8s.io//ClusterRole rules/resourceNames",
            ),
        ),
        (
            t("storage.k8s.io", "v1", "StorageClass"),
            parse_table(
                "//PersistentVolume spec/storageClassName
//PersistentVolumeClaim spec/storageClassName
//StatefulSet spec/volumeClaimTemplates/spec/storageClassName",
            ),
        ),
        (t("scheduling.k8s.io", "v1", "PriorityClass"), parse_table(&prio)),
        (
            t("networking.k8s.io", "v1", "IngressClass"),
            parse_table("//Ingress spec/ingressClassName"),
        ),
        (
            t("admissionregistration.k8s.io", "", "ValidatingAdmissionPolicy"),
            parse_table("admissionregistration.k8s.io//ValidatingAdmissionPolicyBinding spec/policyName"),
        ),
    ]
}

const VAR_REFERENCE: &str = "
//CronJob spec/jobTemplate/spec/template/spec/containers/args
//CronJob spec/jobTemplate/spec/template/spec/containers/command
//CronJob spec/jobTemplate/spec/template/spec/containers/env/value
//CronJob spec/jobTemplate/spec/template/spec/containers/volumeMounts/mountPath
//CronJob spec/jobTemplate/spec/template/spec/initContainers/args
//CronJob spec/jobTemplate/spec/template/spec/initContainers/command
//CronJob spec/jobTemplate/spec/template/spec/initContainers/env/value
//CronJob spec/jobTemplate/spec/template/spec/initContainers/volumeMounts/mountPath
//CronJob spec/jobTemplate/spec/template/volumes/nfs/server
//DaemonSet spec/template/spec/containers/args
//DaemonSet spec/template/spec/containers/command
//DaemonSet spec/template/spec/containers/env/value
//DaemonSet spec/template/spec/containers/volumeMounts/mountPath
//DaemonSet spec/template/spec/initContainers/args
//DaemonSet spec/template/spec/initContainers/command
//DaemonSet spec/template/spec/initContainers/env/value
//DaemonSet spec/template/spec/initContainers/volumeMounts/mountPath
//DaemonSet spec/template/spec/volumes/nfs/server
//Deployment spec/template/spec/containers/args
//Deployment spec/template/spec/containers/command
//Deployment spec/template/spec/containers/env/value
//Deployment spec/template/spec/containers/volumeMounts/mountPath
//Deployment spec/template/spec/initContainers/args
//Deployment spec/template/spec/initContainers/command
//Deployment spec/template/spec/initContainers/env/value
//Deployment spec/template/spec/initContainers/volumeMounts/mountPath
//Deployment spec/template/spec/volumes/nfs/server
//Deployment spec/template/metadata/annotations
//Ingress spec/rules/host
//Ingress spec/tls/hosts
//Ingress spec/tls/secretName
//Job spec/template/spec/containers/args
//Job spec/template/spec/containers/command
//Job spec/template/spec/containers/env/value
//Job spec/template/spec/containers/volumeMounts/mountPath
//Job spec/template/spec/initContainers/args
//Job spec/template/spec/initContainers/command
//Job spec/template/spec/initContainers/env/value
//Job spec/template/spec/initContainers/volumeMounts/mountPath
//Job spec/template/spec/volumes/nfs/server
//Pod spec/containers/args
//Pod spec/containers/command
//Pod spec/containers/env/value
//Pod spec/containers/volumeMounts/mountPath
//Pod spec/initContainers/args
//Pod spec/initContainers/command
//Pod spec/initContainers/env/value
//Pod spec/initContainers/volumeMounts/mountPath
//Pod spec/volumes/nfs/server
//ReplicaSet spec/template/spec/containers/args
//ReplicaSet spec/template/spec/containers/command
//ReplicaSet spec/template/spec/containers/env/value
//ReplicaSet spec/template/spec/containers/volumeMounts/mountPath
//ReplicaSet spec/template/spec/initContainers/args
//ReplicaSet spec/template/spec/initContainers/command
//ReplicaSet spec/template/spec/initContainers/env/value
//ReplicaSet spec/template/spec/initContainers/volumeMounts/mountPath
//ReplicaSet spec/template/spec/volumes/nfs/server
//Service spec/ports/port
//Service spec/ports/targetPort
//StatefulSet spec/template/spec/containers/args
//StatefulSet spec/template/spec/containers/command
//StatefulSet spec/template/spec/containers/env/value
//StatefulSet spec/template/spec/containers/volumeMounts/mountPath
//StatefulSet spec/template/spec/initContainers/args
//StatefulSet spec/template/spec/initContainers/command
//StatefulSet spec/template/spec/initContainers/env/value
//StatefulSet spec/template/spec/initContainers/volumeMounts/mountPath
//StatefulSet spec/volumeClaimTemplates/spec/nfs/server
//PersistentVolume spec/nfs/server
// metadata/labels
// metadata/annotations
";

impl Config {
    /// kustomize's built-in field specs.
    pub fn defaults() -> Config {
        let labels = parse_table(METADATA_LABELS);
        let mut common = parse_table(SELECTORS);
        common.extend(labels.iter().cloned());
        Config {
            name_prefix: parse_table("// metadata/name"),
            name_suffix: parse_table("// metadata/name"),
            namespace: parse_table(NAMESPACE),
            common_labels: common,
            template_labels: labels,
            labels: Vec::new(),
            common_annotations: parse_table(ANNOTATIONS),
            images: parse_table(IMAGES),
            replicas: parse_table(REPLICAS),
            name_reference: name_reference(),
            var_reference: parse_table(VAR_REFERENCE),
        }
    }

    /// Merges a `configurations` file (or CRD-derived config) into this one.
    pub fn merge_json(&mut self, v: &Value) -> Result<(), KustomizeError> {
        let list = |k: &str| -> Result<Vec<FieldSpec>, KustomizeError> {
            match v.get(k) {
                Some(Value::Array(items)) => items.iter().map(FieldSpec::from_json).collect(),
                _ => Ok(Vec::new()),
            }
        };
        merge_all(&mut self.name_prefix, &list("namePrefix")?);
        merge_all(&mut self.name_suffix, &list("nameSuffix")?);
        merge_all(&mut self.namespace, &list("namespace")?);
        merge_all(&mut self.common_labels, &list("commonLabels")?);
        merge_all(&mut self.template_labels, &list("templateLabels")?);
        merge_all(&mut self.labels, &list("labels")?);
        merge_all(&mut self.common_annotations, &list("commonAnnotations")?);
        merge_all(&mut self.images, &list("images")?);
        merge_all(&mut self.replicas, &list("replicas")?);
        merge_all(&mut self.var_reference, &list("varReference")?);
        if let Some(Value::Array(refs)) = v.get("nameReference") {
            for r in refs {
                let s = |k: &str| r.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                let target = Gvk {
                    group: s("group"),
                    version: s("version"),
                    kind: s("kind"),
                };
                let specs: Vec<FieldSpec> = match r.get("fieldSpecs") {
                    Some(Value::Array(items)) => items.iter().map(FieldSpec::from_json).collect::<Result<_, _>>()?,
                    _ => Vec::new(),
                };
                self.add_name_reference(target, specs);
            }
        }
        Ok(())
    }

    /// Adds referrers of a target type.
    pub fn add_name_reference(&mut self, target: Gvk, specs: Vec<FieldSpec>) {
        match self.name_reference.iter_mut().find(|(g, _)| *g == target) {
            Some((_, fs)) => merge_all(fs, &specs),
            None => self.name_reference.push((target, specs)),
        }
    }

    /// Merges another configuration into this one.
    pub fn merge(&mut self, o: &Config) {
        merge_all(&mut self.name_prefix, &o.name_prefix);
        merge_all(&mut self.name_suffix, &o.name_suffix);
        merge_all(&mut self.namespace, &o.namespace);
        merge_all(&mut self.common_labels, &o.common_labels);
        merge_all(&mut self.template_labels, &o.template_labels);
        merge_all(&mut self.labels, &o.labels);
        merge_all(&mut self.common_annotations, &o.common_annotations);
        merge_all(&mut self.images, &o.images);
        merge_all(&mut self.replicas, &o.replicas);
        merge_all(&mut self.var_reference, &o.var_reference);
        for (g, fs) in &o.name_reference {
            self.add_name_reference(g.clone(), fs.clone());
        }
    }
}
