//! Where a model runs: the processor with Tandem's own kernels, or a GPU through candle
//! (CUDA on NVIDIA cards, Metal on Macs) when this build has that backend.
//!
//! Backends are cargo features (`cuda`, `metal`), off by default: a build reports what it
//! has ([`backends`]) and what is present ([`devices`]), and a request for a backend it lacks
//! or a device that is not there fails with [`ModelsError::DeviceUnavailable`], whose
//! message says which is the case.

mod gpu;
mod placement;

use std::fmt;

use crate::error::{ModelsError, Result};
pub use placement::{device_bytes, place, Placement};

/// A device as people and settings name it: `auto`, `cpu`, `cuda`, `cuda:1`, `metal`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// Let Tandem decide from what is present and what fits ([`place`]).
    #[default]
    Auto,
    Cpu,
    Cuda(usize),
    Metal(usize),
}

impl DeviceChoice {
    pub fn parse(s: &str) -> Result<DeviceChoice> {
        let s = s.trim().to_ascii_lowercase();
        let (kind, ordinal) = match s.split_once(':') {
            Some((kind, n)) => (kind, Some(n.parse::<usize>().map_err(|_| unknown(&s))?)),
            None => (s.as_str(), None),
        };
        match (kind, ordinal) {
            ("auto", None) => Ok(DeviceChoice::Auto),
            ("cpu", None) => Ok(DeviceChoice::Cpu),
            ("cuda" | "gpu", n) => Ok(DeviceChoice::Cuda(n.unwrap_or(0))),
            ("metal", n) => Ok(DeviceChoice::Metal(n.unwrap_or(0))),
            _ => Err(unknown(&s)),
        }
    }

    /// The id settings store and `parse` reads back.
    pub fn id(&self) -> String {
        match self {
            DeviceChoice::Auto => "auto".into(),
            DeviceChoice::Cpu => "cpu".into(),
            DeviceChoice::Cuda(n) => format!("cuda:{n}"),
            DeviceChoice::Metal(n) => format!("metal:{n}"),
        }
    }

    pub fn is_gpu(&self) -> bool {
        matches!(self, DeviceChoice::Cuda(_) | DeviceChoice::Metal(_))
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => write!(f, "automatic"),
            DeviceChoice::Cpu => write!(f, "the processor"),
            DeviceChoice::Cuda(n) => write!(f, "CUDA {n}"),
            DeviceChoice::Metal(n) => write!(f, "Metal {n}"),
        }
    }
}

fn unknown(s: &str) -> ModelsError {
    ModelsError::DeviceUnavailable(format!(
        "`{s}` is not a device: use auto, cpu, cuda (or cuda:N for the N-th NVIDIA GPU) or metal"
    ))
}

/// One place a model can run, with its memory.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    /// What [`DeviceChoice::parse`] reads: `cpu`, `cuda:0`, `metal:0`.
    pub id: String,
    pub name: String,
    /// `cpu`, `cuda` or `metal`.
    pub kind: String,
    pub total_bytes: Option<u64>,
    pub free_bytes: Option<u64>,
}

/// A backend and whether this build has it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendInfo {
    pub name: &'static str,
    pub built: bool,
    /// What a person needs to know about it on this build.
    pub note: String,
}

/// The backends Tandem knows, and which this build has.
pub fn backends() -> Vec<BackendInfo> {
    vec![
        BackendInfo { name: "cpu", built: true, note: format!("Tandem's own kernels ({})", crate::kernels_level()) },
        gpu_backend(
            "cuda",
            gpu::CUDA_BUILT,
            "NVIDIA GPUs through candle's CUDA kernels",
            "a machine with the CUDA toolkit",
        ),
        gpu_backend("metal", gpu::METAL_BUILT, "Apple GPUs through candle's Metal kernels", "a Mac"),
    ]
}

/// A GPU backend's entry: what it runs on when built, and how to build it when not.
fn gpu_backend(name: &'static str, built: bool, runs_on: &str, build_on: &str) -> BackendInfo {
    let note = if built {
        runs_on.to_string()
    } else {
        format!("not in this build (build with `--features {name}` on {build_on})")
    };
    BackendInfo { name, built, note }
}

/// Every device this build can run models on: the processor first, then GPUs.
pub fn devices() -> Vec<DeviceInfo> {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = vec![DeviceInfo {
        id: "cpu".into(),
        name: format!("Processor ({cores} cores, {} kernels)", crate::kernels_level()),
        kind: "cpu".into(),
        total_bytes: Some(sys.total_memory()),
        free_bytes: Some(sys.available_memory()),
    }];
    out.extend(gpu::cuda_devices());
    out.extend(gpu::metal_devices(sys.total_memory(), sys.available_memory()));
    out
}

/// Opens a GPU for the accelerated path. `choice` must be a GPU.
pub(crate) fn open(choice: DeviceChoice) -> Result<candle_core::Device> {
    let missing = |what: &str, built: bool| {
        if built {
            ModelsError::DeviceUnavailable(format!("{choice} is not there: this computer has no {what} it can use"))
        } else {
            ModelsError::DeviceUnavailable(format!(
                "{what} is not part of this build of Tandem; choose the processor, or install a build with {what}"
            ))
        }
    };
    match choice {
        DeviceChoice::Cuda(n) => candle_core::Device::new_cuda(n).map_err(|_| missing("CUDA", gpu::CUDA_BUILT)),
        DeviceChoice::Metal(n) => candle_core::Device::new_metal(n).map_err(|_| missing("Metal", gpu::METAL_BUILT)),
        DeviceChoice::Auto | DeviceChoice::Cpu => unreachable!("open is only called for GPUs"),
    }
}
