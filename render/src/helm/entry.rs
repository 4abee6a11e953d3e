//! The entry point: a chart's files and values text in, `helm template`'s render out, run on
//! a thread of its own whose large stack lets templates nest as deeply as Helm lets them.

use super::chart::Chart;
use super::error::HelmError;
use super::render::{RenderOptions, Rendered, render_chart};
use super::source::ChartFiles;
use super::yaml;
use crate::gotemplate::Limits;
use crate::gotemplate::value::Map;

/// The render thread's stack. Address space only: pages are committed as the executor
/// reaches them, which a chart that nests little never does.
pub const RENDER_STACK_BYTES: usize = 256 << 20;

/// The executor's bounds on the render thread: Go's `template` depth, and enough levels of
/// recursion for Helm's 1000 nested `include`s of one name (each takes a few levels) while
/// the deepest nesting stays well inside [`RENDER_STACK_BYTES`] even in an unoptimised build
/// (measured: at most about 7.2 KiB a level there, 1.5 KiB in a release build, so 20 000
/// levels take at most about 145 MiB).
pub(crate) fn helm_limits() -> Limits {
    Limits {
        max_nesting: 20_000,
        ..Limits::default()
    }
}

/// Renders the chart `files` hold with the user's values (`values`: the text of a values
/// file, as `helm template -f` takes it; empty for none) as `helm template` does.
///
/// The chart is loaded (Helm's default load limits) and rendered on a dedicated thread
/// with a [`RENDER_STACK_BYTES`] stack; this call blocks until it is done, so call it from a
/// blocking task.
pub fn render(files: &(dyn ChartFiles + Sync), values: &str, opts: &RenderOptions) -> Result<Rendered, HelmError> {
    render_with(
        files,
        || yaml::load_values(values).map_err(|e| format!("values: {e}")),
        opts,
    )
}

/// As [`render`], with the user's values built by `values` on the render thread (values hold
/// shared maps that stay on one thread): for callers that merge several values files and
/// `--set` arguments, keeping their types (`--set` integers are `int64`, YAML numbers
/// `float64`). An `Err` from `values` is a [`HelmError::Values`].
pub fn render_with(
    files: &(dyn ChartFiles + Sync),
    values: impl FnOnce() -> Result<Map, String> + Send,
    opts: &RenderOptions,
) -> Result<Rendered, HelmError> {
    let job = || -> Result<Rendered, HelmError> {
        let chart = Chart::load(files)?;
        let values = values().map_err(HelmError::Values)?;
        render_chart(&chart, &values, opts, helm_limits())
    };
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("helm-render".into())
            .stack_size(RENDER_STACK_BYTES)
            .spawn_scoped(scope, job)
            .map_err(|e| HelmError::Thread(format!("cannot start the render thread: {e}")))?;
        handle
            .join()
            .map_err(|_| HelmError::Thread("the render thread panicked".into()))?
    })
}
