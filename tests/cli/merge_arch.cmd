merge tests/cli/data/merge_x64_v6.2.mpy corpus/v1.29/x86/native_funcs.mpy -o -
