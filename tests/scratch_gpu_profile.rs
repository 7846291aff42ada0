use std::sync::Arc;
use std::time::Instant;
use tagscape::gpu::GpuContext;
use tagscape::layout::gpu::{GpuFa2, Repulsion};
use tagscape::layout::{ForceAtlas2Settings, LayoutInput, random_positions, synthetic};
#[test]
fn profile() {
    let images: usize = std::env::var("IMAGES").unwrap().parse().unwrap();
    let data = synthetic::generate(&synthetic::SyntheticSpec::new(images));
    let n = data.graph.node_count();
    let theta: f32 = std::env::var("THETA").map(|t| t.parse().unwrap()).unwrap_or(1.2);
    let settings = ForceAtlas2Settings { barnes_hut_theta: theta, ..Default::default() };
    let (input, _) = LayoutInput::new(&data.graph, vec![1.0; n], &settings);
    let ctx = Arc::new(GpuContext::new_headless().unwrap());
    let mut gpu = GpuFa2::new(ctx, &input, &settings, &random_positions(n, 42)).unwrap();
    gpu.run(30).unwrap();
    for _ in 0..1 {
        let t = Instant::now();
        gpu.run(10).unwrap();
        eprintln!("iteration {:.1} ms", t.elapsed().as_secs_f64() * 100.0);
        let t = Instant::now();
        for _ in 0..5 { gpu.repulsion_forces(Repulsion::Tree).unwrap(); }
        eprintln!("tree repulsion incl build + readback {:.1} ms", t.elapsed().as_secs_f64() * 200.0);
        let t = Instant::now();
        for _ in 0..5 { gpu.total_forces().unwrap(); }
        eprintln!("total forces + readback {:.1} ms", t.elapsed().as_secs_f64() * 200.0);
    }
}
