//! Rebuilds the server when the site it embeds (`target/site`, see src/web/site.rs) changes:
//! the derive that embeds it reads the directory when the crate compiles, and cargo would not
//! know to compile it again for a new or changed file. The directory is made if missing, so
//! that it can be watched before the first site is built.

fn main() {
    let site = std::path::Path::new("../target/site");
    if let Err(err) = std::fs::create_dir_all(site) {
        println!("cargo:warning=cannot create {}: {err}", site.display());
    }
    println!("cargo:rerun-if-changed=../target/site");
    println!("cargo:rerun-if-changed=build.rs");
}
