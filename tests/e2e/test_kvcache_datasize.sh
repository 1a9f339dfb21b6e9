#!/usr/bin/env bash
# kvcache datasize: bytes per token of every model (WORKLOADS.md section 3), block and request
# sizes, and the storage a run touches; nothing is written.
source "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/cache"
while read -r model bpt; do
    expect 0 1 kvcache datasize --model "$model" --cache-dir "$WORK/cache" -nu 10 \
        --storage-capacity-gb 50
    says "model $model: $bpt bytes of KV cache per token"
    says "block: 128 tokens = $((bpt * 128)) bytes"
    says "storage tier capacity: 50.00 GiB per rank"
done <<'EOF_MODELS'
tiny-1b 24576
mistral-7b 131072
llama2-7b 524288
llama3.1-8b 131072
llama3.1-70b-instruct 327680
EOF_MODELS
# chatbot requests of llama3.1-8b: 128..4096 tokens of 128 KiB = 16 MiB .. 512 MiB
expect 0 1 kvcache datasize --model llama3.1-8b --cache-dir "$WORK/cache" --params cache.block_tokens=64
says "block: 64 tokens = 8388608 bytes (8.00 MiB)"
grep -E "chatbot +min +16.0 MiB .* max +512.0 MiB" "$OUT" >/dev/null || fail "chatbot request sizes"
# Two ranks share the free space: capacity per rank halves, the total stays.
expect 0 2 kvcache datasize --model tiny-1b --cache-dir "$WORK/cache"
says "(95 % of the free space, shared by the ranks)"
[ -z "$(ls -A "$WORK/cache")" ] || fail "datasize wrote into the cache dir"
expect 0 1 kvcache datasize --model tiny-1b --cache-dir "$WORK/cache" --cpu-mem-gb 0.5 -nu 20
says "DRAM tiers: 0.50 GiB per rank"
says "live conversations of 20 users"
echo "ok"
