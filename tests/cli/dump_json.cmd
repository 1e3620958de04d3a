dump --json corpus/doc/hello.mpy
