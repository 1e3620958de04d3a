dump --tree corpus/doc/hello.mpy
