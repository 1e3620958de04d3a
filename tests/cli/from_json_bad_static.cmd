from-json tests/cli/data/bad_static.json -o -
