//! Resources as a kustomize build sees them: the object, its identity (group, version,
//! kind, namespace, name), the identities it had before transformations renamed it, and
//! the build bookkeeping (generator behaviour, hash suffix, prefixes and suffixes applied).

use serde_json::Value;

use super::KustomizeError;
use crate::object::Object;

/// Group, version and kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Gvk {
    /// API group (`""` for the core group).
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
}

impl Gvk {
    /// From an `apiVersion` and a kind.
    pub fn new(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.to_string()),
        };
        Gvk {
            group,
            version,
            kind: kind.to_string(),
        }
    }

    /// The `apiVersion` string.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether this matches a selector (empty selector fields match anything).
    pub fn selected_by(&self, sel: &Gvk) -> bool {
        (sel.group.is_empty() || sel.group == self.group)
            && (sel.version.is_empty() || sel.version == self.version)
            && (sel.kind.is_empty() || sel.kind == self.kind)
    }

    /// Whether kustomize's built-in schema knows this kind to be cluster-scoped.
    pub fn is_cluster_scoped(&self) -> bool {
        CLUSTER_SCOPED
            .iter()
            .any(|(a, k)| *k == self.kind && self.api_version_is(a))
    }

    /// Whether the `apiVersion` is `av` (no allocation).
    fn api_version_is(&self, av: &str) -> bool {
        match av.rsplit_once('/') {
            Some((g, v)) => self.group == g && self.version == v,
            None => self.group.is_empty() && self.version == av,
        }
    }

    /// Whether the built-in schema knows this type (its lists have known merge keys).
    pub fn is_builtin(&self) -> bool {
        self.is_cluster_scoped()
            || NAMESPACED
                .iter()
                .any(|(a, k)| *k == self.kind && self.api_version_is(a))
    }

    /// kustomize's `Kind.version.group` rendering, used in messages and sort keys.
    pub fn display(&self) -> String {
        let g = if self.group.is_empty() { "[noGrp]" } else { &self.group };
        let v = if self.version.is_empty() {
            "[noVer]"
        } else {
            &self.version
        };
        let k = if self.kind.is_empty() { "[noKind]" } else { &self.kind };
        format!("{k}.{v}.{g}")
    }

    fn legacy_sort_string(&self) -> String {
        let g = if self.group.is_empty() { "~G" } else { &self.group };
        let v = if self.version.is_empty() { "~V" } else { &self.version };
        let k = if self.kind.is_empty() { "~K" } else { &self.kind };
        format!("{g}_{v}_{k}")
    }
}

/// Namespaced types of the built-in schema (apiVersion, kind).
const NAMESPACED: &[(&str, &str)] = &[
    ("apps/v1", "ControllerRevision"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "StatefulSet"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"),
    ("autoscaling/v1", "Scale"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
    ("batch/v1", "CronJob"),
    ("batch/v1", "Job"),
    ("batch/v1beta1", "CronJob"),
    ("coordination.k8s.io/v1", "Lease"),
    ("coordination.k8s.io/v1beta1", "Lease"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"),
    ("events.k8s.io/v1", "Event"),
    ("events.k8s.io/v1beta1", "Event"),
    ("extensions/v1beta1", "Ingress"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1beta1", "Ingress"),
    ("policy/v1", "PodDisruptionBudget"),
    ("policy/v1beta1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "Role"),
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"),
    ("v1", "ConfigMap"),
    ("v1", "Endpoints"),
    ("v1", "Event"),
    ("v1", "LimitRange"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Pod"),
    ("v1", "PodAttachOptions"),
    ("v1", "PodExecOptions"),
    ("v1", "PodPortForwardOptions"),
    ("v1", "PodProxyOptions"),
    ("v1", "PodTemplate"),
    ("v1", "ReplicationController"),
    ("v1", "ResourceQuota"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "ServiceProxyOptions"),
];

/// Types the built-in schema marks cluster-scoped (apiVersion, kind).
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "PersistentVolume"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("authentication.k8s.io/v1", "TokenReview"),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"),
    ("authorization.k8s.io/v1", "SubjectAccessReview"),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"),
];

/// A resource identity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResId {
    /// Type.
    pub gvk: Gvk,
    /// Name.
    pub name: String,
    /// Namespace (`""` when unset).
    pub namespace: String,
}

impl ResId {
    /// Namespace with `""` read as `default` for namespaced types.
    pub fn effective_ns(&self) -> &str {
        if self.gvk.is_cluster_scoped() {
            ""
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    /// Same namespace, `""` and `default` being equal.
    pub fn ns_equals(&self, o: &ResId) -> bool {
        self.effective_ns() == o.effective_ns()
    }

    /// Same identity (namespaces compared effectively).
    pub fn same(&self, o: &ResId) -> bool {
        self.gvk == o.gvk && self.name == o.name && self.ns_equals(o)
    }

    /// kustomize's rendering of an id in messages: `Kind.version.group/name.namespace`.
    pub fn display(&self) -> String {
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        format!("{}/{}.{}", self.gvk.display(), self.name, ns)
    }
}

/// How a generated resource combines with one of the same id already accumulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behavior {
    /// A new resource (a clash is an error).
    #[default]
    Create,
    /// Merged into the existing one.
    Merge,
    /// Replaces the existing one.
    Replace,
}

/// A resource in a build.
#[derive(Clone)]
pub struct Res {
    /// The object (strings wiped on drop).
    pub obj: Object,
    /// Identities it had before renames, oldest first (namespaces effective).
    pub prev: Vec<ResId>,
    /// Prefixes applied, outermost last.
    pub prefixes: Vec<String>,
    /// Suffixes applied, outermost last.
    pub suffixes: Vec<String>,
    /// Generator behaviour.
    pub behavior: Behavior,
    /// Whether a content-hash suffix is added at the end of the build.
    pub needs_hash: bool,
    /// Whether all of its content came from SOPS-encrypted files.
    pub encrypted: bool,
    /// Names of the vars that refer to it.
    pub vars: Vec<String>,
    /// Where it came from (`config.kubernetes.io/origin`, YAML text).
    pub origin: Option<String>,
    /// Transformers that ran on it (`alpha.config.kubernetes.io/transformations` items).
    pub transformations: Vec<String>,
}

impl Res {
    /// Wraps a loaded object.
    pub fn new(v: Value) -> Res {
        Res {
            obj: Object(v),
            prev: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            behavior: Behavior::Create,
            needs_hash: false,
            encrypted: false,
            vars: Vec::new(),
            origin: None,
            transformations: Vec::new(),
        }
    }

    /// The value.
    pub fn v(&self) -> &Value {
        &self.obj.0
    }

    /// The value, mutable.
    pub fn v_mut(&mut self) -> &mut Value {
        &mut self.obj.0
    }

    /// Type.
    pub fn gvk(&self) -> Gvk {
        Gvk::new(self.obj.api_version(), self.obj.kind())
    }

    /// Whether this resource currently has identity `id` (no allocation).
    pub fn is(&self, id: &ResId) -> bool {
        if self.obj.kind() != id.gvk.kind || self.obj.name() != id.name {
            return false;
        }
        let av = self.obj.api_version();
        let (g, v) = av.rsplit_once('/').unwrap_or(("", av));
        if g != id.gvk.group || v != id.gvk.version {
            return false;
        }
        let ns = self.obj.namespace();
        ns == id.namespace || {
            let cluster = id.gvk.is_cluster_scoped();
            let eff = |n: &str| {
                if cluster {
                    ""
                } else if n.is_empty() {
                    "default"
                } else {
                    n
                }
                .to_string()
            };
            eff(ns) == eff(&id.namespace)
        }
    }

    /// Whether this resource has or once had identity `id`.
    pub fn had(&self, id: &ResId) -> bool {
        self.is(id) || self.prev.iter().any(|p| p.same(id))
    }

    /// Current identity.
    pub fn cur_id(&self) -> ResId {
        ResId {
            gvk: self.gvk(),
            name: self.obj.name().to_string(),
            namespace: self.obj.namespace().to_string(),
        }
    }

    /// The identity it was loaded with.
    pub fn org_id(&self) -> ResId {
        self.prev.first().cloned().unwrap_or_else(|| self.cur_id())
    }

    /// Records the current identity before a rename.
    pub fn store_prev(&mut self) {
        let mut id = self.cur_id();
        id.namespace = id.effective_ns().to_string();
        self.prev.push(id);
    }

    /// Sets `metadata.name`.
    pub fn set_name(&mut self, name: &str) {
        set_meta(self.v_mut(), "name", Value::String(name.to_string()));
    }

    /// Whether the resource's prefix/suffix history is compatible with another's.
    pub fn prefix_suffix_equals(&self, o: &Res, allow_empty: bool) -> bool {
        let same_end = |a: &[String], b: &[String]| {
            let n = a.len().min(b.len());
            a[a.len() - n..] == b[b.len() - n..]
        };
        if allow_empty {
            (self.prefixes.is_empty() || o.prefixes.is_empty() || same_end(&self.prefixes, &o.prefixes))
                && (self.suffixes.is_empty() || o.suffixes.is_empty() || same_end(&self.suffixes, &o.suffixes))
        } else {
            same_end(&self.prefixes, &o.prefixes) && same_end(&self.suffixes, &o.suffixes)
        }
    }

    /// A label or annotation map, if present.
    pub fn meta_map(&self, which: &str) -> Option<&serde_json::Map<String, Value>> {
        self.v().get("metadata")?.get(which)?.as_object()
    }
}

/// Sets `metadata.<field>`, creating `metadata` when missing.
pub fn set_meta(v: &mut Value, field: &str, value: Value) {
    if let Value::Object(m) = v {
        let meta = m
            .entry("metadata")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if !meta.is_object() {
            *meta = Value::Object(serde_json::Map::new());
        }
        if let Value::Object(mm) = meta {
            mm.insert(field.to_string(), value);
        }
    }
}

/// An ordered set of resources with unique current ids.
#[derive(Clone, Default)]
pub struct ResMap {
    /// The resources, in accumulation order.
    pub list: Vec<Res>,
}

impl ResMap {
    /// Index of the resource with this current id.
    pub fn find(&self, id: &ResId) -> Option<usize> {
        self.list.iter().position(|r| r.is(id))
    }

    /// Appends, refusing a second resource with the same id.
    pub fn append(&mut self, r: Res) -> Result<(), KustomizeError> {
        let id = r.cur_id();
        if self.find(&id).is_some() {
            return Err(KustomizeError::msg(format!(
                "may not add resource with an already registered id: {}",
                id.display()
            )));
        }
        self.list.push(r);
        Ok(())
    }

    /// Appends all of another map (ids checked through a hash set: linear time).
    pub fn append_all(&mut self, o: ResMap) -> Result<(), KustomizeError> {
        let key = |r: &Res| {
            let id = r.cur_id();
            let ns = id.effective_ns().to_string();
            (id.gvk, id.name, ns)
        };
        let mut seen: std::collections::HashSet<(Gvk, String, String)> = self.list.iter().map(key).collect();
        for r in o.list {
            if !seen.insert(key(&r)) {
                return Err(KustomizeError::msg(format!(
                    "may not add resource with an already registered id: {}",
                    r.cur_id().display()
                )));
            }
            self.list.push(r);
        }
        Ok(())
    }

    /// Absorbs generated resources: create appends, merge/replace combine with the
    /// resource that has (or had) the same id, keeping its place, name and namespace.
    pub fn absorb(&mut self, r: Res) -> Result<(), KustomizeError> {
        let id = r.cur_id();
        let matches: Vec<usize> = self
            .list
            .iter()
            .enumerate()
            .filter(|(_, x)| x.had(&id))
            .map(|(i, _)| i)
            .collect();
        match (r.behavior, matches.as_slice()) {
            (Behavior::Create, []) => self.append(r),
            (Behavior::Create, _) => Err(KustomizeError::msg(format!(
                "id {} exists; behavior must be merge or replace",
                id.display()
            ))),
            (_, []) => Err(KustomizeError::msg(format!(
                "id {} does not exist; cannot merge or replace",
                id.display()
            ))),
            (b, [i]) => {
                let old = &self.list[*i];
                let mut new = r;
                for which in ["labels", "annotations"] {
                    merge_string_map(new.v_mut(), old.v(), &["metadata", which]);
                }
                if b == Behavior::Merge {
                    for field in ["data", "binaryData"] {
                        merge_string_map(new.v_mut(), old.v(), &[field]);
                    }
                }
                match old.v().pointer("/metadata/name") {
                    Some(n) => set_meta(new.v_mut(), "name", n.clone()),
                    None => remove_meta(new.v_mut(), "name"),
                }
                match old.v().pointer("/metadata/namespace") {
                    Some(n) => set_meta(new.v_mut(), "namespace", n.clone()),
                    None => remove_meta(new.v_mut(), "namespace"),
                }
                new.prev = old.prev.clone();
                new.prefixes = old.prefixes.clone();
                new.suffixes = old.suffixes.clone();
                new.vars = old.vars.clone();
                new.transformations = old.transformations.clone();
                if b == Behavior::Merge {
                    new.origin = old.origin.clone();
                }
                // Build bookkeeping comes from the resource merged into; a hash suffix only when both
                // sides want one.
                new.needs_hash = old.needs_hash && new.needs_hash;
                new.behavior = Behavior::Create;
                self.list[*i] = new;
                Ok(())
            }
            _ => Err(KustomizeError::msg(format!(
                "found multiple objects that could accept merge of {}",
                id.display()
            ))),
        }
    }
}

/// `dst[path] = src[path] ∪ dst[path]` (dst wins), for string maps.
fn merge_string_map(dst: &mut Value, src: &Value, path: &[&str]) {
    let mut s = src;
    for p in path {
        match s.get(p) {
            Some(x) => s = x,
            None => return,
        }
    }
    let Value::Object(add) = s else { return };
    let mut d = dst;
    for p in path {
        let Value::Object(m) = d else { return };
        d = m
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if d.is_null() {
            *d = Value::Object(serde_json::Map::new());
        }
    }
    if let Value::Object(m) = d {
        let mut merged = add.clone();
        for (k, v) in std::mem::take(m) {
            merged.insert(k, v);
        }
        *m = merged;
    }
}

/// Removes `metadata.<field>`.
pub fn remove_meta(v: &mut Value, field: &str) {
    if let Some(Value::Object(m)) = v.get_mut("metadata") {
        m.remove(field);
    }
}

/// Appends kustomize's content hash to the names of the resources that want one.
pub fn add_hash_suffixes(rm: &mut ResMap) {
    for r in &mut rm.list {
        if r.needs_hash {
            let h = super::generate::hash(r);
            let name = format!("{}-{h}", r.obj.name());
            r.store_prev();
            r.set_name(&name);
            r.needs_hash = false;
        }
    }
}

/// kustomize's default ("legacy") output order.
pub fn legacy_sort(list: &mut Vec<Res>) {
    const FIRST: &[&str] = &[
        "Namespace",
        "ResourceQuota",
        "StorageClass",
        "CustomResourceDefinition",
        "ServiceAccount",
        "PodSecurityPolicy",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "ConfigMap",
        "Secret",
        "Endpoints",
        "Service",
        "LimitRange",
        "PriorityClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Deployment",
        "StatefulSet",
        "CronJob",
        "PodDisruptionBudget",
    ];
    const LAST: &[&str] = &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];
    sort_with(list, FIRST, LAST);
}

/// Sorts by the kind priority lists given, then type, namespace and name.
pub fn sort_with<S: AsRef<str>>(list: &mut Vec<Res>, first: &[S], last: &[S]) {
    let rank = |k: &str| -> i64 {
        if let Some(i) = first.iter().position(|f| f.as_ref() == k) {
            return i as i64 - first.len() as i64;
        }
        if let Some(i) = last.iter().position(|f| f.as_ref() == k) {
            return 1 + i as i64;
        }
        0
    };
    // Keys computed once per resource; the comparison follows kustomize's legacy sorter.
    let keyed: Vec<(ResId, String, String)> = list
        .iter()
        .map(|r| {
            let id = r.cur_id();
            let gs = id.gvk.legacy_sort_string();
            let k = format!(
                "{}|{}|{}",
                id.gvk.display(),
                if id.namespace.is_empty() { "~X" } else { &id.namespace },
                if id.name.is_empty() { "~N" } else { &id.name }
            );
            (id, gs, k)
        })
        .collect();
    let mut order: Vec<usize> = (0..list.len()).collect();
    order.sort_by(|&a, &b| {
        let ((ia, sa, ka), (ib, sb, kb)) = (&keyed[a], &keyed[b]);
        if ia.gvk != ib.gvk {
            let (ra, rb) = (rank(&ia.gvk.kind), rank(&ib.gvk.kind));
            if ra != rb {
                return ra.cmp(&rb);
            }
            if ia.gvk.kind == "Namespace"
                && ib.gvk.kind == "Namespace"
                && (ia.gvk.group.is_empty() || ib.gvk.group.is_empty())
            {
                return sb.cmp(sa);
            }
            return sa.cmp(sb);
        }
        ka.cmp(kb)
    });
    let mut taken: Vec<Option<Res>> = std::mem::take(list).into_iter().map(Some).collect();
    list.extend(order.into_iter().filter_map(|i| taken[i].take()));
}
