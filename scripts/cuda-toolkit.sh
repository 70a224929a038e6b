# Sourced, not run: makes `nvcc` available for building the `cuda` feature. When no nvcc is
# on the PATH, NVIDIA's compiler and headers for CUDA 13.0 are installed from PyPI (NVIDIA
# publishes them there; about 270 MB) into $TANDEM_CUDA_DIR (default ~/.cache/tandem/cuda).
# Exports CUDA_ROOT and PATH for candle's kernel build.
#   source scripts/cuda-toolkit.sh
TANDEM_CUDA_DIR="${TANDEM_CUDA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem/cuda}"
if ! command -v nvcc >/dev/null; then
  if [ ! -x "$TANDEM_CUDA_DIR/nvidia/cu13/bin/nvcc" ]; then
    echo "cuda: installing the CUDA 13.0 compiler and headers into $TANDEM_CUDA_DIR" >&2
    # Pinned together: an unpinned nvvm would bring a newer PTX version than this ptxas reads.
    python3 -m pip install -q --disable-pip-version-check --target "$TANDEM_CUDA_DIR" \
      nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88 \
      nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85
  fi
  export CUDA_ROOT="$TANDEM_CUDA_DIR/nvidia/cu13"
  export PATH="$CUDA_ROOT/bin:$PATH"
fi
nvcc --version | tail -2 >&2

# With TANDEM_CUDA_LINK=1 (a machine with an NVIDIA driver, where Tandem is linked and run),
# the CUDA libraries candle links against come from PyPI too, and the linker gets the
# unversioned names it looks for (libcublas.so, …; libcuda.so is the driver's own).
if [ "${TANDEM_CUDA_LINK:-0}" = 1 ] && ! ldconfig -p | grep -q 'libcublas\.so '; then
  # A folder of their own: pip does not merge into the compiler's folder.
  libs="$TANDEM_CUDA_DIR/libraries/nvidia/cu13/lib"
  if [ ! -e "$libs/libcublas.so.13" ]; then
    echo "cuda: installing the CUDA 13.0 libraries into $TANDEM_CUDA_DIR/libraries" >&2
    python3 -m pip install -q --disable-pip-version-check --target "$TANDEM_CUDA_DIR/libraries" \
      nvidia-cublas==13.0.2.14 nvidia-curand==10.4.0.35 nvidia-cuda-nvrtc==13.0.88
  fi
  link="$TANDEM_CUDA_DIR/link"
  mkdir -p "$link"
  for name in cublas cublasLt curand nvrtc; do
    ln -sf "$(ls "$libs"/lib$name.so.* | head -1)" "$link/lib$name.so"
  done
  driver="$(ldconfig -p | awk '/libcuda\.so\.1 /{print $NF; exit}')"
  [ -n "$driver" ] && ln -sf "$driver" "$link/libcuda.so"
  export LIBRARY_PATH="$link${LIBRARY_PATH:+:$LIBRARY_PATH}"
  export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
