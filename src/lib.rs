//! tagscape: from an image collection to an annotated, zoomable map of its
//! thematic clusters.
//!
//! The modules follow the pipeline (see DESIGN.md): `collect` reads inputs,
//! `fetch` downloads and thumbnails, `tagging` brings tags in, `graph` builds
//! the image–tag network, `layout` runs ForceAtlas2, `export` writes files;
//! `posts` reads back every occurrence of an image that `collect` kept.
//! Every stage reads and writes the `project` store.

pub mod bench;
pub mod cli;
pub mod cluster;
pub mod collect;
pub mod demo;
pub mod export;
pub mod fetch;
pub mod gpu;
pub mod graph;
pub mod layout;
pub mod pipeline;
pub mod posts;
pub mod project;
pub mod render;
pub mod safe_output;
pub mod search;
pub mod store_errors;
pub mod tagging;
pub mod terminal;
pub mod text;
pub mod text_input;
pub mod tour;
pub mod ui;
pub mod viewer;
