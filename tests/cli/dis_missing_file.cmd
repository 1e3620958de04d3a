dis no/such/file.mpy
