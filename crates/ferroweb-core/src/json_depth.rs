//! How deeply a JSON text nests, measured before it is decoded.
//!
//! Decoders recurse once per array or object level, so a small body such as a hundred
//! thousand `[` can exhaust a decoder's stack (or Python's recursion limit) before any
//! validation runs. This scan is iterative, reads each byte once, keeps no state but a counter
//! and stops at the first level over the limit. It does not validate: malformed text is the
//! decoder's to refuse, and brackets inside strings (escapes included) are not counted.

/// Whether `text` nests arrays and objects more than `limit` levels deep.
pub fn json_nesting_exceeds(text: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests;
