from-json corpus/doc/hello.mpy -o -
