info - < corpus/doc/hello.mpy
