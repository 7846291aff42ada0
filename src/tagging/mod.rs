//! Tags for the images: importing tag tables written by other tools
//! (`import`); the taggers that compute tags come later.

pub mod import;

// Computing tags with vision backends (`tagscape tag`).
pub mod clarifai;
pub mod clip;
pub mod google;
pub mod http;
pub mod keys;
pub mod openai;
pub mod pricing;
pub mod send;
pub mod tagger;

pub use import::{ImportOptions, ImportReport, TagFormat, import_tags};
