merge -o -
