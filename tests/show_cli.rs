//! `descview show` given something other than a good picture file: each gets a message that
//! says what is wrong, and stdout carries nothing but pictures.

#[path = "support/cli.rs"]
mod support;

use support::{run, stderr, stdout, Sandbox};

fn show(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    let mut command = sandbox.command();
    command.arg("show").args(args);
    run(command, None)
}

#[test]
fn a_missing_file_and_a_folder_are_named_as_such() {
    let sandbox = Sandbox::new();
    let missing = sandbox.root().join("nowhere.jpg");
    let output = show(&sandbox, &[missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("there is no file"),
        "{}",
        stderr(&output)
    );

    let output = show(&sandbox, &["nowhere.png"]);
    assert!(
        stderr(&output).contains("there is no file"),
        "{}",
        stderr(&output)
    );

    let output = show(&sandbox, &[sandbox.root().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is a folder"),
        "{}",
        stderr(&output)
    );

    // Neither is mistaken for a wrong offer ID.
    assert!(!stderr(&output).contains("offer ID"), "{}", stderr(&output));
}

#[test]
fn a_width_of_zero_is_refused() {
    let sandbox = Sandbox::new();
    let output = show(&sandbox, &["picture.png", "--width", "0"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--width"), "{}", stderr(&output));
}

#[test]
fn a_cut_short_picture_is_drawn_and_the_note_goes_to_stderr() {
    let sandbox = Sandbox::new();
    let picture = image::RgbImage::from_fn(64, 64, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 4) as u8, ((x ^ y) * 4) as u8])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95)
        .encode_image(&picture)
        .unwrap();
    bytes.truncate(bytes.len() * 2 / 3);
    let path = sandbox.root().join("cut.jpg");
    std::fs::write(&path, &bytes).unwrap();

    let output = show(
        &sandbox,
        &[
            path.to_str().unwrap(),
            "--width",
            "16",
            "--protocol",
            "halfblocks",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("cut short"), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(printed.contains('▀'), "the picture is drawn: {printed:?}");
    assert!(!printed.contains("cut short"), "{printed:?}");
}
