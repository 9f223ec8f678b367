//! A directory served under a mount prefix: lookups that never leave the directory, HTML
//! mode (index files, a `404.html` page, the redirect that gives directories their trailing
//! slash), precompressed siblings chosen by `Accept-Encoding`, and the file module's
//! validators, conditional requests and ranges for the bytes.
//!
//! Every file system step of a lookup runs in one blocking task, so a request costs one hop
//! off the runtime before the file module opens what was found.

mod cache;
mod negotiate;
mod resolve;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};

use crate::file::{serve_file_blocking, serve_memory, FileSpec, MemoryFile, RequestConditions};
use cache::{CachedFile, MemoryCache};
use negotiate::Variant;

/// How a directory is served (see [`StaticFiles::new`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticFilesOptions {
    /// Serve `index` for a directory (after redirecting `/dir` to `/dir/`) and the
    /// directory's `404.html`, when it has one, for paths that name nothing.
    pub html: bool,
    /// The file served for a directory in HTML mode.
    pub index: String,
    /// `Cache-Control` of every file found (not of the 404 page).
    pub cache_control: Option<String>,
    /// Look for `name.br`, `name.zst` and `name.gz` beside a file and send the one the client
    /// prefers, with its `Content-Encoding`.
    pub precompressed: bool,
    /// Follow symbolic links wherever they lead. Off: a link may only point inside the
    /// directory; one that leads out answers 404.
    pub follow_symlinks: bool,
    /// Bytes of recently served files kept in memory (0: none). A file bigger than a
    /// sixteenth of this is always read from disk; a cached one is checked against the disk
    /// again after a second.
    pub memory_cache_bytes: u64,
}

/// The default memory cache of a static directory.
pub const DEFAULT_MEMORY_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for StaticFilesOptions {
    fn default() -> Self {
        Self {
            html: false,
            index: "index.html".to_owned(),
            cache_control: None,
            precompressed: true,
            follow_symlinks: false,
            memory_cache_bytes: DEFAULT_MEMORY_CACHE_BYTES,
        }
    }
}

/// Why a static directory cannot be served. Raised at start-up, never per request.
#[derive(Debug)]
pub enum StaticFilesError {
    Directory { path: PathBuf, error: io::Error },
    NotADirectory(PathBuf),
    Index(String),
    CacheControl(String),
}

impl fmt::Display for StaticFilesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Directory { path, error } => {
                write!(
                    f,
                    "static directory {} cannot be used: {error}",
                    path.display()
                )
            }
            Self::NotADirectory(path) => {
                write!(f, "static directory {} is not a directory", path.display())
            }
            Self::Index(index) => write!(
                f,
                "index {index:?} must be a plain file name (no '/', '\\', '..' or NUL)"
            ),
            Self::CacheControl(value) => {
                write!(f, "cache_control {value:?} is not a valid header value")
            }
        }
    }
}

impl std::error::Error for StaticFilesError {}

/// A directory, checked and made canonical once.
#[derive(Debug)]
pub struct StaticFiles {
    root: PathBuf,
    html: bool,
    index: String,
    cache_control: Option<HeaderValue>,
    precompressed: bool,
    follow_symlinks: bool,
    cache: Option<MemoryCache>,
}

/// What a lookup found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    File {
        path: PathBuf,
        /// The precompressed variant chosen, if any; `path` is then that sibling.
        variant: Option<Variant>,
        /// The path the media type is guessed from (the original name, not `.br`).
        type_from: PathBuf,
    },
    /// HTML mode's `404.html`.
    NotFoundPage(PathBuf),
    /// A directory asked for without its trailing slash, in HTML mode.
    AddSlash,
    Nothing,
}

/// What [`StaticFiles::respond`] answers.
pub(crate) enum Answer {
    Response(Response<Body>),
    /// Nothing to send: the router's 404 (and the app's handler for it) answers.
    NotFound,
}

impl StaticFiles {
    /// Checks that `directory` is a readable directory and resolves it (symbolic links and
    /// all) to the canonical path lookups are confined to.
    pub fn new(
        directory: impl AsRef<Path>,
        options: StaticFilesOptions,
    ) -> Result<Self, StaticFilesError> {
        let directory = directory.as_ref();
        let root =
            std::fs::canonicalize(directory).map_err(|error| StaticFilesError::Directory {
                path: directory.to_owned(),
                error,
            })?;
        if !root.is_dir() {
            return Err(StaticFilesError::NotADirectory(directory.to_owned()));
        }
        let index = options.index;
        if index.is_empty() || index == "." || index == ".." || index.contains(['/', '\\', '\0']) {
            return Err(StaticFilesError::Index(index));
        }
        let cache_control = options
            .cache_control
            .map(|value| {
                HeaderValue::try_from(value.as_str())
                    .map_err(|_| StaticFilesError::CacheControl(value.clone()))
            })
            .transpose()?;
        Ok(Self {
            root,
            html: options.html,
            index,
            cache_control,
            precompressed: options.precompressed,
            follow_symlinks: options.follow_symlinks,
            cache: MemoryCache::new(options.memory_cache_bytes),
        })
    }

    /// The canonical directory served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Answers a GET or HEAD for `relative` (the request path after the mount prefix, still
    /// percent-encoded).
    pub(crate) async fn respond(self: &Arc<Self>, request: &Parts, relative: &str) -> Answer {
        let variants = if self.precompressed {
            negotiate::acceptable(&request.headers)
        } else {
            Vec::new()
        };
        let conditions = RequestConditions::from_request(&request.method, &request.headers);
        let key = self
            .cache
            .as_ref()
            .map(|_| MemoryCache::key(relative, &variants));
        if let (Some(cache), Some(key)) = (&self.cache, &key) {
            if let Some(cached) = cache.fresh(key) {
                return Answer::Response(self.serve_cached(&cached, conditions));
            }
        }
        let files = Arc::clone(self);
        let relative = relative.to_owned();
        let head_only = head_only(&request.method);
        // One blocking step for the lookup and the file itself (a small one read whole).
        let answered = tokio::task::spawn_blocking(move || {
            let found = files.lookup(&relative, &variants);
            if let (Some(cache), Some(key)) = (&files.cache, key) {
                match files.cache_found(cache, &key, &found) {
                    Some(cached) => return Some(files.serve_cached(&cached, conditions)),
                    None => cache.forget(&key),
                }
            }
            files.answer(found, conditions, head_only)
        })
        .await;
        match answered {
            Ok(Some(response)) => Answer::Response(response),
            Ok(None) => Answer::NotFound,
            Err(error) => {
                tracing::error!(%error, "a static file lookup failed");
                Answer::NotFound
            }
        }
        .or_add_slash(request)
    }

    /// Blocking: the cache entry for a file the lookup found, its bytes kept from the last
    /// entry when the file is unchanged, read otherwise; `None` when there is no file or it
    /// is too big to hold.
    fn cache_found(
        &self,
        cache: &MemoryCache,
        key: &str,
        found: &Found,
    ) -> Option<Arc<CachedFile>> {
        let Found::File {
            path,
            variant,
            type_from,
        } = found
        else {
            return None;
        };
        let metadata = std::fs::metadata(path).ok()?;
        if !metadata.is_file() || metadata.len() > cache.largest_file() {
            return None;
        }
        let unchanged = cache
            .previous(key)
            .filter(|previous| previous.path == *path && previous.content.matches(&metadata))
            .map(|previous| previous.content.clone());
        let content = match unchanged {
            Some(content) => content,
            None => MemoryFile::read(path, cache.largest_file())?,
        };
        let file = CachedFile::new(path.clone(), *variant, type_from.clone(), content);
        Some(cache.store(key.to_owned(), file))
    }

    fn serve_cached(&self, cached: &CachedFile, conditions: RequestConditions) -> Response<Body> {
        let spec = self.file_spec(
            cached.path.clone(),
            cached.variant,
            &cached.type_from,
            conditions,
        );
        serve_memory(&spec, &cached.content)
    }

    /// Blocking: the response for what the lookup found (`None`: nothing, the router's 404).
    fn answer(
        &self,
        found: Found,
        conditions: RequestConditions,
        head_only: RequestConditions,
    ) -> Option<Response<Body>> {
        let spec = match found {
            Found::Nothing => return None,
            Found::AddSlash => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
                return Some(response);
            }
            Found::NotFoundPage(path) => {
                let mut spec = FileSpec::new(path);
                spec.status = StatusCode::NOT_FOUND;
                spec.conditions = head_only;
                spec
            }
            Found::File {
                path,
                variant,
                type_from,
            } => self.file_spec(path, variant, &type_from, conditions),
        };
        Some(serve_file_blocking(spec))
    }

    /// How a file found is sent: the mount's headers, and for a precompressed sibling its
    /// encoding and the media type of the original name.
    fn file_spec(
        &self,
        path: PathBuf,
        variant: Option<Variant>,
        type_from: &Path,
        conditions: RequestConditions,
    ) -> FileSpec {
        let mut spec = FileSpec::new(path);
        spec.conditions = conditions;
        if let Some(value) = &self.cache_control {
            spec.headers.insert(header::CACHE_CONTROL, value.clone());
        }
        if self.precompressed {
            spec.headers
                .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        if let Some(variant) = variant {
            spec.headers.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(variant.encoding),
            );
            spec.media_type = Some(
                mime_guess::from_path(type_from)
                    .first_raw()
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
            );
        }
        spec
    }

    /// The blocking part: where `relative` leads, confined to the directory.
    pub(crate) fn lookup(&self, relative: &str, variants: &[Variant]) -> Found {
        let Some(asked) = resolve::relative_path(relative) else {
            return self.not_found_page();
        };
        let Some(target) = self.confined(&self.root.join(&asked.path)) else {
            return self.not_found_page();
        };
        let Ok(metadata) = std::fs::metadata(&target) else {
            return self.not_found_page();
        };
        let file = if metadata.is_dir() {
            if !self.html {
                return Found::Nothing;
            }
            if !asked.trailing_slash {
                return Found::AddSlash;
            }
            match self.confined(&target.join(&self.index)) {
                Some(index) if index.is_file() => index,
                _ => return self.not_found_page(),
            }
        } else if metadata.is_file() && !asked.trailing_slash {
            target
        } else {
            // A FIFO, a socket or a device is never served; nor `file.txt/`.
            return self.not_found_page();
        };
        for variant in variants {
            let mut sibling = file.clone().into_os_string();
            sibling.push(".");
            sibling.push(variant.suffix);
            if let Some(sibling) = self.confined(Path::new(&sibling)) {
                if sibling.is_file() {
                    return Found::File {
                        path: sibling,
                        variant: Some(*variant),
                        type_from: file,
                    };
                }
            }
        }
        Found::File {
            type_from: file.clone(),
            path: file,
            variant: None,
        }
    }

    /// `path` as it will be opened, or `None` when it does not exist or (symbolic links not
    /// followed) really lies outside the directory.
    fn confined(&self, path: &Path) -> Option<PathBuf> {
        if self.follow_symlinks {
            // `..` cannot occur (see `resolve`), so only a link can lead out, and links are
            // trusted here.
            return path.exists().then(|| path.to_owned());
        }
        let real = std::fs::canonicalize(path).ok()?;
        real.starts_with(&self.root).then_some(real)
    }

    fn not_found_page(&self) -> Found {
        if self.html {
            if let Some(page) = self.confined(&self.root.join("404.html")) {
                if page.is_file() {
                    return Found::NotFoundPage(page);
                }
            }
        }
        Found::Nothing
    }
}

impl Answer {
    /// The directory redirect of HTML mode gets its `Location` here, from the request:
    /// `/dir` -> `/dir/`, the query kept, as a relative reference so that it survives proxies
    /// that rewrite the host.
    fn or_add_slash(mut self, request: &Parts) -> Self {
        if let Self::Response(response) = &mut self {
            if response.status() == StatusCode::TEMPORARY_REDIRECT {
                let uri = &request.uri;
                let location = match uri.query() {
                    Some(query) => format!("{}/?{query}", uri.path()),
                    None => format!("{}/", uri.path()),
                };
                if let Ok(value) = HeaderValue::try_from(location) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
            }
        }
        self
    }
}

/// A 404 page takes no validators or ranges; only HEAD still matters.
fn head_only(method: &Method) -> RequestConditions {
    RequestConditions::from_request(method, &HeaderMap::new())
}

#[cfg(test)]
mod tests;
