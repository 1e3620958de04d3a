dump --color always corpus/doc/hello.mpy
