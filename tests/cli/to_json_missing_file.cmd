to-json no/such/file.mpy
