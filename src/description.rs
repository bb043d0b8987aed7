//! From an `item_desc` answer to the ordered list of its pictures.
//!
//! `detail_imgs` first, in order, then every picture in `detail_html` not already listed.
//! References are normalised (leftover escaping undone, trimmed, entities decoded,
//! protocol-relative made https) and the derived names that alicdn serves (thumbnail and
//! format suffixes) are folded into the original, so each picture is listed once under its
//! full-size URL. This module owns that list; it never fetches anything, and it never lists a
//! `data:` URI, a lazy-load placeholder, a link, or a URL holding a control character: what
//! it lists is what the rest of the program fetches, copies and saves.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::TokenizerResult;
use serde::Serialize;
use url::Url;

use crate::text;

/// Where a picture's URL was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PictureSource {
    /// The answer's `detail_imgs` list.
    DetailImgs,
    /// An element of `detail_html`.
    DetailHtml,
}

/// One picture of a description, under its normalised original URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Picture {
    /// The normalised URL of the full-size original; what is fetched, copied and saved.
    pub url: String,
    /// Where it was first seen.
    pub source: PictureSource,
    /// Other names under which the same picture was listed (derived thumbnails, repeats).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A picture reference that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unusable {
    /// The reference as found, made safe to print (and shortened when it is very long).
    pub raw: String,
    /// Why it is not fetched.
    pub reason: String,
}

/// The pictures of one description.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Description {
    /// Usable pictures, first-seen order.
    pub pictures: Vec<Picture>,
    /// References that looked like pictures but cannot be fetched.
    pub unusable: Vec<Unusable>,
}

/// Extracts the pictures of a description.
///
/// Every entry of `detail_imgs` in order, then every picture of `detail_html` that is not
/// already listed (the `src` of `<img>` and its lazy-load attributes `data-lazyload-src`,
/// `data-ks-lazyload` and `data-src`). References that cannot be fetched are reported in
/// [`Description::unusable`], once each; `data:` URIs and lazy-load placeholders are skipped
/// without a report, since they are never product pictures.
pub fn extract(detail_imgs: &[String], detail_html: &str) -> Description {
    let mut list = PictureList::default();
    for reference in detail_imgs {
        // Checked before decoding so that a huge inline picture is never copied.
        if !is_data_uri(reference) {
            list.add(&decode_reference(reference), PictureSource::DetailImgs);
        }
    }
    for reference in html_picture_references(detail_html) {
        list.add(&reference, PictureSource::DetailHtml);
    }
    list.into_description()
}

/// The `<img>` attributes that name a picture, in the order they are taken. Lazy-load
/// scripts show the picture in one of the `data-*` attributes and leave a placeholder in
/// `src` until then, so those come first.
const PICTURE_ATTRIBUTES: [&str; 4] = ["data-lazyload-src", "data-ks-lazyload", "data-src", "src"];

/// At most this many characters of an unusable reference are kept for display.
const MAX_RAW_CHARS: usize = 200;

/// The HTML is handed to the tokenizer in pieces of about this many bytes, so no single
/// buffer approaches the 4 GiB that one tendril can hold.
const TOKENIZER_CHUNK_BYTES: usize = 1 << 20;

/// Escaping is undone at most this many times: a description escaped more often than that
/// is not one that a reseller's pipeline produced by accident.
const MAX_UNESCAPE_ROUNDS: usize = 4;

/// Collects pictures in first-seen order and folds the names of one picture together.
#[derive(Default)]
struct PictureList {
    pictures: Vec<Picture>,
    /// Canonical key of each listed picture to its index in `pictures`.
    by_key: HashMap<String, usize>,
    /// Every normalised name already handled, so repeats cost one lookup.
    names_seen: HashSet<String>,
    unusable: Vec<Unusable>,
    unusable_seen: HashSet<String>,
}

impl PictureList {
    fn add(&mut self, reference: &str, source: PictureSource) {
        match classify(reference) {
            Reference::NotAPicture => {}
            Reference::Unusable(reason) => self.add_unusable(reference, reason),
            Reference::Picture(url) => self.add_picture(url, source),
        }
    }

    fn add_picture(&mut self, url: Url, source: PictureSource) {
        let name = url.as_str();
        if self.names_seen.contains(name) {
            return;
        }
        self.names_seen.insert(name.to_string());

        let canonical = canonical_form(&url);
        if let Some(picture) = self
            .by_key
            .get(&canonical.key)
            .and_then(|&index| self.pictures.get_mut(index))
        {
            if picture.url != name {
                picture.aliases.push(name.to_string());
            }
            return;
        }

        let original = canonical.original.as_str().to_string();
        let aliases = if original == name {
            Vec::new()
        } else {
            vec![name.to_string()]
        };
        self.names_seen.insert(original.clone());
        self.by_key.insert(canonical.key, self.pictures.len());
        self.pictures.push(Picture {
            url: original,
            source,
            aliases,
        });
    }

    fn add_unusable(&mut self, reference: &str, reason: Cow<'static, str>) {
        let raw = printable_reference(reference.trim());
        if self.unusable_seen.insert(raw.clone()) {
            self.unusable.push(Unusable {
                raw,
                reason: reason.into_owned(),
            });
        }
    }

    fn into_description(self) -> Description {
        Description {
            pictures: self.pictures,
            unusable: self.unusable,
        }
    }
}

/// What one picture reference turned out to be.
#[derive(Debug)]
enum Reference {
    /// Empty, a `data:` or `about:` URI or a lazy-load placeholder: skipped without a word.
    NotAPicture,
    /// Looks like a picture but cannot be fetched, for this reason.
    Unusable(Cow<'static, str>),
    /// A picture at this absolute http or https URL.
    Picture(Url),
}

/// Normalises one reference (already free of entities and leftover escaping) and decides
/// what it is.
fn classify(reference: &str) -> Reference {
    let trimmed = reference.trim();
    if trimmed.is_empty() || is_data_uri(trimmed) {
        return Reference::NotAPicture;
    }

    // The URL standard removes every ASCII tab and newline from its input before parsing, as
    // browsers do, so an attribute value wrapped over lines still names one picture.
    let joined: Cow<str> = if trimmed.contains(['\t', '\n', '\r']) {
        Cow::Owned(
            trimmed
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .collect(),
        )
    } else {
        Cow::Borrowed(trimmed)
    };
    if text::has_unsafe_chars(&joined) {
        return Reference::Unusable("contains control characters".into());
    }

    let absolute: Cow<str> = if joined.starts_with("//") {
        // Descriptions are shown on https pages, where `//host/x` means `https://host/x`.
        Cow::Owned(format!("https:{joined}"))
    } else {
        match scheme(&joined) {
            Some(scheme) if scheme.eq_ignore_ascii_case("http") => joined,
            Some(scheme) if scheme.eq_ignore_ascii_case("https") => joined,
            // Lazy-load scripts also use `about:blank` as the empty placeholder in `src`.
            Some(scheme) if scheme.eq_ignore_ascii_case("about") => return Reference::NotAPicture,
            Some(_) => return Reference::Unusable("not an http or https address".into()),
            None => {
                return Reference::Unusable(
                    "relative address with no host to resolve it against".into(),
                )
            }
        }
    };

    match Url::parse(&absolute) {
        Ok(url) if is_placeholder(&url) => Reference::NotAPicture,
        Ok(url) => Reference::Picture(url),
        Err(error) => Reference::Unusable(format!("not a valid address: {error}").into()),
    }
}

/// The scheme of an absolute reference (`https` in `https://…`), `None` for a relative one.
/// A scheme is a letter followed by letters, digits, `+`, `-` or `.`, then a colon.
fn scheme(reference: &str) -> Option<&str> {
    let (scheme, _) = reference.split_once(':')?;
    let mut chars = scheme.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_valid = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (starts_with_letter && rest_valid).then_some(scheme)
}

/// Tells whether a reference is an inline `data:` URI, looking only at its first bytes so
/// that a multi-megabyte one costs nothing.
fn is_data_uri(reference: &str) -> bool {
    let start = reference.trim_start().as_bytes();
    start
        .get(..5)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"data:"))
}

/// Tells whether a URL is a lazy-load placeholder rather than a product picture.
///
/// Lazy-load scripts put a tiny shared image in `src` (1688 uses `…/cms/upload/lazyload.png`,
/// Taobao's KISSY loader `…/imglazyload/spaceball.gif`) and the real picture in a `data-*`
/// attribute. These names are those shared images; product pictures on the CDN carry
/// generated names and never these.
fn is_placeholder(url: &Url) -> bool {
    const PLACEHOLDER_STEMS: [&str; 7] = [
        "lazyload",
        "spaceball",
        "blank",
        "pixel",
        "transparent",
        "placeholder",
        "loading",
    ];
    let file_name = url.path().rsplit('/').next().unwrap_or_default();
    let stem = file_name.split('.').next().unwrap_or_default();
    has_picture_extension(file_name)
        && PLACEHOLDER_STEMS
            .iter()
            .any(|placeholder| stem.eq_ignore_ascii_case(placeholder))
}

/// Shortens and sanitises a reference for display in an [`Unusable`].
fn printable_reference(reference: &str) -> String {
    let mut shown: String = reference.chars().take(MAX_RAW_CHARS).collect();
    if reference.chars().nth(MAX_RAW_CHARS).is_some() {
        shown.push('…');
    }
    text::sanitize(&shown).into_owned()
}

/// Undoes the escaping a `detail_imgs` entry can carry: leftover JSON escaping
/// (`https:\/\/…`) and HTML entities (`&amp;`).
fn decode_reference(reference: &str) -> Cow<'_, str> {
    let unescaped = if looks_json_escaped(reference) {
        Cow::Owned(json_unescape(reference))
    } else {
        Cow::Borrowed(reference)
    };
    let decoded = match html_escape::decode_html_entities(&unescaped) {
        Cow::Owned(decoded) => Some(decoded),
        Cow::Borrowed(_) => None,
    };
    decoded.map_or(unescaped, Cow::Owned)
}

/// The picture references of a description's HTML, in document order, entities decoded.
fn html_picture_references(html: &str) -> Vec<String> {
    let html = undo_leftover_escaping(html);

    let queue = BufferQueue::default();
    for chunk in chunks_at_char_boundaries(&html, TOKENIZER_CHUNK_BYTES) {
        queue.push_back(StrTendril::from_slice(chunk));
    }
    let tokenizer = Tokenizer::new(PictureReferenceSink::default(), TokenizerOpts::default());
    // The sink never asks to run a script, so one feed takes the whole queue; the loop is
    // there so that a `Script` result could never leave input unread.
    while let TokenizerResult::Script(()) = tokenizer.feed(&queue) {}
    tokenizer.end();
    tokenizer.sink.references.into_inner()
}

/// Receives the tokens of the HTML tokenizer and keeps the picture references of `<img>`.
#[derive(Default)]
struct PictureReferenceSink {
    // The tokenizer hands tokens to `&self`, so the list needs interior mutability.
    references: RefCell<Vec<String>>,
}

impl TokenSink for PictureReferenceSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        if tag.kind != TagKind::StartTag {
            return TokenSinkResult::Continue;
        }
        if &*tag.name == "img" {
            self.collect_picture_attributes(&tag);
        }
        text_content_kind(&tag.name)
    }
}

impl PictureReferenceSink {
    fn collect_picture_attributes(&self, tag: &Tag) {
        let mut references = self.references.borrow_mut();
        // Lazy loading puts the picture in a `data-*` attribute and a placeholder in `src`,
        // whatever the placeholder's name (1688's own is a plain numbered PNG under
        // `/cms/upload/`): with a lazy attribute present, `src` is never the picture.
        let lazy = tag.attrs.iter().any(|attribute| {
            &*attribute.name.local != "src"
                && PICTURE_ATTRIBUTES.contains(&&*attribute.name.local)
                && !attribute.value.trim().is_empty()
                && !is_data_uri(&attribute.value)
        });
        for wanted in PICTURE_ATTRIBUTES {
            if lazy && wanted == "src" {
                continue;
            }
            let values = tag
                .attrs
                .iter()
                .filter(|attribute| &*attribute.name.local == wanted);
            for attribute in values {
                // Checked here so that a huge inline picture is never copied.
                if !is_data_uri(&attribute.value) {
                    references.push(attribute.value.to_string());
                }
            }
        }
    }
}

/// How the content after a start tag is read, as a browser's tree builder tells its
/// tokenizer: inside `<script>`, `<style>`, `<textarea>` and the like, `<img …>` is text, not
/// an element, and a browser shows no picture for it.
fn text_content_kind(tag_name: &str) -> TokenSinkResult<()> {
    match tag_name {
        "script" => TokenSinkResult::RawData(RawKind::ScriptData),
        "style" | "xmp" | "iframe" | "noembed" | "noframes" => {
            TokenSinkResult::RawData(RawKind::Rawtext)
        }
        "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
        "plaintext" => TokenSinkResult::Plaintext,
        // `<noscript>` is read as markup: its pictures are the ones shown without scripts.
        _ => TokenSinkResult::Continue,
    }
}

/// Splits a string into pieces of at most `max_bytes` (at least 4, the longest UTF-8
/// character) without cutting a character.
fn chunks_at_char_boundaries(s: &str, max_bytes: usize) -> impl Iterator<Item = &str> {
    let max_bytes = max_bytes.max(4);
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = max_bytes.min(rest.len());
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

/// Undoes escaping that a reseller's pipeline left on the HTML, so the tokenizer sees the
/// markup a browser would.
///
/// Two kinds are seen in answers: HTML that was JSON-escaped once more than needed, so the
/// string holds `<img src=\"…\">` or `\u003cimg src=\u0022…\u0022\u003e` as literal text;
/// and HTML that was entity-escaped as a whole (`&lt;img src=&quot;…&quot;&gt;`), often on
/// top of the first. Each is detected and undone in turn, a bounded number of times.
/// Characters are never stripped: an escape is either undone or left as it is.
fn undo_leftover_escaping(html: &str) -> Cow<'_, str> {
    let mut html = Cow::Borrowed(html);
    for _ in 0..MAX_UNESCAPE_ROUNDS {
        if looks_json_escaped(&html) {
            html = Cow::Owned(json_unescape(&html));
        } else if looks_entity_escaped(&html) {
            html = Cow::Owned(html_escape::decode_html_entities(&html).into_owned());
        } else {
            break;
        }
    }
    html
}

/// Tells whether text holds JSON escapes that only appear when markup was escaped once more
/// than needed: `\"` (a quoted attribute), `\/` (JSON encoders that escape slashes) or
/// `\u003c` / `\u0022` (encoders that escape `<` and `"` as code points).
fn looks_json_escaped(s: &str) -> bool {
    s.contains("\\\"")
        || s.contains("\\/")
        || contains_ignore_ascii_case(s, "\\u003c")
        || contains_ignore_ascii_case(s, "\\u0022")
}

/// Tells whether markup was entity-escaped as a whole: it holds `&lt;` followed by a tag
/// name but no real tag at all.
fn looks_entity_escaped(s: &str) -> bool {
    let has_escaped_tag = s.match_indices("&lt;").any(|(at, _)| {
        s.get(at + 4..)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_ascii_alphabetic())
    });
    has_escaped_tag && !has_tag(s)
}

/// Tells whether text holds a `<` followed by a letter, the start of a tag.
fn has_tag(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|pair| pair.first() == Some(&b'<') && pair.get(1).is_some_and(u8::is_ascii_alphabetic))
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle))
}

/// Undoes one level of JSON string escaping, leniently: the escapes JSON defines are decoded
/// (`\uD83D\uDE00` surrogate pairs included; a lone surrogate becomes U+FFFD) and anything
/// that is not a valid escape is kept as it is.
fn json_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('\\') {
        let (before, from_backslash) = rest.split_at(at);
        out.push_str(before);
        let escape = from_backslash.get(1..).unwrap_or_default();
        let (decoded, consumed) = decode_json_escape(escape);
        match decoded {
            Some(c) => {
                out.push(c);
                rest = escape.get(consumed..).unwrap_or_default();
            }
            None => {
                out.push('\\');
                rest = escape;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes the escape that follows a backslash: the character and how many bytes of
/// `escape` it used, or `None` when it is not a JSON escape.
fn decode_json_escape(escape: &str) -> (Option<char>, usize) {
    let simple = match escape.as_bytes().first() {
        Some(b'"') => Some('"'),
        Some(b'\\') => Some('\\'),
        Some(b'/') => Some('/'),
        Some(b'n') => Some('\n'),
        Some(b't') => Some('\t'),
        Some(b'r') => Some('\r'),
        Some(b'b') => Some('\u{8}'),
        Some(b'f') => Some('\u{c}'),
        Some(b'u') => None,
        _ => return (None, 0),
    };
    if simple.is_some() {
        return (simple, 1);
    }

    let Some(unit) = hex_code_unit(escape.get(1..5)) else {
        return (None, 0);
    };
    if (0xD800..0xDC00).contains(&unit) {
        let low = escape
            .get(5..7)
            .filter(|s| *s == "\\u")
            .and_then(|_| hex_code_unit(escape.get(7..11)));
        if let Some(low @ 0xDC00..=0xDFFF) = low {
            let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            return (char::from_u32(code), 11);
        }
    }
    (
        Some(char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER)),
        5,
    )
}

/// Reads four hex digits as a UTF-16 code unit.
fn hex_code_unit(digits: Option<&str>) -> Option<u32> {
    let digits = digits?;
    if digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        u32::from_str_radix(digits, 16).ok()
    } else {
        None
    }
}

/// A picture's identity (`key`) and the URL of its full-size original.
struct CanonicalForm {
    key: String,
    original: Url,
}

/// Works out which picture a URL names.
///
/// On the alicdn and 1688 CDNs, a derived name (thumbnail, format conversion) names the same
/// picture as the original, and a `__r__` query parameter is a cache-buster that upload tools
/// append. Elsewhere a URL is its own picture; only the fragment, which is never sent to the
/// server, is left out of the key.
fn canonical_form(url: &Url) -> CanonicalForm {
    if !is_alicdn_host(url) {
        let mut key = url.clone();
        key.set_fragment(None);
        return CanonicalForm {
            key: key.into(),
            original: url.clone(),
        };
    }

    let original_path = original_picture_path(url.path());
    let mut original = url.clone();
    if original_path != url.path() {
        original.set_path(&original_path);
    }

    let host = url.host_str().unwrap_or_default();
    let port = url
        .port()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();
    let query = url
        .query()
        .map(query_without_cache_buster)
        .unwrap_or_default();
    // The scheme is left out: the CDN serves the same bytes over http and https.
    let key = if query.is_empty() {
        format!("{host}{port}{original_path}")
    } else {
        format!("{host}{port}{original_path}?{query}")
    };
    CanonicalForm { key, original }
}

/// Tells whether a URL is on the alicdn or 1688 CDNs, the only hosts whose derived names we
/// know (`cbu01.alicdn.com`, `img.alicdn.com`, `gw.alicdn.com`, `cbu01-overseas.1688.com`).
fn is_alicdn_host(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    ["alicdn.com", "1688.com"].iter().any(|domain| {
        host == *domain
            || host
                .strip_suffix(domain)
                .is_some_and(|sub| sub.ends_with('.'))
    })
}

/// Drops the `__r__` cache-buster from a query, keeping the other parameters in order.
fn query_without_cache_buster(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| pair.split('=').next() != Some("__r__"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The path of the original picture that a CDN path names: the last segment with every
/// derived-name suffix removed.
fn original_picture_path(path: &str) -> String {
    let (directory, file_name) = path.rsplit_once('/').unwrap_or(("", path));
    let mut name = file_name.to_string();
    while let Some(shorter) = strip_format_suffix(&name)
        .or_else(|| strip_scale_suffix(&name))
        .or_else(|| strip_summary_suffix(&name))
        .or_else(|| strip_dotted_size(&name))
    {
        // Every rule returns a strictly shorter name, so this ends.
        name = shorter;
    }
    if path.contains('/') {
        format!("{directory}/{name}")
    } else {
        name
    }
}

/// alicdn converts a picture to WebP when `_.webp` is appended to its name:
/// `X.jpg_.webp` is `X.jpg` sent as WebP.
fn strip_format_suffix(name: &str) -> Option<String> {
    let base = strip_suffix_ignore_ascii_case(name, "_.webp")?;
    has_picture_extension(base).then(|| base.to_string())
}

/// alicdn scales a picture when `_<W>x<H>` is appended to its name, optionally followed by a
/// quality (`q90` or `Q75`) and the format to send (`.jpg`): `X.jpg_400x400q90.jpg`,
/// `X.jpg_790x10000Q75.jpg`, `X.jpg_790x10000` and `X.png_790x10000.jpg` all come from
/// `X.jpg` or `X.png`.
fn strip_scale_suffix(name: &str) -> Option<String> {
    let (base, suffix) = name.rsplit_once('_')?;
    if !has_picture_extension(base) {
        return None;
    }
    let rest = strip_size(suffix)?;
    let rest = match rest.strip_prefix(['q', 'Q']) {
        Some(quality) => quality.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    let valid_ending = rest.is_empty() || rest.strip_prefix('.').is_some_and(is_picture_extension);
    valid_ending.then(|| base.to_string())
}

/// Taobao serves a small gallery thumbnail when `_sum.jpg` is appended to a picture's name:
/// `X.jpg_sum.jpg` comes from `X.jpg`.
fn strip_summary_suffix(name: &str) -> Option<String> {
    let base = strip_suffix_ignore_ascii_case(name, "_sum.jpg")?;
    has_picture_extension(base).then(|| base.to_string())
}

/// 1688 serves square thumbnails as `<name>.<W>x<H>.<ext>` beside the original
/// `<name>.<ext>`: `X.310x310.jpg` comes from `X.jpg`.
fn strip_dotted_size(name: &str) -> Option<String> {
    let (rest, extension) = name.rsplit_once('.')?;
    let (stem, size) = rest.rsplit_once('.')?;
    let is_size = strip_size(size).is_some_and(str::is_empty);
    let shorter = format!("{stem}.{extension}");
    (is_size && !stem.is_empty() && has_picture_extension(&shorter)).then_some(shorter)
}

/// Strips a leading `<digits>x<digits>` size, returning what follows it.
fn strip_size(s: &str) -> Option<&str> {
    let after_width = s.trim_start_matches(|c: char| c.is_ascii_digit());
    let after_x = after_width.strip_prefix('x')?;
    let after_height = after_x.trim_start_matches(|c: char| c.is_ascii_digit());
    let width_present = after_width.len() < s.len();
    let height_present = after_height.len() < after_x.len();
    (width_present && height_present).then_some(after_height)
}

/// Tells whether a name ends in a picture extension with something before it.
fn has_picture_extension(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(stem, extension)| !stem.is_empty() && is_picture_extension(extension))
}

/// Tells whether an extension (without its dot) is one the CDNs serve pictures under.
fn is_picture_extension(extension: &str) -> bool {
    ["jpg", "jpeg", "png", "gif", "webp"]
        .iter()
        .any(|known| extension.eq_ignore_ascii_case(known))
}

fn strip_suffix_ignore_ascii_case<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let split = s.len().checked_sub(suffix.len())?;
    let tail = s.get(split..)?;
    if tail.eq_ignore_ascii_case(suffix) {
        s.get(..split)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn urls(description: &Description) -> Vec<&str> {
        description
            .pictures
            .iter()
            .map(|picture| picture.url.as_str())
            .collect()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    fn canonical_key(url: &str) -> String {
        let url = Url::parse(url).expect("test URL parses");
        canonical_form(&url).key
    }

    #[test]
    fn d1_lazy_load_attributes() {
        let html = concat!(
            r#"<div class="content-detail">"#,
            r#"<img src="https://cbu01.alicdn.com/cms/upload/lazyload.png" "#,
            r#"data-lazyload-src="https://cbu01.alicdn.com/img/ibank/O1CN01aaa_!!1-0-cib.jpg">"#,
            r#"<img data-src="//cbu01.alicdn.com/img/ibank/O1CN01bbb_!!1-0-cib.jpg">"#,
            r#"<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" "#,
            r#"data-ks-lazyload="https://img.alicdn.com/imgextra/i1/1/O1CN01ccc_!!1.jpg">"#,
            "</div>",
        );
        let description = extract(&[], html);
        assert_eq!(
            urls(&description),
            [
                "https://cbu01.alicdn.com/img/ibank/O1CN01aaa_!!1-0-cib.jpg",
                "https://cbu01.alicdn.com/img/ibank/O1CN01bbb_!!1-0-cib.jpg",
                "https://img.alicdn.com/imgextra/i1/1/O1CN01ccc_!!1.jpg",
            ]
        );
        assert!(description
            .pictures
            .iter()
            .all(|p| p.source == PictureSource::DetailHtml));
        assert!(
            description.unusable.is_empty(),
            "{:?}",
            description.unusable
        );
    }

    #[test]
    fn d2_protocol_relative_and_padded_urls() {
        let references = [
            "//cbu01.alicdn.com/img/ibank/O1CN01x_!!1-0-cib.jpg",
            "  //img.alicdn.com/a.jpg ",
            "/img/relative.jpg",
            "http://cbu01.alicdn.com/b.jpg",
        ];
        let html: String = references
            .iter()
            .map(|reference| format!(r#"<img src="{reference}">"#))
            .collect();
        let expected = [
            "https://cbu01.alicdn.com/img/ibank/O1CN01x_!!1-0-cib.jpg",
            "https://img.alicdn.com/a.jpg",
            "http://cbu01.alicdn.com/b.jpg",
        ];

        for (detail_imgs, detail_html) in [
            (strings(&references), String::new()),
            (Vec::new(), html.clone()),
            (strings(&references), html),
        ] {
            let description = extract(&detail_imgs, &detail_html);
            assert_eq!(urls(&description), expected);
            assert_eq!(description.unusable.len(), 1, "{:?}", description.unusable);
            let unusable = &description.unusable[0];
            assert_eq!(unusable.raw, "/img/relative.jpg");
            assert!(unusable.reason.contains("no host"), "{}", unusable.reason);
        }
    }

    #[test]
    fn d3_entities_and_leftover_escaping() {
        let expected = [
            "https://cbu01.alicdn.com/img/ibank/a.jpg?x=1&y=2",
            "https://cbu01.alicdn.com/b.jpg?v=3",
            "https://cbu01.alicdn.com/c.jpg",
            "https://cbu01.alicdn.com/d.jpg",
        ];
        let entities = r#"<img src="https://cbu01.alicdn.com/img/ibank/a.jpg?x=1&amp;y=2">"#;
        let numeric = r#"<img src="https://cbu01.alicdn.com/b.jpg&#63;v=3">"#;
        let escaped_twice = r#"<img src=\"https://cbu01.alicdn.com/c.jpg\">"#;
        let code_points = r#"\u003cimg src=\u0022https://cbu01.alicdn.com/d.jpg\u0022\u003e"#;

        // Each as a description of its own.
        for (html, url) in [entities, numeric, escaped_twice, code_points]
            .iter()
            .zip(expected)
        {
            let description = extract(&[], html);
            assert_eq!(urls(&description), [url], "from {html}");
            assert!(
                description.unusable.is_empty(),
                "{:?}",
                description.unusable
            );
        }

        // And all in one description.
        let all = [entities, numeric, escaped_twice, code_points].concat();
        let description = extract(&[], &all);
        assert_eq!(urls(&description), expected);
        for url in urls(&description) {
            assert!(!url.contains(['\\', '"']), "{url}");
        }
    }

    #[test]
    fn d3_escaping_in_detail_imgs_is_undone() {
        let detail_imgs = strings(&[
            r"https:\/\/cbu01.alicdn.com\/e.jpg",
            "https://cbu01.alicdn.com/f.jpg?a=1&amp;b=2",
        ]);
        let description = extract(&detail_imgs, "");
        assert_eq!(
            urls(&description),
            [
                "https://cbu01.alicdn.com/e.jpg",
                "https://cbu01.alicdn.com/f.jpg?a=1&b=2"
            ]
        );
    }

    #[test]
    fn entity_escaped_html_is_read() {
        let html = concat!(
            r"&lt;img src=\&quot;https://gw.alicdn.com/tfs/TB1-1125-231.png\&quot; /&gt;",
            r"&lt;p&gt;&lt;img src=\&quot;//img.alicdn.com/imgextra/i4/1/O1CN01g_!!1.jpg\&quot;/&gt;&lt;/p&gt;",
        );
        let description = extract(&[], html);
        assert_eq!(
            urls(&description),
            [
                "https://gw.alicdn.com/tfs/TB1-1125-231.png",
                "https://img.alicdn.com/imgextra/i4/1/O1CN01g_!!1.jpg",
            ]
        );
    }

    #[test]
    fn d4_one_picture_many_names() {
        let x = "https://cbu01.alicdn.com/img/ibank/O1CN01X_!!220-0-cib.jpg";
        let y = "https://cbu01.alicdn.com/img/ibank/O1CN01Y_!!220-0-cib.jpg?__r__=1657695621165";
        let names = [
            x,
            "https://cbu01.alicdn.com/img/ibank/O1CN01X_!!220-0-cib.jpg_.webp",
            "https://cbu01.alicdn.com/img/ibank/O1CN01X_!!220-0-cib.310x310.jpg",
            "https://cbu01.alicdn.com/img/ibank/O1CN01X_!!220-0-cib.jpg_400x400q90.jpg_.webp",
            x,
            y,
        ];
        let html_only = "https://cbu01.alicdn.com/img/ibank/O1CN01Z_!!220-0-cib.jpg";
        let mut html: String = names
            .iter()
            .map(|name| format!(r#"<img src="{name}">"#))
            .collect();
        html.push_str(&format!(r#"<p><img src="{html_only}"/></p>"#));

        let description = extract(&strings(&names), &html);
        assert_eq!(urls(&description), [x, y, html_only]);
        let sources: Vec<_> = description.pictures.iter().map(|p| p.source).collect();
        assert_eq!(
            sources,
            [
                PictureSource::DetailImgs,
                PictureSource::DetailImgs,
                PictureSource::DetailHtml
            ]
        );
        assert_eq!(description.pictures[0].aliases, names[1..4]);
        assert!(description.pictures[1].aliases.is_empty());
        assert!(description.unusable.is_empty());
    }

    #[test]
    fn d4_original_is_listed_when_only_a_derived_name_is_given() {
        let detail_imgs = strings(&[
            "https://cbu01.alicdn.com/img/ibank/O1CN01X_!!220-0-cib.jpg_400x400q90.jpg_.webp",
            "https://cbu01.alicdn.com/img/ibank/O1CN01X_!!220-0-cib.310x310.jpg",
        ]);
        let description = extract(&detail_imgs, "");
        assert_eq!(
            urls(&description),
            ["https://cbu01.alicdn.com/img/ibank/O1CN01X_!!220-0-cib.jpg"]
        );
        assert_eq!(description.pictures[0].aliases, detail_imgs);
    }

    #[test]
    fn cache_buster_does_not_make_another_picture() {
        let detail_imgs = strings(&[
            "https://cbu01.alicdn.com/img/ibank/O1CN01Y_!!1-0-cib.jpg?__r__=1",
            "https://cbu01.alicdn.com/img/ibank/O1CN01Y_!!1-0-cib.jpg",
            "https://cbu01.alicdn.com/img/ibank/O1CN01Y_!!1-0-cib.jpg?__r__=2",
            "https://cbu01.alicdn.com/img/ibank/O1CN01Y_!!1-0-cib.jpg?__r__=3&w=1",
        ]);
        let description = extract(&detail_imgs, "");
        assert_eq!(
            urls(&description),
            [detail_imgs[0].as_str(), detail_imgs[3].as_str()]
        );
        assert_eq!(description.pictures[0].aliases, detail_imgs[1..3]);
    }

    #[test]
    fn derived_names_map_to_their_original() {
        let cases = [
            (
                "https://img.alicdn.com/i1/X.jpg_400x400q90.jpg_.webp",
                "https://img.alicdn.com/i1/X.jpg",
            ),
            (
                "https://gw.alicdn.com/i4/X.jpg_790x10000Q75.jpg_.webp",
                "https://gw.alicdn.com/i4/X.jpg",
            ),
            (
                "https://img.alicdn.com/X.jpg_.webp",
                "https://img.alicdn.com/X.jpg",
            ),
            (
                "https://cbu01.alicdn.com/X.310x310.jpg",
                "https://cbu01.alicdn.com/X.jpg",
            ),
            (
                "https://gw.alicdn.com/tfs/X-1125-352.png_790x10000.jpg_.webp",
                "https://gw.alicdn.com/tfs/X-1125-352.png",
            ),
            (
                "https://img.alicdn.com/i2/X-tps-800-390.jpg_790x10000",
                "https://img.alicdn.com/i2/X-tps-800-390.jpg",
            ),
            (
                "https://img.alicdn.com/bao/X.jpg_sum.jpg",
                "https://img.alicdn.com/bao/X.jpg",
            ),
            (
                "https://cbu01-overseas.1688.com/img/X.jpg_.webp",
                "https://cbu01-overseas.1688.com/img/X.jpg",
            ),
            (
                "https://gd2.alicdn.com/X.JPG_400x400.jpg_.webp",
                "https://gd2.alicdn.com/X.JPG",
            ),
        ];
        for (derived, original) in cases {
            let description = extract(&strings(&[derived]), "");
            assert_eq!(urls(&description), [original], "from {derived}");
            assert_eq!(canonical_key(derived), canonical_key(original));
        }
    }

    #[test]
    fn names_that_are_not_derived_stay_as_they_are() {
        let names = [
            // Sizes inside the generated name, not appended to it.
            "https://gw.alicdn.com/tfs/TB1LrsZEq6qK1RjSZFmXXX0PFXa-1125-231.png",
            "https://img.alicdn.com/imgextra/i2/O1CN01q_!!6000000003599-0-tps-800-390.jpg",
            // No extension, so nothing can have been appended to one.
            "https://img.alicdn.com/tfscom/TB1cUizhgvD8KJjSsplXXaIEFXa",
            "https://img.alicdn.com/tfscom/TB1cUizhgvD8KJjSsplXXaIEFXa_400x400.jpg",
            // Underscores that are part of the name.
            "https://cbu01.alicdn.com/img/ibank/2020/452/402/17709204254_1283248032.jpg",
            "https://cbu01.alicdn.com/img/ibank/O1CN01R_!!2211417592417-0-cib.jpg",
            "https://img.alicdn.com/a_100x.jpg",
            "https://img.alicdn.com/.310x310.jpg",
        ];
        let description = extract(&strings(&names), "");
        assert_eq!(urls(&description), names);
    }

    #[test]
    fn suffix_rules_apply_only_to_the_alicdn_and_1688_hosts() {
        let names = [
            "https://example.com/X.jpg",
            "https://example.com/X.jpg_.webp",
            "https://example.com/X.310x310.jpg",
            "https://example.com/X.jpg?__r__=1",
            "https://notalicdn.com/X.jpg_.webp",
        ];
        let description = extract(&strings(&names), "");
        assert_eq!(urls(&description), names);
    }

    #[test]
    fn d5_inline_data_and_image_maps() {
        let tiny_png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
        let huge = format!(
            "data:image/jpeg;base64,{}",
            "QUJD".repeat(2 * 1024 * 1024 / 4)
        );
        let html = format!(
            concat!(
                r#"<img src="{tiny}">"#,
                r#"<img src="https://cbu01.alicdn.com/img/ibank/O1CN01p_!!1-0-cib.jpg">"#,
                r#"<img src="{huge}">"#,
                r#"<img src="https://cbu01.alicdn.com/img/ibank/O1CN01q_!!1-0-cib.jpg">"#,
                r##"<img src="https://cbu01.alicdn.com/img/ibank/O1CN01m_!!1-0-cib.jpg" usemap="#_sdmap_0">"##,
                r#"<map name="_sdmap_0"><area shape="rect" coords="0,0,790,400" "#,
                r#"href="https://detail.1688.com/offer/610947572360.html"></map>"#,
                r#"<a href="https://detail.1688.com/offer/610947572361.jpg">more</a>"#,
            ),
            tiny = tiny_png,
            huge = huge,
        );
        let detail_imgs = vec![tiny_png.to_string(), huge.clone()];

        let description = extract(&detail_imgs, &html);
        assert_eq!(
            urls(&description),
            [
                "https://cbu01.alicdn.com/img/ibank/O1CN01p_!!1-0-cib.jpg",
                "https://cbu01.alicdn.com/img/ibank/O1CN01q_!!1-0-cib.jpg",
                "https://cbu01.alicdn.com/img/ibank/O1CN01m_!!1-0-cib.jpg",
            ]
        );
        assert!(
            description.unusable.is_empty(),
            "data: URIs are skipped, not reported"
        );
        let listed = serde_json::to_string(&description).expect("serialises");
        assert!(!listed.contains("data:") && !listed.contains("610947572360"));
    }

    #[test]
    fn d5_huge_data_uri_costs_linear_time() {
        // Work quadratic in a 2 MB value would take hours; linear work takes about a second
        // even unoptimised. The bound is generous because machines are noisy.
        let huge = format!(
            "data:image/png;base64,{}",
            "QUJD".repeat(2 * 1024 * 1024 / 4)
        );
        let html = format!(
            r#"<p><img src="https://img.alicdn.com/a.jpg"><img src="{huge}"></p><p>{huge}</p>"#
        );
        let started = std::time::Instant::now();
        let description = extract(std::slice::from_ref(&huge), &html);
        assert_eq!(urls(&description), ["https://img.alicdn.com/a.jpg"]);
        assert!(description.unusable.is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn d6_the_documented_example() {
        let answer: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/item_desc_622619146604.json"
        )))
        .expect("fixture is JSON");
        let data = &answer["data"];
        let detail_imgs: Vec<String> =
            serde_json::from_value(data["detail_imgs"].clone()).expect("detail_imgs is a list");
        let detail_html = data["detail_html"]
            .as_str()
            .expect("detail_html is a string");

        let description = extract(&detail_imgs, detail_html);
        assert_eq!(description.pictures.len(), 15);
        assert_eq!(urls(&description), detail_imgs);
        assert_eq!(
            description.pictures.first().map(|p| p.url.as_str()),
            Some("https://cbu01.alicdn.com/img/ibank/2020/452/402/17709204254_1283248032.jpg")
        );
        assert_eq!(
            description.pictures.last().map(|p| p.url.as_str()),
            Some("https://cbu01.alicdn.com/img/ibank/2019/259/150/11419051952_1283248032.jpg")
        );
        for picture in &description.pictures {
            assert_eq!(picture.source, PictureSource::DetailImgs);
            assert!(picture.aliases.is_empty());
        }
        assert!(description.unusable.is_empty());
    }

    #[test]
    fn t1_url_with_an_escape_is_unusable() {
        let detail_imgs = strings(&[
            "https://cbu01.alicdn.com/\u{1b}[31mx.jpg",
            "https://cbu01.alicdn.com/ok.jpg",
        ]);
        let html = "<img src=\"https://cbu01.alicdn.com/b\u{202e}gpj.jpg\">";
        let description = extract(&detail_imgs, html);
        assert_eq!(urls(&description), ["https://cbu01.alicdn.com/ok.jpg"]);
        assert_eq!(description.unusable.len(), 2);
        for unusable in &description.unusable {
            assert_eq!(unusable.reason, "contains control characters");
            assert!(!text::has_unsafe_chars(&unusable.raw), "{:?}", unusable.raw);
        }
        assert_eq!(
            description.unusable[0].raw,
            "https://cbu01.alicdn.com/\u{241b}[31mx.jpg"
        );
    }

    #[test]
    fn other_schemes_and_bad_addresses_are_unusable_with_a_reason() {
        let detail_imgs = strings(&[
            "javascript:alert(1)",
            "ftp://cbu01.alicdn.com/a.jpg",
            "file:///etc/passwd",
            "img/relative.jpg",
            "https://exa mple.com/a.jpg",
            "https://[::1/a.jpg",
        ]);
        let description = extract(&detail_imgs, "");
        assert!(
            description.pictures.is_empty(),
            "{:?}",
            description.pictures
        );
        let reasons: Vec<&str> = description
            .unusable
            .iter()
            .map(|u| u.reason.as_str())
            .collect();
        assert_eq!(
            reasons[..4],
            [
                "not an http or https address",
                "not an http or https address",
                "not an http or https address",
                "relative address with no host to resolve it against",
            ]
        );
        assert!(reasons[4].starts_with("not a valid address"));
        assert!(reasons[5].starts_with("not a valid address"));
    }

    #[test]
    fn placeholders_and_empty_sources_are_skipped() {
        let html = concat!(
            r#"<img src="https://assets.alicdn.com/kissy/1.0.0/build/imglazyload/spaceball.gif">"#,
            r#"<img src="">"#,
            r#"<img src="   ">"#,
            r#"<img>"#,
            r#"<img src="about:blank">"#,
            r#"<img src="https://img.alicdn.com/blank.png" data-src="https://img.alicdn.com/real.jpg">"#,
        );
        let description = extract(&[], html);
        assert_eq!(urls(&description), ["https://img.alicdn.com/real.jpg"]);
        assert!(description.unusable.is_empty());
    }

    #[test]
    fn src_is_the_placeholder_whenever_a_lazy_attribute_names_the_picture() {
        // The demo's lamp offer: 1688's placeholder has an ordinary numbered name.
        let html = concat!(
            r#"<img src="https://cbu01.alicdn.com/cms/upload/2015/081/224/2422180_1417513398.png" "#,
            r#"data-lazyload-src="https://cbu01.alicdn.com/img/ibank/O1CN01lamp_!!1-0-cib.jpg">"#,
            r#"<img src="https://img.alicdn.com/a.jpg" data-src="https://img.alicdn.com/b.jpg">"#,
            r#"<img src="https://img.alicdn.com/c.jpg" data-src="">"#,
        );
        let description = extract(&[], html);
        assert_eq!(
            urls(&description),
            [
                "https://cbu01.alicdn.com/img/ibank/O1CN01lamp_!!1-0-cib.jpg",
                "https://img.alicdn.com/b.jpg",
                "https://img.alicdn.com/c.jpg",
            ],
            "an empty lazy attribute leaves src as the picture"
        );
    }

    #[test]
    fn pictures_inside_script_style_and_textarea_are_not_elements() {
        let html = concat!(
            r#"<script>var s = '<img src="https://img.alicdn.com/script.jpg">';</script>"#,
            r#"<style>/* <img src="https://img.alicdn.com/style.jpg"> */</style>"#,
            r#"<textarea><img src="https://img.alicdn.com/textarea.jpg"></textarea>"#,
            r#"<noscript><img src="https://img.alicdn.com/noscript.jpg"></noscript>"#,
            r#"<img src="https://img.alicdn.com/real.jpg">"#,
        );
        let description = extract(&[], html);
        assert_eq!(
            urls(&description),
            [
                "https://img.alicdn.com/noscript.jpg",
                "https://img.alicdn.com/real.jpg"
            ]
        );
    }

    #[test]
    fn attribute_forms_browsers_accept_are_read() {
        let html = concat!(
            "<IMG SRC=https://img.alicdn.com/unquoted.jpg>",
            "<img src='https://img.alicdn.com/single.jpg'>",
            "<img\nalt=\"x\"\nsrc=\"https://img.alicdn.com/wrapped\n.jpg\">",
            "<img src=\"https://img.alicdn.com/unclosed.jpg",
        );
        let description = extract(&[], html);
        assert_eq!(
            urls(&description),
            [
                "https://img.alicdn.com/unquoted.jpg",
                "https://img.alicdn.com/single.jpg",
                "https://img.alicdn.com/wrapped.jpg",
            ]
        );
    }

    #[test]
    fn json_unescape_is_lenient() {
        assert_eq!(json_unescape(r#"a\"b\\c\/d"#), r#"a"b\c/d"#);
        assert_eq!(json_unescape(r"\u003cp\u003E\ud83d\ude00"), "<p>\u{1f600}");
        assert_eq!(json_unescape(r"\ud83d x"), "\u{fffd} x");
        assert_eq!(json_unescape(r"C:\x \u12 \"), r"C:\x \u12 \");
        assert_eq!(json_unescape(r"\u00e9\n"), "é\n");
    }

    #[test]
    fn chunks_never_cut_a_character() {
        let s = "中文ab中";
        let chunks: Vec<&str> = chunks_at_char_boundaries(s, 4).collect();
        assert_eq!(chunks.concat(), s);
        assert!(chunks
            .iter()
            .all(|chunk| !chunk.is_empty() && chunk.len() <= 4));
    }

    /// A picture reference built from the shapes seen in descriptions: scheme or none, CDN
    /// host or another, a name, derived-name suffixes, a cache-buster, stray escaping.
    fn picture_reference() -> impl Strategy<Value = String> {
        let scheme = prop_oneof![
            Just(""),
            Just("//"),
            Just("https://"),
            Just("http://"),
            Just(" HTTPS://")
        ];
        let host = prop_oneof![
            Just("cbu01.alicdn.com/img/ibank/"),
            Just("img.alicdn.com/imgextra/i1/2/"),
            Just("cbu01-overseas.1688.com/"),
            Just("example.com/"),
        ];
        let suffix = prop_oneof![
            Just(""),
            Just("_.webp"),
            Just("_400x400q90.jpg_.webp"),
            Just("_790x10000Q75.jpg"),
            Just("_790x10000"),
            Just("_sum.jpg"),
        ];
        // A small pool of names, so that one picture often appears under several names.
        let name = prop_oneof![
            Just("a".to_string()),
            Just("O1CN01x_!!1-0-cib".to_string()),
            Just("TB1x-1125-231".to_string()),
            "[A-Za-z0-9_!]{1,6}",
        ];
        let query = prop_oneof![
            Just(""),
            Just("?__r__=1"),
            Just("?__r__=2&amp;a=b"),
            Just("#top")
        ];
        (
            scheme,
            host,
            name,
            prop_oneof![Just(".jpg"), Just(".310x310.jpg"), Just(".png")],
            suffix,
            query,
        )
            .prop_map(|(scheme, host, name, extension, suffix, query)| {
                format!("{scheme}{host}{name}{extension}{suffix}{query}")
            })
    }

    /// Fragments that HTML-ish inputs are built from: tags, attributes, escaping, URL shapes.
    fn html_fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => picture_reference().prop_map(|url| format!(r#"<img src="{url}">"#)),
            2 => picture_reference().prop_map(|url| format!(r#"<img data-src='{url}' src=x>"#)),
            1 => picture_reference().prop_map(|url| format!(r#"<img src=\"{url}\">"#)),
            1 => picture_reference(),
            8 => markup_fragment(),
        ]
    }

    /// Pieces of markup, escaping and URLs to cut picture tags apart and glue them wrongly.
    fn markup_fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("<img src=\"".to_string()),
            Just("<img data-src='".to_string()),
            Just("<img data-lazyload-src=".to_string()),
            Just("\">".to_string()),
            Just("'/>".to_string()),
            Just("<p>".to_string()),
            Just("</p>".to_string()),
            Just("<script>".to_string()),
            Just("<!--".to_string()),
            Just("-->".to_string()),
            Just("\\\"".to_string()),
            Just("\\u003c".to_string()),
            Just("&amp;".to_string()),
            Just("&lt;".to_string()),
            Just("&#63;".to_string()),
            Just("//".to_string()),
            Just("https://cbu01.alicdn.com/img/ibank/".to_string()),
            Just("http://example.com/".to_string()),
            Just("data:image/png;base64,".to_string()),
            Just(".jpg".to_string()),
            Just("_400x400q90.jpg_.webp".to_string()),
            Just(".310x310.jpg".to_string()),
            Just("?__r__=1".to_string()),
            Just("\u{1b}[31m".to_string()),
            Just("\u{202e}".to_string()),
            "[a-zA-Z0-9_!./ ]{0,8}",
            any::<String>(),
        ]
    }

    fn html_ish() -> impl Strategy<Value = String> {
        prop::collection::vec(html_fragment(), 0..24).prop_map(|fragments| fragments.concat())
    }

    fn assert_well_formed(description: &Description) -> Result<(), TestCaseError> {
        let mut keys = HashSet::new();
        for picture in &description.pictures {
            let url = Url::parse(&picture.url);
            prop_assert!(url.is_ok(), "{} does not parse", picture.url);
            let url = url.expect("checked above");
            prop_assert!(matches!(url.scheme(), "http" | "https"), "{}", picture.url);
            prop_assert!(!text::has_unsafe_chars(&picture.url));
            prop_assert!(picture
                .aliases
                .iter()
                .all(|alias| !text::has_unsafe_chars(alias)));
            prop_assert!(
                keys.insert(canonical_form(&url).key),
                "{} listed twice",
                picture.url
            );
        }
        for unusable in &description.unusable {
            prop_assert!(!text::has_unsafe_chars(&unusable.raw));
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn extract_is_well_formed_on_arbitrary_text(imgs in prop::collection::vec(any::<String>(), 0..4), html in any::<String>()) {
            assert_well_formed(&extract(&imgs, &html))?;
        }

        #[test]
        fn extract_is_well_formed_on_html_ish_input(imgs in prop::collection::vec(picture_reference(), 0..8), odd_imgs in prop::collection::vec(html_ish(), 0..2), html in html_ish()) {
            let imgs: Vec<String> = imgs.into_iter().chain(odd_imgs).collect();
            assert_well_formed(&extract(&imgs, &html))?;
        }

        #[test]
        fn plain_distinct_detail_imgs_keep_their_order(names in prop::collection::vec("[a-z0-9]{1,12}", 1..20)) {
            let mut seen = HashSet::new();
            let detail_imgs: Vec<String> = names
                .into_iter()
                .filter(|name| seen.insert(name.clone()))
                .map(|name| format!("https://cbu01.alicdn.com/img/ibank/{name}.jpg"))
                .collect();
            let description = extract(&detail_imgs, "");
            prop_assert_eq!(urls(&description), detail_imgs.iter().map(String::as_str).collect::<Vec<_>>());
        }

        #[test]
        fn derived_names_of_one_picture_fold_into_one(stem in "[A-Za-z0-9]{1,16}", width in 1u32..2000, height in 1u32..20000, quality in 1u32..100) {
            let original = format!("https://img.alicdn.com/imgextra/i1/{stem}.jpg");
            let detail_imgs = vec![
                format!("{original}_{width}x{height}q{quality}.jpg_.webp"),
                format!("https://img.alicdn.com/imgextra/i1/{stem}.{width}x{height}.jpg"),
                format!("{original}_{width}x{height}"),
                format!("{original}_.webp"),
                original.clone(),
            ];
            let description = extract(&detail_imgs, "");
            prop_assert_eq!(urls(&description), vec![original.as_str()]);
        }
    }
}
