#!/bin/sh
# Fails when BINARY needs a shared library that this image does not have.
# The NVIDIA driver's own libraries are exempt: the container toolkit mounts
# them from the host when the container starts with a GPU.
# Usage: check-runtime-libs.sh BINARY
set -eu
if [ "$#" -ne 1 ]; then echo "usage: $0 BINARY" >&2; exit 2; fi
missing=$(ldd "$1" | awk '/not found/ { print $1 }' | grep -v -E '^lib(cuda|nvidia-ml)\.so' || true)
if [ -n "$missing" ]; then
  echo "check-runtime-libs: $1 needs libraries this image lacks:" >&2
  echo "$missing" | sed 's/^/  /' >&2
  echo "check-runtime-libs: add their packages to the runtime stage (and its package map)" >&2
  exit 1
fi
echo "check-runtime-libs: every library $1 needs is present"
