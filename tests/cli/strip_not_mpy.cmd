strip --dry-run Cargo.toml
