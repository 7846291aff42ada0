use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    pub dir: PathBuf,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
