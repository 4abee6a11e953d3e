//! kustomize's `helmCharts` generator (with `helmGlobals.chartHome`): each chart is found
//! under the chart home in the source and rendered natively, as kustomize's
//! HelmChartInflationGenerator runs `helm template`; its output joins the resources and is then
//! transformed by the rest of the kustomization. Values: the values file (the chart's own
//! `values.yaml` by default) and `valuesInline` combined per `valuesMerge`, then
//! `additionalValuesFiles`.

use std::path::Path;

use serde_json::Value;
use sigil_render::helm::Release;
use zeroize::Zeroizing;

use super::resource::Res;
use super::{Acc, KustomizeError, Kustomizer, expand_list, normalize, relative, shown};
use crate::chart::{self, ChartRequest, ValuesSource};
use crate::load::LoadError;

fn text<'v>(v: &'v Value, field: &str) -> Option<&'v str> {
    v.get(field).and_then(|x| x.as_str()).filter(|s| !s.is_empty())
}

impl Kustomizer<'_> {
    /// Renders the kustomization's `helmCharts` into `acc`.
    pub(super) async fn helm_charts(&self, dir: &Path, k: &Value, acc: &mut Acc) -> Result<(), KustomizeError> {
        let Some(Value::Array(charts)) = k.get("helmCharts") else {
            return Ok(());
        };
        let home = k
            .get("helmGlobals")
            .and_then(|g| text(g, "chartHome"))
            .unwrap_or("charts");
        for c in charts {
            let name = text(c, "name").ok_or_else(|| KustomizeError::msg("helmCharts: an entry has no name".into()))?;
            if let Some(repo) = text(c, "repo") {
                return Err(KustomizeError::msg(format!(
                    "helmCharts {name}: repo {repo:?} is not supported yet: put the chart in the source under {home}/{name} and leave repo out"
                )));
            }
            let rel = |p: &str| normalize(&dir.join(p)).ok_or_else(|| LoadError::Escapes(p.to_string()));
            // kustomize keeps a pulled chart in <home>/<name>-<version>/<name>; a chart
            // committed by hand is <home>/<name>.
            let mut chart_dir = rel(&format!("{home}/{name}"))?;
            if let Some(version) = text(c, "version") {
                let versioned = rel(&format!("{home}/{name}-{version}/{name}"))?;
                if self.loader.tree.is_dir(&versioned) {
                    chart_dir = versioned;
                }
            }
            if !self.loader.tree.is_dir(&chart_dir) {
                return Err(KustomizeError::msg(format!(
                    "helmCharts {name}: no chart at {} (charts are read from the source under the chart home {home:?})",
                    shown(&chart_dir)
                )));
            }
            let values_file = match text(c, "valuesFile") {
                Some(f) => rel(f)?,
                None => chart_dir.join("values.yaml"),
            };
            let mut values = Vec::new();
            let file = self
                .loader
                .tree
                .exists(&values_file)
                .then(|| ValuesSource::File(values_file.clone()));
            let inline = c
                .get("valuesInline")
                .filter(|v| !v.is_null())
                .map(|v| ValuesSource::Inline {
                    name: format!("helmCharts {name}: valuesInline"),
                    yaml: Zeroizing::new(v.to_string()),
                });
            match text(c, "valuesMerge").unwrap_or("override") {
                "override" => values.extend(file.into_iter().chain(inline)),
                "merge" => values.extend(inline.into_iter().chain(file)),
                "replace" => values.extend(inline.or(file)),
                other => {
                    return Err(KustomizeError::msg(format!(
                        "helmCharts {name}: valuesMerge must be one of [override, merge, replace], not {other:?}"
                    )));
                }
            }
            if let Some(Value::Array(more)) = c.get("additionalValuesFiles") {
                for f in more.iter().filter_map(|f| f.as_str()) {
                    values.push(ValuesSource::File(rel(f)?));
                }
            }
            let namespace = text(c, "namespace").unwrap_or("default");
            let req = ChartRequest {
                chart: chart_dir.clone(),
                values,
                sets: Vec::new(),
                release: Release::install(text(c, "releaseName").unwrap_or("release-name"), namespace),
                include_crds: c.get("includeCRDs").and_then(|v| v.as_bool()).unwrap_or(false),
            };
            let out = chart::render(self.loader, &req).await.map_err(|e| match e {
                chart::ChartError::Load(l) => KustomizeError::Load(l),
                e => KustomizeError::msg(format!("helmCharts {name}: {e}")),
            })?;
            let skip_hooks = c.get("skipHooks").and_then(|v| v.as_bool()).unwrap_or(false);
            let origin = format!("path: {}\n", relative(&self.meta().top, &chart_dir));
            let encrypted = !out.secret_values.is_empty();
            for d in out.docs.iter().filter(|d| !(skip_hooks && d.hook)) {
                let docs = sigil_crds::manifest::load(d.text.as_bytes())
                    .map_err(|e| KustomizeError::msg(format!("helmCharts {name}: {}: {e}", d.source)))?;
                let mut res: Vec<Res> = Vec::new();
                for o in docs {
                    expand_list(o, &mut res, &d.source)?;
                }
                for mut r in res {
                    r.encrypted = encrypted;
                    r.origin = Some(origin.clone());
                    acc.res
                        .absorb(r)
                        .map_err(|e| e.context(format!("merging from generator helmCharts {name}")))?;
                }
            }
        }
        Ok(())
    }
}
