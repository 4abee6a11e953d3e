//! Where a chart's files come from: the caller lists and reads them (from a Git tree, a
//! directory, memory); the renderer itself never touches the filesystem.

use std::collections::BTreeMap;

/// A chart directory's files, as the caller's loader sees them.
///
/// Paths are relative to the chart directory, with `/` separators and no `.`/`..` parts
/// (`Chart.yaml`, `templates/deployment.yaml`, `charts/redis-1.2.3.tgz`). Only regular files
/// are listed; directories are implied by the paths.
pub trait ChartFiles {
    /// Every regular file below the chart directory.
    fn paths(&self) -> Result<Vec<String>, String>;
    /// The content of `path`; an error if it holds more than `limit` bytes.
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, String>;
}

impl ChartFiles for BTreeMap<String, Vec<u8>> {
    fn paths(&self) -> Result<Vec<String>, String> {
        Ok(self.keys().cloned().collect())
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, String> {
        let data = self.get(path).ok_or_else(|| "no such file".to_string())?;
        if data.len() as u64 > limit {
            return Err(format!("larger than the maximum file size {limit}"));
        }
        Ok(data.clone())
    }
}

/// Bounds on what a chart may hold; the defaults are Helm's (5 MiB per file, 100 MiB per
/// chart) plus bounds on counts and nesting that Helm does not have.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The largest file, decompressed.
    pub max_file_size: u64,
    /// All files of the chart and its subcharts together, decompressed.
    pub max_total_size: u64,
    /// The number of files of the chart and its subcharts together.
    pub max_files: usize,
    /// How deep subcharts may nest (`charts/a/charts/b` is 2).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 5 * 1024 * 1024,
            max_total_size: 100 * 1024 * 1024,
            max_files: 20_000,
            max_depth: 16,
        }
    }
}

/// Counts what has been read against [`Limits`].
#[derive(Debug)]
pub(crate) struct Budget {
    pub(crate) limits: Limits,
    pub(crate) total: u64,
    pub(crate) files: usize,
}

impl Budget {
    pub(crate) fn new(limits: Limits) -> Self {
        Budget {
            limits,
            total: 0,
            files: 0,
        }
    }

    /// Accounts for one file of `size` bytes; the error says which limit it breaks.
    pub(crate) fn take(&mut self, size: u64) -> Result<(), String> {
        if size > self.limits.max_file_size {
            return Err(format!(
                "larger than the maximum file size {}",
                self.limits.max_file_size
            ));
        }
        self.files += 1;
        if self.files > self.limits.max_files {
            return Err(format!("the chart holds more than {} files", self.limits.max_files));
        }
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_total_size {
            return Err(format!(
                "the chart is larger than the maximum size {}",
                self.limits.max_total_size
            ));
        }
        Ok(())
    }
}
