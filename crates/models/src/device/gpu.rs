//! What the GPU backends compiled into this build can tell about their devices.

use super::DeviceInfo;

pub const CUDA_BUILT: bool = cfg!(feature = "cuda");
pub const METAL_BUILT: bool = cfg!(feature = "metal");

/// NVIDIA GPUs with their memory, in ordinal order; none without the `cuda` feature or a
/// driver.
#[cfg(feature = "cuda")]
pub fn cuda_devices() -> Vec<DeviceInfo> {
    use candle_core::cuda_backend::cudarc::driver::CudaContext;
    let count = CudaContext::device_count().unwrap_or(0).max(0) as usize;
    (0..count)
        .filter_map(|n| {
            let ctx = CudaContext::new(n).ok()?;
            let name = ctx.name().unwrap_or_else(|_| "NVIDIA GPU".into());
            let (free, total) = ctx.mem_get_info().ok()?;
            Some(DeviceInfo {
                id: format!("cuda:{n}"),
                name: format!("{name} (CUDA {n})"),
                kind: "cuda".into(),
                total_bytes: Some(total as u64),
                free_bytes: Some(free as u64),
            })
        })
        .collect()
}

#[cfg(not(feature = "cuda"))]
pub fn cuda_devices() -> Vec<DeviceInfo> {
    Vec::new()
}

/// The Mac's GPU. It shares the computer's memory, so its memory is the computer's.
#[cfg(feature = "metal")]
pub fn metal_devices(total: u64, free: u64) -> Vec<DeviceInfo> {
    match candle_core::Device::new_metal(0) {
        Ok(_) => vec![DeviceInfo {
            id: "metal:0".into(),
            name: "Apple GPU (Metal, shares the computer's memory)".into(),
            kind: "metal".into(),
            total_bytes: Some(total),
            free_bytes: Some(free),
        }],
        Err(_) => Vec::new(),
    }
}

#[cfg(not(feature = "metal"))]
pub fn metal_devices(_total: u64, _free: u64) -> Vec<DeviceInfo> {
    Vec::new()
}
