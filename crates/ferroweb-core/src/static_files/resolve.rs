//! From the part of a request path after the mount prefix to a path below the served
//! directory, refusing everything that could name a file outside it.
//!
//! The path is split at its literal `/` first and each segment percent-decoded after, so an
//! encoded `%2f` can never add a separator. A segment that decodes to `..`, holds a `/`, a
//! `\`, a NUL byte or a Windows drive or stream separator (`:`) is refused outright: those are
//! never legitimate file names in a URL, only attempts to leave the directory. Empty and `.`
//! segments are skipped, as a file system would.

use std::path::PathBuf;

use percent_encoding::percent_decode_str;

/// The relative file path `raw` names (`None`: refused), and whether it ended with `/`
/// (a directory was asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Relative {
    pub(crate) path: PathBuf,
    pub(crate) trailing_slash: bool,
}

pub(crate) fn relative_path(raw: &str) -> Option<Relative> {
    let mut path = PathBuf::new();
    for segment in raw.split('/') {
        let decoded = percent_decode_str(segment).decode_utf8().ok()?;
        match decoded.as_ref() {
            "" | "." => continue,
            ".." => return None,
            name if name.contains(['/', '\\', '\0', ':']) => return None,
            name => path.push(name),
        }
    }
    // Belt and braces: every component must be a plain name, whatever the platform's rules.
    if !path
        .components()
        .all(|part| matches!(part, std::path::Component::Normal(_)))
    {
        return None;
    }
    Some(Relative {
        path,
        trailing_slash: raw.ends_with('/'),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(raw: &str) -> Option<String> {
        relative_path(raw).map(|relative| relative.path.to_string_lossy().into_owned())
    }

    #[test]
    fn plain_paths_resolve_below_the_directory() {
        assert_eq!(resolved("/css/site.css").as_deref(), Some("css/site.css"));
        assert_eq!(resolved("/a%20b.txt").as_deref(), Some("a b.txt"));
        assert_eq!(resolved("//a/./b//c").as_deref(), Some("a/b/c"));
        assert_eq!(resolved("/caf%C3%A9.txt").as_deref(), Some("café.txt"));
        assert_eq!(resolved("/..hidden").as_deref(), Some("..hidden"));
        assert_eq!(resolved("/.well-known/x").as_deref(), Some(".well-known/x"));
    }

    #[test]
    fn trailing_slashes_ask_for_a_directory() {
        assert!(relative_path("/docs/").unwrap().trailing_slash);
        assert!(!relative_path("").unwrap().trailing_slash);
        assert!(!relative_path("/docs").unwrap().trailing_slash);
    }

    #[test]
    fn traversal_and_odd_bytes_are_refused() {
        for raw in [
            "/..",
            "/../etc/passwd",
            "/a/../../b",
            "/%2e%2e/secret",
            "/%2E%2E/secret",
            "/.%2e/secret",
            "/a%2f..%2f..%2fsecret",
            "/a%2Fb",
            "/..%5csecret",
            "/a%5cb",
            "/a%00.txt",
            "/C:/Windows/win.ini",
            "/c%3a%5cwindows",
            "/file.txt:stream",
            "/%ff%fe",
            "/%c0%ae%c0%ae/secret",
        ] {
            assert_eq!(resolved(raw), None, "{raw} must be refused");
        }
    }
}
