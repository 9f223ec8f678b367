use super::*;

fn nested(levels: usize) -> Vec<u8> {
    let mut text = b"[".repeat(levels);
    text.extend(b"]".repeat(levels));
    text
}

#[test]
fn counts_levels_of_arrays_and_objects() {
    assert!(!json_nesting_exceeds(&nested(64), 64));
    assert!(json_nesting_exceeds(&nested(65), 64));
    assert!(!json_nesting_exceeds(br#"{"a":{"b":[1,{"c":[]}]}}"#, 5));
    assert!(json_nesting_exceeds(br#"{"a":{"b":[1,{"c":[]}]}}"#, 4));
    // siblings do not add up
    assert!(!json_nesting_exceeds(&b"[],".repeat(1000), 1));
    // a deep prefix is enough: the rest is never read
    assert!(json_nesting_exceeds(&b"[".repeat(100_000), 64));
}

#[test]
fn brackets_inside_strings_do_not_count() {
    assert!(!json_nesting_exceeds(br#"["[[[[[[", "{{{{"]"#, 1));
    assert!(!json_nesting_exceeds(br#"["a \" [[[[ \\", "]]]"]"#, 1));
    // an escaped backslash ends before the quote, which then closes the string
    assert!(json_nesting_exceeds(br#"["\\", [[]]]"#, 2));
    assert!(!json_nesting_exceeds(b"", 0));
    assert!(!json_nesting_exceeds(b"42", 0));
}
