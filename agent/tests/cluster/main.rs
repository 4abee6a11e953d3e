//! The agent against a real Kubernetes API server: `SIGIL_TEST_KUBECONFIG` names its
//! kubeconfig (cluster-admin). `tools/test.sh` starts `../shared/kube` (etcd, kube-apiserver,
//! kube-controller-manager on loopback) and sets it; without it these tests skip, saying so
//! (under CI they fail). Each test runs its own `sigil-agent run` out of cluster, watching only
//! its own GitSources and Syncs, in namespaces named after the test. Run one:
//! `SIGIL_TEST_KUBECONFIG=~/.kube/config cargo test -p sigil-agent --test cluster flow`.

mod apply;
mod deploy;
mod external;
mod flow;
mod health;
mod lease;
mod lifecycle;
mod support;
mod tenancy;
