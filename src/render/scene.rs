//! Draw data built from a project: one sprite per image node, one dot per
//! tag node, the edges, the positions and where each thumbnail lives.

use anyhow::{Context, Result, bail};
use bytemuck::{Pod, Zeroable};
use glam::Vec2;
use rusqlite::OptionalExtension;

use crate::graph::Graph;
use crate::layout::{Placement, load_positions};
use crate::project::Project;
use crate::render::atlas::{ThumbFiles, ThumbKey};
use crate::render::camera::Bounds;

/// Colour of an image whose thumbnail is missing or unreadable (light grey).
pub const PLACEHOLDER_RGB: u32 = 0xC8C8C8;
/// Default colour of tag dots (a dark grey, as Gephi's default node colour).
pub const TAG_DOT_RGB: u32 = 0x555555;

/// Sprite flag: draw a highlight border.
pub const FLAG_HIGHLIGHT: u32 = 1;
/// Sprite flag: do not draw.
pub const FLAG_HIDDEN: u32 = 2;

/// Mirrors `Sprite` in sprites.wgsl (24 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct SpriteInstance {
    /// Index of the image's node in the positions buffer.
    pub node: u32,
    /// Half the longest side, in world units (the layout's node size).
    pub size: f32,
    /// Width / height of the image.
    pub aspect: f32,
    /// Premultiplied 0xAABBGGRR: what is drawn before (or instead of) a thumbnail.
    pub color: u32,
    /// Premultiplied 0xAABBGGRR multiplier; white is "as is", grey dims.
    pub tint: u32,
    pub flags: u32,
}

/// Mirrors `Dot` in dots.wgsl (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct DotInstance {
    pub node: u32,
    pub radius: f32,
    pub color: u32,
    /// [`FLAG_HIDDEN`]: neither the dot, its label nor its edges are drawn.
    pub flags: u32,
}

/// What a tag dot's label says, and how much it matters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TagLabel {
    pub text: String,
    /// Images carrying the tag: larger degrees get larger labels, placed first.
    pub degree: usize,
}

/// 0xRRGGBB + alpha → the shaders' premultiplied 0xAABBGGRR.
pub fn pack_rgba(rgb: u32, alpha: u8) -> u32 {
    let premul = |c: u32| (c * u32::from(alpha) + 127) / 255;
    let r = premul((rgb >> 16) & 0xff);
    let g = premul((rgb >> 8) & 0xff);
    let b = premul(rgb & 0xff);
    r | g << 8 | b << 16 | u32::from(alpha) << 24
}

/// A tint that leaves colours unchanged.
pub const TINT_NONE: u32 = 0xFFFF_FFFF;

impl SpriteInstance {
    pub fn new(node: u32, size: f32, aspect: f32, rgb: u32) -> SpriteInstance {
        SpriteInstance {
            node,
            size,
            aspect: if aspect.is_finite() && aspect > 0.0 {
                aspect
            } else {
                1.0
            },
            color: pack_rgba(rgb, 255),
            tint: TINT_NONE,
            flags: 0,
        }
    }

    /// Half extents in world units (longest side = 2·size, aspect kept).
    pub fn half_extent(&self) -> Vec2 {
        if self.aspect >= 1.0 {
            Vec2::new(self.size, self.size / self.aspect)
        } else {
            Vec2::new(self.size * self.aspect, self.size)
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Scene {
    /// One per node (images first, then tags): the layout's positions.
    pub positions: Vec<Vec2>,
    /// One per image, sprite `i` is image `i` of the atlas.
    pub sprites: Vec<SpriteInstance>,
    pub dots: Vec<DotInstance>,
    /// One per dot (or none: no tag labels).
    pub tag_labels: Vec<TagLabel>,
    /// Node index pairs.
    pub edges: Vec<[u32; 2]>,
    pub thumbs: ThumbFiles,
}

impl Scene {
    /// The scene of `project`'s graph and layout. Fails when the project has
    /// no layout yet, saying how to make one.
    pub fn from_project(project: &Project) -> Result<Scene> {
        let graph = Graph::load(project)?;
        let Some(placements) = load_positions(project, &graph)? else {
            bail!(
                "project {} has no layout yet: run `tagscape layout {}` first",
                project.dir().display(),
                project.dir().display()
            );
        };
        Scene::with_placements(project, &graph, &placements)
    }

    /// The scene of `graph` (loaded from `project`) at `placements` (one per
    /// node), e.g. the viewer's random start before a live layout.
    pub fn with_placements(
        project: &Project,
        graph: &Graph,
        placements: &[Placement],
    ) -> Result<Scene> {
        if placements.len() != graph.nodes.len() {
            bail!(
                "{} placements for the {} nodes of the graph of {}: run `tagscape layout {}` again",
                placements.len(),
                graph.nodes.len(),
                project.dir().display(),
                project.dir().display()
            );
        }
        let mut stmt = project.conn().prepare(
            "SELECT content_hash, thumb_ext, width, height, mean_color, status FROM images WHERE id = ?1",
        )?;
        let mut infos = Vec::with_capacity(graph.n_images);
        for node in &graph.nodes[..graph.n_images] {
            let row = match node.image_id {
                Some(id) => stmt
                    .query_row([id], |r| {
                        Ok(ImageRow {
                            hash: r.get(0)?,
                            ext: r.get(1)?,
                            width: r.get(2)?,
                            height: r.get(3)?,
                            mean_color: r.get(4)?,
                            done: r.get::<_, String>(5)? == "done",
                        })
                    })
                    .optional()
                    .with_context(|| format!("reading image {} from the project", node.id))?,
                None => None,
            };
            infos.push(row.unwrap_or_default());
        }
        let scene = Scene::build(graph, placements, &infos, project.dir());
        let missing = scene.thumbs.keys.iter().filter(|k| k.is_none()).count();
        if missing > 0 {
            tracing::warn!(
                "{missing} of {} images have no thumbnail and are drawn as grey placeholders; run `tagscape fetch {}` to get them",
                graph.n_images,
                project.dir().display()
            );
        }
        Ok(scene)
    }

    fn build(
        graph: &Graph,
        placements: &[Placement],
        infos: &[ImageRow],
        dir: &std::path::Path,
    ) -> Scene {
        let positions = placements
            .iter()
            .map(|p| Vec2::new(p.x, p.y))
            .collect::<Vec<_>>();
        let size = |i: usize| {
            let s = placements[i].size;
            if s.is_finite() && s > 0.0 { s } else { 1.0 }
        };
        let mut sprites = Vec::with_capacity(graph.n_images);
        let mut keys = Vec::with_capacity(graph.n_images);
        for (i, info) in infos.iter().enumerate() {
            let key = match (&info.hash, &info.ext) {
                (Some(hash), Some(ext)) if info.done => Some(ThumbKey {
                    hash: hash.clone(),
                    ext: ext.clone(),
                }),
                _ => None,
            };
            let aspect = match (info.width, info.height) {
                (Some(w), Some(h)) if w > 0 && h > 0 => w as f32 / h as f32,
                _ => 1.0,
            };
            let rgb = match (&key, info.mean_color) {
                (Some(_), Some(c)) => (c as u32) & 0xFF_FFFF,
                _ => PLACEHOLDER_RGB,
            };
            sprites.push(SpriteInstance::new(i as u32, size(i), aspect, rgb));
            keys.push(key);
        }
        let dots = (graph.n_images..graph.nodes.len())
            .map(|i| DotInstance {
                node: i as u32,
                radius: size(i),
                color: pack_rgba(TAG_DOT_RGB, 255),
                flags: 0,
            })
            .collect();
        let tag_labels = (graph.n_images..graph.nodes.len())
            .map(|i| TagLabel {
                text: graph.nodes[i].label.clone(),
                degree: graph.degree(i) as usize,
            })
            .collect();
        let edges = graph.edges.iter().map(|e| [e.source, e.target]).collect();
        Scene {
            positions,
            sprites,
            dots,
            tag_labels,
            edges,
            thumbs: ThumbFiles {
                project_dir: dir.to_path_buf(),
                keys,
            },
        }
    }

    /// The world rectangle covering every image sprite (and tag dot when
    /// `with_tags`), or `None` for an empty scene.
    pub fn bounds(&self, with_tags: bool) -> Option<Bounds> {
        let images = self
            .sprites
            .iter()
            .filter_map(|s| Some((*self.positions.get(s.node as usize)?, s.half_extent())));
        let tags =
            self.dots.iter().filter(|_| with_tags).filter_map(|d| {
                Some((*self.positions.get(d.node as usize)?, Vec2::splat(d.radius)))
            });
        Bounds::of_boxes(images.chain(tags))
    }
}

#[derive(Clone, Debug, Default)]
struct ImageRow {
    hash: Option<String>,
    ext: Option<String>,
    width: Option<i64>,
    height: Option<i64>,
    mean_color: Option<i64>,
    done: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_premultiplies_in_shader_byte_order() {
        assert_eq!(pack_rgba(0xFF0000, 255), 0xFF00_00FF);
        assert_eq!(pack_rgba(0x00FF00, 255), 0xFF00_FF00);
        // 255·128/255 = 128 on every channel.
        assert_eq!(pack_rgba(0xFFFFFF, 128), 0x8080_8080);
    }

    #[test]
    fn half_extent_keeps_the_aspect() {
        let wide = SpriteInstance::new(0, 10.0, 2.0, 0);
        assert_eq!(wide.half_extent(), Vec2::new(10.0, 5.0));
        let tall = SpriteInstance::new(0, 10.0, 0.5, 0);
        assert_eq!(tall.half_extent(), Vec2::new(5.0, 10.0));
        assert_eq!(SpriteInstance::new(0, 1.0, f32::NAN, 0).aspect, 1.0);
    }
}
