//! Which pair suits this machine, and why, in words a person can check: its memory, its
//! free disk, its processor cores, against what each catalog pair needs.
//!
//! The rules: a pair must fit in the memory that is free now (and in three quarters of the
//! total, so the rest of the computer keeps working) and its missing files on the disk.
//! On a CPU a model's speed is bound by reading its weights once per token, so the target
//! may weigh at most [`GB_PER_CORE`] per core: beyond that answers come too slowly to
//! feel like a conversation. Among the pairs that pass, the largest target wins; near-equal
//! sizes prefer what is already downloaded, then the default pair.

use serde::Serialize;

use crate::catalog::{Catalog, CatalogPair};
use crate::library::Library;

/// Target weights per CPU core that still answer at reading speed.
pub const GB_PER_CORE: f64 = 0.8;
/// Room on the disk beyond the files themselves.
const DISK_MARGIN: u64 = 1 << 30;
/// Targets whose sizes differ by less than this count as the same size.
const SAME_SIZE: u64 = 256 << 20;

/// What the recommendation is based on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    pub total_ram_bytes: u64,
    pub available_ram_bytes: u64,
    pub free_disk_bytes: u64,
    pub cores: usize,
}

impl Machine {
    /// This computer, with free disk measured where models are downloaded to.
    pub fn detect(library: &Library) -> Machine {
        let mut sys = sysinfo::System::new();
        sys.refresh_memory();
        let dir = library.locations().hub_cache.clone().unwrap_or_else(|| library.locations().models_dir.clone());
        Machine {
            total_ram_bytes: sys.total_memory(),
            available_ram_bytes: sys.available_memory(),
            free_disk_bytes: crate::download::free_space(&dir).unwrap_or(0),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Fits,
    TooBig,
    TooSlow,
    NoDisk,
}

/// One pair judged against the machine.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairPlan {
    pub draft: String,
    pub target: String,
    pub is_default: bool,
    pub description: String,
    pub needs_ram_bytes: u64,
    /// Bytes still to download.
    pub needs_disk_bytes: u64,
    pub verdict: Verdict,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    pub pair: Option<PairPlan>,
    pub reason: String,
    pub machine: Machine,
    /// Every catalog pair with its verdict, the recommended one included.
    pub others: Vec<PairPlan>,
}

/// Judges every catalog pair against `machine` and picks one.
pub fn recommend(library: &Library, machine: &Machine) -> Recommendation {
    let catalog = library.catalog();
    let plans: Vec<PairPlan> = catalog.pairs.iter().filter_map(|p| plan(catalog, library, machine, p)).collect();
    let target_size = |p: &PairPlan| catalog.find(&p.target).map_or(0, |m| m.size);
    let best = plans.iter().enumerate().filter(|(_, p)| p.verdict == Verdict::Fits).max_by(|(ia, a), (ib, b)| {
        let (sa, sb) = (target_size(a), target_size(b));
        if sa.abs_diff(sb) >= SAME_SIZE {
            return sa.cmp(&sb);
        }
        // Same size class: less to download, then the default pair, then catalog order.
        b.needs_disk_bytes.cmp(&a.needs_disk_bytes).then(a.is_default.cmp(&b.is_default)).then(ib.cmp(ia))
    });
    let best = best.map(|(_, p)| p);
    let reason = match best {
        Some(p) => {
            let bigger_refused =
                plans.iter().any(|o| target_size(o) > target_size(p) + SAME_SIZE && o.verdict != Verdict::Fits);
            let mut r = format!(
                "Your computer has {} of memory ({} free), {} processor cores and {} of free disk. {} needs about {}{}.",
                gb(machine.total_ram_bytes),
                gb(machine.available_ram_bytes),
                machine.cores,
                gb(machine.free_disk_bytes),
                pair_name(catalog, p),
                gb(p.needs_ram_bytes),
                if p.needs_disk_bytes > 0 { format!(" and a {} download", gb(p.needs_disk_bytes)) } else { ", and it is already downloaded".into() },
            );
            if bigger_refused {
                r.push_str(" Larger pairs would answer too slowly here or do not fit.");
            }
            r
        }
        None => format!(
            "No pair in the catalog fits this computer ({} of memory free, {} of free disk, {} cores). \
             Close other programs or free some disk space, or import a smaller GGUF model.",
            gb(machine.available_ram_bytes),
            gb(machine.free_disk_bytes),
            machine.cores
        ),
    };
    Recommendation { pair: best.cloned(), reason, machine: machine.clone(), others: plans }
}

fn plan(catalog: &Catalog, library: &Library, machine: &Machine, pair: &CatalogPair) -> Option<PairPlan> {
    let target = catalog.find(&pair.target)?;
    let draft = catalog.find(&pair.draft)?;
    let files = target.size + draft.size;
    // Mapped weights, the working memory of two forward passes and their caches.
    let needs_ram = files + files / 8 + (384 << 20);
    let missing = |m: &crate::catalog::CatalogModel| {
        if library.catalog_file(m).is_some() {
            0
        } else {
            m.size.saturating_sub(library.partial_bytes(m))
        }
    };
    let needs_disk = missing(target) + missing(draft);
    let core_budget = (machine.cores as f64 * GB_PER_CORE * 1e9) as u64;
    let (verdict, reason) = if needs_ram > machine.available_ram_bytes || needs_ram > machine.total_ram_bytes / 4 * 3 {
        (
            Verdict::TooBig,
            format!("needs about {} of memory; {} are free", gb(needs_ram), gb(machine.available_ram_bytes)),
        )
    } else if target.size > core_budget {
        (
            Verdict::TooSlow,
            format!(
                "its {} model would answer slowly on {} processor cores (Tandem suggests at most {} of model per core)",
                gb(target.size),
                machine.cores,
                gb((GB_PER_CORE * 1e9) as u64)
            ),
        )
    } else if needs_disk > 0 && needs_disk + DISK_MARGIN > machine.free_disk_bytes {
        (
            Verdict::NoDisk,
            format!("needs a {} download; {} of disk are free", gb(needs_disk), gb(machine.free_disk_bytes)),
        )
    } else {
        (Verdict::Fits, format!("fits: about {} of memory", gb(needs_ram)))
    };
    Some(PairPlan {
        draft: pair.draft.clone(),
        target: pair.target.clone(),
        is_default: pair.default,
        description: pair.description.clone(),
        needs_ram_bytes: needs_ram,
        needs_disk_bytes: needs_disk,
        verdict,
        reason,
    })
}

fn pair_name(catalog: &Catalog, p: &PairPlan) -> String {
    let name = |id: &str| catalog.find(id).map_or(id.to_string(), |m| m.name.clone());
    format!("{} with {} drafting", name(&p.target), name(&p.draft))
}

fn gb(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}
