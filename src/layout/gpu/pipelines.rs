//! The ForceAtlas2 compute pipelines, one WGSL file per stage in `shaders/`,
//! each prefixed with `fa2_common.wgsl` (WGSL has no include). Layouts are
//! derived from the shaders (`layout: None`), so a bind group lists exactly
//! the bindings its entry point uses.

const COMMON: &str = include_str!("../../../shaders/fa2_common.wgsl");

pub struct Pipelines {
    pub bounds_partial: wgpu::ComputePipeline,
    pub bounds_finish: wgpu::ComputePipeline,
    pub grid_count: wgpu::ComputePipeline,
    pub scan_blocks: wgpu::ComputePipeline,
    pub scan_add: wgpu::ComputePipeline,
    pub grid_scatter: wgpu::ComputePipeline,
    pub grid_order: wgpu::ComputePipeline,
    pub cells_leaves: wgpu::ComputePipeline,
    pub cells_parents: wgpu::ComputePipeline,
    pub repulsion_tree: wgpu::ComputePipeline,
    pub repulsion_exact: wgpu::ComputePipeline,
    pub attraction: wgpu::ComputePipeline,
    pub attraction_heavy: wgpu::ComputePipeline,
    pub reduce_partial: wgpu::ComputePipeline,
    pub reduce_finish: wgpu::ComputePipeline,
    pub apply: wgpu::ComputePipeline,
}

fn module(device: &wgpu::Device, name: &str, source: &str) -> wgpu::ShaderModule {
    let code = format!("{COMMON}\n{source}");
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(code.into()),
    })
}

fn pipeline(
    device: &wgpu::Device,
    module: &wgpu::ShaderModule,
    entry: &str,
) -> wgpu::ComputePipeline {
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry),
        layout: None,
        module,
        entry_point: Some(entry),
        compilation_options: Default::default(),
        cache: None,
    })
}

impl Pipelines {
    pub fn new(device: &wgpu::Device) -> Pipelines {
        let bounds = module(
            device,
            "fa2_bounds",
            include_str!("../../../shaders/fa2_bounds.wgsl"),
        );
        let count = module(
            device,
            "fa2_grid_count",
            include_str!("../../../shaders/fa2_grid_count.wgsl"),
        );
        let scan = module(
            device,
            "fa2_scan",
            include_str!("../../../shaders/fa2_scan.wgsl"),
        );
        let scatter = module(
            device,
            "fa2_grid_scatter",
            include_str!("../../../shaders/fa2_grid_scatter.wgsl"),
        );
        let order = module(
            device,
            "fa2_grid_order",
            include_str!("../../../shaders/fa2_grid_order.wgsl"),
        );
        let cells = module(
            device,
            "fa2_grid_cells",
            include_str!("../../../shaders/fa2_grid_cells.wgsl"),
        );
        let tree = module(
            device,
            "fa2_repulsion_tree",
            include_str!("../../../shaders/fa2_repulsion_tree.wgsl"),
        );
        let exact = module(
            device,
            "fa2_repulsion_exact",
            include_str!("../../../shaders/fa2_repulsion_exact.wgsl"),
        );
        let attraction = module(
            device,
            "fa2_attraction",
            include_str!("../../../shaders/fa2_attraction.wgsl"),
        );
        let heavy = module(
            device,
            "fa2_attraction_heavy",
            include_str!("../../../shaders/fa2_attraction_heavy.wgsl"),
        );
        let reduce = module(
            device,
            "fa2_reduce",
            include_str!("../../../shaders/fa2_reduce.wgsl"),
        );
        let apply = module(
            device,
            "fa2_apply",
            include_str!("../../../shaders/fa2_apply.wgsl"),
        );
        Pipelines {
            bounds_partial: pipeline(device, &bounds, "partial"),
            bounds_finish: pipeline(device, &bounds, "finish"),
            grid_count: pipeline(device, &count, "main"),
            scan_blocks: pipeline(device, &scan, "scan_blocks"),
            scan_add: pipeline(device, &scan, "add_offsets"),
            grid_scatter: pipeline(device, &scatter, "main"),
            grid_order: pipeline(device, &order, "main"),
            cells_leaves: pipeline(device, &cells, "leaves"),
            cells_parents: pipeline(device, &cells, "parents"),
            repulsion_tree: pipeline(device, &tree, "main"),
            repulsion_exact: pipeline(device, &exact, "main"),
            attraction: pipeline(device, &attraction, "main"),
            attraction_heavy: pipeline(device, &heavy, "main"),
            reduce_partial: pipeline(device, &reduce, "partial"),
            reduce_finish: pipeline(device, &reduce, "finish"),
            apply: pipeline(device, &apply, "main"),
        }
    }
}
