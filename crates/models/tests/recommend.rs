//! The pair recommended for a machine, and the reasons given, for machines of several sizes.

use tandem_models::library::{Library, Locations};
use tandem_models::recommend::{recommend, Machine, Verdict};
use tandem_models::Catalog;

const GB: u64 = 1_000_000_000;

fn library(dir: &std::path::Path) -> Library<'static> {
    let loc = Locations { models_dir: dir.join("tandem"), hub_cache: Some(dir.join("hub")), lm_studio: vec![] };
    Library::open(loc, Catalog::builtin()).unwrap()
}

fn machine(ram_gb: u64, cores: usize, disk_gb: u64) -> Machine {
    Machine {
        total_ram_bytes: ram_gb * GB,
        available_ram_bytes: ram_gb * GB * 3 / 4,
        free_disk_bytes: disk_gb * GB,
        cores,
    }
}

fn target_size(id: &str) -> u64 {
    Catalog::builtin().get(id).unwrap().size
}

#[test]
fn a_two_core_laptop_gets_a_small_pair_and_is_told_why_not_bigger() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let rec = recommend(&lib, &machine(16, 2, 100));
    let pair = rec.pair.expect("a pair fits");
    assert!(target_size(&pair.target) < 2 * GB, "{}", pair.target);
    assert!(rec.reason.contains("2 processor cores"), "{}", rec.reason);
    assert!(rec.reason.contains("too slowly"), "{}", rec.reason);
    let seven = rec.others.iter().find(|p| p.target == "qwen2.5-7b-instruct").unwrap();
    assert_eq!(seven.verdict, Verdict::TooSlow);
    assert!(seven.reason.contains("2 processor cores"), "{}", seven.reason);
}

#[test]
fn a_big_desktop_gets_a_seven_or_eight_billion_target() {
    let dir = tempfile::tempdir().unwrap();
    let rec = recommend(&library(dir.path()), &machine(32, 8, 200));
    let pair = rec.pair.unwrap();
    assert!(target_size(&pair.target) > 4 * GB, "{}", pair.target);
    assert!(pair.needs_disk_bytes > 4 * GB);
    assert!(rec.reason.contains("download"), "{}", rec.reason);
}

#[test]
fn little_memory_rules_out_big_pairs_and_none_at_all_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let rec = recommend(&lib, &machine(4, 8, 100));
    assert!(rec.others.iter().filter(|p| target_size(&p.target) > 4 * GB).all(|p| p.verdict == Verdict::TooBig));
    assert!(rec.pair.is_some());

    let rec = recommend(&lib, &machine(1, 8, 100));
    assert!(rec.pair.is_none());
    assert!(rec.reason.contains("No pair in the catalog fits"), "{}", rec.reason);
    assert!(rec.reason.contains("import a smaller GGUF model"), "{}", rec.reason);
}

#[test]
fn a_full_disk_rules_out_pairs_not_yet_downloaded() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let rec = recommend(&lib, &machine(16, 4, 1));
    assert!(rec.pair.is_none(), "{:?}", rec.pair);
    assert!(rec.others.iter().any(|p| p.verdict == Verdict::NoDisk));

    // With the default pair's files present, it needs no disk and is recommended.
    let own = dir.path().join("tandem");
    std::fs::create_dir_all(&own).unwrap();
    let default = Catalog::builtin().default_pair();
    for id in [&default.draft, &default.target] {
        std::fs::write(own.join(format!("{id}.gguf")), b"GGUF").unwrap();
    }
    let rec = recommend(&library(dir.path()), &machine(16, 4, 1));
    let pair = rec.pair.unwrap();
    assert_eq!((pair.draft.as_str(), pair.target.as_str()), (default.draft.as_str(), default.target.as_str()));
    assert_eq!(pair.needs_disk_bytes, 0);
    assert!(rec.reason.contains("already downloaded"), "{}", rec.reason);
}
