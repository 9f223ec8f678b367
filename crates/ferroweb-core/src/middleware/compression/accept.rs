//! Which coding a client asks for, read from `Accept-Encoding` exactly as tower-http reads it.
//!
//! Complete bodies are compressed by [`super::whole`] and streams by tower-http; both must
//! pick the same coding for the same request, so this mirrors tower-http's rules: unknown
//! codings and `*` are ignored, a malformed q-value drops its member, `q=0` refuses, and
//! among equal q-values zstd is preferred to brotli, brotli to gzip.

use http::{header, HeaderMap, HeaderValue};

use super::CompressionPolicy;

/// A content coding we produce; the order is the tie-break among equal q-values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Coding {
    Identity,
    Gzip,
    Brotli,
    Zstd,
}

impl Coding {
    pub(crate) fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Identity => "identity",
            Self::Gzip => "gzip",
            Self::Brotli => "br",
            Self::Zstd => "zstd",
        })
    }

    /// The level to compress at: `requested` clamped to the coding's scale, or the coding's
    /// default for compressing on the fly. Both the whole-body and the streaming path use it.
    ///
    /// gzip defaults to 1, as nginx's `gzip_comp_level` does: libdeflate's level 1 makes
    /// JSON about as small as zlib's level 4 at under half zlib level 6's cost. brotli
    /// defaults to 4 (nginx's on-the-fly choice) and zstd to 3 (its own default).
    pub(crate) fn level(self, requested: Option<i32>) -> i32 {
        match self {
            Self::Identity => 0,
            Self::Gzip => requested.map_or(1, |level| level.clamp(0, 9)),
            Self::Brotli => requested.map_or(4, |level| level.clamp(0, 11)),
            Self::Zstd => {
                let range = zstd::compression_level_range();
                requested.map_or(zstd::DEFAULT_COMPRESSION_LEVEL, |level| {
                    level.clamp(*range.start(), *range.end())
                })
            }
        }
    }

    fn parse(name: &str, policy: &CompressionPolicy) -> Option<Self> {
        if (name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip")) && policy.gzip
        {
            Some(Self::Gzip)
        } else if name.eq_ignore_ascii_case("br") && policy.brotli {
            Some(Self::Brotli)
        } else if name.eq_ignore_ascii_case("zstd") && policy.zstd {
            Some(Self::Zstd)
        } else if name.eq_ignore_ascii_case("identity") {
            Some(Self::Identity)
        } else {
            None
        }
    }
}

/// The coding to answer this request with; `Identity` when the client accepts none we use.
pub(crate) fn preferred(headers: &HeaderMap, policy: &CompressionPolicy) -> Coding {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|member| {
            let mut parts = member.splitn(2, ';');
            let coding = Coding::parse(parts.next().unwrap_or_default().trim(), policy)?;
            let weight = match parts.next() {
                Some(params) => quality(params.trim())?,
                None => 1000,
            };
            Some((weight, coding))
        })
        .filter(|(weight, _)| *weight > 0)
        .max()
        .map_or(Coding::Identity, |(_, coding)| coding)
}

/// `q=0`, `q=1`, or `q=0.` / `q=1.` with up to three digits, in thousandths (RFC 9110
/// section 12.4.2); anything else is malformed.
fn quality(param: &str) -> Option<u16> {
    let value = param
        .strip_prefix("q=")
        .or_else(|| param.strip_prefix("Q="))?;
    let (whole, fraction) = match value.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (value, None),
    };
    let mut weight: u16 = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    if let Some(fraction) = fraction {
        if fraction.len() > 3 || !fraction.bytes().all(|digit| digit.is_ascii_digit()) {
            return None;
        }
        for (digit, scale) in fraction.bytes().zip([100, 10, 1]) {
            weight += scale * u16::from(digit - b'0');
        }
    }
    (weight <= 1000).then_some(weight)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(accept: &[&'static str], policy: CompressionPolicy) -> Coding {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        }
        preferred(&headers, &policy)
    }

    #[test]
    fn q_values_decide_and_ties_prefer_zstd_then_brotli() {
        let all = CompressionPolicy::default();
        assert_eq!(pick(&[], all), Coding::Identity);
        assert_eq!(pick(&["gzip"], all), Coding::Gzip);
        assert_eq!(pick(&["X-GZIP"], all), Coding::Gzip);
        assert_eq!(pick(&["gzip, deflate, br"], all), Coding::Brotli);
        assert_eq!(pick(&["gzip, br, zstd"], all), Coding::Zstd);
        assert_eq!(pick(&["br;q=0.5, gzip;q=0.8"], all), Coding::Gzip);
        assert_eq!(pick(&["gzip;q=0.1", "br;q=0.2"], all), Coding::Brotli);
        assert_eq!(pick(&["gzip;q=0, identity"], all), Coding::Identity);
        assert_eq!(pick(&["*"], all), Coding::Identity);
        assert_eq!(pick(&["gzip;q=1.000"], all), Coding::Gzip);
    }

    #[test]
    fn disabled_codings_and_malformed_weights_are_ignored() {
        let gzip_only = CompressionPolicy {
            brotli: false,
            zstd: false,
            ..CompressionPolicy::default()
        };
        assert_eq!(pick(&["zstd, br, gzip;q=0.1"], gzip_only), Coding::Gzip);
        let all = CompressionPolicy::default();
        for malformed in [
            "gzip;q=2",
            "gzip;q=1.5",
            "gzip;q=0.1234",
            "gzip;q=.5",
            "gzip;q=x",
        ] {
            assert_eq!(pick(&[malformed], all), Coding::Identity, "{malformed}");
        }
        assert_eq!(quality("q=0.5"), Some(500));
        assert_eq!(quality("Q=0.25"), Some(250));
        assert_eq!(quality("q=1.001"), None);
    }
}
