verify --json tests/cli/data/bad_qstr_index.mpy
