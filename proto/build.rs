//! The only build script in the workspace that touches protobuf: compiles every `.proto` under `proto/`
//! with a vendored `protoc`, so a fresh machine needs no system package.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "proto/iknow/catalog/v1/catalog.proto",
    "proto/iknow/identity/v1/identity.proto",
    "proto/iknow/ingest/v1/ingest.proto",
    "proto/iknow/library/v1/library.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    // A system protoc (PROTOC) wins; otherwise the one shipped inside the protoc-bin-vendored crate.
    let protoc = match std::env::var_os("PROTOC") {
        Some(p) => PathBuf::from(p),
        None => protoc_bin_vendored::protoc_bin_path()?,
    };
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    for p in PROTOS {
        println!("cargo:rerun-if-changed={p}");
    }
    tonic_prost_build::configure().file_descriptor_set_path(out_dir.join("iknow_descriptor.bin")).compile_with_config(
        config,
        PROTOS,
        &["proto"],
    )?;
    Ok(())
}
