from-json tests/cli/data/bad_version.json -o -
