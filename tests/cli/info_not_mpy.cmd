info Cargo.toml
