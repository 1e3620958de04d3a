to-json Cargo.toml
