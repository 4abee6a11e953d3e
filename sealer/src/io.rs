//! Input and output shared by the subcommands: FILE or stdin in, stdout or an atomic
//! in-place replacement out.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use zeroize::Zeroizing;

/// Reads FILE (or stdin for `-`), returning its bytes and the name used in messages.
pub fn read_input(file: &Path) -> Result<(Zeroizing<Vec<u8>>, String)> {
    let mut buf = Zeroizing::new(Vec::new());
    if file == Path::new("-") {
        std::io::stdin().read_to_end(&mut buf).context("reading stdin")?;
        Ok((buf, "<stdin>".into()))
    } else {
        let name = file.display().to_string();
        let bytes = std::fs::read(file).with_context(|| format!("{name}: cannot read"))?;
        Ok((Zeroizing::new(bytes), name))
    }
}

/// Writes bytes to stdout.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).context("writing to stdout")?;
    out.flush().context("writing to stdout")
}

/// Replaces `path` with `bytes` (ciphertext only) via a temporary file in the same directory.
pub fn write_in_place(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.sealer-tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("{}: cannot write", tmp.display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot replace", path.display()))
}
