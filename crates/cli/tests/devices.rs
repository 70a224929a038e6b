//! `tandem devices` tells the truth about this build and machine, and a device that is not
//! there is refused with a plain reason before any model is read.

use std::process::Command;

use serde_json::Value;

fn tandem(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tandem")).args(args).output().unwrap()
}

#[test]
fn devices_lists_the_processor_and_the_backends_of_this_build() {
    let out = tandem(&["devices", "--json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let backends = v["backends"].as_array().unwrap();
    let built = |name: &str| backends.iter().find(|b| b["name"] == name).unwrap()["built"].as_bool().unwrap();
    assert!(built("cpu"));
    assert_eq!(built("cuda"), cfg!(feature = "cuda"));
    assert_eq!(built("metal"), cfg!(feature = "metal"));
    let devices = v["devices"].as_array().unwrap();
    assert_eq!(devices[0]["id"], "cpu");
    let total = devices[0]["totalBytes"].as_u64().unwrap();
    assert!(total > 1 << 30 && devices[0]["freeBytes"].as_u64().unwrap() <= total);
    if !cfg!(feature = "cuda") && !cfg!(feature = "metal") {
        assert_eq!(devices.len(), 1, "a build without GPU backends can only offer the processor");
        let text = String::from_utf8(tandem(&["devices"]).stdout).unwrap();
        assert!(text.contains("cuda   no   not in this build"), "{text}");
    }
}

#[test]
fn a_device_this_build_lacks_is_refused_before_loading() {
    if cfg!(feature = "cuda") {
        return;
    }
    // The placement is decided from the file's header, before any weights are read.
    let started = std::time::Instant::now();
    let out = tandem(&["bench-verify", "--model", "smollm2-135m-instruct", "--device", "cuda"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CUDA is not part of this build of Tandem; choose the processor"), "{err}");
    assert!(started.elapsed().as_secs() < 10);
    // A name that is no device is refused before the model is even looked up.
    let out = tandem(&["bench-verify", "--model", "/nonexistent.gguf", "--device", "tpu"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`tpu` is not a device: use auto, cpu, cuda"), "{err}");
}
