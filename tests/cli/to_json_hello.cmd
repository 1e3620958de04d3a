to-json corpus/doc/hello.mpy
