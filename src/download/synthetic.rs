//! A large made-up catalogue for measuring the downloader: `offers` offers of `pictures`
//! pictures each, served by the local stand-in (`descview mock-server --bench-catalogue 200x15`).
//!
//! The answers list picture URLs that point straight at the stand-in
//! (`{cdn_base}{SYNTHETIC_HOST}/{item}/{n}.jpg`), so `descview download`, `curl` and any other
//! client fetch exactly the same URLs with no rewriting. Each picture is a distinct byte string
//! that starts like a JPEG (the downloader only sniffs the format; it never decodes), so
//! nothing is shared between files that a cache could fold.

use serde_json::json;
use url::Url;

use crate::mock::{Catalogue, OfferAnswer};

/// The host named in the synthetic pictures' catalogue URLs; `.invalid` never resolves, so
/// nothing can reach a real host by mistake.
pub const SYNTHETIC_HOST: &str = "bench.descview.invalid";

/// The first synthetic offer ID; the others follow it.
const FIRST_ITEM: u64 = 900_000_000_001;

/// A synthetic catalogue and what it holds.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// The catalogue to serve.
    pub catalogue: Catalogue,
    /// Its offer IDs, in order.
    pub items: Vec<String>,
    /// Every picture URL its answers list, in order.
    pub picture_urls: Vec<String>,
}

/// Reads a shape like `200x15` (offers x pictures).
pub fn parse_shape(text: &str) -> Option<(usize, usize)> {
    let (offers, pictures) = text.trim().split_once(['x', 'X'])?;
    let offers = offers.trim().parse().ok().filter(|&n| n > 0)?;
    let pictures = pictures.trim().parse().ok()?;
    Some((offers, pictures))
}

/// Builds `offers` offers of `pictures` pictures of about `picture_bytes` bytes each, whose
/// answers list URLs under `cdn_base` (the stand-in's picture base, `http://ADDR/cdn/`).
pub fn catalogue(
    offers: usize,
    pictures: usize,
    picture_bytes: usize,
    cdn_base: &Url,
) -> Synthetic {
    let base = cdn_base.as_str().trim_end_matches('/');
    let mut catalogue = Catalogue::empty();
    let mut items = Vec::with_capacity(offers);
    let mut picture_urls = Vec::with_capacity(offers * pictures);

    for (offer, id) in (FIRST_ITEM..).take(offers).enumerate() {
        let mut listed = Vec::with_capacity(pictures);
        for n in 1..=pictures {
            let path = format!("{SYNTHETIC_HOST}/{id}/{n}.jpg");
            let seed = (offer * pictures + n) as u64;
            // Lengths vary by a few percent, as real pictures' do.
            let length = picture_bytes + (seed as usize * 7919) % (picture_bytes / 16 + 1);
            catalogue.add_picture(&format!("https://{path}"), jpeg_like(seed, length));
            listed.push(format!("{base}/{path}"));
        }
        let html: String = listed
            .iter()
            .map(|url| format!("<img src=\"{url}\"/>"))
            .collect();
        let body = json!({
            "code": 200,
            "msg": "success",
            "data": { "item_id": id, "detail_imgs": listed, "detail_html": html },
        });
        catalogue.add_offer(&id.to_string(), "synthetic offer", OfferAnswer::Body(body));
        items.push(id.to_string());
        picture_urls.extend(listed);
    }
    Synthetic {
        catalogue,
        items,
        picture_urls,
    }
}

/// `length` bytes that open like a JFIF JPEG and continue with a pseudo-random stream
/// (xorshift) seeded by `seed`.
fn jpeg_like(seed: u64, length: usize) -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while bytes.len() < length {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(length.max(11));
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{sniff, Format};

    #[test]
    fn shapes_read_as_offers_by_pictures() {
        assert_eq!(parse_shape("200x15"), Some((200, 15)));
        assert_eq!(parse_shape(" 3X2 "), Some((3, 2)));
        assert_eq!(parse_shape("0x15"), None);
        assert_eq!(parse_shape("200"), None);
    }

    #[test]
    fn the_catalogue_lists_distinct_jpegs_at_the_stand_in() {
        let cdn = Url::parse("http://127.0.0.1:9/cdn/").unwrap();
        let synthetic = catalogue(3, 4, 1000, &cdn);
        assert_eq!(synthetic.items.len(), 3);
        assert_eq!(synthetic.picture_urls.len(), 12);
        assert!(synthetic.picture_urls[0]
            .starts_with("http://127.0.0.1:9/cdn/bench.descview.invalid/900000000001/1.jpg"));

        let first = synthetic
            .catalogue
            .picture("https://bench.descview.invalid/900000000001/1.jpg")
            .unwrap();
        let second = synthetic
            .catalogue
            .picture("https://bench.descview.invalid/900000000001/2.jpg")
            .unwrap();
        assert_eq!(sniff(first), Format::Jpeg);
        assert!(first.len() >= 1000);
        assert_ne!(first, second);
    }
}
