roundtrip no/such/file.mpy
