//! Where models are kept, and how a model named by the user is found.

use std::ffi::OsString;
use std::path::PathBuf;

use tandem_models::cache::{model_path, models_dir_from};
use tandem_models::hub_cache::hub_cache_dir_from;
use tandem_models::library::{Library, Locations};
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
fn the_hub_cache_follows_the_environment_like_huggingface_hub() {
    let f = hub_cache_dir_from;
    assert_eq!(f(os("/c"), os("/hf"), os("/x"), os("/h")), Some(PathBuf::from("/c")));
    assert_eq!(f(None, os("/hf"), os("/x"), os("/h")), Some(PathBuf::from("/hf/hub")));
    assert_eq!(f(None, None, os("/x"), os("/h")), Some(PathBuf::from("/x/huggingface/hub")));
    assert_eq!(f(os(""), None, os("rel"), os("/h")), Some(PathBuf::from("/h/.cache/huggingface/hub")));
    assert_eq!(f(None, None, None, None), None);
}

fn library_in(dir: &std::path::Path) -> Library<'static> {
    let loc = Locations { models_dir: dir.join("tandem"), hub_cache: Some(dir.join("hub")), lm_studio: vec![] };
    Library::open(loc, Catalog::builtin()).unwrap()
}

#[test]
fn catalog_ids_resolve_to_downloaded_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let library = library_in(dir.path());
    let id = "smollm2-135m-instruct";
    let err = library.resolve(id).unwrap_err();
    assert_eq!(err.code(), "model_missing");
    assert!(err.to_string().contains(&format!("run `tandem models fetch {id}`")), "{err}");

    let path = model_path(&dir.path().join("tandem"), id);
    assert_eq!(path, dir.path().join("tandem").join("smollm2-135m-instruct.gguf"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"GGUF").unwrap();
    assert_eq!(library.resolve(id).unwrap(), path);
}

#[test]
fn paths_resolve_to_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    let library = library_in(dir.path());
    let file = dir.path().join("mine.gguf");
    let spec = file.to_str().unwrap();
    let err = library.resolve(spec).unwrap_err();
    assert_eq!(err.code(), "bad_file");
    assert!(err.to_string().contains("there is no such file"), "{err}");
    std::fs::write(&file, b"GGUF").unwrap();
    assert_eq!(library.resolve(spec).unwrap(), file);

    assert_eq!(library.resolve("llama-9000").unwrap_err().code(), "unknown_model");
}
