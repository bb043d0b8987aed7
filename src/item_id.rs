//! `ItemId`: a 1688 offer ID, read from whatever a user types or pastes.
//!
//! People rarely type an ID: they paste a link from the browser, or the share text that the
//! 1688 app copies (a few Chinese words around a link). This module accepts plain digits
//! (full-width digits too, as Chinese input methods produce them), `detail.1688.com/offer/ID.html`
//! and `m.1688.com/offer/ID.html` links with or without a scheme and with any query, any text
//! holding `offerId=ID`, and share text that contains such a link. Anything else gets an error
//! that says what is accepted. It owns no state and never touches the network: a short link
//! that would need to be followed is reported, not resolved.

use std::fmt;
use std::str::FromStr;

/// The most digits an offer ID may have. Today's IDs have 12; 20 is the length of the largest
/// 64-bit number, so any ID the API can store as an integer fits.
pub const MAX_DIGITS: usize = 20;

/// A validated 1688 offer ID: 1 to 20 ASCII digits, no leading zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(String);

impl ItemId {
    /// The digits, as sent to the API.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that widths and alignment in format strings apply (`{:<14}`).
        f.pad(&self.0)
    }
}

/// Why a text is not an offer ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemIdError {
    /// Nothing but whitespace was given.
    #[error(
        "no offer ID given: enter the digits of a 1688 offer (like 652702302959) or paste its link"
    )]
    Empty,
    /// A Taobao or Tmall product: a different marketplace whose IDs the `item_desc` endpoint
    /// for 1688 does not know.
    #[error("taobao and tmall links are not 1688 offers: paste a 1688 offer link or its ID")]
    TaobaoOrTmall,
    /// A 1688 address that names no offer: a shop, a search, or a short share link that only
    /// a browser can follow.
    #[error(
        "this 1688 link does not name an offer: open the offer in a browser and copy its \
         detail.1688.com/offer/ID.html link, or type the ID"
    )]
    NoOfferInLink,
    /// More digits than any offer ID has; usually two IDs pasted together.
    #[error(
        "an offer ID has at most 20 digits, this has {digits}: check that only one ID was pasted"
    )]
    TooLong {
        /// How many digits were given.
        digits: usize,
    },
    /// `0`, or digits with a leading zero, which no offer ID has.
    #[error("an offer ID is a number from 1 up without leading zeros: check the digits")]
    LeadingZero,
    /// Letters or other characters, and no offer link.
    #[error(
        "not an offer ID: enter only the digits of a 1688 offer (like 652702302959) or paste a \
         detail.1688.com/offer/ID.html link"
    )]
    NotDigits,
}

impl FromStr for ItemId {
    type Err = ItemIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Full-width digits become ASCII first, so that every later step sees one alphabet.
        // Each replaced character is three bytes in UTF-8 and its replacement is one, so this
        // must happen before any byte offsets are taken.
        let text: String = s.trim().chars().map(ascii_digit_for_full_width).collect();
        if text.is_empty() {
            return Err(ItemIdError::Empty);
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return validate_digits(&text);
        }

        // `to_ascii_lowercase` changes only ASCII bytes in place, so offsets found in `lower`
        // are valid in `text`.
        let lower = text.to_ascii_lowercase();
        if let Some(digits) = find_offer_in_text(&text, &lower) {
            return validate_digits(digits);
        }

        if mentions_taobao_or_tmall(&lower) {
            Err(ItemIdError::TaobaoOrTmall)
        } else if lower
            .match_indices("1688.com")
            .any(|(at, _)| is_1688_host_at(&lower, at))
        {
            Err(ItemIdError::NoOfferInLink)
        } else {
            Err(ItemIdError::NotDigits)
        }
    }
}

/// Maps the full-width digits U+FF10..U+FF19 to ASCII and leaves every other character alone.
fn ascii_digit_for_full_width(c: char) -> char {
    match c {
        '\u{FF10}'..='\u{FF19}' => {
            char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')).unwrap_or(c)
        }
        _ => c,
    }
}

/// Checks a run of ASCII digits against the shape of an offer ID.
fn validate_digits(digits: &str) -> Result<ItemId, ItemIdError> {
    if digits.len() > MAX_DIGITS {
        return Err(ItemIdError::TooLong {
            digits: digits.len(),
        });
    }
    if digits.starts_with('0') {
        return Err(ItemIdError::LeadingZero);
    }
    Ok(ItemId(digits.to_string()))
}

/// The offer ID in the first offer link or `offerId=` parameter of `text`, if any.
///
/// `lower` is `text` in ASCII lower case; both have the same byte offsets.
fn find_offer_in_text<'a>(text: &'a str, lower: &str) -> Option<&'a str> {
    let in_path = find_offer_in_path(lower);
    let in_query = find_offer_in_query(lower);
    let (start, end) = match (in_path, in_query) {
        (Some(path), Some(query)) => path.min(query),
        (path, query) => path.or(query)?,
    };
    text.get(start..end)
}

/// The byte range of the ID in the first `1688.com/offer/ID.html` link of `lower`.
///
/// The host must be `1688.com` or one of its subdomains (`detail.`, `m.`); the scheme, the
/// query and the fragment do not matter.
fn find_offer_in_path(lower: &str) -> Option<(usize, usize)> {
    const MARKER: &str = "1688.com/offer/";
    lower.match_indices(MARKER).find_map(|(at, _)| {
        if !is_1688_host_at(lower, at) {
            return None;
        }

        let start = at + MARKER.len();
        let end = start + digit_run_len(lower.get(start..)?);
        let is_offer_page = lower.get(end..)?.starts_with(".htm");
        (end > start && is_offer_page).then_some((start, end))
    })
}

/// The byte range of the ID in the first `offerId=ID` parameter of `lower`.
///
/// The name must stand on its own (`similarOfferId=` names another offer) and the digits must
/// end the value (`offerId=12ab` is not an ID).
fn find_offer_in_query(lower: &str) -> Option<(usize, usize)> {
    const MARKER: &str = "offerid=";
    lower.match_indices(MARKER).find_map(|(at, _)| {
        let stands_alone = lower
            .get(..at)?
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        if !stands_alone {
            return None;
        }

        let start = at + MARKER.len();
        let end = start + digit_run_len(lower.get(start..)?);
        let value_ends = lower
            .get(end..)?
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        (end > start && value_ends).then_some((start, end))
    })
}

/// Whether the `1688.com` at byte `at` of `lower` is the host `1688.com` or one of its
/// subdomains, read backwards over host characters: so `x1688.com` is not taken for it.
fn is_1688_host_at(lower: &str, at: usize) -> bool {
    let Some(before) = lower.get(..at) else {
        return false;
    };
    let subdomain_len = before
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'-')
        .count();
    before
        .get(before.len() - subdomain_len..)
        .is_some_and(|subdomain| subdomain.is_empty() || subdomain.ends_with('.'))
}

/// How many ASCII digits `s` starts with (each is one byte).
fn digit_run_len(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

/// Whether the text points at Taobao or Tmall: their hosts, their short-link host `tb.cn`,
/// or the names that their app's share text starts with.
fn mentions_taobao_or_tmall(lower: &str) -> bool {
    const SIGNS: [&str; 6] = [
        "taobao.com",
        "tmall.com",
        "tmall.hk",
        "tb.cn/",
        "淘宝",
        "天猫",
    ];
    SIGNS.iter().any(|sign| lower.contains(sign))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<String, ItemIdError> {
        s.parse::<ItemId>().map(|id| id.as_str().to_string())
    }

    fn to_full_width(digits: &str) -> String {
        digits
            .chars()
            .map(|c| char::from_u32(u32::from(c) - u32::from('0') + 0xFF10).unwrap_or(c))
            .collect()
    }

    #[test]
    fn plain_digits() {
        assert_eq!(parse("652702302959"), Ok("652702302959".into()));
        assert_eq!(parse("1"), Ok("1".into()));
        assert_eq!(
            parse("12345678901234567890"),
            Ok("12345678901234567890".into())
        );
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        assert_eq!(parse("  652702302959\n"), Ok("652702302959".into()));
        assert_eq!(parse("\t652702302959 "), Ok("652702302959".into()));
        // U+3000, the ideographic space that Chinese input methods type.
        assert_eq!(
            parse("\u{3000}652702302959\u{3000}"),
            Ok("652702302959".into())
        );
    }

    #[test]
    fn full_width_digits() {
        assert_eq!(parse("６５２７０２３０２９５９"), Ok("652702302959".into()));
        assert_eq!(parse("65270２302959"), Ok("652702302959".into()));
    }

    #[test]
    fn detail_links_with_and_without_scheme() {
        for link in [
            "https://detail.1688.com/offer/652702302959.html",
            "http://detail.1688.com/offer/652702302959.html",
            "detail.1688.com/offer/652702302959.html",
            "//detail.1688.com/offer/652702302959.html",
            "HTTPS://DETAIL.1688.COM/offer/652702302959.html",
            "https://detail.1688.com/offer/652702302959.htm",
        ] {
            assert_eq!(parse(link), Ok("652702302959".into()), "{link}");
        }
    }

    #[test]
    fn mobile_links() {
        assert_eq!(
            parse("https://m.1688.com/offer/652702302959.html"),
            Ok("652702302959".into())
        );
        assert_eq!(
            parse("m.1688.com/offer/652702302959.html"),
            Ok("652702302959".into())
        );
    }

    #[test]
    fn links_with_query_and_fragment() {
        for link in [
            "https://detail.1688.com/offer/652702302959.html?spm=a26352.13672862.offerlist.1",
            "https://detail.1688.com/offer/652702302959.html#description",
            "https://m.1688.com/offer/652702302959.html?sk=consign&x=1#top",
            "https://detail.1688.com/offer/652702302959.html?offerId=1",
        ] {
            assert_eq!(parse(link), Ok("652702302959".into()), "{link}");
        }
    }

    #[test]
    fn offer_id_parameter() {
        for text in [
            "https://m.1688.com/page/offerdetail.html?offerId=652702302959",
            "https://detail.m.1688.com/page/index.html?offerId=652702302959&spm=a",
            "offerId=652702302959",
            "see offerid=652702302959 there",
            "https://m.1688.com/page/offerdetail.html?a=1&offerId=652702302959#x",
        ] {
            assert_eq!(parse(text), Ok("652702302959".into()), "{text}");
        }
    }

    #[test]
    fn share_text_around_a_link() {
        let shared = "【1688】好货 https://detail.1688.com/offer/652702302959.html?spm=a26352.13672862 复制链接";
        assert_eq!(parse(shared), Ok("652702302959".into()));

        let glued = "好货推荐https://m.1688.com/offer/652702302959.html复制此链接打开";
        assert_eq!(parse(glued), Ok("652702302959".into()));
    }

    #[test]
    fn first_offer_in_text_wins() {
        let two =
            "a https://detail.1688.com/offer/111.html b https://detail.1688.com/offer/222.html";
        assert_eq!(parse(two), Ok("111".into()));

        let query_first = "offerId=333 then https://detail.1688.com/offer/444.html";
        assert_eq!(parse(query_first), Ok("333".into()));
    }

    #[test]
    fn lookalike_hosts_and_parameters_are_not_offers() {
        assert_eq!(
            parse("https://x1688.com/offer/652702302959.html"),
            Err(ItemIdError::NotDigits)
        );
        assert_eq!(
            parse("similarOfferId=652702302959"),
            Err(ItemIdError::NotDigits)
        );
        assert_eq!(
            parse("offerId=652702302959abc"),
            Err(ItemIdError::NotDigits)
        );
    }

    #[test]
    fn empty_input() {
        assert_eq!(parse(""), Err(ItemIdError::Empty));
        assert_eq!(parse("   \n\t"), Err(ItemIdError::Empty));
        assert_eq!(parse("\u{3000}"), Err(ItemIdError::Empty));
    }

    #[test]
    fn taobao_and_tmall_links() {
        for text in [
            "https://item.taobao.com/item.htm?id=652702302959",
            "item.taobao.com/item.htm?id=652702302959",
            "https://detail.tmall.com/item.htm?id=652702302959",
            "https://detail.tmall.hk/hk/item.htm?id=652702302959",
            "【淘宝】好物 https://m.tb.cn/h.abcdEFG 复制",
        ] {
            assert_eq!(parse(text), Err(ItemIdError::TaobaoOrTmall), "{text}");
        }
    }

    #[test]
    fn links_to_1688_without_an_offer() {
        for text in [
            "https://shop1234.1688.com/page/index.html",
            "https://s.1688.com/selloffer/offer_search.htm?keywords=cup",
            "https://qr.1688.com/s/AbCdEf",
            "https://detail.1688.com/offer/.html",
        ] {
            assert_eq!(parse(text), Err(ItemIdError::NoOfferInLink), "{text}");
        }
    }

    #[test]
    fn letters_and_other_characters() {
        for text in [
            "abc",
            "65270230295x",
            "652 702 302 959",
            "-652702302959",
            "+1",
            "١٢٣",
        ] {
            assert_eq!(parse(text), Err(ItemIdError::NotDigits), "{text}");
        }
    }

    #[test]
    fn more_than_twenty_digits() {
        assert_eq!(
            parse("123456789012345678901"),
            Err(ItemIdError::TooLong { digits: 21 })
        );
        assert_eq!(
            parse("https://detail.1688.com/offer/1234567890123456789012.html"),
            Err(ItemIdError::TooLong { digits: 22 })
        );
    }

    #[test]
    fn zero_and_leading_zeros() {
        assert_eq!(parse("0"), Err(ItemIdError::LeadingZero));
        assert_eq!(parse("０"), Err(ItemIdError::LeadingZero));
        assert_eq!(parse("0652702302959"), Err(ItemIdError::LeadingZero));
        assert_eq!(
            parse("https://detail.1688.com/offer/0.html"),
            Err(ItemIdError::LeadingZero)
        );
        assert_eq!(parse("offerId=00"), Err(ItemIdError::LeadingZero));
    }

    #[test]
    fn messages_say_what_is_accepted() {
        assert_eq!(
            ItemIdError::TaobaoOrTmall.to_string(),
            "taobao and tmall links are not 1688 offers: paste a 1688 offer link or its ID"
        );
        for error in [
            ItemIdError::Empty,
            ItemIdError::NoOfferInLink,
            ItemIdError::TooLong { digits: 21 },
            ItemIdError::LeadingZero,
            ItemIdError::NotDigits,
        ] {
            let message = error.to_string();
            assert!(message.contains(": "), "{message}");
            assert!(!message.ends_with('.'), "{message}");
            assert!(!message.starts_with(char::is_uppercase), "{message}");
        }
    }

    #[test]
    fn display_and_as_str_give_the_digits() {
        let id: ItemId = "６５２７０２３０２９５９".parse().unwrap();
        assert_eq!(id.to_string(), "652702302959");
        assert_eq!(id.as_str(), "652702302959");
    }

    proptest! {
        #[test]
        fn any_positive_u64_round_trips(n in 1u64..) {
            let digits = n.to_string();
            prop_assert_eq!(parse(&digits), Ok(digits.clone()));
            prop_assert_eq!(parse(&to_full_width(&digits)), Ok(digits.clone()));
            let link = format!("https://detail.1688.com/offer/{digits}.html?spm=a");
            prop_assert_eq!(parse(&link), Ok(digits.clone()));
        }

        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = text.parse::<ItemId>();
        }

        #[test]
        fn accepted_ids_are_always_valid(text in "[0-9０-９a-z./:?=&【】 ]{0,40}") {
            if let Ok(id) = text.parse::<ItemId>() {
                let digits = id.as_str();
                prop_assert!(!digits.is_empty() && digits.len() <= MAX_DIGITS);
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(!digits.starts_with('0'));
            }
        }
    }
}
