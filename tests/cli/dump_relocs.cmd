dump corpus/handmade/viper_relocs.mpy
