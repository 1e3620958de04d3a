roundtrip Cargo.toml
