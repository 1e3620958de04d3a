strip --help
