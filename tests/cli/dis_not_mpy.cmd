dis Cargo.toml
