from-json tests/cli/data/hello.json -o -
