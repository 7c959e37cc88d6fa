// FastCDC throughput over random data, the chunker's hot loop.
#include <benchmark/benchmark.h>

#include <random>

#include "engine/chunk/chunker.h"

namespace snap::engine::chunk {
namespace {

Buffer RandomData(size_t n) {
  std::mt19937_64 rng(1);
  Buffer b(n);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    for (int j = 0; j < 8; ++j) b[i + j] = std::byte(v >> (8 * j));
  }
  return b;
}

void BM_Chunker(benchmark::State& state, ChunkerParams params) {
  static const Buffer data = RandomData(64 << 20);
  Chunker chunker(params, MakeGearTable(Buffer(32, std::byte{7})));
  size_t chunks = 0;
  for (auto _ : state) {
    ByteSpan rest = data;
    while (!rest.empty()) {
      size_t n = chunker.NextBoundary(rest, true);
      rest = rest.subspan(n);
      ++chunks;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
  state.counters["avg_chunk"] =
      static_cast<double>(state.iterations() * data.size()) / static_cast<double>(chunks);
}

BENCHMARK_CAPTURE(BM_Chunker, default_512K_1M_8M, ChunkerParams{})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1.0);
BENCHMARK_CAPTURE(BM_Chunker, dump_16K_64K_256K,
                  ChunkerParams{.min_size = 16 << 10, .avg_size = 64 << 10, .max_size = 256 << 10})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1.0);

}  // namespace
}  // namespace snap::engine::chunk
