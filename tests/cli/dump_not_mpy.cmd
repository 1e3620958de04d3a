dump Cargo.toml
