// Pack building and footer decoding: the writer must keep up with capture,
// and the footer decode bounds how fast `check --rebuild-index` walks packs.
#include <benchmark/benchmark.h>

#include "engine/pack/pack_format.h"

namespace snap::engine::pack {
namespace {

EntryHeader HeaderFor(uint32_t i, uint32_t raw_length) {
  EntryHeader h;
  h.kind = EntryKind::kData;
  h.flags = kFlagCompressed;
  h.raw_length = raw_length;
  for (size_t b = 0; b < 4; ++b) h.id.bytes[b] = static_cast<std::byte>(i >> (8 * b));
  return h;
}

Buffer Filler(size_t n) {
  Buffer b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>(i * 131 + (i >> 9));
  return b;
}

// A 16 MiB pack of 1 MiB entries, as capture fills it.
void BM_PackWriterAddFinish(benchmark::State& state) {
  constexpr size_t kEntry = 1 << 20;
  constexpr uint32_t kEntries = 16;
  Buffer payload = Filler(kEntry);
  for (auto _ : state) {
    PackWriter w;
    for (uint32_t i = 0; i < kEntries; ++i) w.Add(HeaderFor(i, kEntry), payload);
    Buffer pack = w.Finish();
    benchmark::DoNotOptimize(pack.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kEntries * kEntry));
}
BENCHMARK(BM_PackWriterAddFinish)->Unit(benchmark::kMillisecond);

// Footer of a pack holding 10k small entries (a pack of tree chunks).
void BM_DecodeFooter(benchmark::State& state) {
  constexpr uint32_t kEntries = 10000;
  Buffer payload = Filler(64);
  PackWriter w;
  for (uint32_t i = 0; i < kEntries; ++i) w.Add(HeaderFor(i, 64), payload);
  Buffer pack = w.Finish();
  uint32_t fl = *DecodeTrailer(pack);
  ByteSpan tail = ByteSpan(pack).last(fl + kTrailerSize);
  for (auto _ : state) {
    Result<std::vector<PackEntry>> entries = DecodeFooter(tail, pack.size());
    if (!entries.ok()) state.SkipWithError(entries.status().ToString().c_str());
    benchmark::DoNotOptimize(entries);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kEntries));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * tail.size()));
}
BENCHMARK(BM_DecodeFooter)->Unit(benchmark::kMicrosecond);

// Verifying one 1 MiB frame: the cost a restore or replica pays per entry.
void BM_DecodeFrame(benchmark::State& state) {
  Buffer frame;
  EncodeFrame(HeaderFor(1, 1 << 20), Filler(1 << 20), &frame);
  for (auto _ : state) {
    Result<DecodedFrame> f = DecodeFrame(frame);
    benchmark::DoNotOptimize(f);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_DecodeFrame)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace snap::engine::pack
