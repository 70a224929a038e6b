//! Fetching mirrored models that are already in the cache only verifies them.

mod real_models;

use tandem_models::{fetch, Catalog, FetchProgress};

#[test]
fn real_fetch_of_cached_models_verifies_without_downloading() {
    for model in Catalog::builtin().models.iter().filter(|m| m.mirror.is_some()) {
        let path = real_models::real_model(&model.id);
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let mut events = Vec::new();
        let fetched = fetch(&model.id, &mut |p| events.push(p)).unwrap();
        assert_eq!(fetched, path);
        assert!(
            !events.iter().any(|e| matches!(e, FetchProgress::Downloading { .. } | FetchProgress::Writing { .. })),
            "{}: a cached model must not be downloaded again",
            model.id
        );
        let mut verified = events.iter().filter_map(|e| match e {
            FetchProgress::Verifying { done, total } => Some((*done, *total)),
            _ => None,
        });
        assert_eq!(verified.next_back(), Some((model.size, model.size)), "{}: the whole file is hashed", model.id);
        assert_eq!(events.last(), Some(&FetchProgress::Done { path: path.clone(), downloaded: false }));
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified);
    }
}
