//! ForceAtlas2: settings, the CPU Barnes–Hut reference and the GPU driver.

mod positions;
mod settings;

pub use positions::{Placement, load_positions, save_positions};
pub use settings::ForceAtlas2Settings;
