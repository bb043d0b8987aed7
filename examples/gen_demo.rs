//! Generates the demo catalogue under `assets/demo/`: its pictures, its answer bodies and its
//! index, `catalogue.json`.
//!
//! Run it with `cargo run --release --example gen_demo` after changing anything here; the
//! output is deterministic (no clock, no randomness), so regenerating without changes leaves
//! the files byte for byte as they were. The pictures are drawn from scratch (gradients,
//! shapes and a small built-in bitmap font; no font files, no photos) to look like the banners,
//! size tables and product shots of a 1688 description. The offers' descriptions imitate the
//! shapes real ones take: old and new alicdn paths, lazy-load attributes, image maps, tables
//! and entities, cache-busters, tall pictures, and pictures that are gone from the CDN.

use std::collections::BTreeMap;
use std::error::Error;
use std::fs;
use std::path::Path;

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{Delay, Frame, ImageEncoder, Rgb, RgbImage, RgbaImage};
use serde::Serialize;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Description pictures on 1688 are laid out for a 790 px wide column.
const WIDTH: u32 = 790;

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join("demo");
    // The generator owns these two folders: emptying them first means a renamed or dropped
    // picture does not linger in the binary, which embeds every file found there.
    for folder in ["pictures", "answers"] {
        let path = root.join(folder);
        if path.exists() {
            fs::remove_dir_all(&path)?;
        }
        fs::create_dir_all(&path)?;
    }

    for (name, bytes) in draw_pictures()? {
        fs::write(root.join("pictures").join(name), bytes)?;
    }

    let mut offers = Vec::new();
    let mut pictures = BTreeMap::new();
    for offer in demo_offers() {
        let answer_file = format!("answers/{}.json", offer.item_id);
        let (answer, status) = match offer.answer {
            Answer::Description {
                detail_imgs,
                detail_html,
                served,
            } => {
                let body = success_body(offer.item_id, detail_imgs, detail_html)?;
                fs::write(root.join(&answer_file), pretty(&body)?)?;
                for (url, picture) in served {
                    pictures.insert(url, format!("pictures/{picture}"));
                }
                (Some(answer_file), None)
            }
            Answer::Body(body) => {
                fs::write(root.join(&answer_file), pretty(&body)?)?;
                (Some(answer_file), None)
            }
            Answer::Status(status) => (None, Some(status)),
        };
        offers.push(IndexOffer {
            item_id: offer.item_id,
            label: offer.label,
            answer,
            status,
        });
    }

    let index = Index { offers, pictures };
    fs::write(root.join("catalogue.json"), pretty(&index)?)?;
    println!("wrote {}", root.display());
    Ok(())
}

fn pretty(value: &impl Serialize) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// The layout of `catalogue.json`.
#[derive(Serialize)]
struct Index {
    offers: Vec<IndexOffer>,
    /// Realistic CDN URL to the picture file served for it.
    pictures: BTreeMap<String, String>,
}

/// One offer of `catalogue.json`: an answer file or an error status.
#[derive(Serialize)]
struct IndexOffer {
    item_id: &'static str,
    label: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    answer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
}

/// An answer that carries an error `code` in its body.
#[derive(Serialize)]
struct ErrorBody {
    code: u16,
    msg: &'static str,
    /// Always `null`, as the API sends it with errors.
    data: Option<()>,
}

/// A `code: 200` answer, its fields in the order the API's documentation shows them.
#[derive(Serialize)]
struct SuccessBody {
    code: u16,
    msg: &'static str,
    data: ItemDesc,
}

#[derive(Serialize)]
struct ItemDesc {
    /// A JSON number, as in the documentation's example.
    item_id: u64,
    detail_imgs: Vec<String>,
    detail_html: String,
}

fn success_body(
    item_id: &str,
    detail_imgs: Vec<String>,
    detail_html: String,
) -> Result<SuccessBody> {
    Ok(SuccessBody {
        code: 200,
        msg: "success",
        data: ItemDesc {
            item_id: item_id.parse()?,
            detail_imgs,
            detail_html,
        },
    })
}

// ---------------------------------------------------------------------------------------------
// The offers
// ---------------------------------------------------------------------------------------------

struct DemoOffer {
    item_id: &'static str,
    label: &'static str,
    answer: Answer,
}

enum Answer {
    /// A description; `served` maps the URLs the CDN has to picture files (a URL of the
    /// description that is not in `served` answers 404).
    Description {
        detail_imgs: Vec<String>,
        detail_html: String,
        served: Vec<(String, &'static str)>,
    },
    /// An error in a body served with status 200.
    Body(ErrorBody),
    /// An error status.
    Status(u16),
}

fn demo_offers() -> Vec<DemoOffer> {
    vec![
        phone_case(),
        water_bottle(),
        desk_lamp(),
        cotton_shirt(),
        led_strip(),
        storage_box(),
        // The error offers' IDs end in their status, so they are easy to type in the demo.
        error_offer(
            "600000000417",
            417,
            "Error 417: the API failed to retrieve the offer",
        ),
        error_offer(
            "600000000422",
            422,
            "Error 422: the API reports a parameter error",
        ),
        error_offer(
            "600000000439",
            439,
            "Error 439: subscription expired or balance too low",
        ),
        error_offer(
            "600000000499",
            499,
            "Error 499: the API timed out, retry with 60 s",
        ),
        error_offer(
            "600000000500",
            500,
            "Error 500: unexpected error on the API side",
        ),
        error_offer("600000000503", 503, "Error 503: concurrency limit exceeded"),
        DemoOffer {
            item_id: "600000200439",
            label: "Error 439 inside a status 200 answer",
            answer: Answer::Body(ErrorBody {
                code: 439,
                msg: "Subscription expired or insufficient balance.",
                data: None,
            }),
        },
    ]
}

fn error_offer(item_id: &'static str, status: u16, label: &'static str) -> DemoOffer {
    DemoOffer {
        item_id,
        label,
        answer: Answer::Status(status),
    }
}

/// The API documentation's example answer: these 15 URLs, in this order, are the API's.
fn phone_case() -> DemoOffer {
    const URLS: [(&str, &str); 15] = [
        ("2020/452/402/17709204254", "case-banner.jpg"),
        ("2020/901/478/17766874109", "case-photo-blue.jpg"),
        ("2020/672/568/17766865276", "case-photo-pink.jpg"),
        ("2020/470/088/17766880074", "case-colours.jpg"),
        ("2020/769/861/17709168967", "case-features.jpg"),
        ("2020/398/771/17709177893", "case-detail.jpg"),
        ("2020/821/702/17709207128", "case-photo-blue.jpg"),
        ("2020/460/848/17838848064", "case-models.jpg"),
        ("2020/894/291/17709192498", "case-photo-pink.jpg"),
        ("2020/084/891/17709198480", "case-detail.jpg"),
        ("2020/255/868/17766868552", "case-photo-black.jpg"),
        ("2020/121/758/17838857121", "case-colours.jpg"),
        ("2020/172/312/17709213271", "case-photo-black.jpg"),
        ("2020/330/598/17766895033", "case-features.jpg"),
        ("2019/259/150/11419051952", "case-notice.jpg"),
    ];
    let served: Vec<(String, &str)> = URLS
        .iter()
        .map(|(path, file)| {
            let url = format!("https://cbu01.alicdn.com/img/ibank/{path}_1283248032.jpg");
            (url, *file)
        })
        .collect();
    let detail_imgs: Vec<String> = served.iter().map(|(url, _)| url.clone()).collect();
    let detail_html: String = detail_imgs
        .iter()
        .map(|url| format!("<img src=\"{url}\"/>"))
        .collect();
    DemoOffer {
        item_id: "622619146604",
        label: "Phone case, 15 pictures (the API documentation's example)",
        answer: Answer::Description {
            detail_imgs,
            detail_html,
            served,
        },
    }
}

/// The item of the documentation's request example, with a new-style description.
fn water_bottle() -> DemoOffer {
    let seller = "2215083926471";
    let names = [
        ("O1CN01Xq3vTb1Ykq8RzL5mN", "bottle-banner.jpg"),
        ("O1CN01aH7pQe1Ykq8Sv2WcD", "bottle-photo.jpg"),
        ("O1CN01Lm4Rt81Ykq8TzJ0bK", "bottle-capacity.png"),
        ("O1CN01Ve9Kc21Ykq8UyH3aP", "bottle-features.jpg"),
        ("O1CN01sB2nWd1Ykq8Vx6TfR", "bottle-colours.jpg"),
        ("O1CN01gT8yMz1Ykq8WqE4hS", "bottle-package.jpg"),
    ];
    let served: Vec<(String, &str)> = names
        .iter()
        .map(|(name, file)| {
            let extension = file.rsplit('.').next().unwrap_or("jpg");
            let url =
                format!("https://cbu01.alicdn.com/img/ibank/{name}_!!{seller}-0-cib.{extension}");
            (url, *file)
        })
        .collect();
    let detail_imgs: Vec<String> = served.iter().map(|(url, _)| url.clone()).collect();
    let images: String = detail_imgs
        .iter()
        .map(|url| format!("<img src=\"{url}\" alt=\"undefined\" width=\"790\" />"))
        .collect();
    let detail_html = format!(
        "<div id=\"offer-template-0\"></div><div style=\"width: 790.0px;\"><p>{images}</p></div>"
    );
    DemoOffer {
        item_id: "652702302959",
        label: "Vacuum water bottle, 6 pictures (the request example's item)",
        answer: Answer::Description {
            detail_imgs,
            detail_html,
            served,
        },
    }
}

/// Lazy-load attributes, a placeholder `src`, a `data:` spacer and an image map; the answer's
/// `detail_imgs` lists only the first picture (and an empty string), the rest are only in the
/// HTML.
fn desk_lamp() -> DemoOffer {
    let seller = "2206731185542";
    let banner =
        format!("https://cbu01.alicdn.com/img/ibank/O1CN01Pz6kWq1Ng3Ab9XyTu_!!{seller}-0-cib.jpg");
    let photo_path =
        format!("cbu01.alicdn.com/img/ibank/O1CN01Jd2mRv1Ng3AcQ7LpE_!!{seller}-0-cib.jpg");
    let modes = format!(
        "https://img.alicdn.com/imgextra/i4/{seller}/O1CN01Wc5nHx1Ng3AdK8ZsV_!!{seller}.jpg"
    );
    let related =
        format!("https://cbu01.alicdn.com/img/ibank/O1CN01Ry7tGb1Ng3AeM1VqN_!!{seller}-0-cib.jpg");
    let placeholder = "https://cbu01.alicdn.com/cms/upload/2015/081/224/2422180_1417513398.png";
    let spacer =
        "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==";

    let detail_html = format!(
        "<div class=\"content-detail\">\
<p><img src=\"{placeholder}\" data-lazyload-src=\"{banner}\" alt=\"\" width=\"790\"/></p>\
<p><img class=\"lazyload\" data-src=\"//{photo_path}\" alt=\"\"/></p>\
<p><img src=\"{spacer}\" data-ks-lazyload=\"{modes}\"/></p>\
<p><img src=\"{related}\" usemap=\"#_sdmap_0\" border=\"0\"/>\
<map name=\"_sdmap_0\">\
<area shape=\"rect\" coords=\"20,110,385,480\" href=\"https://detail.1688.com/offer/652702302959.html\" target=\"_blank\"/>\
<area shape=\"rect\" coords=\"405,110,770,480\" href=\"https://detail.1688.com/offer/683920475512.html\" target=\"_blank\"/>\
</map></p></div>"
    );
    DemoOffer {
        item_id: "675418203366",
        label: "Desk lamp, lazy-loaded pictures and an image map",
        answer: Answer::Description {
            detail_imgs: vec![banner.clone(), String::new()],
            detail_html,
            served: vec![
                (banner, "lamp-banner.jpg"),
                (format!("https://{photo_path}"), "lamp-photo.jpg"),
                (modes, "lamp-modes.jpg"),
                (related, "lamp-related.jpg"),
                (placeholder.to_string(), "lazyload-placeholder.png"),
            ],
        },
    }
}

/// Text, a size table in HTML, entities, Chinese text, and a `?__r__=` cache-buster query on
/// one picture, as some 1688 descriptions carry (the CDN serves the picture with or without it).
fn cotton_shirt() -> DemoOffer {
    let seller = "2201469375820";
    let banner =
        format!("https://cbu01.alicdn.com/img/ibank/O1CN01Hk3sZa1Qb7Fp2DxYw_!!{seller}-0-cib.jpg");
    let photo =
        format!("https://cbu01.alicdn.com/img/ibank/O1CN01tN6vBq1Qb7FqLz8Ck_!!{seller}-0-cib.jpg");
    let sizes = format!(
        "https://cbu01.alicdn.com/img/ibank/O1CN01Ew9pJm1Qb7FrT4uGa_!!{seller}-0-cib.png?__r__=1657695621165"
    );
    let fabric =
        format!("https://cbu01.alicdn.com/img/ibank/O1CN01cV2xLq1Qb7FsHn5Ze_!!{seller}-0-cib.jpg");

    let detail_html = format!(
        "<div style=\"width: 790.0px;\">\
<p style=\"text-align: center;\"><span style=\"font-size: 24.0px;color: #ff0000;\"><strong>220g重磅纯棉短袖T恤&nbsp;&nbsp;男女同款</strong></span></p>\
<p><img src=\"{banner}\" alt=\"纯棉T恤\"/></p>\
<p>面料：100%棉&nbsp;&amp;&nbsp;罗纹领口&nbsp;|&nbsp;克重：220g/m&sup2;</p>\
<p>&lt;温馨提示&gt;&nbsp;尺码为平铺测量，误差1-3cm属正常范围&#65292;请以实物为准。</p>\
<table border=\"1\" cellspacing=\"0\" cellpadding=\"4\" style=\"border-collapse: collapse;width: 790.0px;\">\
<tbody>\
<tr><td>尺码&nbsp;(cm)</td><td>衣长</td><td>胸围</td><td>肩宽</td><td>袖长</td><td>建议体重</td></tr>\
<tr><td>S</td><td>66</td><td>100</td><td>44</td><td>19</td><td>45-55kg</td></tr>\
<tr><td>M</td><td>69</td><td>104</td><td>46</td><td>20</td><td>55-62kg</td></tr>\
<tr><td>L</td><td>72</td><td>108</td><td>48</td><td>21</td><td>62-70kg</td></tr>\
<tr><td>XL</td><td>74</td><td>112</td><td>50</td><td>22</td><td>70-80kg</td></tr>\
<tr><td>2XL</td><td>76</td><td>116</td><td>52</td><td>23</td><td>80-90kg</td></tr>\
</tbody></table>\
<p><img src=\"{photo}\"/><img src=\"{sizes}\"/></p>\
<p>&quot;洗涤说明&quot;&nbsp;&#8212;&nbsp;30&deg;C以下水洗&nbsp;&middot;&nbsp;不可漂白&nbsp;&middot;&nbsp;低温熨烫</p>\
<p><img src=\"{fabric}\"/></p>\
</div>"
    );
    DemoOffer {
        item_id: "683920475512",
        label: "Cotton T-shirt, HTML size table, entities and a cache-buster",
        answer: Answer::Description {
            detail_imgs: vec![banner.clone(), photo.clone(), sizes.clone(), fabric.clone()],
            detail_html,
            served: vec![
                (banner, "shirt-banner.jpg"),
                (photo, "shirt-photo.jpg"),
                (sizes, "shirt-sizes.png"),
                (fabric, "shirt-fabric.jpg"),
            ],
        },
    }
}

/// A 790x6600 JPEG, an animated GIF, a WebP and a PNG.
fn led_strip() -> DemoOffer {
    let seller = "2209517764430";
    let long =
        format!("https://cbu01.alicdn.com/img/ibank/O1CN01Zr8cXk1Tm9Gh3LvNb_!!{seller}-0-cib.jpg");
    let blink =
        format!("https://cbu01.alicdn.com/img/ibank/O1CN01Bq4wEs1Tm9GiYp7Rd_!!{seller}-0-cib.gif");
    let modes = format!(
        "https://img.alicdn.com/imgextra/i2/{seller}/O1CN01Ku6aFt1Tm9GjW2NcH_!!{seller}.webp"
    );
    let wiring = "https://gw.alicdn.com/tfs/TB1wRk3Xpq7gK0jSZFkXXXmKVXa-790-1000.png".to_string();
    let served = vec![
        (long, "strip-long.jpg"),
        (blink, "strip-blink.gif"),
        (modes, "strip-modes.webp"),
        (wiring, "strip-wiring.png"),
    ];
    let detail_imgs: Vec<String> = served.iter().map(|(url, _)| url.clone()).collect();
    let detail_html: String = detail_imgs
        .iter()
        .map(|url| format!("<p><img src=\"{url}\" style=\"display: block;width: 790.0px;\"/></p>"))
        .collect();
    DemoOffer {
        item_id: "697305128846",
        label: "LED strip, a 790x6600 picture, a GIF, a WebP and a PNG",
        answer: Answer::Description {
            detail_imgs,
            detail_html,
            served,
        },
    }
}

/// Six pictures of which three are gone from the CDN, as happens when a seller deletes
/// pictures from the album after the description was written.
fn storage_box() -> DemoOffer {
    let seller = "2213980457216";
    let banner =
        format!("https://cbu01.alicdn.com/img/ibank/O1CN01nF5gRd1Vx2Kp7QaWm_!!{seller}-0-cib.jpg");
    let gone_first = "https://cbu01.alicdn.com/img/ibank/2021/318/604/23190406813_1893275160.jpg";
    let photo =
        format!("https://cbu01.alicdn.com/img/ibank/O1CN01yS8hTe1Vx2KqBd3Xn_!!{seller}-0-cib.jpg");
    let gone_second =
        format!("https://cbu01.alicdn.com/img/ibank/O1CN01pW3kZs1Vx2Kr9Ff2Gc_!!{seller}-0-cib.jpg");
    let sizes =
        format!("https://cbu01.alicdn.com/img/ibank/O1CN01dJ6mPu1Vx2KsLe8Hq_!!{seller}-0-cib.png");
    let gone_third = "https://cbu01.alicdn.com/img/ibank/2021/742/915/23212519247_1893275160.jpg";

    let detail_imgs = vec![
        banner.clone(),
        gone_first.to_string(),
        photo.clone(),
        gone_second,
        sizes.clone(),
        gone_third.to_string(),
    ];
    let detail_html: String = detail_imgs
        .iter()
        .map(|url| format!("<img alt=\"undefined\" src=\"{url}\"/>"))
        .collect::<String>();
    let detail_html = format!("<p>{detail_html}</p>");
    DemoOffer {
        item_id: "708164392057",
        label: "Storage box, 3 of 6 pictures missing (404)",
        answer: Answer::Description {
            detail_imgs,
            detail_html,
            served: vec![
                (banner, "box-banner.jpg"),
                (photo, "box-photo.jpg"),
                (sizes, "box-sizes.png"),
            ],
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The pictures
// ---------------------------------------------------------------------------------------------

/// Colours of one product's pictures.
#[derive(Clone, Copy)]
struct Palette {
    top: Rgb<u8>,
    bottom: Rgb<u8>,
    accent: Rgb<u8>,
    ink: Rgb<u8>,
    product: Rgb<u8>,
}

const BLUE: Palette = Palette {
    top: Rgb([226, 236, 248]),
    bottom: Rgb([160, 186, 222]),
    accent: Rgb([28, 86, 178]),
    ink: Rgb([24, 34, 56]),
    product: Rgb([58, 112, 196]),
};
const PINK: Palette = Palette {
    top: Rgb([252, 234, 238]),
    bottom: Rgb([236, 180, 196]),
    accent: Rgb([214, 64, 112]),
    ink: Rgb([70, 26, 44]),
    product: Rgb([236, 120, 156]),
};
const GRAPHITE: Palette = Palette {
    top: Rgb([214, 214, 218]),
    bottom: Rgb([110, 112, 122]),
    accent: Rgb([236, 120, 36]),
    ink: Rgb([22, 22, 26]),
    product: Rgb([44, 46, 52]),
};
const TEAL: Palette = Palette {
    top: Rgb([224, 244, 240]),
    bottom: Rgb([140, 204, 196]),
    accent: Rgb([0, 128, 118]),
    ink: Rgb([16, 52, 50]),
    product: Rgb([40, 160, 148]),
};
const WARM: Palette = Palette {
    top: Rgb([252, 244, 226]),
    bottom: Rgb([232, 200, 150]),
    accent: Rgb([206, 110, 20]),
    ink: Rgb([60, 36, 14]),
    product: Rgb([248, 226, 170]),
};
const CREAM: Palette = Palette {
    top: Rgb([246, 244, 238]),
    bottom: Rgb([214, 208, 196]),
    accent: Rgb([120, 96, 60]),
    ink: Rgb([40, 34, 28]),
    product: Rgb([250, 250, 248]),
};
const NIGHT: Palette = Palette {
    top: Rgb([30, 28, 52]),
    bottom: Rgb([10, 10, 20]),
    accent: Rgb([255, 90, 200]),
    ink: Rgb([240, 240, 255]),
    product: Rgb([250, 250, 255]),
};
const SAGE: Palette = Palette {
    top: Rgb([236, 240, 230]),
    bottom: Rgb([188, 200, 176]),
    accent: Rgb([84, 116, 64]),
    ink: Rgb([34, 44, 28]),
    product: Rgb([240, 236, 224]),
};

/// Text on the white cards and table rows, which stay white in every palette.
const CARD_INK: Rgb<u8> = Rgb([34, 34, 40]);

/// What a product shot shows.
#[derive(Clone, Copy)]
enum Product {
    PhoneCase,
    Bottle,
    Lamp,
    Shirt,
    Strip,
    StorageBox,
}

/// One horizontal band of a description picture.
enum Section {
    Banner {
        title: &'static str,
        subtitle: &'static str,
    },
    Photo(Product),
    CloseUp(Product),
    Table {
        title: &'static str,
        rows: &'static [&'static [&'static str]],
    },
    Features {
        title: &'static str,
        items: &'static [&'static str],
    },
    Swatches {
        title: &'static str,
        colours: &'static [(&'static str, [u8; 3])],
    },
    Notice {
        title: &'static str,
        lines: &'static [&'static str],
    },
    Fabric,
    Related,
}

const CASE_COLOURS: &[(&str, [u8; 3])] = &[
    ("BLACK", [30, 30, 34]),
    ("WHITE", [240, 240, 236]),
    ("NAVY", [30, 50, 110]),
    ("PINK", [236, 140, 170]),
    ("RED", [200, 36, 44]),
    ("GREEN", [60, 140, 90]),
    ("PURPLE", [120, 80, 170]),
    ("YELLOW", [240, 200, 60]),
    ("CLEAR", [210, 224, 230]),
];
const BOTTLE_COLOURS: &[(&str, [u8; 3])] = &[
    ("STEEL", [170, 176, 184]),
    ("MINT", [150, 214, 196]),
    ("SKY", [130, 180, 230]),
    ("ROSE", [230, 150, 160]),
    ("BLACK", [36, 36, 40]),
    ("WHITE", [244, 244, 240]),
];
const STRIP_COLOURS: &[(&str, [u8; 3])] = &[
    ("RED", [240, 40, 40]),
    ("GREEN", [40, 220, 80]),
    ("BLUE", [40, 90, 250]),
    ("WARM", [255, 190, 90]),
    ("COOL", [200, 230, 255]),
    ("RGB", [220, 80, 240]),
];

fn draw_pictures() -> Result<Vec<(&'static str, Vec<u8>)>> {
    use Product::*;
    use Section::*;

    let case_models: &[&[&str]] = &[
        &["MODEL", "W MM", "H MM", "D MM"],
        &["P12", "74.5", "150.2", "10.4"],
        &["P12 PRO", "74.5", "150.2", "10.4"],
        &["P12 MAX", "81.2", "163.4", "10.6"],
        &["P13", "75.0", "151.0", "10.8"],
        &["P13 MAX", "81.6", "164.0", "10.9"],
        &["P14", "75.2", "152.1", "10.8"],
    ];
    let bottle_sizes: &[&[&str]] = &[
        &["CAPACITY", "HEIGHT", "DIAMETER", "WEIGHT"],
        &["350ML", "19.5CM", "6.8CM", "240G"],
        &["500ML", "23.5CM", "7.2CM", "300G"],
        &["750ML", "26.8CM", "8.2CM", "390G"],
        &["1000ML", "29.0CM", "9.0CM", "460G"],
    ];
    let shirt_sizes: &[&[&str]] = &[
        &["SIZE", "LENGTH", "CHEST", "SHOULDER", "SLEEVE"],
        &["S", "66", "100", "44", "19"],
        &["M", "69", "104", "46", "20"],
        &["L", "72", "108", "48", "21"],
        &["XL", "74", "112", "50", "22"],
        &["2XL", "76", "116", "52", "23"],
    ];
    let strip_specs: &[&[&str]] = &[
        &["LENGTH", "LEDS", "POWER", "INPUT"],
        &["1M", "60", "7.2W", "12V"],
        &["2M", "120", "14.4W", "12V"],
        &["5M", "300", "36W", "12V"],
        &["10M", "600", "72W", "24V"],
    ];
    let box_sizes: &[&[&str]] = &[
        &["SIZE", "L CM", "W CM", "H CM", "LITRES"],
        &["S", "28", "20", "15", "8"],
        &["M", "36", "26", "20", "18"],
        &["L", "44", "32", "25", "35"],
    ];

    let mut out = Vec::new();
    let mut jpeg =
        |name: &'static str, palette: Palette, sections: Vec<(Section, u32)>| -> Result<()> {
            let canvas = stack(palette, &sections);
            out.push((name, encode_jpeg(&canvas.image, 84)?));
            Ok(())
        };

    // Phone case: the documented example.
    jpeg(
        "case-banner.jpg",
        BLUE,
        vec![
            (
                Banner {
                    title: "PHONE CASE",
                    subtitle: "SHOCKPROOF SOFT TPU",
                },
                420,
            ),
            (Photo(PhoneCase), 620),
        ],
    )?;
    jpeg("case-photo-blue.jpg", BLUE, vec![(Photo(PhoneCase), 790)])?;
    jpeg("case-photo-pink.jpg", PINK, vec![(Photo(PhoneCase), 790)])?;
    jpeg(
        "case-photo-black.jpg",
        GRAPHITE,
        vec![(Photo(PhoneCase), 790)],
    )?;
    jpeg(
        "case-colours.jpg",
        PINK,
        vec![(
            Swatches {
                title: "9 COLOURS",
                colours: CASE_COLOURS,
            },
            1100,
        )],
    )?;
    jpeg(
        "case-features.jpg",
        BLUE,
        vec![
            (
                Features {
                    title: "WHY CHOOSE US",
                    items: &[
                        "DROP TESTED 2M",
                        "RAISED CAMERA EDGE",
                        "PRECISE CUTOUTS",
                        "WIRELESS CHARGING OK",
                        "ANTI YELLOWING",
                    ],
                },
                1100,
            ),
            (CloseUp(PhoneCase), 400),
        ],
    )?;
    jpeg("case-detail.jpg", GRAPHITE, vec![(CloseUp(PhoneCase), 900)])?;
    jpeg(
        "case-models.jpg",
        CREAM,
        vec![(
            Table {
                title: "SUITABLE MODELS",
                rows: case_models,
            },
            1070,
        )],
    )?;
    jpeg(
        "case-notice.jpg",
        CREAM,
        vec![(
            Notice {
                title: "NOTICE",
                lines: &[
                    "COLOURS MAY VARY SLIGHTLY",
                    "DUE TO LIGHT AND SCREEN.",
                    "PLEASE ALLOW 1-2 MM ERROR",
                    "FROM MANUAL MEASUREMENT.",
                ],
            },
            620,
        )],
    )?;

    // Water bottle: the request example's item.
    jpeg(
        "bottle-banner.jpg",
        TEAL,
        vec![
            (
                Banner {
                    title: "VACUUM BOTTLE",
                    subtitle: "HOT 12H  COLD 24H",
                },
                420,
            ),
            (Photo(Bottle), 700),
        ],
    )?;
    jpeg("bottle-photo.jpg", TEAL, vec![(Photo(Bottle), 1000)])?;
    jpeg(
        "bottle-features.jpg",
        SAGE,
        vec![
            (
                Features {
                    title: "DETAILS",
                    items: &[
                        "316 STAINLESS STEEL",
                        "DOUBLE WALL VACUUM",
                        "LEAKPROOF LID",
                        "BPA FREE",
                    ],
                },
                900,
            ),
            (CloseUp(Bottle), 400),
        ],
    )?;
    jpeg(
        "bottle-colours.jpg",
        TEAL,
        vec![(
            Swatches {
                title: "6 COLOURS",
                colours: BOTTLE_COLOURS,
            },
            900,
        )],
    )?;
    jpeg(
        "bottle-package.jpg",
        CREAM,
        vec![
            (
                Banner {
                    title: "PACKAGE",
                    subtitle: "1 BOTTLE + 1 GIFT BOX",
                },
                300,
            ),
            (Photo(StorageBox), 420),
        ],
    )?;

    // Desk lamp: lazy loading and an image map.
    jpeg(
        "lamp-banner.jpg",
        WARM,
        vec![
            (
                Banner {
                    title: "LED DESK LAMP",
                    subtitle: "EYE CARE  USB POWERED",
                },
                420,
            ),
            (Photo(Lamp), 600),
        ],
    )?;
    jpeg("lamp-photo.jpg", WARM, vec![(Photo(Lamp), 900)])?;
    jpeg(
        "lamp-modes.jpg",
        WARM,
        vec![(
            Swatches {
                title: "3 LIGHT MODES",
                colours: &[
                    ("WARM", [255, 196, 110]),
                    ("NEUTRAL", [255, 236, 200]),
                    ("COOL", [220, 236, 255]),
                ],
            },
            800,
        )],
    )?;
    jpeg("lamp-related.jpg", CREAM, vec![(Related, 500)])?;

    // Cotton T-shirt: entities and a cache-buster.
    jpeg(
        "shirt-banner.jpg",
        SAGE,
        vec![
            (
                Banner {
                    title: "COTTON T-SHIRT",
                    subtitle: "100% COTTON  220 G",
                },
                420,
            ),
            (Photo(Shirt), 680),
        ],
    )?;
    jpeg("shirt-photo.jpg", PINK, vec![(Photo(Shirt), 1000)])?;
    jpeg("shirt-fabric.jpg", SAGE, vec![(Fabric, 700)])?;

    // LED strip: the tall picture (over 6000 px, as long single-picture descriptions are).
    jpeg(
        "strip-long.jpg",
        NIGHT,
        vec![
            (
                Banner {
                    title: "LED STRIP",
                    subtitle: "RGB  5050 SMD  APP CONTROL",
                },
                600,
            ),
            (Photo(Strip), 900),
            (
                Features {
                    title: "FEATURES",
                    items: &[
                        "16 MILLION COLOURS",
                        "MUSIC SYNC MODE",
                        "CUT EVERY 3 LEDS",
                        "STRONG 3M ADHESIVE",
                        "IP65 WATERPROOF",
                        "TIMER + REMOTE",
                    ],
                },
                1300,
            ),
            (CloseUp(Strip), 700),
            (
                Table {
                    title: "SPECIFICATIONS",
                    rows: strip_specs,
                },
                900,
            ),
            (
                Swatches {
                    title: "SCENES",
                    colours: STRIP_COLOURS,
                },
                1000,
            ),
            (Photo(Strip), 600),
            (
                Notice {
                    title: "INSTALLATION",
                    lines: &[
                        "1. CLEAN THE SURFACE",
                        "2. PEEL THE BACKING",
                        "3. PRESS FIRMLY 30 S",
                        "4. PLUG IN AND PAIR",
                    ],
                },
                600,
            ),
        ],
    )?;

    // Storage box: half its pictures are gone from the CDN.
    jpeg(
        "box-banner.jpg",
        CREAM,
        vec![
            (
                Banner {
                    title: "STORAGE BOX",
                    subtitle: "FOLDABLE  STACKABLE",
                },
                400,
            ),
            (Photo(StorageBox), 500),
        ],
    )?;
    jpeg("box-photo.jpg", SAGE, vec![(Photo(StorageBox), 900)])?;

    // The PNG pictures: flat colours, as tables and diagrams are exported.
    let flat_png = |palette: Palette, sections: Vec<(Section, u32)>| -> Result<Vec<u8>> {
        let flat = Palette {
            bottom: palette.top,
            ..palette
        };
        encode_png(&stack(flat, &sections).image)
    };
    out.push((
        "bottle-capacity.png",
        flat_png(
            TEAL,
            vec![(
                Table {
                    title: "CAPACITY",
                    rows: bottle_sizes,
                },
                800,
            )],
        )?,
    ));
    out.push((
        "shirt-sizes.png",
        flat_png(
            CREAM,
            vec![(
                Table {
                    title: "SIZE CHART CM",
                    rows: shirt_sizes,
                },
                900,
            )],
        )?,
    ));
    out.push((
        "strip-wiring.png",
        flat_png(
            CREAM,
            vec![
                (
                    Table {
                        title: "WIRING",
                        rows: strip_specs,
                    },
                    620,
                ),
                (
                    Notice {
                        title: "12V ONLY",
                        lines: &["DO NOT CONNECT TO 220V.", "USE THE ADAPTER INCLUDED."],
                    },
                    380,
                ),
            ],
        )?,
    ));
    out.push((
        "box-sizes.png",
        flat_png(
            SAGE,
            vec![(
                Table {
                    title: "3 SIZES",
                    rows: box_sizes,
                },
                700,
            )],
        )?,
    ));
    out.push((
        "lazyload-placeholder.png",
        encode_png(&RgbImage::from_pixel(32, 32, Rgb([238, 238, 238])))?,
    ));

    out.push(("strip-modes.webp", strip_modes_webp()?));
    out.push(("strip-blink.gif", strip_blink_gif()?));
    Ok(out)
}

fn stack(palette: Palette, sections: &[(Section, u32)]) -> Canvas {
    let height = sections.iter().map(|(_, height)| height).sum();
    let mut canvas = Canvas::new(WIDTH, height);
    let mut top = 0;
    for (section, height) in sections {
        let band = Band {
            top,
            height: *height,
        };
        draw_section(&mut canvas, band, section, palette);
        top += height;
    }
    canvas
}

fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(image)?;
    Ok(bytes)
}

fn encode_png(image: &RgbImage) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    PngEncoder::new_with_quality(&mut bytes, CompressionType::Best, FilterType::Adaptive)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )?;
    Ok(bytes)
}

/// A lossless WebP (the encoder the `image` crate has) of flat colours, which compresses well.
fn strip_modes_webp() -> Result<Vec<u8>> {
    let mut canvas = Canvas::new(WIDTH, 700);
    let background = Rgb([18, 18, 30]);
    canvas.fill_rect(0, 0, WIDTH as i32, 700, background);
    canvas.text_centered(395.0, 50.0, 8.0, "COLOUR WHEEL", Rgb([250, 250, 255]));

    // A wheel of 12 flat hues with a dark hub.
    let (cx, cy, radius) = (395.0, 400.0, 230.0);
    for y in 160..650 {
        for x in 150..640 {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let distance = (dx * dx + dy * dy).sqrt();
            if distance > radius || distance < 80.0 {
                continue;
            }
            let turn = (dy.atan2(dx) / std::f32::consts::TAU + 1.0).fract();
            let hue = (turn * 12.0).floor() / 12.0;
            canvas.put(x, y, hue_to_rgb(hue));
        }
    }
    canvas.ellipse(cx, cy, 80.0, 80.0, Paint::Solid(background), 1.0);
    canvas.text_centered(cx, cy - 21.0, 6.0, "RGB", Rgb([250, 250, 255]));

    let mut bytes = Vec::new();
    let image = &canvas.image;
    WebPEncoder::new_lossless(&mut bytes).encode(
        image.as_raw(),
        image.width(),
        image.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(bytes)
}

/// An animated GIF of three frames: a running light along a strip, as sellers show modes.
fn strip_blink_gif() -> Result<Vec<u8>> {
    const HEIGHT: u32 = 320;
    const LEDS: u32 = 23;
    let captions = ["RUNNING MODE", "RUNNING MODE", "FLASH MODE"];
    let mut frames = Vec::new();
    for (index, caption) in captions.iter().enumerate() {
        let mut canvas = Canvas::new(WIDTH, HEIGHT);
        canvas.fill_rect(0, 0, WIDTH as i32, HEIGHT as i32, Rgb([16, 16, 24]));
        canvas.text_centered(395.0, 40.0, 7.0, caption, Rgb([255, 255, 255]));
        canvas.fill_rect(35, 190, 720, 50, Rgb([230, 230, 230]));
        for led in 0..LEDS {
            let x = 50 + led as i32 * 30;
            let lit = match index {
                2 => true,
                _ => (led as usize + index * 4) % 8 < 4,
            };
            let colour = match (lit, led % 3) {
                (false, _) => Rgb([90, 90, 90]),
                (true, 0) => Rgb([255, 40, 60]),
                (true, 1) => Rgb([40, 230, 90]),
                (true, _) => Rgb([60, 110, 255]),
            };
            canvas.fill_rect(x, 200, 20, 30, colour);
        }
        let rgba = RgbaImage::from_fn(WIDTH, HEIGHT, |x, y| {
            let Rgb([r, g, b]) = *canvas.image.get_pixel(x, y);
            image::Rgba([r, g, b, 255])
        });
        frames.push(Frame::from_parts(
            rgba,
            0,
            0,
            Delay::from_numer_denom_ms(400, 1),
        ));
    }

    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut bytes, 10);
        encoder.set_repeat(Repeat::Infinite)?;
        encoder.encode_frames(frames)?;
    }
    Ok(bytes)
}

fn hue_to_rgb(hue: f32) -> Rgb<u8> {
    let h = hue * 6.0;
    let x = 1.0 - ((h % 2.0) - 1.0).abs();
    let (r, g, b) = match h as u32 {
        0 => (1.0, x, 0.0),
        1 => (x, 1.0, 0.0),
        2 => (0.0, 1.0, x),
        3 => (0.0, x, 1.0),
        4 => (x, 0.0, 1.0),
        _ => (1.0, 0.0, x),
    };
    Rgb([(r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8])
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Band {
    top: u32,
    height: u32,
}

impl Band {
    fn y(&self, offset: f32) -> f32 {
        self.top as f32 + offset
    }
    fn bottom(&self) -> f32 {
        (self.top + self.height) as f32
    }
}

fn draw_section(canvas: &mut Canvas, band: Band, section: &Section, palette: Palette) {
    match section {
        Section::Banner { title, subtitle } => banner(canvas, band, title, subtitle, palette),
        Section::Photo(product) => photo(canvas, band, *product, palette, 1.0),
        Section::CloseUp(product) => photo(canvas, band, *product, palette, 1.8),
        Section::Table { title, rows } => table(canvas, band, title, rows, palette),
        Section::Features { title, items } => features(canvas, band, title, items, palette),
        Section::Swatches { title, colours } => swatches(canvas, band, title, colours, palette),
        Section::Notice { title, lines } => notice(canvas, band, title, lines, palette),
        Section::Fabric => fabric(canvas, band, palette),
        Section::Related => related(canvas, band, palette),
    }
}

fn banner(canvas: &mut Canvas, band: Band, title: &str, subtitle: &str, palette: Palette) {
    canvas.gradient(band, palette.accent, darken(palette.accent, 0.55));
    canvas.glow(120.0, band.y(60.0), 260.0, palette.top, 0.25);
    canvas.glow(700.0, band.bottom() - 40.0, 300.0, palette.top, 0.18);

    // The largest scale at which the title fits in 730 px, at most 14 px per font pixel.
    let scale = (730.0 / text_width(title, 1.0)).floor().min(14.0);
    let title_top = band.y(band.height as f32 * 0.5 - 7.0 * scale * 0.9);
    canvas.text_centered(
        395.0 + scale * 0.4,
        title_top + scale * 0.4,
        scale,
        title,
        darken(palette.accent, 0.3),
    );
    canvas.text_centered(395.0, title_top, scale, title, Rgb([255, 255, 255]));

    let subtitle_top = title_top + 7.0 * scale + 28.0;
    let pill_width = text_width(subtitle, 4.0) + 60.0;
    canvas.rounded_rect(
        395.0 - pill_width / 2.0,
        subtitle_top - 14.0,
        pill_width,
        56.0,
        28.0,
        Paint::Solid(Rgb([255, 255, 255])),
        0.92,
    );
    canvas.text_centered(395.0, subtitle_top, 4.0, subtitle, palette.accent);
}

/// A product shot: soft studio gradient, a floor shadow, the product with shading.
fn photo(canvas: &mut Canvas, band: Band, product: Product, palette: Palette, zoom: f32) {
    canvas.gradient(band, palette.top, palette.bottom);
    canvas.glow(
        200.0,
        band.y(band.height as f32 * 0.25),
        380.0,
        Rgb([255, 255, 255]),
        0.35,
    );
    canvas.glow(
        640.0,
        band.y(band.height as f32 * 0.8),
        260.0,
        palette.accent,
        0.12,
    );

    let cx = 395.0;
    let cy = band.y(band.height as f32 * 0.5);
    let unit = band.height.min(WIDTH) as f32 / 800.0 * zoom;
    let area = (0.0, band.top as f32, WIDTH as f32, band.height as f32);
    canvas.clipped(area, |canvas| {
        // The floor shadow sits just under where each shape ends.
        let floor = match product {
            Product::PhoneCase | Product::Bottle => 305.0,
            Product::Lamp => 270.0,
            Product::Shirt => 290.0,
            Product::Strip => 200.0,
            Product::StorageBox => 190.0,
        };
        canvas.soft_ellipse(
            cx + 20.0 * unit,
            cy + floor * unit,
            240.0 * unit,
            40.0 * unit,
            Rgb([0, 0, 0]),
            0.35,
        );
        match product {
            Product::PhoneCase => phone_case_shape(canvas, cx, cy, unit, palette),
            Product::Bottle => bottle_shape(canvas, cx, cy, unit, palette),
            Product::Lamp => lamp_shape(canvas, cx, cy, unit, palette),
            Product::Shirt => shirt_shape(canvas, cx, cy, unit, palette),
            Product::Strip => strip_shape(canvas, cx, cy, unit, palette),
            Product::StorageBox => box_shape(canvas, cx, cy, unit, palette),
        }
    });
}

fn phone_case_shape(canvas: &mut Canvas, cx: f32, cy: f32, unit: f32, palette: Palette) {
    let (w, h) = (300.0 * unit, 580.0 * unit);
    let (x, y) = (cx - w / 2.0, cy - h / 2.0);
    let body = Paint::Vertical(
        lighten(palette.product, 0.25),
        darken(palette.product, 0.75),
        y,
        y + h,
    );
    canvas.rounded_rect(x, y, w, h, 52.0 * unit, body, 1.0);
    canvas.rounded_rect(
        x + 10.0 * unit,
        y + 10.0 * unit,
        w - 20.0 * unit,
        h - 20.0 * unit,
        44.0 * unit,
        Paint::Solid(lighten(palette.product, 0.08)),
        0.5,
    );

    // The camera island and its lenses.
    let island = Paint::Solid(darken(palette.product, 0.6));
    canvas.rounded_rect(
        x + 26.0 * unit,
        y + 26.0 * unit,
        128.0 * unit,
        128.0 * unit,
        30.0 * unit,
        island,
        1.0,
    );
    for (dx, dy) in [(58.0, 58.0), (122.0, 58.0), (58.0, 122.0)] {
        let (lx, ly) = (x + dx * unit, y + dy * unit);
        canvas.ellipse(
            lx,
            ly,
            24.0 * unit,
            24.0 * unit,
            Paint::Solid(Rgb([20, 20, 24])),
            1.0,
        );
        canvas.ellipse(
            lx,
            ly,
            13.0 * unit,
            13.0 * unit,
            Paint::Solid(Rgb([40, 60, 90])),
            1.0,
        );
        canvas.ellipse(
            lx - 5.0 * unit,
            ly - 5.0 * unit,
            4.0 * unit,
            4.0 * unit,
            Paint::Solid(Rgb([220, 230, 255])),
            0.9,
        );
    }

    // A glossy reflection across the back.
    let shine = [
        (x + w * 0.55, y),
        (x + w * 0.8, y),
        (x + w * 0.2, y + h),
        (x - w * 0.05, y + h),
    ];
    canvas.clipped((x, y, w, h), |canvas| {
        canvas.polygon(&shine, Rgb([255, 255, 255]), 0.12)
    });
    canvas.text_centered(
        cx,
        y + h * 0.62,
        4.0 * unit,
        "DESIGN",
        lighten(palette.product, 0.5),
    );
}

fn bottle_shape(canvas: &mut Canvas, cx: f32, cy: f32, unit: f32, palette: Palette) {
    let (w, h) = (190.0 * unit, 520.0 * unit);
    let (x, y) = (cx - w / 2.0, cy - h / 2.0 + 40.0 * unit);
    let steel = Paint::Horizontal(
        lighten(palette.product, 0.45),
        darken(palette.product, 0.6),
        x,
        x + w,
    );
    canvas.rounded_rect(x, y, w, h, 60.0 * unit, steel, 1.0);
    canvas.rounded_rect(
        x + 28.0 * unit,
        y + 40.0 * unit,
        26.0 * unit,
        h - 100.0 * unit,
        13.0 * unit,
        Paint::Solid(Rgb([255, 255, 255])),
        0.35,
    );

    let cap = Paint::Horizontal(Rgb([90, 92, 100]), Rgb([24, 24, 28]), x, x + w);
    canvas.rounded_rect(
        x + 20.0 * unit,
        y - 96.0 * unit,
        w - 40.0 * unit,
        110.0 * unit,
        22.0 * unit,
        cap,
        1.0,
    );
    canvas.rounded_rect(
        x + 60.0 * unit,
        y - 120.0 * unit,
        w - 120.0 * unit,
        40.0 * unit,
        14.0 * unit,
        cap,
        1.0,
    );
    canvas.fill_rect(
        (x + 10.0 * unit) as i32,
        (y + 12.0 * unit) as i32,
        (w - 20.0 * unit) as i32,
        (6.0 * unit).max(1.0) as i32,
        darken(palette.product, 0.5),
    );
    canvas.text_centered(
        cx,
        y + h * 0.55,
        3.0 * unit,
        "500ML",
        darken(palette.product, 0.45),
    );
}

fn lamp_shape(canvas: &mut Canvas, cx: f32, cy: f32, unit: f32, palette: Palette) {
    let base_y = cy + 250.0 * unit;
    let metal = Paint::Vertical(
        Rgb([250, 250, 250]),
        Rgb([170, 170, 176]),
        base_y - 40.0 * unit,
        base_y + 30.0 * unit,
    );

    // The light cone first, so the lamp sits over it.
    let head = (cx + 140.0 * unit, cy - 220.0 * unit);
    let cone = [
        (head.0 - 90.0 * unit, head.1 + 20.0 * unit),
        (head.0 + 90.0 * unit, head.1 + 20.0 * unit),
        (head.0 + 230.0 * unit, base_y + 30.0 * unit),
        (head.0 - 230.0 * unit, base_y + 30.0 * unit),
    ];
    canvas.polygon(&cone, Rgb([255, 240, 180]), 0.35);

    canvas.ellipse(
        cx - 60.0 * unit,
        base_y,
        150.0 * unit,
        34.0 * unit,
        metal,
        1.0,
    );
    canvas.thick_line(
        (cx - 60.0 * unit, base_y - 10.0 * unit),
        (cx - 120.0 * unit, cy - 60.0 * unit),
        22.0 * unit,
        Rgb([210, 210, 214]),
    );
    canvas.thick_line(
        (cx - 120.0 * unit, cy - 60.0 * unit),
        head,
        20.0 * unit,
        Rgb([226, 226, 230]),
    );
    canvas.ellipse(
        cx - 120.0 * unit,
        cy - 60.0 * unit,
        24.0 * unit,
        24.0 * unit,
        Paint::Solid(Rgb([120, 120, 128])),
        1.0,
    );
    canvas.rounded_rect(
        head.0 - 110.0 * unit,
        head.1 - 10.0 * unit,
        220.0 * unit,
        36.0 * unit,
        18.0 * unit,
        Paint::Solid(Rgb([236, 236, 240])),
        1.0,
    );
    canvas.rounded_rect(
        head.0 - 96.0 * unit,
        head.1 + 16.0 * unit,
        192.0 * unit,
        10.0 * unit,
        5.0 * unit,
        Paint::Solid(Rgb([255, 250, 220])),
        1.0,
    );
    canvas.glow(
        head.0,
        head.1 + 30.0 * unit,
        160.0 * unit,
        palette.product,
        0.5,
    );
}

fn shirt_shape(canvas: &mut Canvas, cx: f32, cy: f32, unit: f32, palette: Palette) {
    let outline: Vec<(f32, f32)> = [
        (-70.0, -260.0),
        (-200.0, -220.0),
        (-320.0, -100.0),
        (-250.0, -30.0),
        (-190.0, -90.0),
        (-190.0, 260.0),
        (190.0, 260.0),
        (190.0, -90.0),
        (250.0, -30.0),
        (320.0, -100.0),
        (200.0, -220.0),
        (70.0, -260.0),
        (40.0, -225.0),
        (0.0, -215.0),
        (-40.0, -225.0),
    ]
    .iter()
    .map(|(dx, dy)| (cx + dx * unit, cy + dy * unit))
    .collect();
    canvas.polygon(&outline, palette.product, 1.0);
    canvas.ellipse(
        cx,
        cy - 255.0 * unit,
        62.0 * unit,
        26.0 * unit,
        Paint::Solid(darken(palette.product, 0.7)),
        1.0,
    );
    canvas.ellipse(
        cx,
        cy - 262.0 * unit,
        54.0 * unit,
        20.0 * unit,
        Paint::Solid(palette.top),
        1.0,
    );
    canvas.text_centered(
        cx,
        cy - 60.0 * unit,
        6.0 * unit,
        "COTTON",
        lighten(palette.product, 0.6),
    );
}

fn strip_shape(canvas: &mut Canvas, cx: f32, cy: f32, unit: f32, palette: Palette) {
    // The reel.
    canvas.ellipse(
        cx - 180.0 * unit,
        cy,
        170.0 * unit,
        170.0 * unit,
        Paint::Solid(Rgb([236, 236, 240])),
        1.0,
    );
    canvas.ellipse(
        cx - 180.0 * unit,
        cy,
        70.0 * unit,
        70.0 * unit,
        Paint::Solid(palette.bottom),
        1.0,
    );

    // The unrolled part, with lit LEDs cycling through colours.
    let y = cy + 150.0 * unit;
    canvas.fill_rect(
        (cx - 180.0 * unit) as i32,
        (y - 18.0 * unit) as i32,
        (520.0 * unit) as i32,
        (36.0 * unit) as i32,
        Rgb([240, 240, 240]),
    );
    for index in 0..12 {
        let x = cx - 160.0 * unit + index as f32 * 42.0 * unit;
        let colour = hue_to_rgb(index as f32 / 12.0);
        canvas.glow(x + 9.0 * unit, y, 46.0 * unit, colour, 0.55);
        canvas.rounded_rect(
            x,
            y - 9.0 * unit,
            18.0 * unit,
            18.0 * unit,
            3.0 * unit,
            Paint::Solid(lighten(colour, 0.5)),
            1.0,
        );
    }
    canvas.glow(
        cx + 200.0 * unit,
        cy - 150.0 * unit,
        200.0 * unit,
        palette.accent,
        0.3,
    );
}

fn box_shape(canvas: &mut Canvas, cx: f32, cy: f32, unit: f32, palette: Palette) {
    let (w, h, depth) = (380.0 * unit, 240.0 * unit, 90.0 * unit);
    let (x, y) = (cx - w / 2.0 - depth / 2.0, cy - h / 2.0 + depth / 2.0);
    let top = [
        (x, y),
        (x + w, y),
        (x + w + depth, y - depth),
        (x + depth, y - depth),
    ];
    let side = [
        (x + w, y),
        (x + w + depth, y - depth),
        (x + w + depth, y + h - depth),
        (x + w, y + h),
    ];
    canvas.polygon(&top, lighten(palette.product, 0.3), 1.0);
    canvas.polygon(&side, darken(palette.product, 0.72), 1.0);
    let front = Paint::Vertical(palette.product, darken(palette.product, 0.88), y, y + h);
    canvas.rounded_rect(x, y, w, h, 4.0 * unit, front, 1.0);
    canvas.rounded_rect(
        x + w * 0.38,
        y + 30.0 * unit,
        w * 0.24,
        30.0 * unit,
        15.0 * unit,
        Paint::Solid(darken(palette.product, 0.55)),
        1.0,
    );
    canvas.text_centered(
        x + w / 2.0,
        y + h * 0.55,
        4.0 * unit,
        "HOME",
        darken(palette.product, 0.6),
    );
}

fn table(canvas: &mut Canvas, band: Band, title: &str, rows: &[&[&str]], palette: Palette) {
    canvas.gradient(band, palette.top, palette.bottom);
    canvas.text_centered(395.0, band.y(50.0), 8.0, title, palette.ink);
    canvas.fill_rect(295, (band.y(50.0) + 72.0) as i32, 200, 6, palette.accent);

    let columns = rows.first().map_or(1, |row| row.len()).max(1);
    let (left, right) = (40.0, 750.0);
    let top = band.y(170.0);
    let row_height = (band.bottom() - 50.0 - top) / rows.len().max(1) as f32;
    let column_width = (right - left) / columns as f32;

    for (index, row) in rows.iter().enumerate() {
        let y = top + index as f32 * row_height;
        let (fill, ink) = match index {
            0 => (palette.accent, Rgb([255, 255, 255])),
            _ if index % 2 == 1 => (Rgb([255, 255, 255]), CARD_INK),
            _ => (Rgb([242, 242, 244]), CARD_INK),
        };
        canvas.fill_rect(
            left as i32,
            y as i32,
            (right - left) as i32,
            row_height as i32,
            fill,
        );
        for (column, cell) in row.iter().enumerate() {
            let column_left = left + column as f32 * column_width;
            let scale = (((column_width - 16.0) / text_width(cell, 1.0)).floor()).clamp(2.0, 5.0);
            let text_top = y + (row_height - 7.0 * scale) / 2.0;
            canvas.text_centered(column_left + column_width / 2.0, text_top, scale, cell, ink);
        }
    }

    // Grid lines over the cells.
    let grid = Rgb([150, 150, 156]);
    let bottom = top + rows.len() as f32 * row_height;
    for index in 0..=rows.len() {
        let y = top + index as f32 * row_height;
        canvas.fill_rect(left as i32, y as i32 - 1, (right - left) as i32, 3, grid);
    }
    for column in 0..=columns {
        let x = left + column as f32 * column_width;
        canvas.fill_rect(x as i32 - 1, top as i32, 3, (bottom - top) as i32, grid);
    }
}

fn features(canvas: &mut Canvas, band: Band, title: &str, items: &[&str], palette: Palette) {
    canvas.gradient(band, palette.top, palette.bottom);
    canvas.text_centered(395.0, band.y(60.0), 9.0, title, palette.ink);
    canvas.fill_rect(315, (band.y(60.0) + 80.0) as i32, 160, 6, palette.accent);

    let top = band.y(200.0);
    let step = ((band.bottom() - 40.0 - top) / items.len().max(1) as f32).min(200.0);
    for (index, item) in items.iter().enumerate() {
        let y = top + index as f32 * step;
        canvas.rounded_rect(
            50.0,
            y,
            690.0,
            step - 30.0,
            24.0,
            Paint::Solid(Rgb([255, 255, 255])),
            0.85,
        );
        let badge_y = y + (step - 30.0) / 2.0;
        canvas.ellipse(
            120.0,
            badge_y,
            44.0,
            44.0,
            Paint::Solid(palette.accent),
            1.0,
        );
        let number = format!("{:02}", index + 1);
        canvas.text_centered(120.0, badge_y - 17.5, 5.0, &number, Rgb([255, 255, 255]));
        let scale = ((560.0 / text_width(item, 1.0)).floor()).clamp(2.0, 5.0);
        canvas.text(190.0, badge_y - 3.5 * scale, scale, item, CARD_INK);
    }
}

fn swatches(
    canvas: &mut Canvas,
    band: Band,
    title: &str,
    colours: &[(&str, [u8; 3])],
    palette: Palette,
) {
    canvas.gradient(band, palette.top, palette.bottom);
    canvas.text_centered(395.0, band.y(60.0), 9.0, title, palette.ink);

    let columns = if colours.len() <= 3 {
        colours.len().max(1)
    } else {
        3
    };
    let rows = colours.len().div_ceil(columns).max(1);
    let top = band.y(190.0);
    let cell_w = 690.0 / columns as f32;
    let cell_h = (band.bottom() - 30.0 - top) / rows as f32;
    for (index, (name, [r, g, b])) in colours.iter().enumerate() {
        let (column, row) = (index % columns, index / columns);
        let x = 50.0 + column as f32 * cell_w;
        let y = top + row as f32 * cell_h;
        let colour = Rgb([*r, *g, *b]);
        let size = (cell_w - 50.0).min(cell_h - 90.0);
        let swatch_x = x + (cell_w - size) / 2.0;
        canvas.soft_ellipse(
            x + cell_w / 2.0,
            y + size + 12.0,
            size * 0.45,
            14.0,
            Rgb([0, 0, 0]),
            0.25,
        );
        let paint = Paint::Vertical(lighten(colour, 0.25), darken(colour, 0.8), y, y + size);
        canvas.rounded_rect(swatch_x, y, size, size, size * 0.16, paint, 1.0);
        canvas.text_centered(x + cell_w / 2.0, y + size + 34.0, 4.0, name, palette.ink);
    }
}

fn notice(canvas: &mut Canvas, band: Band, title: &str, lines: &[&str], palette: Palette) {
    canvas.gradient(band, palette.top, palette.bottom);
    canvas.rounded_rect(
        40.0,
        band.y(40.0),
        710.0,
        band.height as f32 - 80.0,
        30.0,
        Paint::Solid(Rgb([255, 255, 255])),
        0.9,
    );
    canvas.rounded_rect(
        40.0,
        band.y(40.0),
        710.0,
        120.0,
        30.0,
        Paint::Solid(palette.accent),
        1.0,
    );
    canvas.fill_rect(40, band.y(130.0) as i32, 710, 30, palette.accent);
    canvas.text_centered(395.0, band.y(72.0), 8.0, title, Rgb([255, 255, 255]));
    let (first, last) = (band.y(200.0), band.bottom() - 80.0);
    let spacing = ((last - first) / lines.len().max(1) as f32).min(60.0);
    for (index, line) in lines.iter().enumerate() {
        let scale = ((650.0 / text_width(line, 1.0)).floor()).clamp(2.0, 4.0);
        canvas.text_centered(395.0, first + index as f32 * spacing, scale, line, CARD_INK);
    }
}

/// A close-up of knitted cotton: rows of soft loops.
fn fabric(canvas: &mut Canvas, band: Band, palette: Palette) {
    canvas.gradient(
        band,
        lighten(palette.product, 0.2),
        darken(palette.product, 0.85),
    );
    let mut y = band.y(10.0);
    let mut row = 0;
    while y < band.bottom() {
        let offset = if row % 2 == 0 { 0.0 } else { 14.0 };
        let mut x = -14.0 + offset;
        while x < WIDTH as f32 + 14.0 {
            canvas.soft_ellipse(x, y, 11.0, 16.0, darken(palette.product, 0.55), 0.35);
            canvas.soft_ellipse(x - 3.0, y - 5.0, 5.0, 7.0, Rgb([255, 255, 255]), 0.25);
            x += 28.0;
        }
        y += 26.0;
        row += 1;
    }
    canvas.rounded_rect(
        230.0,
        band.y(band.height as f32 / 2.0 - 60.0),
        330.0,
        120.0,
        24.0,
        Paint::Solid(Rgb([255, 255, 255])),
        0.85,
    );
    canvas.text_centered(
        395.0,
        band.y(band.height as f32 / 2.0 - 28.0),
        8.0,
        "COMBED",
        palette.accent,
    );
}

/// "You may also like": two product cards that the description's image map links to offers.
fn related(canvas: &mut Canvas, band: Band, palette: Palette) {
    canvas.gradient(band, palette.top, palette.bottom);
    canvas.text_centered(395.0, band.y(36.0), 6.0, "YOU MAY ALSO LIKE", palette.ink);
    let cards = [
        (20.0, TEAL, Product::Bottle, "BOTTLE"),
        (405.0, SAGE, Product::Shirt, "T-SHIRT"),
    ];
    for (x, card_palette, product, name) in cards {
        canvas.rounded_rect(
            x,
            band.y(110.0),
            365.0,
            370.0,
            20.0,
            Paint::Solid(Rgb([255, 255, 255])),
            1.0,
        );
        let inner = Band {
            top: band.top + 125,
            height: 260,
        };
        let (cx, cy) = (x + 182.0, inner.top as f32 + 130.0);
        canvas.clipped(
            (x + 15.0, inner.top as f32, 335.0, inner.height as f32),
            |canvas| {
                canvas.gradient_rect(
                    x + 15.0,
                    inner.top as f32,
                    335.0,
                    260.0,
                    card_palette.top,
                    card_palette.bottom,
                );
                match product {
                    Product::Bottle => bottle_shape(canvas, cx, cy + 10.0, 0.38, card_palette),
                    _ => shirt_shape(canvas, cx, cy + 10.0, 0.38, card_palette),
                }
            },
        );
        canvas.text_centered(x + 182.0, band.y(410.0), 5.0, name, palette.ink);
    }
}

// ---------------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------------

/// How a shape is coloured.
#[derive(Clone, Copy)]
enum Paint {
    Solid(Rgb<u8>),
    /// From the first colour at y0 to the second at y1.
    Vertical(Rgb<u8>, Rgb<u8>, f32, f32),
    /// From the first colour at x0 to the second at x1.
    Horizontal(Rgb<u8>, Rgb<u8>, f32, f32),
}

impl Paint {
    fn at(&self, x: f32, y: f32) -> Rgb<u8> {
        match *self {
            Paint::Solid(colour) => colour,
            Paint::Vertical(from, to, y0, y1) => {
                mix(from, to, ((y - y0) / (y1 - y0)).clamp(0.0, 1.0))
            }
            Paint::Horizontal(from, to, x0, x1) => {
                mix(from, to, ((x - x0) / (x1 - x0)).clamp(0.0, 1.0))
            }
        }
    }
}

struct Canvas {
    image: RgbImage,
    /// The drawable rectangle: x0, y0, x1, y1 (exclusive).
    clip: (i32, i32, i32, i32),
}

impl Canvas {
    fn new(width: u32, height: u32) -> Self {
        Canvas {
            image: RgbImage::from_pixel(width, height, Rgb([255, 255, 255])),
            clip: (0, 0, width as i32, height as i32),
        }
    }

    /// Runs `draw` with drawing limited to the rectangle (within the current limit).
    fn clipped(&mut self, (x, y, w, h): (f32, f32, f32, f32), draw: impl FnOnce(&mut Canvas)) {
        let previous = self.clip;
        self.clip = (
            (x.floor() as i32).max(previous.0),
            (y.floor() as i32).max(previous.1),
            ((x + w).ceil() as i32).min(previous.2),
            ((y + h).ceil() as i32).min(previous.3),
        );
        draw(self);
        self.clip = previous;
    }

    fn put(&mut self, x: i32, y: i32, colour: Rgb<u8>) {
        self.blend(x, y, colour, 1.0);
    }

    fn blend(&mut self, x: i32, y: i32, colour: Rgb<u8>, alpha: f32) {
        let (x0, y0, x1, y1) = self.clip;
        if x < x0 || y < y0 || x >= x1 || y >= y1 || alpha <= 0.0 {
            return;
        }
        let pixel = self.image.get_pixel_mut(x as u32, y as u32);
        *pixel = mix(*pixel, colour, alpha.min(1.0));
    }

    /// Calls `coverage` for every pixel centre of the box and blends `paint` by what it says.
    fn shade(
        &mut self,
        bounds: (f32, f32, f32, f32),
        paint: Paint,
        alpha: f32,
        coverage: impl Fn(f32, f32) -> f32,
    ) {
        let (x0, y0, x1, y1) = self.clip;
        let left = (bounds.0.floor() as i32).max(x0);
        let top = (bounds.1.floor() as i32).max(y0);
        let right = (bounds.2.ceil() as i32).min(x1);
        let bottom = (bounds.3.ceil() as i32).min(y1);
        for y in top..bottom {
            for x in left..right {
                let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
                let cover = coverage(px, py);
                if cover > 0.0 {
                    self.blend(x, y, paint.at(px, py), cover * alpha);
                }
            }
        }
    }

    fn fill_rect(&mut self, x: i32, y: i32, w: i32, h: i32, colour: Rgb<u8>) {
        for py in y..y + h {
            for px in x..x + w {
                self.put(px, py, colour);
            }
        }
    }

    fn gradient(&mut self, band: Band, top: Rgb<u8>, bottom: Rgb<u8>) {
        self.gradient_rect(
            0.0,
            band.top as f32,
            WIDTH as f32,
            band.height as f32,
            top,
            bottom,
        );
    }

    fn gradient_rect(&mut self, x: f32, y: f32, w: f32, h: f32, top: Rgb<u8>, bottom: Rgb<u8>) {
        let paint = Paint::Vertical(top, bottom, y, y + h);
        self.shade((x, y, x + w, y + h), paint, 1.0, |_, _| 1.0);
    }

    /// A soft light: full strength at the centre, fading smoothly to nothing at `radius`.
    fn glow(&mut self, cx: f32, cy: f32, radius: f32, colour: Rgb<u8>, strength: f32) {
        let bounds = (cx - radius, cy - radius, cx + radius, cy + radius);
        self.shade(bounds, Paint::Solid(colour), strength, |x, y| {
            let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() / radius;
            let t = (1.0 - d).clamp(0.0, 1.0);
            t * t * (3.0 - 2.0 * t)
        });
    }

    /// A blurred ellipse, for shadows and soft texture.
    fn soft_ellipse(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, colour: Rgb<u8>, strength: f32) {
        let bounds = (cx - rx, cy - ry, cx + rx, cy + ry);
        self.shade(bounds, Paint::Solid(colour), strength, |x, y| {
            let d = (((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)).sqrt();
            let t = (1.0 - d).clamp(0.0, 1.0);
            t * t * (3.0 - 2.0 * t)
        });
    }

    /// An anti-aliased ellipse (coverage from an approximate signed distance).
    fn ellipse(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, paint: Paint, alpha: f32) {
        let bounds = (cx - rx - 1.0, cy - ry - 1.0, cx + rx + 1.0, cy + ry + 1.0);
        let scale = rx.min(ry);
        self.shade(bounds, paint, alpha, |x, y| {
            let d = ((((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)).sqrt() - 1.0) * scale;
            (0.5 - d).clamp(0.0, 1.0)
        });
    }

    /// An anti-aliased rounded rectangle (coverage from its signed distance).
    #[allow(clippy::too_many_arguments)]
    fn rounded_rect(
        &mut self,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        radius: f32,
        paint: Paint,
        alpha: f32,
    ) {
        let radius = radius.min(w / 2.0).min(h / 2.0).max(0.0);
        let (cx, cy) = (x + w / 2.0, y + h / 2.0);
        let (hx, hy) = (w / 2.0 - radius, h / 2.0 - radius);
        self.shade(
            (x - 1.0, y - 1.0, x + w + 1.0, y + h + 1.0),
            paint,
            alpha,
            |px, py| {
                let qx = (px - cx).abs() - hx;
                let qy = (py - cy).abs() - hy;
                let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
                let d = outside + qx.max(qy).min(0.0) - radius;
                (0.5 - d).clamp(0.0, 1.0)
            },
        );
    }

    /// A filled polygon, anti-aliased by 4x4 supersampling.
    fn polygon(&mut self, points: &[(f32, f32)], colour: Rgb<u8>, alpha: f32) {
        if points.len() < 3 {
            return;
        }
        let left = points.iter().map(|p| p.0).fold(f32::MAX, f32::min);
        let right = points.iter().map(|p| p.0).fold(f32::MIN, f32::max);
        let top = points.iter().map(|p| p.1).fold(f32::MAX, f32::min);
        let bottom = points.iter().map(|p| p.1).fold(f32::MIN, f32::max);
        self.shade(
            (left, top, right, bottom),
            Paint::Solid(colour),
            alpha,
            |x, y| {
                let mut inside = 0;
                for sy in 0..4 {
                    for sx in 0..4 {
                        let sample = (x - 0.375 + sx as f32 * 0.25, y - 0.375 + sy as f32 * 0.25);
                        if contains(points, sample) {
                            inside += 1;
                        }
                    }
                }
                inside as f32 / 16.0
            },
        );
    }

    fn thick_line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, colour: Rgb<u8>) {
        let (dx, dy) = (to.0 - from.0, to.1 - from.1);
        let length = (dx * dx + dy * dy).sqrt().max(f32::EPSILON);
        let (nx, ny) = (-dy / length * width / 2.0, dx / length * width / 2.0);
        let quad = [
            (from.0 + nx, from.1 + ny),
            (to.0 + nx, to.1 + ny),
            (to.0 - nx, to.1 - ny),
            (from.0 - nx, from.1 - ny),
        ];
        self.polygon(&quad, colour, 1.0);
    }

    /// Draws text with the built-in 5x7 font, each font pixel `scale` pixels square.
    ///
    /// A pixel's coverage is the area it shares with the lit font pixels, summed over the
    /// (non-overlapping) font pixels it touches, so neighbouring font pixels join without seams
    /// at any position and scale.
    fn text(&mut self, x: f32, y: f32, scale: f32, text: &str, colour: Rgb<u8>) {
        let glyphs: Vec<Option<[u8; 7]>> = text.chars().map(glyph).collect();
        let lit = |column: i32, row: i32| -> bool {
            let (cell, bit) = (column.div_euclid(6), column.rem_euclid(6));
            let rows = usize::try_from(cell)
                .ok()
                .and_then(|cell| glyphs.get(cell).copied().flatten());
            let bits = usize::try_from(row)
                .ok()
                .and_then(|row| rows.and_then(|rows| rows.get(row).copied()));
            bit < 5 && bits.is_some_and(|bits| bits & (0x10 >> bit) != 0)
        };
        let bounds = (x, y, x + text_width(text, scale), y + 7.0 * scale);
        self.shade(bounds, Paint::Solid(colour), 1.0, |px, py| {
            // The pixel's square in font units.
            let (u0, u1) = ((px - 0.5 - x) / scale, (px + 0.5 - x) / scale);
            let (v0, v1) = ((py - 0.5 - y) / scale, (py + 0.5 - y) / scale);
            let mut area = 0.0;
            for row in v0.floor() as i32..=v1.floor() as i32 {
                let overlap_v = (v1.min(row as f32 + 1.0) - v0.max(row as f32)).max(0.0);
                for column in u0.floor() as i32..=u1.floor() as i32 {
                    if lit(column, row) {
                        let overlap_u =
                            (u1.min(column as f32 + 1.0) - u0.max(column as f32)).max(0.0);
                        area += overlap_u * overlap_v;
                    }
                }
            }
            (area * scale * scale).min(1.0)
        });
    }

    fn text_centered(&mut self, cx: f32, y: f32, scale: f32, text: &str, colour: Rgb<u8>) {
        let x = cx - text_width(text, scale) / 2.0;
        self.text(x, y, scale, text, colour);
    }
}

fn contains(points: &[(f32, f32)], (x, y): (f32, f32)) -> bool {
    let mut inside = false;
    let Some(mut previous) = points.last().copied() else {
        return false;
    };
    for &current in points {
        let crosses = (current.1 > y) != (previous.1 > y);
        if crosses
            && x < (previous.0 - current.0) * (y - current.1) / (previous.1 - current.1) + current.0
        {
            inside = !inside;
        }
        previous = current;
    }
    inside
}

/// The width of a line of text: six font pixels a character, less the last gap.
fn text_width(text: &str, scale: f32) -> f32 {
    (text.chars().count() as f32 * 6.0 - 1.0).max(0.0) * scale
}

fn mix(from: Rgb<u8>, to: Rgb<u8>, t: f32) -> Rgb<u8> {
    let channel = |a: u8, b: u8| {
        (a as f32 + (b as f32 - a as f32) * t)
            .round()
            .clamp(0.0, 255.0) as u8
    };
    Rgb([
        channel(from[0], to[0]),
        channel(from[1], to[1]),
        channel(from[2], to[2]),
    ])
}

fn darken(colour: Rgb<u8>, factor: f32) -> Rgb<u8> {
    mix(Rgb([0, 0, 0]), colour, factor)
}

fn lighten(colour: Rgb<u8>, amount: f32) -> Rgb<u8> {
    mix(colour, Rgb([255, 255, 255]), amount)
}

/// A 5x7 bitmap font: seven rows a glyph, the five low bits of each row from left to right.
/// Lower case is drawn as upper case; characters it lacks leave a blank.
fn glyph(character: char) -> Option<[u8; 7]> {
    let rows = match character.to_ascii_uppercase() {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '/' => [0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '+' => [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '!' => [0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04],
        '?' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04],
        '&' => [0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D],
        '#' => [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A],
        '=' => [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00],
        '\'' => [0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00],
        _ => return None,
    };
    Some(rows)
}
