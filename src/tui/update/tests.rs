//! `update` without a terminal: keys in, state and effects out.

use ratatui::layout::Rect;

use super::*;
use crate::description::{Description, Picture, PictureSource};
use crate::tmapi::ItemDesc;
use crate::tui::state::{PictureMeta, StartInfo};

fn app() -> App {
    App::new(StartInfo::default(), Rect::new(0, 0, 160, 48))
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(update(app, Action::Key(Key::Char(c))));
    }
    effects
}

fn loaded(urls: &[&str]) -> Loaded {
    let desc = ItemDesc {
        item_id: Some("622619146604".into()),
        detail_imgs: urls.iter().map(|u| u.to_string()).collect(),
        detail_html: "<p>hi</p>".into(),
    };
    let description = Description {
        pictures: urls
            .iter()
            .map(|u| Picture {
                url: u.to_string(),
                source: PictureSource::DetailImgs,
                aliases: vec![],
            })
            .collect(),
        unusable: vec![],
    };
    Loaded {
        desc,
        description,
        stored_age: None,
    }
}

fn urls(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("https://cbu01.alicdn.com/img/ibank/{i}.jpg"))
        .collect()
}

/// Types an ID, presses Enter and delivers the answer.
fn open_offer(app: &mut App, n: usize) -> Vec<Effect> {
    type_text(app, "622619146604");
    let effects = update(app, Action::Key(Key::Enter));
    let generation = match effects.as_slice() {
        [Effect::CancelDescription, Effect::FetchDescription { generation, .. }] => *generation,
        other => panic!("unexpected effects {other:?}"),
    };
    let all = urls(n);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    update(
        app,
        Action::DescriptionLoaded {
            generation,
            item: "622619146604".parse().unwrap(),
            result: Ok(loaded(&refs)),
        },
    )
}

fn previews(effects: &[Effect]) -> Vec<&PreviewRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::PreparePreview(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn enter_fetches_a_typed_id_once() {
    let mut app = app();
    type_text(&mut app, "622619146604");
    let effects = update(&mut app, Action::Key(Key::Enter));
    assert!(
        matches!(effects.as_slice(), [Effect::CancelDescription, Effect::FetchDescription { item, .. }] if item.as_str() == "622619146604")
    );
    assert!(app.loading.is_some());

    // Enter again while it runs: no second billed call.
    let again = update(&mut app, Action::Key(Key::Enter));
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn a_pasted_link_becomes_its_id() {
    let mut app = app();
    update(
        &mut app,
        Action::Paste(
            "https://detail.1688.com/offer/652702302959.html?spm=a26352.13672862\n".into(),
        ),
    );
    let effects = update(&mut app, Action::Key(Key::Enter));
    assert!(
        matches!(&effects[1], Effect::FetchDescription { item, .. } if item.as_str() == "652702302959")
    );
    assert_eq!(app.input.text, "652702302959");
}

#[test]
fn a_bad_id_says_what_is_accepted_and_fetches_nothing() {
    let mut app = app();
    type_text(&mut app, "hello");
    let effects = update(&mut app, Action::Key(Key::Enter));
    assert!(effects.is_empty());
    match &app.message {
        Some(Message::Error(text)) => assert!(!text.is_empty()),
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(app.focus, Focus::Input, "the user can fix the input");
}

#[test]
fn loading_moves_focus_to_the_list_and_asks_for_the_first_preview() {
    let mut app = app();
    let effects = open_offer(&mut app, 15);
    assert_eq!(app.focus, Focus::List);
    let offer = app.offer.as_ref().unwrap();
    assert_eq!(offer.rows.len(), 15);
    assert_eq!(offer.selected, 0);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::FetchPictures { urls, .. } if urls.len() == 15)));
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::FormatHtml { .. })));
    let asked = previews(&effects);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].index, 0);
}

#[test]
fn the_same_offer_is_not_fetched_again() {
    let mut app = app();
    open_offer(&mut app, 3);
    update(&mut app, Action::Key(Key::Char('/')));
    type_text(&mut app, "622619146604");
    let effects = update(&mut app, Action::Key(Key::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(matches!(&app.message, Some(Message::Info(t)) if t.contains("already shown")));
}

#[test]
fn a_stale_description_is_dropped() {
    let mut app = app();
    type_text(&mut app, "622619146604");
    update(&mut app, Action::Key(Key::Enter));
    let old_generation = app.generation;
    // The user cancels and asks for another offer before the first answer arrives.
    update(&mut app, Action::Key(Key::Esc));
    update(&mut app, Action::Key(Key::Ctrl('u')));
    type_text(&mut app, "652702302959");
    update(&mut app, Action::Key(Key::Enter));
    let late = update(
        &mut app,
        Action::DescriptionLoaded {
            generation: old_generation,
            item: "622619146604".parse().unwrap(),
            result: Ok(loaded(&["https://cbu01.alicdn.com/a.jpg"])),
        },
    );
    assert!(late.is_empty());
    assert!(app.offer.is_none());
    assert_eq!(app.loading.as_ref().unwrap().item.as_str(), "652702302959");
}

#[test]
fn esc_cancels_a_running_fetch() {
    let mut app = app();
    type_text(&mut app, "622619146604");
    update(&mut app, Action::Key(Key::Enter));
    let effects = update(&mut app, Action::Key(Key::Esc));
    assert_eq!(effects, vec![Effect::CancelDescription]);
    assert!(app.loading.is_none());
}

#[test]
fn an_error_without_an_offer_fills_the_screen_and_keeps_input() {
    let mut app = app();
    type_text(&mut app, "622619146604");
    let generation = match &update(&mut app, Action::Key(Key::Enter))[1] {
        Effect::FetchDescription { generation, .. } => *generation,
        _ => unreachable!(),
    };
    update(
        &mut app,
        Action::DescriptionLoaded {
            generation,
            item: "622619146604".parse().unwrap(),
            result: Err("the subscription has expired".into()),
        },
    );
    assert_eq!(app.failure.as_deref(), Some("the subscription has expired"));
    assert_eq!(app.focus, Focus::Input);
}

#[test]
fn an_error_with_an_offer_keeps_the_offer() {
    let mut app = app();
    open_offer(&mut app, 2);
    update(&mut app, Action::Key(Key::Char('/')));
    type_text(&mut app, "652702302959");
    let generation = match &update(&mut app, Action::Key(Key::Enter))[1] {
        Effect::FetchDescription { generation, .. } => *generation,
        _ => unreachable!(),
    };
    update(
        &mut app,
        Action::DescriptionLoaded {
            generation,
            item: "652702302959".parse().unwrap(),
            result: Err("too many requests".into()),
        },
    );
    assert_eq!(app.offer.as_ref().unwrap().item.as_str(), "622619146604");
    assert_eq!(
        app.message,
        Some(Message::Error("too many requests".into()))
    );
}

#[test]
fn moving_the_selection_asks_for_that_preview_and_drops_the_old_picture() {
    let mut app = app();
    open_offer(&mut app, 5);
    let effects = update(&mut app, Action::Key(Key::Char('j')));
    let asked = previews(&effects);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].index, 1);

    // The answer for picture 0 arrives after the user moved on: never shown.
    let stale = PreviewRequest {
        index: 0,
        ..asked[0].clone()
    };
    update(
        &mut app,
        Action::PreviewReady {
            request: stale,
            result: Err("x".into()),
        },
    );
    assert!(app.preview.error.is_none());
    assert!(app.preview.is_pending());
}

#[test]
fn holding_down_moves_to_the_end_and_stops() {
    let mut app = app();
    open_offer(&mut app, 30);
    for _ in 0..40 {
        update(&mut app, Action::Key(Key::Down));
    }
    let offer = app.offer.as_ref().unwrap();
    assert_eq!(offer.selected, 29);
    let height = app.list_height();
    assert!(
        offer.list_offset + height > 29 && offer.list_offset <= 29,
        "selection visible"
    );
    update(&mut app, Action::Key(Key::Home));
    assert_eq!(app.offer.as_ref().unwrap().selected, 0);
    update(&mut app, Action::Key(Key::End));
    assert_eq!(app.offer.as_ref().unwrap().selected, 29);
}

#[test]
fn copy_keys_copy_what_they_say() {
    let mut app = app();
    open_offer(&mut app, 3);
    update(&mut app, Action::Key(Key::Char('j')));
    let effects = update(&mut app, Action::Key(Key::Char('y')));
    assert_eq!(
        effects,
        vec![Effect::Copy {
            text: "https://cbu01.alicdn.com/img/ibank/1.jpg".into(),
            what: "the URL of picture 2".into()
        }]
    );
    let all = update(&mut app, Action::Key(Key::Char('Y')));
    assert!(matches!(&all[0], Effect::Copy { text, .. } if text == &urls(3).join("\n")));
    let html = update(&mut app, Action::Key(Key::Char('c')));
    assert!(matches!(&html[0], Effect::Copy { text, .. } if text == "<p>hi</p>"));
    let open = update(&mut app, Action::Key(Key::Char('o')));
    assert_eq!(
        open,
        vec![Effect::OpenUrl(
            "https://cbu01.alicdn.com/img/ibank/1.jpg".into()
        )]
    );
}

#[test]
fn in_the_input_line_keys_are_text() {
    let mut app = app();
    type_text(&mut app, "qy?");
    assert!(!app.quit);
    assert_eq!(app.input.text, "qy?");
    update(&mut app, Action::Key(Key::Left));
    update(&mut app, Action::Key(Key::Backspace));
    assert_eq!(app.input.text, "q?");
    update(&mut app, Action::Key(Key::Ctrl('c')));
    assert!(app.quit, "Ctrl-C always quits");
}

#[test]
fn q_quits_outside_the_input() {
    let mut app = app();
    open_offer(&mut app, 1);
    update(&mut app, Action::Key(Key::Char('q')));
    assert!(app.quit);
}

#[test]
fn tab_cycles_the_panes_and_skips_a_hidden_html_panel() {
    let mut app = app();
    open_offer(&mut app, 1);
    update(&mut app, Action::Key(Key::Tab));
    assert_eq!(app.focus, Focus::Preview);
    update(&mut app, Action::Key(Key::Tab));
    assert_eq!(app.focus, Focus::Html);
    update(&mut app, Action::Key(Key::Tab));
    assert_eq!(app.focus, Focus::List);
    update(&mut app, Action::Key(Key::BackTab));
    assert_eq!(app.focus, Focus::Html);
    update(&mut app, Action::Key(Key::Char('t')));
    assert_eq!(
        app.focus,
        Focus::List,
        "hiding the focused panel moves the focus"
    );
    update(&mut app, Action::Key(Key::Tab));
    update(&mut app, Action::Key(Key::Tab));
    assert_eq!(app.focus, Focus::List);
}

#[test]
fn the_html_panel_scrolls_both_ways() {
    let mut app = app();
    open_offer(&mut app, 1);
    let generation = app.offer.as_ref().unwrap().generation;
    let lines = (0..500)
        .map(|i| ratatui::text::Line::raw(format!("<p>{i}</p>")))
        .collect();
    update(&mut app, Action::HtmlReady { generation, lines });
    app.focus = Focus::Html;
    update(&mut app, Action::Key(Key::Char('j')));
    update(&mut app, Action::Key(Key::PageDown));
    let offer = app.offer.as_ref().unwrap();
    assert_eq!(offer.html_offset, 1 + app.html_height() - 1);
    update(&mut app, Action::Key(Key::Char('l')));
    update(&mut app, Action::Key(Key::Char('l')));
    update(&mut app, Action::Key(Key::Char('h')));
    assert_eq!(app.offer.as_ref().unwrap().html_column, 8);
    update(&mut app, Action::Key(Key::End));
    assert_eq!(
        app.offer.as_ref().unwrap().html_offset,
        500 - app.html_height()
    );
}

#[test]
fn fill_width_mode_scrolls_the_preview_and_is_kept() {
    let mut app = app();
    open_offer(&mut app, 2);
    let effects = update(&mut app, Action::Key(Key::Char('z')));
    assert_eq!(previews(&effects)[0].mode, FitMode::Width);
    app.focus = Focus::Preview;
    let effects = update(&mut app, Action::Key(Key::Char('j')));
    assert_eq!(previews(&effects)[0].scroll, 1);
    // Another picture starts at its top, in the same mode.
    app.focus = Focus::List;
    let effects = update(&mut app, Action::Key(Key::Char('j')));
    let asked = previews(&effects)[0];
    assert_eq!(
        (asked.index, asked.mode, asked.scroll),
        (1, FitMode::Width, 0)
    );
}

#[test]
fn a_failed_picture_says_why_in_the_preview() {
    let mut app = app();
    open_offer(&mut app, 2);
    let generation = app.offer.as_ref().unwrap().generation;
    update(
        &mut app,
        Action::PictureFetched {
            generation,
            index: 0,
            result: Err("HTTP 404 from cbu01.alicdn.com".into()),
        },
    );
    assert_eq!(
        app.preview.error.as_deref(),
        Some("HTTP 404 from cbu01.alicdn.com")
    );
    update(
        &mut app,
        Action::PictureFetched {
            generation,
            index: 1,
            result: Ok(PictureMeta {
                format: "PNG".into(),
                size: Some((790, 1200)),
                bytes: 1000,
                truncated: false,
            }),
        },
    );
    assert!(matches!(
        app.offer.as_ref().unwrap().rows[1].state,
        RowState::Fetched(_)
    ));
}

#[test]
fn any_key_closes_the_help() {
    let mut app = app();
    open_offer(&mut app, 1);
    update(&mut app, Action::Key(Key::Char('?')));
    assert!(app.help);
    update(&mut app, Action::Key(Key::Char('q')));
    assert!(!app.help);
    assert!(!app.quit, "the key that closes the help does nothing else");
}

#[test]
fn tiny_screens_ask_for_no_preview_and_do_not_panic() {
    let mut app = app();
    open_offer(&mut app, 3);
    for (w, h) in [(1, 1), (10, 3), (20, 5), (80, 2), (40, 10)] {
        update(
            &mut app,
            Action::Resize {
                width: w,
                height: h,
            },
        );
        for key in [Key::Down, Key::PageDown, Key::Char('z'), Key::Tab, Key::End] {
            update(&mut app, Action::Key(key));
        }
    }
}

#[test]
fn a_shown_preview_prefetches_its_neighbours() {
    let mut app = app();
    open_offer(&mut app, 5);
    let effects = update(&mut app, Action::Key(Key::Char('j')));
    let request = previews(&effects)[0].clone();
    let image = crate::tui::state::PreviewImage {
        protocol: ratatui_image::protocol::Protocol::Halfblocks(Default::default()),
        area: Rect::new(0, 0, 1, 1),
        total_rows: 1,
        truncated: false,
    };
    let effects = update(
        &mut app,
        Action::PreviewReady {
            request,
            result: Ok(image),
        },
    );
    match effects.as_slice() {
        [Effect::Prefetch(requests)] => {
            let indexes: Vec<usize> = requests.iter().map(|r| r.index).collect();
            assert_eq!(indexes, vec![2, 0], "next first, then previous");
        }
        other => panic!("expected a prefetch, got {other:?}"),
    }
}

#[test]
fn a_click_selects_the_picture_and_the_wheel_scrolls_the_pane_under_it() {
    use crate::tui::action::{Mouse, MouseKind};
    let mut app = app();
    open_offer(&mut app, 10);
    let areas = app.areas().unwrap();
    let inner = crate::tui::layout::inner(areas.list);

    let effects = update(
        &mut app,
        Action::Mouse(Mouse {
            kind: MouseKind::Click,
            column: inner.x + 2,
            row: inner.y + 4,
        }),
    );
    assert_eq!(app.offer.as_ref().unwrap().selected, 4);
    assert_eq!(previews(&effects)[0].index, 4);

    // A click below the last row selects nothing.
    update(
        &mut app,
        Action::Mouse(Mouse {
            kind: MouseKind::Click,
            column: inner.x + 2,
            row: inner.y + 30,
        }),
    );
    assert_eq!(app.offer.as_ref().unwrap().selected, 4);

    let generation = app.offer.as_ref().unwrap().generation;
    let lines = (0..100)
        .map(|i| ratatui::text::Line::raw(format!("<p>{i}</p>")))
        .collect();
    update(&mut app, Action::HtmlReady { generation, lines });
    let html = areas.html.unwrap();
    update(
        &mut app,
        Action::Mouse(Mouse {
            kind: MouseKind::WheelDown,
            column: html.x + 3,
            row: html.y + 3,
        }),
    );
    assert_eq!(app.offer.as_ref().unwrap().html_offset, 3);
    assert_eq!(app.focus, Focus::List, "the wheel does not move the focus");

    update(
        &mut app,
        Action::Mouse(Mouse {
            kind: MouseKind::Click,
            column: html.x + 3,
            row: html.y + 3,
        }),
    );
    assert_eq!(app.focus, Focus::Html);
}

#[test]
fn r_fetches_the_offer_again_once() {
    let mut app = app();
    open_offer(&mut app, 2);
    let effects = update(&mut app, Action::Key(Key::Char('r')));
    assert!(
        matches!(effects.as_slice(), [Effect::FetchDescription { refresh: true, item, .. }] if item.as_str() == "622619146604")
    );
    let again = update(&mut app, Action::Key(Key::Char('r')));
    assert!(again.is_empty(), "no second call while the first runs");
}

#[test]
fn a_download_counts_its_steps_and_reports_where() {
    let mut app = app();
    open_offer(&mut app, 3);
    let effects = update(&mut app, Action::Key(Key::Char('D')));
    let id = match effects.as_slice() {
        [Effect::Download {
            download,
            pictures,
            total,
            ..
        }] => {
            assert_eq!(*total, 3);
            assert_eq!(
                pictures.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
                vec![1, 2, 3]
            );
            *download
        }
        other => panic!("{other:?}"),
    };
    assert!(
        update(&mut app, Action::Key(Key::Char('d'))).is_empty(),
        "one download at a time"
    );
    update(
        &mut app,
        Action::DownloadStep {
            download: id,
            result: Ok("/d/622619146604/01.jpg".into()),
        },
    );
    update(
        &mut app,
        Action::DownloadStep {
            download: id,
            result: Err("picture 2: HTTP 404".into()),
        },
    );
    assert!(app.download.is_some());
    update(
        &mut app,
        Action::DownloadStep {
            download: id,
            result: Ok("/d/622619146604/03.png".into()),
        },
    );
    assert!(app.download.is_none());
    assert_eq!(
        app.message,
        Some(Message::Error(
            "saved 2 of 3 pictures; 1 failed: picture 2: HTTP 404".into()
        ))
    );
}

#[test]
fn question_mark_on_an_empty_input_line_opens_the_help() {
    let mut app = app();
    update(&mut app, Action::Key(Key::Char('?')));
    assert!(app.help, "a new user on the start screen reaches the help");
    update(&mut app, Action::Key(Key::Char('x')));
    assert!(!app.help);
    type_text(&mut app, "1?");
    assert_eq!(app.input.text, "1?", "inside text, ? is a character");
}

#[test]
fn an_answer_arriving_while_the_user_types_leaves_the_keys_in_the_input() {
    let mut app = app();
    type_text(&mut app, "622619146604");
    let generation = match &update(&mut app, Action::Key(Key::Enter))[1] {
        Effect::FetchDescription { generation, .. } => *generation,
        _ => unreachable!(),
    };
    update(&mut app, Action::Key(Key::Ctrl('u')));
    type_text(&mut app, "7081");
    update(
        &mut app,
        Action::DescriptionLoaded {
            generation,
            item: "622619146604".parse().unwrap(),
            result: Ok(loaded(&["https://cbu01.alicdn.com/a.jpg"])),
        },
    );
    assert_eq!(
        app.focus,
        Focus::Input,
        "the focus stays where the user types"
    );
    type_text(&mut app, "cod");
    assert_eq!(app.input.text, "7081cod");
    assert!(!app.quit);
    update(&mut app, Action::Key(Key::Esc));
    assert_eq!(app.focus, Focus::List, "Esc goes to the loaded offer");
    assert_eq!(
        app.input.text, "622619146604",
        "and the line shows it again"
    );
}

#[test]
fn choosing_the_offer_on_screen_cancels_the_fetch_of_another() {
    let mut app = app();
    open_offer(&mut app, 2);
    update(&mut app, Action::Key(Key::Char('/')));
    type_text(&mut app, "652702302959");
    let generation = match &update(&mut app, Action::Key(Key::Enter))[1] {
        Effect::FetchDescription { generation, .. } => *generation,
        _ => unreachable!(),
    };
    update(&mut app, Action::Key(Key::Ctrl('u')));
    type_text(&mut app, "622619146604");
    let effects = update(&mut app, Action::Key(Key::Enter));
    assert_eq!(effects, vec![Effect::CancelDescription]);
    update(
        &mut app,
        Action::DescriptionLoaded {
            generation,
            item: "652702302959".parse().unwrap(),
            result: Ok(loaded(&["https://cbu01.alicdn.com/b.jpg"])),
        },
    );
    assert_eq!(
        app.offer.as_ref().unwrap().item.as_str(),
        "622619146604",
        "the late answer is dropped"
    );
}

#[test]
fn a_grown_window_shows_every_row_that_fits() {
    let mut app = app();
    update(
        &mut app,
        Action::Resize {
            width: 60,
            height: 14,
        },
    );
    open_offer(&mut app, 15);
    for _ in 0..11 {
        update(&mut app, Action::Key(Key::Down));
    }
    assert!(app.offer.as_ref().unwrap().list_offset > 0);
    update(
        &mut app,
        Action::Resize {
            width: 200,
            height: 60,
        },
    );
    assert_eq!(app.offer.as_ref().unwrap().list_offset, 0);
    assert_eq!(app.offer.as_ref().unwrap().selected, 11);
}

#[test]
fn copying_an_empty_html_does_not_clear_the_clipboard() {
    let mut app = app();
    type_text(&mut app, "622619146604");
    let generation = match &update(&mut app, Action::Key(Key::Enter))[1] {
        Effect::FetchDescription { generation, .. } => *generation,
        _ => unreachable!(),
    };
    let mut answer = loaded(&["https://cbu01.alicdn.com/a.jpg"]);
    answer.desc.detail_html.clear();
    update(
        &mut app,
        Action::DescriptionLoaded {
            generation,
            item: "622619146604".parse().unwrap(),
            result: Ok(answer),
        },
    );
    assert!(update(&mut app, Action::Key(Key::Char('c'))).is_empty());
    assert!(matches!(app.message, Some(Message::Error(_))));
}

#[test]
fn h_on_the_empty_start_line_opens_the_history_and_is_typed_elsewhere() {
    let mut app = app();
    assert_eq!(app.focus, Focus::Input);
    let effects = update(&mut app, Action::Key(Key::Char('H')));
    assert_eq!(effects, vec![Effect::LoadHistory]);
    assert!(app.history.is_some());
    assert!(app.input.text.is_empty());

    // After the first character it is text like any other.
    let mut app = self::app();
    type_text(&mut app, "1H");
    assert_eq!(app.input.text, "1H");
    assert!(app.history.is_none());
}

#[test]
fn r_while_offline_says_no_call_is_made_and_asks_for_none() {
    let mut app = App::new(
        StartInfo {
            offline: true,
            ..StartInfo::default()
        },
        Rect::new(0, 0, 160, 48),
    );
    open_offer(&mut app, 2);
    let effects = update(&mut app, Action::Key(Key::Char('r')));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(app.loading.is_none());
    match &app.message {
        Some(Message::Error(text)) => assert!(text.contains("offline"), "{text}"),
        other => panic!("{other:?}"),
    }
}
