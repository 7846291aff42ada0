//! Turning prompts into CLIP token ids: the weights folder's `tokenizer.json`
//! (Hugging Face `tokenizers`) when it has one, else OpenAI's own BPE
//! vocabulary bundled in `instant-clip-tokenizer` (the tokenizer of every
//! OpenAI CLIP checkpoint).

use std::path::Path;

use anyhow::{Result, anyhow, bail};

pub enum ClipTokenizer {
    HuggingFace(Box<tokenizers::Tokenizer>),
    OpenAi(Box<instant_clip_tokenizer::Tokenizer>),
}

impl ClipTokenizer {
    /// The folder's `tokenizer.json`, or the bundled OpenAI vocabulary.
    pub fn for_folder(dir: &Path) -> Result<ClipTokenizer> {
        let path = dir.join("tokenizer.json");
        if path.exists() {
            let mut tokenizer = tokenizers::Tokenizer::from_file(&path).map_err(|e| {
                anyhow!(
                    "cannot read {}: {e}; download it again from the model's page, or delete it to use OpenAI's CLIP vocabulary",
                    path.display()
                )
            })?;
            // Prompts are encoded one by one and padded by us: a padding or
            // truncation rule saved in the file would move the end-of-text token.
            tokenizer.with_padding(None);
            tokenizer
                .with_truncation(None)
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            Ok(ClipTokenizer::HuggingFace(Box::new(tokenizer)))
        } else {
            Ok(ClipTokenizer::openai())
        }
    }

    pub fn openai() -> ClipTokenizer {
        ClipTokenizer::OpenAi(Box::new(instant_clip_tokenizer::Tokenizer::new()))
    }

    pub fn describe(&self) -> &'static str {
        match self {
            ClipTokenizer::HuggingFace(_) => "tokenizer.json",
            ClipTokenizer::OpenAi(_) => "OpenAI's CLIP vocabulary (bundled)",
        }
    }

    /// Start-of-text, the text's tokens, end-of-text; at most `max_len` ids
    /// (a long text is cut, its end-of-text kept, as CLIP does).
    pub fn encode(&self, text: &str, max_len: usize) -> Result<Vec<u32>> {
        if max_len < 2 {
            bail!("the model's context of {max_len} tokens cannot hold a prompt");
        }
        let mut ids: Vec<u32> = match self {
            ClipTokenizer::HuggingFace(t) => t
                .encode(text, true)
                .map_err(|e| anyhow!("cannot tokenize {text:?}: {e}"))?
                .get_ids()
                .to_vec(),
            ClipTokenizer::OpenAi(t) => {
                let mut tokens = Vec::new();
                t.encode(text, &mut tokens);
                let mut ids = vec![u32::from(t.start_of_text().to_u16())];
                ids.extend(tokens.iter().map(|t| u32::from(t.to_u16())));
                ids.push(u32::from(t.end_of_text().to_u16()));
                ids
            }
        };
        if ids.len() > max_len {
            let end = ids[ids.len() - 1];
            ids.truncate(max_len - 1);
            ids.push(end);
        }
        Ok(ids)
    }
}
