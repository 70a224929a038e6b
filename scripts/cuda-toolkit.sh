# Sourced, not run: makes `nvcc` available for building the `cuda` feature. When no nvcc is
# on the PATH, NVIDIA's compiler and headers for CUDA 13.0 are installed from PyPI (NVIDIA
# publishes them there; about 270 MB) into $TANDEM_CUDA_DIR (default ~/.cache/tandem/cuda).
# Exports CUDA_ROOT and PATH for candle's kernel build.
#   source scripts/cuda-toolkit.sh
if ! command -v nvcc >/dev/null; then
  TANDEM_CUDA_DIR="${TANDEM_CUDA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem/cuda}"
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
