//! Gephi's adaptive speed (ForceAtlas2.goAlgo after gephi/gephi#863): a
//! global speed steered by the mass-weighted swing and traction of the whole
//! graph, and a per-node step that shrinks where that node swings.
//! Shared by the CPU and GPU backends so both move nodes identically.

/// The global speed and its efficiency, carried from one iteration to the next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlobalSpeed {
    pub speed: f64,
    pub efficiency: f64,
}

impl Default for GlobalSpeed {
    fn default() -> Self {
        GlobalSpeed {
            speed: 1.0,
            efficiency: 1.0,
        }
    }
}

const MIN_EFFICIENCY: f64 = 0.05;
const MAX_RISE: f64 = 0.5;

impl GlobalSpeed {
    /// Updates the speed from this iteration's totals (Σ m·|F−F_old| and
    /// Σ m·|F+F_old|/2 over `nodes` nodes) and returns it.
    pub fn update(
        &mut self,
        total_swing: f64,
        total_traction: f64,
        nodes: usize,
        jitter_tolerance: f64,
    ) -> f64 {
        let n = nodes.max(1) as f64;
        let estimated_jt = 0.05 * n.sqrt();
        let min_jt = estimated_jt.sqrt();
        let max_jt = 10.0f64;
        let mut jt =
            jitter_tolerance * min_jt.max(max_jt.min(estimated_jt * total_traction / (n * n)));
        // Gephi divides by the totals unguarded; a graph at rest (both zero)
        // or without swing must not produce NaN or infinity.
        let ratio = if total_traction > 0.0 {
            total_swing / total_traction
        } else if total_swing > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
        if ratio > 2.0 {
            if self.efficiency > MIN_EFFICIENCY {
                self.efficiency *= 0.5;
            }
            jt = jt.max(jitter_tolerance);
        }
        let target = if total_swing > 0.0 {
            jt * self.efficiency * total_traction / total_swing
        } else {
            f64::INFINITY
        };
        if total_swing > jt * total_traction {
            if self.efficiency > MIN_EFFICIENCY {
                self.efficiency *= 0.7;
            }
        } else if self.speed < 1000.0 {
            self.efficiency *= 1.3;
        }
        self.speed += (target - self.speed).min(MAX_RISE * self.speed);
        self.speed
    }
}

/// How far a node moves along its force: `speed / (1 + √(speed · m · swinging))`;
/// with prevent overlap a tenth of it, the step capped at 10 units.
/// `swinging` is |F − F_old| of the node (not mass-weighted), `force_len` |F|.
#[inline]
pub fn node_factor(
    speed: f32,
    mass: f32,
    swinging: f32,
    adjust_sizes: bool,
    force_len: f32,
) -> f32 {
    let base = speed / (1.0 + (speed * mass * swinging).sqrt());
    if adjust_sizes {
        let f = 0.1 * base;
        if force_len > 0.0 {
            (f * force_len).min(10.0) / force_len
        } else {
            0.0
        }
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_iteration_rises_at_most_half() {
        // Gephi's first step: no swing relative to traction → speed ×1.5.
        let mut s = GlobalSpeed::default();
        let v = s.update(1.0, 100.0, 100, 1.0);
        assert_eq!(v, 1.5);
        assert!((s.efficiency - 1.3).abs() < 1e-12);
    }

    #[test]
    fn erratic_swing_halves_efficiency_and_slows_down() {
        let mut s = GlobalSpeed {
            speed: 10.0,
            efficiency: 1.0,
        };
        // n = 400: estimated jt = 1, min jt = 1; traction/n² tiny → jt = 1.
        // swing/traction = 4 > 2 → efficiency 0.5, jt = max(1, 1) = 1,
        // target = 1·0.5·100/400 = 0.125; swing > jt·traction → ×0.7.
        let v = s.update(400.0, 100.0, 400, 1.0);
        assert!((v - 0.125).abs() < 1e-12);
        assert!((s.efficiency - 0.35).abs() < 1e-12);
    }

    #[test]
    fn degenerate_totals_stay_finite() {
        let mut s = GlobalSpeed::default();
        for (sw, tr) in [(0.0, 0.0), (0.0, 5.0), (5.0, 0.0)] {
            assert!(s.update(sw, tr, 1, 1.0).is_finite());
        }
        assert_eq!(node_factor(1.0, 1.0, 0.0, true, 0.0), 0.0);
        // Overlap mode caps the step at 10 units.
        let f = node_factor(1000.0, 1.0, 0.0, true, 50.0);
        assert!((f * 50.0 - 10.0).abs() < 1e-4);
    }
}
