//! The shared headless GPU context: one wgpu instance, adapter, device and
//! queue, used by the GPU ForceAtlas2 and (later) by the renderer, which adds
//! its surfaces on top of the same instance and adapter.
//!
//! Adapter choice: a hardware adapter when there is one (high-performance
//! preference), otherwise a software fallback such as Mesa's lavapipe, so
//! the same code runs on machines without a GPU (CI, servers).

use anyhow::{Result, anyhow};

/// The one-line message for a machine with no usable adapter.
pub const NO_ADAPTER: &str = "no GPU adapter found: install a Vulkan driver (Debian/Ubuntu: apt-get install mesa-vulkan-drivers) or use --backend cpu";

pub struct GpuContext {
    pub instance: wgpu::Instance,
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
}

fn new_instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    // Vulkan, Metal and DX12 only, unless WGPU_BACKEND asks otherwise:
    // probing OpenGL through EGL prints driver errors on headless machines
    // and adds nothing where Vulkan (lavapipe included) exists.
    if std::env::var_os("WGPU_BACKEND").is_none() {
        desc.backends = wgpu::Backends::PRIMARY;
    }
    wgpu::Instance::new(desc)
}

/// A hardware adapter if any, else a software fallback (lavapipe, llvmpipe).
fn best_adapter(instance: &wgpu::Instance) -> Option<wgpu::Adapter> {
    let request = |force_fallback_adapter| {
        pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter,
            compatible_surface: None,
            apply_limit_buckets: false,
        }))
        .ok()
    };
    // Some drivers only answer an explicit request for a fallback adapter.
    request(false).or_else(|| request(true))
}

impl GpuContext {
    /// Opens the best adapter without a window. `WGPU_BACKEND=vulkan|gl|...`
    /// restricts the backends tried.
    pub fn new_headless() -> Result<GpuContext> {
        let instance = new_instance();
        let adapter = best_adapter(&instance).ok_or_else(|| anyhow!(NO_ADAPTER))?;
        Self::from_adapter(instance, adapter)
    }

    /// Whether an adapter exists here (without opening a device).
    pub fn adapter_available() -> bool {
        best_adapter(&new_instance()).is_some()
    }

    /// Whether a hardware adapter (not a software rasteriser) exists here.
    pub fn hardware_adapter_available() -> bool {
        best_adapter(&new_instance())
            .is_some_and(|a| a.get_info().device_type != wgpu::DeviceType::Cpu)
    }

    /// Opens the best adapter that can present to `surface` (the viewer's
    /// window), created from `instance`; lavapipe when there is no GPU.
    pub fn for_surface(
        instance: wgpu::Instance,
        surface: &wgpu::Surface<'_>,
    ) -> Result<GpuContext> {
        let request = |force_fallback_adapter| {
            pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter,
                compatible_surface: Some(surface),
                apply_limit_buckets: false,
            }))
        };
        let adapter = request(false)
            .or_else(|_| request(true))
            .map_err(|_| anyhow!(NO_ADAPTER))?;
        Self::from_adapter(instance, adapter)
    }

    /// Creates the device on `adapter`, asking for the adapter's largest
    /// buffer limits (the layout keeps million-node arrays in single bindings).
    pub fn from_adapter(instance: wgpu::Instance, adapter: wgpu::Adapter) -> Result<GpuContext> {
        let info = adapter.get_info();
        tracing::info!(
            "GPU adapter: {} ({:?}, {:?})",
            info.name,
            info.device_type,
            info.backend
        );
        let supported = adapter.limits();
        let required_limits = wgpu::Limits {
            max_storage_buffer_binding_size: supported.max_storage_buffer_binding_size,
            max_buffer_size: supported.max_buffer_size,
            max_storage_buffers_per_shader_stage: supported
                .max_storage_buffers_per_shader_stage
                .min(16),
            max_compute_workgroup_storage_size: supported.max_compute_workgroup_storage_size,
            ..wgpu::Limits::default().using_resolution(supported.clone())
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("tagscape"),
            required_features: wgpu::Features::empty(),
            required_limits,
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| {
            anyhow!(
                "could not open the GPU adapter {} ({e}): update its driver or use --backend cpu",
                info.name
            )
        })?;
        Ok(GpuContext {
            instance,
            adapter,
            device,
            queue,
        })
    }

    /// The adapter's name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)" for lavapipe.
    pub fn adapter_name(&self) -> String {
        self.adapter.get_info().name
    }

    /// True for software adapters (lavapipe, llvmpipe, WARP): figures measured
    /// on them are not GPU figures.
    pub fn is_software(&self) -> bool {
        self.adapter.get_info().device_type == wgpu::DeviceType::Cpu
    }

    /// Blocks until all submitted work is done.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| anyhow!("GPU device lost while waiting: {e}"))?;
        Ok(())
    }

    /// Copies `size` bytes of `buffer` (which needs COPY_SRC) back to the CPU.
    pub fn read_buffer(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>> {
        if size == 0 {
            return Ok(Vec::new());
        }
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
        self.queue.submit([encoder.finish()]);
        let slice = staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv()
            .map_err(|_| anyhow!("GPU readback was cancelled"))?
            .map_err(|e| anyhow!("GPU readback failed: {e}"))?;
        let bytes = slice
            .get_mapped_range()
            .map_err(|e| anyhow!("GPU readback failed: {e}"))?
            .to_vec();
        staging.unmap();
        Ok(bytes)
    }
}
