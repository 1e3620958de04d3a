verify Cargo.toml
