//! `tagscape models`: where to get CLIP weights, and `models check DIR` to
//! see whether a folder holds a model tagscape can run.

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::tagging::clip::model::{
    Architecture, CONFIG_FILE, DEFAULT_REPO, WEIGHTS_FILE, read_tensors, tensor_problems,
};
use crate::tagging::clip::tokenize::ClipTokenizer;

/// Where to get the weights of a local CLIP model, and check a folder of them.
///
/// tagscape downloads no model: `tagscape tag --with clip --weights DIR`
/// reads a folder in the Hugging Face layout that you download once.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape models\n  tagscape models check ~/models/clip-vit-base-patch32"
)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Check that a folder holds a CLIP model tagscape can run.
    #[command(after_help = "Example:\n  tagscape models check ~/models/clip-vit-base-patch32")]
    Check {
        /// The weights folder.
        dir: PathBuf,
    },
}

pub fn run(args: Args) -> Result<()> {
    match args.action {
        None => {
            println!("{}", explanation());
            Ok(())
        }
        Some(Action::Check { dir }) => check(&dir),
    }
}

fn explanation() -> String {
    format!(
        "Local CLIP tagging (`tagscape tag DIR --with clip --weights FOLDER`) needs a CLIP model in the
Hugging Face layout, downloaded once into a folder of your choice:

  {CONFIG_FILE}        the architecture
  {WEIGHTS_FILE}  the weights (safetensors; pytorch_model.bin is not read)
  tokenizer.json     optional: without it OpenAI's CLIP vocabulary (bundled) is used

The default choice is https://huggingface.co/{DEFAULT_REPO} (ViT-B/32, 605 MB):

  huggingface-cli download {DEFAULT_REPO} {CONFIG_FILE} {WEIGHTS_FILE} tokenizer.json --local-dir ~/models/clip-vit-base-patch32

or download the three files from the repository's \"Files and versions\" page. Other OpenAI-style
CLIP checkpoints (quick_gelu activation) work too, e.g. openai/clip-vit-base-patch16 and
openai/clip-vit-large-patch14 (slower, better). Then check the folder:

  tagscape models check ~/models/clip-vit-base-patch32"
    )
}

fn check(dir: &std::path::Path) -> Result<()> {
    if !dir.is_dir() {
        bail!(
            "{} is not a folder: give the folder holding {CONFIG_FILE} and {WEIGHTS_FILE} (run `tagscape models` to see where to get them)",
            dir.display()
        );
    }
    let architecture = Architecture::read(dir)?;
    let tensors = read_tensors(dir)?;
    let problems = tensor_problems(&architecture, &tensors);
    if !problems.is_empty() {
        bail!(
            "{} does not match {}: {} problem(s): {}; download both files again from the same model page",
            dir.join(WEIGHTS_FILE).display(),
            CONFIG_FILE,
            problems.len(),
            problems.join("; ")
        );
    }
    let tokenizer = ClipTokenizer::for_folder(dir)?;
    let c = &architecture.clip;
    let parameters: usize = tensors.values().map(|t| t.elem_count()).sum();
    crate::ui::summary(format_args!(
        "models check {}: ok: CLIP ViT ({} layers, width {}, patch {}, {} px) + text ({} layers, width {}, vocabulary {}), embeddings of {}, {:.1} M parameters; tokenizer: {}",
        dir.display(),
        c.vision_config.num_hidden_layers,
        c.vision_config.embed_dim,
        c.vision_config.patch_size,
        c.vision_config.image_size,
        c.text_config.num_hidden_layers,
        c.text_config.embed_dim,
        c.text_config.vocab_size,
        architecture.embedding_dim(),
        parameters as f64 / 1e6,
        tokenizer.describe()
    ));
    Ok(())
}
