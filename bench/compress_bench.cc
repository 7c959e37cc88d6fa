// zstd throughput on text-like and incompressible payloads.
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "engine/codec/compress.h"
#include "engine/codec/crypto.h"

namespace snap::engine::codec {
namespace {

constexpr size_t kSize = 1 << 20;

// SQL-dump-like lines with random numbers: compresses about 3-4x.
const Buffer& TextLike() {
  static const Buffer data = [] {
    std::mt19937 rng(1);
    static const char* kWords[] = {
        "INSERT INTO",           "products", "VALUES", "(", ")", "NULL", "'red'", "'blue'",
        "'2026-11-20 03:00:00'", ",",        ";\n"};
    std::string s;
    while (s.size() < kSize) {
      s += kWords[rng() % std::size(kWords)];
      s += std::to_string(rng() % 100000);
      s += ' ';
    }
    s.resize(kSize);
    return ToBuffer(s);
  }();
  return data;
}

const Buffer& RandomData() {
  static const Buffer data = [] {
    Buffer b(kSize);
    RandomBytes(b);
    return b;
  }();
  return data;
}

void BM_Compress(benchmark::State& state, const Buffer& (*input)()) {
  const Buffer& data = input();
  Buffer out;
  bool shrank = false;
  for (auto _ : state) shrank = Compress(data, kDefaultZstdLevel, &out);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
  state.counters["ratio"] = shrank ? static_cast<double>(data.size()) / out.size() : 1.0;
}
BENCHMARK_CAPTURE(BM_Compress, text_level3, &TextLike);
BENCHMARK_CAPTURE(BM_Compress, random_level3, &RandomData);

// Small files are compressed one by one: what each call costs beyond the
// bytes (contexts reset, tables cleared) shows as a lower throughput here.
void BM_CompressSmall(benchmark::State& state) {
  const Buffer& data = TextLike();
  size_t size = static_cast<size_t>(state.range(0));
  Buffer out;
  size_t at = 0;
  for (auto _ : state) {
    if (at + size > data.size()) at = 0;
    benchmark::DoNotOptimize(Compress(ByteSpan(data).subspan(at, size), kDefaultZstdLevel, &out));
    at += size;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_CompressSmall)->Arg(1 << 10)->Arg(4 << 10)->Arg(16 << 10)->Arg(64 << 10);

void BM_Decompress(benchmark::State& state) {
  const Buffer& data = TextLike();
  Buffer z;
  if (!Compress(data, kDefaultZstdLevel, &z)) state.SkipWithError("did not compress");
  for (auto _ : state) benchmark::DoNotOptimize(Decompress(z, data.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Decompress);

}  // namespace
}  // namespace snap::engine::codec
