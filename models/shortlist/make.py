#!/usr/bin/env python3
"""Makes a draft model's vocabulary shortlist: the output rows a draft computes.

A draft only has to propose the tokens the target is likely to accept, and its output
layer (one row per vocabulary entry) is about a quarter of what it reads per token. The
shortlist is every id below a merge rank (byte-level BPE numbers its tokens in the order their merges
were learned, most frequent first) plus every token the model itself writes, greedily, in
answer to `prompts.jsonl`: a spread of everyday requests in code, prose, editing and
several languages, none of them from the benchmark set. The target still checks every
token, so the shortlist can change how much is accepted, never the answer.

    python3 models/shortlist/make.py --tandem target/release/tandem --gguf MODEL.gguf

writes `<vocabulary name>.txt` here. The answers are deterministic (greedy), so running it
again gives the same file. Answers are cached beside the output in `--cache`, so that
changing only `--rank-below` does not generate them again.
"""

import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def gguf_tokens(path):
    """The `tokenizer.ggml.tokens` array of a GGUF file, as bytes."""
    with open(path, "rb") as f:
        data = f.read(64 << 20)
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from(fmt, data, off)
        off += struct.calcsize(fmt)
        return v[0]

    def string():
        nonlocal off
        n = take("<Q")
        s = data[off : off + n]
        off += n
        return s

    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def value(t):
        nonlocal off
        if t == 8:
            return string()
        if t == 9:
            et, n = take("<I"), take("<Q")
            if et == 8:
                return [string() for _ in range(n)]
            off += sizes[et] * n
            return None
        off += sizes[t]
        return None

    if data[:4] != b"GGUF":
        sys.exit(f"{path} is not a GGUF file")
    take("<I")  # the magic
    take("<I")  # the version
    take("<Q")  # tensors
    for _ in range(take("<Q")):
        key = string()
        v = value(take("<I"))
        if key == b"tokenizer.ggml.tokens":
            return v
    sys.exit(f"{path} has no tokenizer.ggml.tokens")


def fingerprint(tokens):
    """SHA-256 over each token's length (u32, little-endian) and bytes, in id order: the
    same as `vocabulary_fingerprint` in crates/models."""
    h = hashlib.sha256()
    for t in tokens:
        h.update(struct.pack("<I", len(t)))
        h.update(t)
    return h.hexdigest()


def answers(tandem, model, max_tokens, cache):
    """The model's greedy answer tokens for each prompt, from the cache where present."""
    known = json.load(open(cache)) if os.path.exists(cache) else {}
    prompts = [json.loads(line)["prompt"] for line in open(os.path.join(HERE, "prompts.jsonl"))]
    out = []
    for i, prompt in enumerate(prompts):
        key = f"{model}|{max_tokens}|{prompt}"
        if key not in known:
            cmd = [tandem, "generate", "--target", model, "--drafter", "none", "--prompt", prompt,
                   "--max-tokens", str(max_tokens), "--json"]
            run = subprocess.run(cmd, capture_output=True, text=True, check=True)
            known[key] = json.loads(run.stdout)["tokens"]
            json.dump(known, open(cache, "w"))
            print(f"{i + 1}/{len(prompts)}: {len(known[key])} tokens", file=sys.stderr)
        out.append(known[key])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tandem", default="tandem", help="the tandem binary")
    ap.add_argument("--gguf", required=True, help="the draft model's GGUF file (for its vocabulary)")
    ap.add_argument("--model", default="qwen2.5-coder-0.5b-instruct", help="catalog id or path that writes the answers")
    ap.add_argument("--name", default="qwen2.5", help="the vocabulary's name: the output is NAME.txt")
    ap.add_argument("--rank-below", type=int, default=49152, help="every id below this is kept")
    ap.add_argument("--max-tokens", type=int, default=384)
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/tandem/shortlist-answers.json"))
    args = ap.parse_args()

    tokens = gguf_tokens(args.gguf)
    os.makedirs(os.path.dirname(args.cache), exist_ok=True)
    written = answers(args.tandem, args.model, args.max_tokens, args.cache)
    seen = sorted({t for a in written for t in a})
    extra = [t for t in seen if t >= args.rank_below]
    total = sum(len(a) for a in written)
    lines = [
        "# The rows a draft with this vocabulary computes in its output layer (see make.py).",
        f"# {len(written)} answers, {total} tokens, {len(seen)} distinct; {len(extra)} of them at or above the rank.",
        f"vocabulary {fingerprint(tokens)}",
        f"size {len(tokens)}",
        f"rank-below {args.rank_below}",
    ]
    for i in range(0, len(extra), 12):
        lines.append("also " + " ".join(str(t) for t in extra[i : i + 12]))
    path = os.path.join(HERE, f"{args.name}.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{path}: {args.rank_below + len(extra)} of {len(tokens)} ids", file=sys.stderr)


if __name__ == "__main__":
    main()
