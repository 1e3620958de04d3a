dis corpus/doc/hello.mpy
