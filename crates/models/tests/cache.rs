//! Where models are kept, and how a model named by the user is found.

use std::ffi::OsString;
use std::path::PathBuf;

use tandem_models::cache::{model_path, models_dir_from, resolve_in};
use tandem_models::Catalog;

fn os(s: &str) -> Option<OsString> {
    Some(s.into())
}

#[test]
fn the_models_dir_follows_the_environment_in_order() {
    assert_eq!(models_dir_from(os("/m"), os("/x"), os("/h")).unwrap(), PathBuf::from("/m"));
    assert_eq!(models_dir_from(None, os("/x"), os("/h")).unwrap(), PathBuf::from("/x/tandem/models"));
    assert_eq!(models_dir_from(os(""), os(""), os("/h")).unwrap(), PathBuf::from("/h/.cache/tandem/models"));
    // A relative XDG_CACHE_HOME is invalid and ignored.
    assert_eq!(models_dir_from(None, os("rel"), os("/h")).unwrap(), PathBuf::from("/h/.cache/tandem/models"));
    let err = models_dir_from(None, None, None).unwrap_err();
    assert!(err.to_string().contains("set TANDEM_MODELS_DIR"), "{err}");
}

#[test]
fn catalog_ids_resolve_to_downloaded_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::builtin();
    let id = "smollm2-135m-instruct";
    let err = resolve_in(dir.path(), catalog, id).unwrap_err();
    assert_eq!(err.code(), "fetch");
    assert!(err.to_string().contains(&format!("run `tandem models fetch {id}`")), "{err}");

    let path = model_path(dir.path(), id);
    assert_eq!(path, dir.path().join("smollm2-135m-instruct.gguf"));
    std::fs::write(&path, b"GGUF").unwrap();
    assert_eq!(resolve_in(dir.path(), catalog, id).unwrap(), path);
}

#[test]
fn paths_resolve_to_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::builtin();
    let file = dir.path().join("mine.gguf");
    let spec = file.to_str().unwrap();
    let err = resolve_in(dir.path(), catalog, spec).unwrap_err();
    assert_eq!(err.code(), "bad_file");
    assert!(err.to_string().contains("there is no such file"), "{err}");
    std::fs::write(&file, b"GGUF").unwrap();
    assert_eq!(resolve_in(dir.path(), catalog, spec).unwrap(), file);

    assert_eq!(resolve_in(dir.path(), catalog, "llama-9000").unwrap_err().code(), "unknown_model");
}
