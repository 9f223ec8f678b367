//! Which precompressed sibling of a file (`site.css.br`, `.zst`, `.gz`) a client accepts, by
//! the q-values of its `Accept-Encoding` (RFC 9110 section 12.5.3).

use http::{header, HeaderMap};

/// A precompressed variant: its `Content-Encoding` and the suffix of its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Variant {
    pub(crate) encoding: &'static str,
    pub(crate) suffix: &'static str,
}

/// Our preference among equal q-values: smallest files first.
const VARIANTS: [Variant; 3] = [
    Variant {
        encoding: "br",
        suffix: "br",
    },
    Variant {
        encoding: "zstd",
        suffix: "zst",
    },
    Variant {
        encoding: "gzip",
        suffix: "gz",
    },
];

/// The variants the client accepts, best first; empty when it accepts none (or sent no
/// `Accept-Encoding`, which RFC 9110 lets us read as "identity only" for precompressed files).
pub(crate) fn acceptable(headers: &HeaderMap) -> Vec<Variant> {
    let mut weights: [Option<u16>; 3] = [None; 3];
    let mut star: Option<u16> = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let Some(weight) = quality(parts) else {
                continue;
            };
            if name == "*" {
                star = Some(weight);
            } else if let Some(index) = VARIANTS.iter().position(|variant| {
                variant.encoding.eq_ignore_ascii_case(name)
                    || (variant.encoding == "gzip" && name.eq_ignore_ascii_case("x-gzip"))
            }) {
                weights[index] = Some(weight);
            }
        }
    }
    let mut ranked: Vec<(u16, usize)> = weights
        .iter()
        .enumerate()
        .filter_map(|(index, weight)| Some((weight.or(star)?, index)))
        .filter(|(weight, _)| *weight > 0)
        .collect();
    // Higher weight first; among equals, our order.
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked
        .into_iter()
        .map(|(_, index)| VARIANTS[index])
        .collect()
}

/// The q-value of one list member in thousandths; `None` when it is malformed (ignored).
fn quality<'a>(params: impl Iterator<Item = &'a str>) -> Option<u16> {
    let mut weight = 1000;
    for param in params {
        let (key, value) = param.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("q") {
            continue;
        }
        let value: f32 = value.trim().parse().ok()?;
        if !(0.0..=1.0).contains(&value) {
            return None;
        }
        // Three decimals at most (RFC 9110 qvalue); the cast cannot overflow within 0..=1000.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        {
            weight = (value * 1000.0).round() as u16;
        }
    }
    Some(weight)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn ranked(accept: &str) -> Vec<&'static str> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).unwrap(),
        );
        acceptable(&headers)
            .into_iter()
            .map(|variant| variant.encoding)
            .collect()
    }

    #[test]
    fn q_values_rank_the_variants() {
        assert_eq!(ranked("gzip, br"), ["br", "gzip"]);
        assert_eq!(ranked("gzip;q=1, br;q=0.5"), ["gzip", "br"]);
        assert_eq!(ranked("zstd;q=0.9, gzip;q=0.2"), ["zstd", "gzip"]);
        assert_eq!(ranked("*"), ["br", "zstd", "gzip"]);
        assert_eq!(ranked("*;q=0.1, gzip"), ["gzip", "br", "zstd"]);
        assert_eq!(ranked("X-GZIP"), ["gzip"]);
    }

    #[test]
    fn refused_and_malformed_entries_are_left_out() {
        assert!(ranked("gzip;q=0").is_empty());
        assert!(ranked("identity").is_empty());
        assert_eq!(ranked("*, br;q=0"), ["zstd", "gzip"]);
        assert_eq!(ranked("br;q=2, gzip;q=abc, zstd"), ["zstd"]);
        assert!(acceptable(&HeaderMap::new()).is_empty());
    }
}
