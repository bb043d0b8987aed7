//! Laying out a description's HTML for the HTML panel, one element a line.
//!
//! The panel shows the HTML exactly as the API sent it, so a user can check what a supplier
//! wrote: this module only splits the raw string at tag boundaries and indents the pieces by
//! nesting depth. It never decodes an entity, never re-quotes an attribute and never
//! re-serialises from a parse tree. It works in one forward pass (linear in the input, with
//! a bounded indent), so a multi-megabyte description cannot stall the browser. It does not
//! make text safe for the terminal: pass each line through [`crate::text::sanitize`] before
//! drawing it.

/// Indent at most this many levels: tag soup that never closes its elements must not push
/// every following line off the panel, nor make the output grow with the square of the input.
pub const MAX_INDENT_DEPTH: usize = 16;

/// An end tag closes the nearest open element of its name among the innermost this many;
/// bounding the search keeps unbalanced input linear.
const END_TAG_SEARCH_DEPTH: usize = 32;

/// Spaces per nesting level.
const INDENT: &str = "  ";

/// Lays out description HTML as lines for display.
///
/// Each tag, comment and run of text gets its own line, indented two spaces per open
/// element. Void elements (`<img>`, `<br>`, ...) and self-closed tags (`<div/>`) do not open
/// a level; an end tag closes up to the nearest open element of its name and is ignored when
/// there is none, so the indent never goes negative; it is capped at [`MAX_INDENT_DEPTH`].
/// Text that is only whitespace between tags is dropped. A piece spanning several source
/// lines becomes several output lines at the same indent (no line holds `\n` or `\r`), and
/// the lines of it that hold only whitespace are left out. Everything else is exactly as
/// received.
pub fn format_lines(html: &str) -> Vec<String> {
    let indents: Vec<String> = (0..=MAX_INDENT_DEPTH)
        .map(|depth| INDENT.repeat(depth))
        .collect();
    let mut lines = Vec::new();
    for piece in pieces(html) {
        let indent = indents.get(piece.depth).map_or("", String::as_str);
        for line in piece.raw.split(['\n', '\r']) {
            if !line.chars().all(is_html_whitespace) {
                let mut shown = String::with_capacity(indent.len() + line.len());
                shown.push_str(indent);
                shown.push_str(line);
                lines.push(shown);
            }
        }
    }
    lines
}

/// One tag, comment or text run, as it appears in the input, and its nesting depth.
#[derive(Debug, PartialEq, Eq)]
struct Piece<'a> {
    depth: usize,
    raw: &'a str,
}

/// Splits HTML into its pieces with their depths, dropping whitespace-only text.
/// Concatenating the `raw` of the pieces gives back the input without that text.
fn pieces(html: &str) -> Vec<Piece<'_>> {
    let mut layout = Layout::default();
    let mut pieces = Vec::new();
    let mut scanner = Scanner::new(html);
    while let Some(token) = scanner.next_token() {
        let depth = layout.depth_for(&token);
        if !(token.kind == Kind::Text && token.raw.chars().all(is_html_whitespace)) {
            pieces.push(Piece {
                depth: depth.min(MAX_INDENT_DEPTH),
                raw: token.raw,
            });
        }
    }
    pieces
}

/// HTML's whitespace: space, tab, line feed, form feed and carriage return. A no-break space
/// is content, not layout.
fn is_html_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{c}' | '\r')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    /// `<name ...>`; `self_closed` when written `<name .../>`.
    StartTag {
        self_closed: bool,
    },
    EndTag,
    /// Comments, `<!DOCTYPE>`, `<?xml ?>` and other markup that never nests.
    Other,
}

#[derive(Debug)]
struct Token<'a> {
    kind: Kind,
    /// The tag's name as written, for start and end tags; empty otherwise. HTML tag names
    /// ignore ASCII case (`<IMG>` is `<img>`), so it is always compared that way.
    name: &'a str,
    raw: &'a str,
}

/// The stack of open elements, which gives each piece its depth.
#[derive(Default)]
struct Layout<'a> {
    open: Vec<&'a str>,
}

impl<'a> Layout<'a> {
    /// The depth at which `token` is shown, updating the open elements.
    fn depth_for(&mut self, token: &Token<'a>) -> usize {
        match token.kind {
            Kind::Text | Kind::Other => self.open.len(),
            Kind::StartTag { self_closed } => {
                let innermost_is_same = self
                    .open
                    .last()
                    .is_some_and(|open| open.eq_ignore_ascii_case(token.name));
                if innermost_is_same && closes_open_sibling(token.name) {
                    self.open.pop();
                }
                let depth = self.open.len();
                if !self_closed && !is_void(token.name) {
                    self.open.push(token.name);
                }
                depth
            }
            Kind::EndTag => {
                let innermost = self.open.len().saturating_sub(END_TAG_SEARCH_DEPTH);
                let open = self.open.get(innermost..).unwrap_or_default();
                if let Some(at) = open
                    .iter()
                    .rposition(|open| open.eq_ignore_ascii_case(token.name))
                {
                    self.open.truncate(innermost + at);
                }
                self.open.len()
            }
        }
    }
}

/// Elements that never have content or an end tag, per the HTML standard.
fn is_void(name: &str) -> bool {
    const VOID: [&str; 14] = [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr",
    ];
    is_one_of(name, &VOID)
}

/// Elements whose end tag HTML lets an author leave out when the next sibling of the same
/// kind starts (`<li>a<li>b`, `<p>a<p>b`), so that start closes the open one.
fn closes_open_sibling(name: &str) -> bool {
    is_one_of(name, &["p", "li", "dt", "dd", "option", "tr", "td", "th"])
}

/// Elements whose content is text up to their end tag, even when it holds `<`: a browser
/// reads `<script>if (a<b) ...</script>` as one run of text.
fn has_raw_text_content(name: &str) -> bool {
    is_one_of(name, &["script", "style", "textarea", "title", "xmp"])
}

fn is_one_of(name: &str, names: &[&str]) -> bool {
    names.iter().any(|known| name.eq_ignore_ascii_case(known))
}

/// Walks the input once, front to back, yielding its tokens.
struct Scanner<'a> {
    html: &'a str,
    at: usize,
    /// Set after the start tag of an element with raw text content: the next token is its
    /// text, up to the end tag of this name.
    raw_text_of: Option<&'a str>,
}

impl<'a> Scanner<'a> {
    fn new(html: &'a str) -> Self {
        Scanner {
            html,
            at: 0,
            raw_text_of: None,
        }
    }

    fn next_token(&mut self) -> Option<Token<'a>> {
        let rest = self.html.get(self.at..).filter(|rest| !rest.is_empty())?;
        let bytes = rest.as_bytes();

        if let Some(element) = self.raw_text_of.take() {
            let len = raw_text_len(bytes, element.as_bytes());
            if len > 0 {
                return Some(self.take(Kind::Text, "", len));
            }
        }

        let token = if !starts_markup(bytes) {
            self.take(Kind::Text, "", text_len(bytes))
        } else if let Some(len) = comment_len(bytes) {
            self.take(Kind::Other, "", len)
        } else {
            let tag = scan_tag(bytes);
            let name = rest.get(tag.name).unwrap_or_default();
            self.take(tag.kind, name, tag.len)
        };

        if matches!(token.kind, Kind::StartTag { .. }) && has_raw_text_content(token.name) {
            self.raw_text_of = Some(token.name);
        }
        Some(token)
    }

    fn take(&mut self, kind: Kind, name: &'a str, len: usize) -> Token<'a> {
        let start = self.at;
        self.at = start.saturating_add(len).min(self.html.len());
        Token {
            kind,
            name,
            raw: self.html.get(start..self.at).unwrap_or_default(),
        }
    }
}

/// Tells whether the input starts with markup as a browser's tokenizer reads it: `<`
/// followed by a letter (a start tag), `!` or `?` (comments and declarations), or `/` and
/// anything (an end tag, or a malformed one read as a comment). Any other `<` is text.
fn starts_markup(bytes: &[u8]) -> bool {
    match (bytes.first(), bytes.get(1)) {
        (Some(b'<'), Some(b'/')) => bytes.len() > 2,
        (Some(b'<'), Some(next)) => next.is_ascii_alphabetic() || matches!(next, b'!' | b'?'),
        _ => false,
    }
}

/// The length of the text at the start of the input: up to the next markup or the end.
fn text_len(bytes: &[u8]) -> usize {
    let mut at = 1;
    while let Some(offset) = bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'<'))
    {
        at += offset;
        if bytes.get(at..).is_some_and(starts_markup) {
            return at;
        }
        at += 1;
    }
    bytes.len()
}

/// The length of a comment or declaration at the start of the input, or `None` when it is
/// a tag. `<!-- ... -->` ends at the first `-->` (`<!-->` and `<!--->` are empty comments);
/// `<!DOCTYPE ...>`, `<?xml ...>` and a malformed end tag such as `</ x>` end at the first
/// `>`. Unterminated, they run to the end of the input, as a browser reads them.
fn comment_len(bytes: &[u8]) -> Option<usize> {
    if let Some(body) = bytes.strip_prefix(b"<!--") {
        for empty in [&b">"[..], b"->"] {
            if body.starts_with(empty) {
                return Some(4 + empty.len());
            }
        }
        let end = body.windows(3).position(|window| window == b"-->");
        return Some(end.map_or(bytes.len(), |end| 4 + end + 3));
    }
    let is_declaration = matches!(bytes.get(1), Some(b'!' | b'?'));
    let is_malformed_end_tag =
        bytes.get(1) == Some(&b'/') && !bytes.get(2).is_some_and(u8::is_ascii_alphabetic);
    if !(is_declaration || is_malformed_end_tag) {
        return None;
    }
    let end = bytes.iter().skip(2).position(|&b| b == b'>');
    Some(end.map_or(bytes.len(), |end| 2 + end + 1))
}

/// A tag found at the start of the input.
struct ScannedTag {
    kind: Kind,
    /// Byte range of the tag's name.
    name: std::ops::Range<usize>,
    len: usize,
}

/// Reads the tag at the start of the input (which starts with `<` and a letter, or `</` and
/// a letter) up to its closing `>`. A `>` inside a quoted attribute value does not close the
/// tag; quotes count only where a value starts, right after `=`, as in a browser. An
/// unterminated tag runs to the end of the input.
fn scan_tag(bytes: &[u8]) -> ScannedTag {
    let is_end_tag = bytes.get(1) == Some(&b'/');
    let name_start = if is_end_tag { 2 } else { 1 };
    let name_len = bytes
        .iter()
        .skip(name_start)
        .position(|&b| b == b'/' || b == b'>' || is_whitespace_byte(b))
        .unwrap_or(bytes.len().saturating_sub(name_start));
    let name = name_start..name_start + name_len;

    let (len, self_closed) = scan_attributes(bytes, name.end);
    let kind = if is_end_tag {
        Kind::EndTag
    } else {
        Kind::StartTag { self_closed }
    };
    ScannedTag { kind, name, len }
}

/// Where the attribute scanner is inside a tag.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AttributeState {
    /// Between attributes, or in a name.
    Outside,
    /// After `=`, before the value.
    BeforeValue,
    /// In a value without quotes; it ends at whitespace or `>`.
    Unquoted,
}

/// Scans from `at` to the `>` that closes the tag: the tag's length, and whether it was
/// self-closed (`/` right before that `>`, outside a value).
fn scan_attributes(bytes: &[u8], mut at: usize) -> (usize, bool) {
    let mut state = AttributeState::Outside;
    let mut after_slash = false;
    while let Some(&b) = bytes.get(at) {
        match (state, b) {
            (_, b'>') => return (at + 1, state == AttributeState::Outside && after_slash),
            (AttributeState::Outside, b'=') => state = AttributeState::BeforeValue,
            (AttributeState::BeforeValue, b'"' | b'\'') => {
                let close = bytes.iter().skip(at + 1).position(|&q| q == b);
                match close {
                    Some(offset) => at += offset + 1,
                    None => return (bytes.len(), false),
                }
                state = AttributeState::Outside;
            }
            (AttributeState::BeforeValue, _) if !is_whitespace_byte(b) => {
                state = AttributeState::Unquoted
            }
            (AttributeState::Unquoted, _) if is_whitespace_byte(b) => {
                state = AttributeState::Outside
            }
            _ => {}
        }
        after_slash = b == b'/';
        at += 1;
    }
    (bytes.len(), false)
}

/// The length of the raw text content of `element` at the start of the input: up to its
/// end tag (`</name` in any case, followed by whitespace, `/` or `>`), or the whole input.
fn raw_text_len(bytes: &[u8], element: &[u8]) -> usize {
    let mut at = 0;
    while let Some(offset) = bytes
        .get(at..)
        .and_then(|rest| rest.windows(2).position(|w| w == b"</"))
    {
        at += offset;
        let name = bytes.get(at + 2..at + 2 + element.len());
        let after = bytes.get(at + 2 + element.len());
        let name_matches = name.is_some_and(|name| name.eq_ignore_ascii_case(element));
        let name_ends = after.is_none_or(|&b| b == b'/' || b == b'>' || is_whitespace_byte(b));
        if name_matches && name_ends {
            return at;
        }
        at += 2;
    }
    bytes.len()
}

fn is_whitespace_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The input without its whitespace-only text between tags, which is what the pieces
    /// must add up to.
    fn without_layout_whitespace(html: &str) -> String {
        let mut scanner = Scanner::new(html);
        let mut kept = String::new();
        while let Some(token) = scanner.next_token() {
            if !(token.kind == Kind::Text && token.raw.chars().all(is_html_whitespace)) {
                kept.push_str(token.raw);
            }
        }
        kept
    }

    /// Removes the indent of each line (the depth of its piece) and joins them.
    fn unindented(html: &str) -> String {
        let lines = format_lines(html);
        let depths = pieces(html).into_iter().map(|piece| piece.depth);
        lines
            .iter()
            .zip(depths)
            .map(|(line, depth)| {
                let indent = INDENT.repeat(depth);
                assert!(
                    line.starts_with(&indent),
                    "{line:?} lacks its indent of {depth}"
                );
                line[indent.len()..].to_string()
            })
            .collect()
    }

    #[test]
    fn one_element_a_line_indented_by_nesting() {
        let html = r#"<div class="a"><p>Hello <b>world</b></p><img src="x.jpg"><br/></div>"#;
        assert_eq!(
            format_lines(html),
            [
                r#"<div class="a">"#,
                "  <p>",
                "    Hello ",
                "    <b>",
                "      world",
                "    </b>",
                "  </p>",
                r#"  <img src="x.jpg">"#,
                "  <br/>",
                "</div>",
            ]
        );
    }

    #[test]
    fn void_and_self_closed_elements_do_not_nest() {
        let html = "<p><img src=a><br><hr><input><meta charset=utf-8><area href=b><span/>text</p>";
        let lines = format_lines(html);
        assert_eq!(lines.last().map(String::as_str), Some("</p>"));
        assert!(lines[1..lines.len() - 1]
            .iter()
            .all(|line| line.starts_with("  <") || line == "  text"));
        assert_eq!(
            lines[1..lines.len() - 1]
                .iter()
                .filter(|l| l.starts_with("    "))
                .count(),
            0
        );
    }

    #[test]
    fn tags_and_text_are_exactly_as_received() {
        let html = concat!(
            r#"<P STYLE='color:red' data-x="a>b" title=un&amp;quoted>"#,
            "&nbsp;1 &lt; 2 &amp;&#63;",
            r#"<img src="https://cbu01.alicdn.com/a.jpg?x=1&amp;y=2" alt='it"s'/>"#,
            "</P >",
        );
        assert_eq!(
            format_lines(html),
            [
                r#"<P STYLE='color:red' data-x="a>b" title=un&amp;quoted>"#,
                "  &nbsp;1 &lt; 2 &amp;&#63;",
                r#"  <img src="https://cbu01.alicdn.com/a.jpg?x=1&amp;y=2" alt='it"s'/>"#,
                "</P >",
            ]
        );
    }

    #[test]
    fn comments_and_declarations_stand_alone() {
        let html = "<!DOCTYPE html><div><!-- a <b> c --><!----><?xml x?></div>";
        assert_eq!(
            format_lines(html),
            [
                "<!DOCTYPE html>",
                "<div>",
                "  <!-- a <b> c -->",
                "  <!---->",
                "  <?xml x?>",
                "</div>"
            ]
        );
        assert_eq!(
            format_lines("<!-- never closed <p>"),
            ["<!-- never closed <p>"]
        );
        assert_eq!(format_lines("<!-->x"), ["<!-->", "x"]);
    }

    #[test]
    fn a_lone_angle_bracket_is_text() {
        assert_eq!(
            format_lines("<p>1 < 2 <= 3</p>"),
            ["<p>", "  1 < 2 <= 3", "</p>"]
        );
        assert_eq!(format_lines("a <"), ["a <"]);
        assert_eq!(format_lines("a </"), ["a </"]);
        assert_eq!(format_lines("a </ b>c"), ["a ", "</ b>", "c"]);
    }

    #[test]
    fn script_and_style_content_is_one_text_run() {
        let html = "<script>if (a<b && c>d) { x = '</p>'; }</SCRIPT><p>after</p>";
        assert_eq!(
            format_lines(html),
            [
                "<script>",
                "  if (a<b && c>d) { x = '</p>'; }",
                "</SCRIPT>",
                "<p>",
                "  after",
                "</p>"
            ]
        );
        assert_eq!(format_lines("<style></style>"), ["<style>", "</style>"]);
        assert_eq!(format_lines("<textarea><b>"), ["<textarea>", "  <b>"]);
    }

    #[test]
    fn whitespace_between_tags_is_dropped_and_line_breaks_split_lines() {
        let html = "<div>\n  <p>\r\n    two\n    lines\n  </p>\n\u{a0}</div>";
        assert_eq!(
            format_lines(html),
            [
                "<div>",
                "  <p>",
                "        two",
                "        lines",
                "  </p>",
                "  \u{a0}",
                "</div>"
            ]
        );
        let wrapped_tag = "<img\n  src=\"a.jpg\"\n  alt=\"b\">";
        assert_eq!(
            format_lines(wrapped_tag),
            ["<img", "  src=\"a.jpg\"", "  alt=\"b\">"]
        );
        for line in format_lines(html).iter().chain(&format_lines(wrapped_tag)) {
            assert!(!line.contains(['\n', '\r']));
        }
    }

    #[test]
    fn unbalanced_tags_keep_the_indent_in_bounds() {
        assert_eq!(format_lines("</div></p>text"), ["</div>", "</p>", "text"]);
        assert_eq!(
            format_lines("<div><span>a</div>b"),
            ["<div>", "  <span>", "    a", "</div>", "b"]
        );
        // Omitted end tags of siblings.
        assert_eq!(
            format_lines("<ul><li>a<li>b</ul>"),
            ["<ul>", "  <li>", "    a", "  <li>", "    b", "</ul>"]
        );

        let deep = "<div>".repeat(1000) + "x";
        let lines = format_lines(&deep);
        let widest = lines
            .iter()
            .map(|line| line.len() - line.trim_start().len())
            .max();
        assert_eq!(widest, Some(MAX_INDENT_DEPTH * INDENT.len()));
    }

    #[test]
    fn description_html_round_trips() {
        let html = concat!(
            "<div id=\"offer-template-0\"></div><p><br/>",
            "<img src=\"https://cbu01.alicdn.com/img/ibank/O1CN01I_!!1-0-cib.jpg?__r__=1\" alt=\"页头\"/>",
            "<br/>\n<table><tr><td>尺码</td><td>S &amp; M</td></tr></table></p>",
        );
        assert_eq!(unindented(html), without_layout_whitespace(html));
        assert_eq!(without_layout_whitespace(html), html.replace('\n', ""));
    }

    #[test]
    fn five_megabytes_of_tag_soup_do_not_hang() {
        // Inputs that would cost quadratic time in a naive scanner: unclosed elements, end
        // tags with no match, many `<` that start nothing, and one unclosed quote at the end.
        let mut html = String::new();
        while html.len() < 5 * 1024 * 1024 {
            html.push_str("<p><span a='>'>x < y</div></b>");
        }
        html.push_str("<img src=\"never closed");
        // About two seconds in an unoptimised build; quadratic work on 5 MB would take hours.
        // The bound is wide because tests share two cores with builds.
        let started = std::time::Instant::now();
        let lines = format_lines(&html);
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        assert!(lines
            .iter()
            .all(|line| line.len() < 200 || line.ends_with("never closed")));
        assert_eq!(unindented(&html), without_layout_whitespace(&html));
    }

    fn html_fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("<div>".to_string()),
            Just("</div>".to_string()),
            Just("<p class=\"a>b\">".to_string()),
            Just("<img src='x.jpg'/>".to_string()),
            Just("<br>".to_string()),
            Just("<!-- c -->".to_string()),
            Just("<script>".to_string()),
            Just("</script>".to_string()),
            Just("<".to_string()),
            Just(">".to_string()),
            Just("</".to_string()),
            Just("\"".to_string()),
            Just("=".to_string()),
            Just("&amp;".to_string()),
            Just(" ".to_string()),
            Just("\t".to_string()),
            "[a-z<>/!?'\"= -]{0,10}",
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn pieces_rebuild_the_input_without_layout_whitespace(fragments in prop::collection::vec(html_fragment(), 0..32)) {
            let html = fragments.concat();
            let rebuilt: String = pieces(&html).iter().map(|piece| piece.raw).collect();
            prop_assert_eq!(&rebuilt, &without_layout_whitespace(&html));
            for piece in pieces(&html) {
                prop_assert!(piece.depth <= MAX_INDENT_DEPTH);
                prop_assert!(!piece.raw.is_empty());
            }
        }

        #[test]
        fn lines_without_their_indent_rebuild_single_line_input(fragments in prop::collection::vec(html_fragment(), 0..32)) {
            let html = fragments.concat().replace(['\n', '\r'], "");
            let lines = format_lines(&html);
            prop_assert!(lines.iter().all(|line| !line.contains(['\n', '\r'])));
            // Pieces that are whitespace only (inside a tag-free run of raw text) are not
            // shown; every other piece is one line.
            let shown: String = pieces(&html)
                .iter()
                .filter(|piece| !piece.raw.chars().all(is_html_whitespace))
                .map(|piece| piece.raw)
                .collect();
            let unindented: String = lines
                .iter()
                .zip(pieces(&html).iter().filter(|piece| !piece.raw.chars().all(is_html_whitespace)))
                .map(|(line, piece)| line[piece.depth * INDENT.len()..].to_string())
                .collect();
            prop_assert_eq!(unindented, shown);
        }
    }
}
