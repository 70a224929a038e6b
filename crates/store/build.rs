//! `sqlx::migrate!` embeds the migrations at compile time; rebuild when they change (and
//! when one is added), which the macro alone does not ask cargo to do.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
