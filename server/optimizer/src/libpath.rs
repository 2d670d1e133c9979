//! Where to find `libortools.so.9`, in the order the issue specifies.

use std::path::PathBuf;

/// Candidate directories that may contain `libortools.so.9`, most specific first:
/// `ORTOOLS_LIB_DIR`; the venv the setup script creates under
/// `${XDG_CACHE_HOME:-$HOME/.cache}/takt/venv`; then whatever `python3` reports as the
/// installed `ortools` package. The wheel's layout is kept as is: the library's bundled
/// dependencies live in the sibling `ortools.libs/` folder and are found through its RPATH.
pub fn candidate_dirs() -> Vec<PathBuf> {
    let mut dirs = quick_candidate_dirs();
    if let Some(dir) = python_ortools_dir() {
        dirs.push(dir);
    }
    dirs
}

/// The candidates that need no subprocess (env variable and the Takt venv).
pub fn quick_candidate_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("ORTOOLS_LIB_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if let Some(cache) = cache {
        let lib = cache.join("takt").join("venv").join("lib");
        if let Ok(entries) = std::fs::read_dir(&lib) {
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("python3"))
                })
                .map(|p| p.join("site-packages").join("ortools").join(".libs"))
                .collect();
            found.sort();
            dirs.extend(found);
        }
    }
    dirs
}

/// Asks `python3` where its `ortools` package lives (slow: a subprocess; tried last).
pub fn python_ortools_dir() -> Option<PathBuf> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import ortools,os;print(os.path.dirname(ortools.__file__))",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let dir = text.trim();
    (!dir.is_empty()).then(|| PathBuf::from(dir).join(".libs"))
}
