dis --json corpus/doc/hello.mpy
