use std::path::PathBuf;

/// Open the interactive map: zoom, pan, search tags, inspect images, run
/// the layout live. Without a display, writes the map as map.png in the
/// project instead.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape view study\n  tagscape view study --tour talk\n\nMouse: wheel or pinch zooms at the pointer, drag pans, hover shows an image, click opens it.\nKeys: arrows/WASD pan, +/- zoom, F or Home fits the whole map, P plays or stops the tour, Shift+S or F12 saves a screenshot\n(screenshot-NNN.png in the project), Esc closes the image panel, Ctrl+Q quits."
)]
pub struct Args {
    /// The project directory.
    pub dir: PathBuf,
    /// Open with this tour in the tour window (P plays and stops it); see
    /// `tagscape tour DIR list`.
    #[arg(long, value_name = "NAME")]
    pub tour: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let outcome = crate::viewer::open_with_tour(&args.dir, args.tour.as_deref())?;
    crate::ui::summary(outcome);
    Ok(())
}
