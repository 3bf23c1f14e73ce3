#!/bin/sh
# Copies into DEST the LibTorch libraries that BINARY needs at run time:
# every library under LIBTORCH_LIB that the dynamic linker resolves for it
# (ldd follows the whole dependency tree), plus the libraries LibTorch opens
# with dlopen later on (cuDNN's engine libraries, NVRTC for fused kernels),
# which ldd cannot see. Symlinks are kept next to their targets.
# Usage: collect-libtorch.sh BINARY LIBTORCH_LIB DEST
set -eu
if [ "$#" -ne 3 ]; then echo "usage: $0 BINARY LIBTORCH_LIB DEST" >&2; exit 2; fi
binary=$1 lib_dir=$(cd "$2" && pwd -P) dest=$3
mkdir -p "$dest"

copy() {
  cp -a "$1" "$dest/"
  target=$(readlink -f "$1")
  [ "$target" = "$1" ] || cp -a "$target" "$dest/"
}

linked=$(LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$binary" |
  awk -v dir="$lib_dir/" '$2 == "=>" && index($3, dir) == 1 { print $3 }')
if [ -z "$linked" ]; then
  echo "collect-libtorch: $binary links no library from $lib_dir; was it built against this LibTorch?" >&2
  exit 1
fi
for lib in $linked; do copy "$lib"; done

for pattern in 'libcudnn*.so*' 'libnvrtc*.so*' 'libcaffe2_nvrtc.so' 'libnvJitLink*.so*'; do
  for lib in "$lib_dir"/$pattern; do
    [ -e "$lib" ] && copy "$lib"
  done
done
echo "collect-libtorch: copied $(find "$dest" -mindepth 1 | wc -l) files ($(du -sh "$dest" | cut -f1)) to $dest"
