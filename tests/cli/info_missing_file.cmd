info no/such/file.mpy corpus/doc/hello.mpy
