//! Compiles `proto/nakama/*.proto` with protox (pure Rust, no `protoc` needed) and generates prost
//! types. The descriptor set is written next to the generated code so the JSON layer can look up
//! message descriptors at run time.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [root.join("nakama/api.proto"), root.join("nakama/realtime.proto")];
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let fds = protox::compile(&files, [&root]).expect("compile .proto files");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let bytes = prost::Message::encode_to_vec(&fds);
    std::fs::write(out.join("descriptor.bin"), bytes).expect("write descriptor set");

    let mut config = prost_build::Config::new();
    // `prost::Name` impls give every message its full proto name, which the JSON layer uses to
    // find the descriptor.
    config.enable_type_names();
    config.compile_fds(fds).expect("generate prost code");
}
