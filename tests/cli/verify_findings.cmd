verify corpus/handmade/viper_relocs.mpy tests/cli/data/bad_qstr_index.mpy
