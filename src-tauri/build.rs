fn main() {
    // tauri.conf.json lives at the repository root, next to the workspace Cargo.toml.
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("tauri-build reads ../tauri.conf.json");
}
