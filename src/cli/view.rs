use std::path::PathBuf;

/// Open the interactive map: zoom, pan, search tags, inspect images, run
/// the layout live. Without a display, writes the map as map.png in the
/// project instead.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape view study\n\nMouse: wheel or pinch zooms at the pointer, drag pans, hover shows an image, click opens it.\nKeys: arrows/WASD pan, +/- zoom, F or Home fits the whole map, Shift+S or F12 saves a screenshot\n(screenshot-NNN.png in the project), Esc closes the image panel, Ctrl+Q quits."
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let outcome = crate::viewer::open(&args.dir)?;
    crate::ui::summary(outcome);
    Ok(())
}
