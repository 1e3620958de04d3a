strip --dry-run --source-name x.py corpus/v1.29/x64/native_funcs.mpy
