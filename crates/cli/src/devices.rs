//! `tandem devices`: the backends this build has and the devices it can run models on.

use anyhow::Result;
use serde_json::json;
use tandem_models::device::{backends, devices};

use crate::args::DevicesArgs;

pub fn run(args: DevicesArgs) -> Result<()> {
    let (backends, devices) = (backends(), devices());
    if args.json {
        println!("{}", json!({"backends": backends, "devices": devices}));
        return Ok(());
    }
    println!("backends in this build:");
    for b in &backends {
        println!("  {:<6} {:<4} {}", b.name, if b.built { "yes" } else { "no" }, b.note);
    }
    println!("devices:");
    for d in &devices {
        let memory = match (d.free_bytes, d.total_bytes) {
            (Some(free), Some(total)) => format!("{} free of {}", gb(free), gb(total)),
            (None, Some(total)) => gb(total),
            _ => "memory unknown".into(),
        };
        println!("  {:<8} {}  ({memory})", d.id, d.name);
    }
    Ok(())
}

fn gb(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}
