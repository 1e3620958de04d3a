strip --in-place -
