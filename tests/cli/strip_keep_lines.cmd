strip --dry-run --keep-lines --source-name a/much/longer/source/name.py corpus/v1.29/bytecode/classes.mpy
