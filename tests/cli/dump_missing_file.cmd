dump no/such/file.mpy
