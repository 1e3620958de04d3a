from-json no/such/file.json -o -
