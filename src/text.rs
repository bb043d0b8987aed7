//! Making text from strangers safe to put on a terminal.
//!
//! Everything that comes from the API or a picture host passes through [`sanitize`] (or
//! [`sanitize_multiline`] for text that keeps its lines) once, where it enters, so no control
//! sequence can reach the terminal, the clipboard or a file name. This module owns the one
//! definition of an unsafe character ([`is_unsafe_char`]) that the rest of the crate relies
//! on; it never drops a character silently, because a user judging a supplier's description
//! should see that something odd was there. It also holds [`count`], the one way a message
//! says how many of something there are.
//!
//! Placeholders, chosen to be readable and to survive a second pass unchanged:
//!
//! - C0 controls U+0000..U+001F become the matching symbol of Unicode's Control Pictures block
//!   (U+2400..U+241F: `␛` for ESC, `␇` for BEL, `␍` for CR, `␊` for LF), and DEL becomes `␡`
//!   (U+2421). A tab is the one exception: it expands to spaces up to the next multiple of
//!   [`TAB_WIDTH`] columns, counting one column per character.
//! - Every other unsafe character (C1 controls, bidirectional formatting, zero-width and other
//!   invisible format characters, line and paragraph separators) becomes its code point in
//!   brackets, `[U+202E]`. Brackets rather than `<…>` so that the placeholder means nothing in
//!   HTML and a sanitised description still formats the same way.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Tabs expand to the next multiple of this many columns, as terminals place tab stops.
pub const TAB_WIDTH: usize = 8;

/// The Control Pictures block starts with `␀` (U+2400) and lists the 32 C0 controls in order,
/// so the symbol for a C0 control `c` is `U+2400 + c`.
const CONTROL_PICTURES_START: u32 = 0x2400;

/// `␡` SYMBOL FOR DELETE, the Control Pictures symbol for U+007F.
const DELETE_PICTURE: char = '\u{2421}';

/// Tells whether a character must never reach a terminal as it is.
///
/// True for C0 controls (tab and line feed included: callers that want them handle them
/// first), DEL, C1 controls (U+0080..U+009F, where U+009B is an 8-bit CSI that some terminals
/// obey), bidirectional overrides, embeddings, isolates and marks (they reorder what the user
/// reads, e.g. make `gpj.exe` read as `exe.jpg`), zero-width and other invisible format
/// characters (they hide differences between two strings that look the same), and the line
/// and paragraph separators U+2028/U+2029 (some renderers break lines at them).
pub fn is_unsafe_char(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1F}'
            | '\u{7F}'..='\u{9F}'
            | '\u{61C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
    )
}

/// Tells whether a string holds any character for which [`is_unsafe_char`] holds.
pub fn has_unsafe_chars(s: &str) -> bool {
    s.chars().any(is_unsafe_char)
}

/// Makes text safe for single-line display.
///
/// Unsafe characters become visible placeholders (see the module documentation), tabs expand
/// to spaces, and line breaks are shown as `␍` and `␊`. Returns the input borrowed when
/// nothing needs to change, which is the common case. The result is a fixed point:
/// sanitising it again changes nothing.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c == '\t' || is_unsafe_char(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut column = 0;
    for c in s.chars() {
        push_safe(&mut out, &mut column, c);
    }
    Cow::Owned(out)
}

/// Makes text safe for display over several lines.
///
/// Like [`sanitize`], but `\n` stays a line break (restarting the tab columns) and `\r\n`
/// becomes `\n`; a carriage return on its own is shown as `␍`, since a terminal would move
/// the cursor back over what was already written. Borrowed when nothing needs to change.
pub fn sanitize_multiline(s: &str) -> Cow<'_, str> {
    // A lone CR becomes a placeholder and a CR before LF is dropped, so any CR is a change.
    let needs_change = s
        .chars()
        .any(|c| c != '\n' && (c == '\t' || is_unsafe_char(c)));
    if !needs_change {
        return Cow::Borrowed(s);
    }

    let mut out = String::with_capacity(s.len() + 16);
    let mut column = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                out.push('\n');
                column = 0;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            _ => push_safe(&mut out, &mut column, c),
        }
    }
    Cow::Owned(out)
}

/// Appends `c` to `out` as it may be shown, keeping `column` (characters since the start of
/// the line) up to date for tab expansion.
fn push_safe(out: &mut String, column: &mut usize, c: char) {
    if c == '\t' {
        let spaces = TAB_WIDTH - *column % TAB_WIDTH;
        out.extend(std::iter::repeat_n(' ', spaces));
        *column += spaces;
    } else if !is_unsafe_char(c) {
        out.push(c);
        *column += 1;
    } else if let Some(picture) = control_picture(c) {
        out.push(picture);
        *column += 1;
    } else {
        let start = out.len();
        // Writing to a String cannot fail.
        let _ = write!(out, "[U+{:04X}]", u32::from(c));
        // The placeholder is ASCII, so its length in bytes is its width in columns.
        *column += out.len() - start;
    }
}

/// The Control Pictures symbol for a C0 control or DEL, `None` for any other character.
fn control_picture(c: char) -> Option<char> {
    let code = u32::from(c);
    match code {
        0..=0x1F => char::from_u32(CONTROL_PICTURES_START + code),
        0x7F => Some(DELETE_PICTURE),
        _ => None,
    }
}

/// A count and its noun for a message: `1 offer`, `2 offers` (regular plurals only). Every
/// count descview prints goes through here, so none reads "1 pictures".
pub fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_text_is_borrowed() {
        let s = "商品详情 <img src=\"https://cbu01.alicdn.com/a.jpg\"> 100%";
        assert!(matches!(sanitize(s), Cow::Borrowed(_)));
        assert!(matches!(sanitize_multiline("a\nb\n"), Cow::Borrowed(_)));
        assert!(!has_unsafe_chars(s));
    }

    #[test]
    fn c0_controls_and_delete_become_control_pictures() {
        assert_eq!(sanitize("a\u{1b}[2Jb"), "a\u{241b}[2Jb");
        assert_eq!(sanitize("bell\u{7}"), "bell\u{2407}");
        assert_eq!(sanitize("x\u{8}y"), "x\u{2408}y");
        assert_eq!(sanitize("nul\u{0}"), "nul\u{2400}");
        assert_eq!(sanitize("del\u{7f}"), "del\u{2421}");
        assert_eq!(sanitize("a\r\nb"), "a\u{240d}\u{240a}b");
    }

    #[test]
    fn other_unsafe_characters_become_bracketed_code_points() {
        assert_eq!(sanitize("\u{9b}31m"), "[U+009B]31m");
        assert_eq!(sanitize("abc\u{202e}gpj.exe"), "abc[U+202E]gpj.exe");
        assert_eq!(sanitize("a\u{200b}b\u{feff}"), "a[U+200B]b[U+FEFF]");
        assert_eq!(
            sanitize("\u{2066}\u{2069}\u{200e}\u{61c}"),
            "[U+2066][U+2069][U+200E][U+061C]"
        );
    }

    #[test]
    fn unsafe_set_is_exactly_as_documented() {
        for c in [
            '\u{0}', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{80}', '\u{9b}', '\u{9f}',
        ] {
            assert!(is_unsafe_char(c), "{:?} must be unsafe", c);
        }
        for c in [
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}',
        ] {
            assert!(is_unsafe_char(c), "{:?} must be unsafe", c);
        }
        for c in [
            '\u{61c}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}',
        ] {
            assert!(is_unsafe_char(c), "{:?} must be unsafe", c);
        }
        for c in [
            ' ', 'a', '~', '\u{a0}', '\u{a1}', '中', '\u{2400}', '\u{202f}', '\u{2065}',
        ] {
            assert!(!is_unsafe_char(c), "{:?} must be safe", c);
        }
    }

    #[test]
    fn tabs_expand_to_the_next_multiple_of_eight() {
        assert_eq!(sanitize("\tx"), "        x");
        assert_eq!(sanitize("abc\tx"), "abc     x");
        assert_eq!(sanitize("abcdefgh\tx"), "abcdefgh        x");
        // A placeholder takes the columns of its characters.
        assert_eq!(sanitize("\u{202e}\tx"), "[U+202E]        x");
        assert_eq!(sanitize_multiline("ab\tc\n\td"), "ab      c\n        d");
    }

    #[test]
    fn multiline_keeps_line_feeds_and_folds_crlf() {
        assert_eq!(sanitize_multiline("a\r\nb\nc"), "a\nb\nc");
        assert_eq!(sanitize_multiline("a\rb"), "a\u{240d}b");
        assert_eq!(sanitize_multiline("a\r\r\nb"), "a\u{240d}\nb");
        assert_eq!(
            sanitize_multiline("\u{1b}]0;t\u{7}\n"),
            "\u{241b}]0;t\u{2407}\n"
        );
    }

    /// Handed case T1: escape sequences inside a description.
    #[test]
    fn t1_escape_sequences_become_visible() {
        let html = concat!(
            "<p>\u{1b}]52;c;aGVsbG8=\u{7}</p>",
            "<p>\u{1b}]0;owned\u{7}</p>",
            "\u{1b}[2J",
            "before\rafter",
            "back\u{8}space",
            "\u{9b}31m red",
            "\u{202e}gpj.exe",
        );
        for out in [sanitize(html), sanitize_multiline(html)] {
            assert!(!has_unsafe_chars(&out.replace('\n', "")), "{out:?}");
            assert!(!out.contains(['\u{1b}', '\u{7}', '\u{9b}', '\r', '\u{8}', '\u{202e}']));
            // The payloads stay readable next to their placeholders.
            assert!(out.contains("\u{241b}]52;c;aGVsbG8=\u{2407}"));
            assert!(out.contains("\u{241b}]0;owned\u{2407}"));
            assert!(out.contains("[U+009B]31m red"));
            assert!(out.contains("[U+202E]gpj.exe"));
        }
        let url = "https://cbu01.alicdn.com/\u{1b}[31mx.jpg";
        assert!(has_unsafe_chars(url));
        assert_eq!(sanitize(url), "https://cbu01.alicdn.com/\u{241b}[31mx.jpg");
    }

    proptest! {
        #[test]
        fn sanitize_leaves_nothing_unsafe_and_is_a_fixed_point(s in any::<String>()) {
            let once = sanitize(&s);
            prop_assert!(!has_unsafe_chars(&once));
            let twice = sanitize(&once);
            prop_assert!(matches!(twice, Cow::Borrowed(_)));
            prop_assert_eq!(twice.as_ref(), once.as_ref());
        }

        #[test]
        fn sanitize_of_control_heavy_text_is_safe(s in "[\\x00-\\x1f\\x7f-\\u{a0}\\u{2000}-\\u{2070}\\u{feff}a-z<>\t\r\n]{0,64}") {
            let once = sanitize(&s);
            prop_assert!(!has_unsafe_chars(&once));
            let twice = sanitize(&once);
            prop_assert_eq!(twice.as_ref(), once.as_ref());
        }

        #[test]
        fn multiline_keeps_only_line_feeds_and_is_a_fixed_point(s in "[\\x00-\\x1f\\x7f-\\u{a0}\\u{202a}-\\u{202e}a-z\t\r\n]{0,64}") {
            let once = sanitize_multiline(&s);
            prop_assert!(!once.chars().any(|c| c != '\n' && is_unsafe_char(c)));
            prop_assert_eq!(once.matches('\n').count(), s.matches('\n').count());
            let twice = sanitize_multiline(&once);
            prop_assert_eq!(twice.as_ref(), once.as_ref());
        }

        #[test]
        fn safe_text_is_unchanged(s in "[a-zA-Z0-9 <>\"'&;/:.中文]{0,64}") {
            let out = sanitize(&s);
            prop_assert!(matches!(out, Cow::Borrowed(_)));
            prop_assert_eq!(out.as_ref(), s.as_str());
        }
    }
}
