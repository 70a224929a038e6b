#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU and its driver: builds Tandem with the
# `cuda` feature (installing the CUDA compiler from PyPI when none is found), then on the
# GPU runs the losslessness test on the real default pair, times verification, and
# compares plain with speculative decoding. Everything it measures goes to
# test-output/gpu/results.json (and the raw outputs beside it).
#   tests/gpu/run.sh
# Not part of scripts/test.sh: CI machines have no GPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
out=test-output/gpu
mkdir -p "$out"

if ! nvidia-smi --query-gpu=name,memory.total,memory.free,driver_version,compute_cap --format=csv,noheader >"$out/gpu.csv"; then
  echo "gpu: no NVIDIA GPU or driver here (nvidia-smi failed); nothing to check" >&2
  exit 2
fi
cat "$out/gpu.csv"
export TANDEM_CUDA_LINK=1
source scripts/cuda-toolkit.sh
# candle's kernels are compiled for this GPU only.
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-$(head -1 "$out/gpu.csv" | awk -F', ' '{print $5}' | tr -d .)}"

target=qwen2.5-coder-1.5b-instruct
draft=qwen2.5-coder-0.5b-instruct
step() { echo "gpu: $*" >&2; }

step "building with --features cuda (compute capability $CUDA_COMPUTE_CAP)"
cargo build --release -q -p tandem-cli --features cuda
tandem="$CARGO_TARGET_DIR/release/tandem"
for id in "$draft" "$target"; do "$tandem" models fetch "$id" >&2; done
"$tandem" devices --json >"$out/devices.json"
"$tandem" devices >&2

step "losslessness on the GPU (speculative output must equal plain output token for token)"
lossless=pass
TANDEM_TEST_DEVICE=cuda cargo test --release -q -p tandem-tests --features cuda --test real_lossless \
  -- --nocapture >"$out/lossless.txt" 2>&1 || lossless=fail
tail -5 "$out/lossless.txt" >&2

step "verification cost on the GPU"
"$tandem" bench-verify --model "$target" --device cuda --k 1,2,4,8 --json >"$out/bench-verify-target.json"
"$tandem" bench-verify --model "$draft" --device cuda --k 1,2,4,8 --json >"$out/bench-verify-draft.json"

step "plain vs speculative on the GPU, and on the processor for comparison"
"$tandem" bench --target "$target" --draft "$draft" --device cuda --draft-device cuda \
  --prompts tests/prompts/bench.jsonl --max-tokens 128 --json "$out/bench-cuda.json" | tee "$out/bench-cuda.txt"
"$tandem" bench --target "$target" --draft "$draft" --device cpu --draft-device cpu \
  --prompts tests/prompts/bench.jsonl --max-tokens 128 --json "$out/bench-cpu.json" | tee "$out/bench-cpu.txt"

python3 - "$out" "$lossless" <<'PY'
import json, sys, pathlib
out, lossless = pathlib.Path(sys.argv[1]), sys.argv[2]
read = lambda name: json.loads((out / name).read_text())
results = {
    "gpu": (out / "gpu.csv").read_text().strip(),
    "devices": read("devices.json"),
    "lossless": lossless,
    "bench_verify_target": read("bench-verify-target.json"),
    "bench_verify_draft": read("bench-verify-draft.json"),
    "bench_cuda": read("bench-cuda.json"),
    "bench_cpu": read("bench-cpu.json"),
}
(out / "results.json").write_text(json.dumps(results, indent=2))
print(f"gpu: results in {out / 'results.json'} (lossless: {lossless})")
PY
[ "$lossless" = pass ]
