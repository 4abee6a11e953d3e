//! Unit tests of the kustomize build.
use super::*;
use crate::load::DirTree;
use sigil_crypto::keys::Keyring;

fn build(files: &[(&str, &str)], path: &str) -> Result<Vec<(Object, bool)>, KustomizeError> {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let tree = DirTree::new(dir.path()).unwrap();
    let keyring = Keyring::new();
    let loader = Loader {
        tree: &tree,
        keyring: &keyring,
    };
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(Kustomizer::new(&loader, Options::default()).build(Path::new(path)))
}

#[test]
fn cycles_are_refused_not_recursed() {
    for (files, path) in [
        (vec![("kustomization.yaml", "resources: [.]\n")], "."),
        (
            vec![
                ("a/kustomization.yaml", "resources: [..]\n"),
                ("kustomization.yaml", "resources: [a]\n"),
            ],
            ".",
        ),
        (
            vec![
                ("a/kustomization.yaml", "resources: [../b]\n"),
                ("b/kustomization.yaml", "resources: [../a]\n"),
            ],
            "a",
        ),
        (
            vec![
                ("kustomization.yaml", "components: [c]\n"),
                (
                    "c/kustomization.yaml",
                    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncomponents: [.]\n",
                ),
            ],
            ".",
        ),
        (vec![("kustomization.yaml", "generators: [.]\n")], "."),
    ] {
        let e = build(&files, path).unwrap_err().to_string();
        assert!(e.contains("cycle detected"), "{e}");
    }
    let ok = build(
        &[
            ("base/kustomization.yaml", "resources: [cm.yaml]\n"),
            ("base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"),
            ("overlays/prod/kustomization.yaml", "resources: [../../base]\n"),
        ],
        "overlays/prod",
    );
    assert_eq!(ok.unwrap().len(), 1);
}
