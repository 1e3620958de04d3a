verify no/such/file.mpy
