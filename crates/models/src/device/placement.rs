//! Which device each model of a pair runs on, decided from the files' headers and the
//! devices' free memory before any weights are read, so that a pair too large for a GPU is
//! refused with an estimate ("needs about 2.1 GB, 1.3 GB free") instead of failing mid-answer.

use super::{DeviceChoice, DeviceInfo};
use crate::config::ModelConfig;
use crate::error::{ModelsError, Result};
use crate::gguf::GgufFile;

/// Conversation length the memory estimate leaves room for (the KV cache grows with use).
const PLANNED_CONTEXT: usize = 4096;

/// Bytes a model takes on a GPU: its weights as stored (the embedding table stays on the
/// host unless the output layer shares it), the KV cache for [`PLANNED_CONTEXT`] positions in
/// f32, and room for one call's activations and logits.
pub fn device_bytes(file: &GgufFile) -> Result<u64> {
    let config = ModelConfig::from_gguf(file)?;
    let tied = !file.has_tensor("output.weight");
    let weights: u64 =
        file.tensor_sizes().filter(|(name, _)| tied || *name != "token_embd.weight").map(|(_, b)| b as u64).sum();
    let kv = (config.n_layer * 2 * config.n_kv_head * config.head_dim * 4 * PLANNED_CONTEXT) as u64;
    let vocab = file.matrix(if tied { "token_embd.weight" } else { "output.weight" })?.rows() as u64;
    let workspace = vocab * 4 * 16 + (64 << 20);
    Ok(weights + kv + workspace)
}

/// The devices chosen for a pair, and why, in plain words, when the choice was automatic
/// and left something on the processor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub target: DeviceChoice,
    pub draft: Option<DeviceChoice>,
    pub note: Option<String>,
}

/// Places a target needing `target_bytes` on a GPU and a draft needing `draft_bytes` (if
/// any), as asked (`want_target`, `want_draft`), among `devices` (from [`super::devices`]).
///
/// Automatic choice: everything on the first GPU when it fits; otherwise the draft there
/// first (it runs once per drafted token, so it gains most per byte) and the target on the
/// processor; otherwise the processor. An explicit GPU that is missing or too small is an
/// error, never a silent fallback.
pub fn place(
    target_bytes: u64,
    draft_bytes: Option<u64>,
    want_target: DeviceChoice,
    want_draft: DeviceChoice,
    devices: &[DeviceInfo],
) -> Result<Placement> {
    let mut budget = Budget { devices, left: devices.iter().map(|d| d.free_bytes).collect() };
    let mut target = want_target;
    let mut draft = draft_bytes.map(|_| want_draft);
    let draft_need = draft_bytes.unwrap_or(0);
    // Explicit choices first, so automatic ones get what is left.
    if target != DeviceChoice::Auto {
        budget.take(target, target_bytes, "the large model")?;
    }
    if let Some(d) = draft.filter(|d| *d != DeviceChoice::Auto) {
        budget.take(d, draft_need, "the small model")?;
    }
    let gpu = devices.iter().find(|d| d.kind != "cpu").map(|d| DeviceChoice::parse(&d.id).expect("device ids parse"));
    let Some(g) = gpu else {
        let cpu = |c: DeviceChoice| if c == DeviceChoice::Auto { DeviceChoice::Cpu } else { c };
        return Ok(Placement { target: cpu(target), draft: draft.map(cpu), note: None });
    };
    if target == DeviceChoice::Auto
        && draft.is_none_or(|d| d == DeviceChoice::Auto)
        && budget.fits(g, target_bytes + draft_need)
    {
        budget.take(g, target_bytes + draft_need, "the pair")?;
        return Ok(Placement { target: g, draft: draft.map(|_| g), note: None });
    }
    if draft == Some(DeviceChoice::Auto) {
        draft = Some(if budget.fits(g, draft_need) {
            budget.take(g, draft_need, "the small model")?;
            g
        } else {
            DeviceChoice::Cpu
        });
    }
    let mut note = None;
    if target == DeviceChoice::Auto {
        target = if budget.fits(g, target_bytes) {
            budget.take(g, target_bytes, "the large model")?;
            g
        } else {
            note = Some(format!(
                "The large model runs on the processor: it needs about {} on {}, and {} is free{}.",
                gb(target_bytes),
                budget.name(g),
                budget.free(g).map_or_else(|| "less".into(), gb),
                if draft == Some(g) { " beside the small model" } else { "" }
            ));
            DeviceChoice::Cpu
        };
    }
    Ok(Placement { target, draft, note })
}

/// Free memory left on each device as models are placed (`None`: not known).
struct Budget<'a> {
    devices: &'a [DeviceInfo],
    left: Vec<Option<u64>>,
}

impl Budget<'_> {
    fn index(&self, choice: DeviceChoice) -> Option<usize> {
        self.devices.iter().position(|d| d.id == choice.id())
    }

    fn name(&self, choice: DeviceChoice) -> String {
        self.index(choice).map_or_else(|| choice.to_string(), |i| self.devices[i].name.clone())
    }

    fn free(&self, choice: DeviceChoice) -> Option<u64> {
        self.index(choice).and_then(|i| self.left[i])
    }

    fn fits(&self, choice: DeviceChoice, need: u64) -> bool {
        self.index(choice).is_some_and(|i| self.left[i].is_none_or(|f| need <= f))
    }

    /// Reserves `need` on `choice` (nothing to reserve on the processor), or says why not.
    fn take(&mut self, choice: DeviceChoice, need: u64, what: &str) -> Result<()> {
        if !choice.is_gpu() {
            return Ok(());
        }
        let Some(i) = self.index(choice) else {
            // Opening it gives the precise reason: not in this build, or not present.
            return super::open(choice).map(|_| ());
        };
        if let Some(free) = self.left[i] {
            if need > free {
                return Err(ModelsError::DeviceMemory {
                    what: what.into(),
                    device: self.name(choice),
                    needed: need,
                    free,
                });
            }
            self.left[i] = Some(free - need);
        }
        Ok(())
    }
}

fn gb(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1_000_000_000;

    fn machine(gpu_free: Option<u64>) -> Vec<DeviceInfo> {
        let mut d = vec![DeviceInfo {
            id: "cpu".into(),
            name: "Processor".into(),
            kind: "cpu".into(),
            total_bytes: Some(32 * GB),
            free_bytes: Some(20 * GB),
        }];
        if let Some(free) = gpu_free {
            d.push(DeviceInfo {
                id: "cuda:0".into(),
                name: "Test GPU (CUDA 0)".into(),
                kind: "cuda".into(),
                total_bytes: Some(8 * GB),
                free_bytes: Some(free),
            });
        }
        d
    }

    fn auto(target: u64, draft: u64, devices: &[DeviceInfo]) -> Placement {
        place(target, Some(draft), DeviceChoice::Auto, DeviceChoice::Auto, devices).unwrap()
    }

    #[test]
    fn everything_on_the_gpu_when_it_fits() {
        let p = auto(2 * GB, GB / 2, &machine(Some(4 * GB)));
        assert_eq!((p.target, p.draft, p.note), (DeviceChoice::Cuda(0), Some(DeviceChoice::Cuda(0)), None));
    }

    #[test]
    fn the_draft_goes_to_the_gpu_first_when_both_do_not_fit() {
        let p = auto(5 * GB, GB, &machine(Some(4 * GB)));
        assert_eq!((p.target, p.draft), (DeviceChoice::Cpu, Some(DeviceChoice::Cuda(0))));
        let note = p.note.expect("people are told why");
        assert!(note.contains("5.0 GB") && note.contains("3.0 GB is free"), "{note}");
    }

    #[test]
    fn the_processor_when_nothing_fits_or_there_is_no_gpu() {
        let p = auto(5 * GB, 2 * GB, &machine(Some(GB)));
        assert_eq!((p.target, p.draft), (DeviceChoice::Cpu, Some(DeviceChoice::Cpu)));
        let p = auto(5 * GB, 2 * GB, &machine(None));
        assert_eq!((p.target, p.draft, p.note), (DeviceChoice::Cpu, Some(DeviceChoice::Cpu), None));
        let p = place(GB, None, DeviceChoice::Auto, DeviceChoice::Auto, &[]).unwrap();
        assert_eq!((p.target, p.draft), (DeviceChoice::Cpu, None));
    }

    #[test]
    fn an_explicit_gpu_without_room_is_refused_with_the_estimate() {
        let err = place(3 * GB, Some(GB), DeviceChoice::Cuda(0), DeviceChoice::Cuda(0), &machine(Some(3_500_000_000)))
            .unwrap_err();
        assert_eq!(err.code(), "out_of_memory");
        let said = err.to_string();
        assert!(said.contains("the small model needs about 1.00 GB") && said.contains("500.0 MB is free"), "{said}");
    }

    #[test]
    fn explicit_choices_are_kept_and_automatic_ones_use_what_is_left() {
        let p = place(2 * GB, Some(GB), DeviceChoice::Cpu, DeviceChoice::Auto, &machine(Some(4 * GB))).unwrap();
        assert_eq!((p.target, p.draft), (DeviceChoice::Cpu, Some(DeviceChoice::Cuda(0))));
        let p = place(3 * GB, Some(2 * GB), DeviceChoice::Cuda(0), DeviceChoice::Auto, &machine(Some(4 * GB))).unwrap();
        assert_eq!((p.target, p.draft), (DeviceChoice::Cuda(0), Some(DeviceChoice::Cpu)));
    }

    #[test]
    fn a_gpu_missing_from_this_build_is_named() {
        if cfg!(feature = "cuda") {
            return; // Then the message depends on the machine's devices instead.
        }
        let err = place(GB, None, DeviceChoice::Cuda(0), DeviceChoice::Auto, &machine(None)).unwrap_err();
        assert_eq!(err.code(), "device_unavailable");
        assert!(err.to_string().contains("CUDA is not part of this build"), "{err}");
    }

    #[test]
    fn device_names_parse() {
        let ok = |s: &str| DeviceChoice::parse(s).unwrap();
        assert_eq!(ok("auto"), DeviceChoice::Auto);
        assert_eq!(ok(" CPU "), DeviceChoice::Cpu);
        assert_eq!(ok("cuda"), DeviceChoice::Cuda(0));
        assert_eq!(ok("cuda:1"), DeviceChoice::Cuda(1));
        assert_eq!(ok("metal"), DeviceChoice::Metal(0));
        for bad in ["tpu", "cuda:x", "cpu:1", ""] {
            assert_eq!(DeviceChoice::parse(bad).unwrap_err().code(), "device_unavailable", "{bad}");
        }
        for c in [DeviceChoice::Auto, DeviceChoice::Cpu, DeviceChoice::Cuda(2), DeviceChoice::Metal(0)] {
            assert_eq!(DeviceChoice::parse(&c.id()).unwrap(), c);
        }
    }
}
