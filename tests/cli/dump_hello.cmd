dump corpus/doc/hello.mpy
