strip --dry-run corpus/handmade/viper_relocs.mpy
