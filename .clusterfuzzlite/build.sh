#!/bin/bash -eu
# ClusterFuzzLite entry point: the fuzz targets, seed corpora, dictionaries and options into $OUT.
exec "$SRC/mpy-codec/fuzz/build.sh"
