//! Charts packaged as `.tgz` (gzip + tar), as `helm package` writes them and as `charts/`
//! holds dependencies: unpacked in memory with Helm's rules (one top directory, no absolute or
//! parent paths) and bounded sizes.

use std::io::Read;

use super::source::Budget;

/// The files of a chart archive, paths relative to its top directory (`Chart.yaml`,
/// `templates/x.yaml`), or the reason it cannot be read.
pub(crate) fn unpack(data: &[u8], budget: &mut Budget) -> Result<Vec<(String, Vec<u8>)>, String> {
    // Bound what decompression may produce, whatever the tar headers claim.
    let room = budget
        .limits
        .max_total_size
        .saturating_sub(budget.total)
        .saturating_add(1024 * 1024);
    let gz = flate2::read::GzDecoder::new(data).take(room);
    let mut archive = tar::Archive::new(gz);
    let entries = archive.entries().map_err(|e| e.to_string())?;
    let mut files = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let kind = entry.header().entry_type();
        if kind.is_dir()
            || kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink()
        {
            continue;
        }
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let name = clean_name(&raw_name)?;
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            return Err(format!("{raw_name:?} is not a regular file"));
        }
        let size = entry.header().size().map_err(|e| e.to_string())?;
        budget.take(size).map_err(|e| format!("{name}: {e}"))?;
        let mut content = Vec::new();
        (&mut entry)
            .take(budget.limits.max_file_size.saturating_add(1))
            .read_to_end(&mut content)
            .map_err(|e| e.to_string())?;
        if content.len() as u64 != size {
            return Err(format!("{name}: truncated in the archive"));
        }
        let content = match content.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => rest.to_vec(),
            None => content,
        };
        files.push((name, content));
    }
    if files.is_empty() {
        return Err("no files in chart archive".into());
    }
    Ok(files)
}

/// The path below the archive's top directory, refused as Helm refuses it.
fn clean_name(raw: &str) -> Result<String, String> {
    let delimiter = if raw.contains('\\') { '\\' } else { '/' };
    let mut parts = raw.split(delimiter);
    let top = parts.next().unwrap_or_default();
    if top == "Chart.yaml" {
        return Err("chart yaml not in base directory".into());
    }
    let rest: Vec<&str> = parts.collect();
    if rest.first().is_some_and(|p| p.is_empty()) && rest.len() > 1 {
        return Err("chart illegally contains absolute paths".into());
    }
    let mut clean: Vec<&str> = Vec::new();
    for part in rest {
        match part {
            "" | "." => {}
            ".." => {
                if clean.pop().is_none() {
                    return Err("chart illegally references parent directory".into());
                }
            }
            p => clean.push(p),
        }
    }
    if clean.is_empty() {
        return Err(format!(
            "chart illegally contains content outside the base directory: {raw:?}"
        ));
    }
    if clean.first().is_some_and(|p| {
        let b = p.as_bytes();
        b.len() == 2 && b.first().is_some_and(u8::is_ascii_alphabetic) && b.get(1) == Some(&b':')
    }) {
        return Err("chart contains illegally named files".into());
    }
    Ok(clean.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helm::source::Limits;

    fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            // set_path refuses `..`; write the raw name for the refusal tests.
            let bytes = name.as_bytes();
            if let Some(slot) = header.as_old_mut().name.get_mut(..bytes.len()) {
                slot.copy_from_slice(bytes);
            }
            header.set_cksum();
            builder.append(&header, *data).unwrap_or_default();
        }
        let tar = builder.into_inner().unwrap_or_default();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap_or_default();
        gz.finish().unwrap_or_default()
    }

    #[test]
    fn unpacks_below_the_top_directory() {
        let data = tgz(&[
            ("redis/Chart.yaml", b"name: redis\n"),
            ("redis/templates/a.yaml", b"\xEF\xBB\xBFkind: A\n"),
        ]);
        let mut budget = Budget::new(Limits::default());
        let files = unpack(&data, &mut budget).unwrap_or_default();
        assert_eq!(
            files,
            vec![
                ("Chart.yaml".to_string(), b"name: redis\n".to_vec()),
                ("templates/a.yaml".to_string(), b"kind: A\n".to_vec()),
            ]
        );
    }

    #[test]
    fn refuses_escapes_and_oversize() {
        let mut budget = Budget::new(Limits::default());
        let data = tgz(&[("redis/../../etc/passwd", b"x")]);
        assert_eq!(
            unpack(&data, &mut budget).err().as_deref(),
            Some("chart illegally references parent directory")
        );
        let data = tgz(&[("Chart.yaml", b"x")]);
        assert_eq!(
            unpack(&data, &mut budget).err().as_deref(),
            Some("chart yaml not in base directory")
        );
        let mut small = Budget::new(Limits {
            max_file_size: 4,
            ..Limits::default()
        });
        let data = tgz(&[("c/big", b"12345")]);
        assert!(unpack(&data, &mut small).is_err());
        assert!(unpack(b"not gzip", &mut budget).is_err());
    }
}
