// AES-256-GCM sealing with a per-payload sub-key, on chunk-sized payloads.
#include <benchmark/benchmark.h>

#include "engine/codec/crypto.h"

namespace snap::engine::codec {
namespace {

void BM_Seal(benchmark::State& state) {
  Buffer plain(static_cast<size_t>(state.range(0)));
  RandomBytes(plain);
  const Sealer sealer(RandomKey());
  Buffer out;
  for (auto _ : state) {
    out.clear();
    sealer.Seal(plain, AsBytes("chunk-id"), &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * plain.size()));
}
BENCHMARK(BM_Seal)->Arg(1 << 20)->Arg(4 << 10);

void BM_Open(benchmark::State& state) {
  Buffer plain(static_cast<size_t>(state.range(0)));
  RandomBytes(plain);
  const Sealer sealer(RandomKey());
  Buffer sealed;
  sealer.Seal(plain, AsBytes("chunk-id"), &sealed);
  for (auto _ : state) {
    Result<Buffer> r = sealer.Open(sealed, AsBytes("chunk-id"));
    if (!r.ok()) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * plain.size()));
}
BENCHMARK(BM_Open)->Arg(1 << 20)->Arg(4 << 10);

}  // namespace
}  // namespace snap::engine::codec
