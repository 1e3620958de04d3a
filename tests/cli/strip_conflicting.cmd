strip --in-place --dry-run corpus/doc/hello.mpy
