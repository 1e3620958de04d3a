strip --source-name renamed.py - < corpus/doc/hello.mpy
