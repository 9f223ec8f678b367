//! Byte ranges (RFC 9110 section 14): what a Range header asks of a file of a given length.

use std::ops::RangeInclusive;

use http_range_header::{EndPosition, RangeUnsatisfiableError, StartPosition};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RangeAnswer {
    /// Send the whole file with 200: the header is malformed, names another unit, or asks for
    /// several ranges (see [`resolve`]).
    Full,
    Partial(RangeInclusive<u64>),
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Only single ranges are served as 206. Several ranges get the whole file with 200, which
/// RFC 9110 section 14.2 allows (a server may ignore Range): clients that matter (browsers,
/// media players, download resumers) ask for one range, while multipart/byteranges would add
/// boundary framing for no such client and is a known amplification vector (many small or
/// overlapping ranges, as in CVE-2011-3192).
///
/// `http_range_header` only does the syntax here. Its `validate` departs from RFC 9110 in ways
/// that matter: a suffix longer than the file is an error there (RFC: serve the whole file),
/// `a-b` with `b < a` is unsatisfiable there (RFC: invalid, so ignored), and an empty file
/// satisfies `0-` there.
pub(super) fn resolve(header: &str, len: u64) -> RangeAnswer {
    let Some((unit, set)) = header.split_once('=') else {
        return RangeAnswer::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeAnswer::Full;
    }
    let parsed = match http_range_header::parse_range_header(&format!("bytes={set}")) {
        Ok(parsed) => parsed,
        // `-0` is well-formed but selects nothing; within a list it would be ignored anyway.
        Err(RangeUnsatisfiableError::ZeroSuffix) if !set.contains(',') => {
            return RangeAnswer::Unsatisfiable
        }
        Err(_) => return RangeAnswer::Full,
    };
    let [range] = parsed.ranges.as_slice() else {
        return RangeAnswer::Full;
    };
    let last = len.checked_sub(1);
    match (range.start, range.end) {
        (StartPosition::Index(first), EndPosition::Index(end)) if end < first => RangeAnswer::Full,
        (StartPosition::Index(first), end) => match last {
            Some(last) if first <= last => {
                let end = match end {
                    EndPosition::Index(end) => end.min(last),
                    EndPosition::LastByte => last,
                };
                RangeAnswer::Partial(first..=end)
            }
            _ => RangeAnswer::Unsatisfiable,
        },
        (StartPosition::FromLast(suffix), EndPosition::LastByte) => match last {
            Some(last) if suffix > 0 => RangeAnswer::Partial(len.saturating_sub(suffix)..=last),
            Some(_) => RangeAnswer::Unsatisfiable,
            // A suffix of an empty file is satisfiable yet selects no byte, which no
            // Content-Range can express; the whole (empty) file says the same.
            None => RangeAnswer::Full,
        },
        (StartPosition::FromLast(_), EndPosition::Index(_)) => RangeAnswer::Full,
    }
}
