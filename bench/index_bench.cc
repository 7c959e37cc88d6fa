// ChunkIndex::MultiGet against a RocksDB index, as a backup's dedup check
// issues it: batches of random IDs, either all indexed or all new.
//
// The 1M-key index is built once per process in a temporary directory. The
// 50M-key variant takes long to build and runs only with
// SNAPCTL_BENCH_LARGE=1.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "engine/index/chunk_index.h"

namespace snap::engine::index {
namespace {

constexpr size_t kEntriesPerPack = 4096;  // a 32 MiB pack of 8 KiB chunks
constexpr size_t kPoolSize = 1 << 16;     // IDs drawn before timing starts
constexpr uint64_t kPresentSalt = 0;
constexpr uint64_t kAbsentSalt = 1;

uint64_t SplitMix(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

// The n-th ID of a salted sequence: uniformly spread, like keyed hashes.
ChunkId NthId(uint64_t n, uint64_t salt) {
  ChunkId id;
  uint64_t state = n * 4 + (salt << 60);
  for (size_t i = 0; i < ChunkId::kSize; i += 8) {
    uint64_t w = SplitMix(&state);
    std::memcpy(id.bytes.data() + i, &w, 8);
  }
  return id;
}

// A RocksDB index of `keys` chunks in its own temporary directory.
class BenchIndex {
 public:
  explicit BenchIndex(size_t keys) : keys_(keys) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/snapctl-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
    Fill();
    Reopen();  // as the next backup would find it: memtable flushed
  }
  ~BenchIndex() {
    kv_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ChunkIndex& index() { return *index_; }
  size_t keys() const { return keys_; }

 private:
  void Reopen() {
    index_.reset();
    kv_.reset();
    Result<std::unique_ptr<KvStore>> kv = OpenRocksKv(dir_);
    if (!kv.ok()) std::abort();
    kv_ = std::move(*kv);
    index_ = std::make_unique<ChunkIndex>(kv_.get());
  }
  void Fill();

  size_t keys_;
  std::string dir_;
  std::unique_ptr<KvStore> kv_;
  std::unique_ptr<ChunkIndex> index_;
};

void BenchIndex::Fill() {
  Reopen();
  std::vector<pack::PackEntry> entries;
  for (size_t n = 0; n < keys_; n += entries.size()) {
    entries.clear();
    for (size_t i = n; i < keys_ && entries.size() < kEntriesPerPack; ++i) {
      pack::PackEntry e;
      e.id = NthId(i, kPresentSalt);
      e.offset = 12 + (i % kEntriesPerPack) * 8300;
      e.length = 8300;
      e.raw_length = 8192;
      entries.push_back(e);
    }
    PackId pack{};
    std::memcpy(pack.data(), NthId(n, 2).bytes.data(), pack.size());
    if (!index_->AddPack(pack, entries).ok()) std::abort();
  }
}

// Never destroyed as a static: RocksDB's own statics may be gone by then.
// CloseAll, registered once an index exists (so after RocksDB's statics),
// closes and removes the indexes before those are torn down.
std::map<size_t, std::unique_ptr<BenchIndex>>& Built() {
  static auto* built = new std::map<size_t, std::unique_ptr<BenchIndex>>;
  return *built;
}

void CloseAll() { Built().clear(); }

BenchIndex& IndexOf(size_t keys) {
  auto& slot = Built()[keys];
  if (!slot) {
    slot = std::make_unique<BenchIndex>(keys);
    static const bool registered = (std::atexit(CloseAll), true);
    (void)registered;
  }
  return *slot;
}

std::vector<ChunkId> DrawIds(size_t keys, uint64_t salt) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<uint64_t> pick(0, keys - 1);
  std::vector<ChunkId> ids(kPoolSize);
  for (ChunkId& id : ids) id = NthId(pick(rng), salt);
  return ids;
}

// state.range(0): batch size.
void RunLookups(benchmark::State& state, size_t keys, uint64_t salt) {
  ChunkIndex& index = IndexOf(keys).index();
  const std::vector<ChunkId> pool = DrawIds(keys, salt);
  const size_t batch = static_cast<size_t>(state.range(0));
  std::vector<std::optional<ChunkLocation>> out;
  size_t at = 0, found = 0;
  for (auto _ : state) {
    if (at + batch > pool.size()) at = 0;
    if (!index.MultiGet(std::span(pool).subspan(at, batch), &out).ok()) std::abort();
    for (const auto& loc : out) found += loc.has_value();
    at += batch;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  state.counters["hit_ratio"] = static_cast<double>(found) / (state.iterations() * batch);
}

bool LargeEnabled(benchmark::State& state) {
  const char* v = std::getenv("SNAPCTL_BENCH_LARGE");
  if (v != nullptr && std::string(v) == "1") return true;
  state.SkipWithError("50M-key index: set SNAPCTL_BENCH_LARGE=1 to build and run it");
  return false;
}

constexpr size_t k1M = 1'000'000;
constexpr size_t k50M = 50'000'000;

void BM_ChunkIndexMultiGetPresent_1M(benchmark::State& s) { RunLookups(s, k1M, kPresentSalt); }
void BM_ChunkIndexMultiGetAbsent_1M(benchmark::State& s) { RunLookups(s, k1M, kAbsentSalt); }
void BM_ChunkIndexMultiGetPresent_50M(benchmark::State& s) {
  if (LargeEnabled(s)) RunLookups(s, k50M, kPresentSalt);
}
void BM_ChunkIndexMultiGetAbsent_50M(benchmark::State& s) {
  if (LargeEnabled(s)) RunLookups(s, k50M, kAbsentSalt);
}

#define SNAP_INDEX_BENCH(fn) BENCHMARK(fn)->Arg(1)->Arg(64)->Arg(1024)->UseRealTime()
SNAP_INDEX_BENCH(BM_ChunkIndexMultiGetPresent_1M);
SNAP_INDEX_BENCH(BM_ChunkIndexMultiGetAbsent_1M);
SNAP_INDEX_BENCH(BM_ChunkIndexMultiGetPresent_50M);
SNAP_INDEX_BENCH(BM_ChunkIndexMultiGetAbsent_50M);

}  // namespace
}  // namespace snap::engine::index
