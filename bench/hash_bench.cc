// Chunk ID hashing (HMAC-SHA-256) and plain SHA-256 throughput.
#include <benchmark/benchmark.h>

#include "engine/codec/crypto.h"

namespace snap::engine::codec {
namespace {

Buffer Data(size_t n) {
  Buffer b(n);
  RandomBytes(b);
  return b;
}

void BM_KeyedHasher(benchmark::State& state) {
  const Buffer data = Data(static_cast<size_t>(state.range(0)));
  const KeyedHasher hasher(RandomKey());
  for (auto _ : state) benchmark::DoNotOptimize(hasher.Hash(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_KeyedHasher)->Arg(1 << 20)->Arg(4 << 10)->Arg(64);

// Two hashers on one thread (chunk IDs and seal sub-keys) force a re-key.
void BM_KeyedHasherAlternatingKeys(benchmark::State& state) {
  const Buffer data = Data(static_cast<size_t>(state.range(0)));
  const KeyedHasher a(RandomKey()), b(RandomKey());
  for (auto _ : state) {
    benchmark::DoNotOptimize(a.Hash(data));
    benchmark::DoNotOptimize(b.Hash(data));
  }
  state.SetBytesProcessed(static_cast<int64_t>(2 * state.iterations() * data.size()));
}
BENCHMARK(BM_KeyedHasherAlternatingKeys)->Arg(64);

void BM_Sha256(benchmark::State& state) {
  const Buffer data = Data(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Sha256)->Arg(1 << 20)->Arg(64);

}  // namespace
}  // namespace snap::engine::codec
