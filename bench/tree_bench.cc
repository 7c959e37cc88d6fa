// Tree encode/decode throughput on a directory of 1000 files of 4 chunks
// each: the per-directory cost of every snapshot, diff and restore walk.
#include <benchmark/benchmark.h>

#include <string>

#include "engine/snapshot/tree.h"

namespace snap::engine::snapshot {
namespace {

constexpr int kFiles = 1000;
constexpr int kChunksPerFile = 4;

ChunkId IdOf(uint32_t n) {
  ChunkId id;
  for (size_t i = 0; i < ChunkId::kSize; ++i)
    id.bytes[i] = std::byte((n * 2654435761u) >> (i % 4 * 8));
  return id;
}

// Realistic names and metadata: uploaded files of an application.
Tree ThousandFiles() {
  Tree t;
  for (int i = 0; i < kFiles; ++i) {
    Node n;
    n.name = "upload-" + std::to_string(100000 + i) + ".jpg";
    n.mode = 0644, n.uid = 33, n.gid = 33, n.user = "www-data", n.group = "www-data";
    n.mtime_ns = n.atime_ns = 1732330800123456789 + i;
    n.size = 4u << 20, n.inode = 5000000 + i;
    for (int c = 0; c < kChunksPerFile; ++c) n.content.push_back(IdOf(i * kChunksPerFile + c));
    t.nodes.push_back(std::move(n));
  }
  t.Sort();
  return t;
}

void BM_TreeEncode(benchmark::State& state) {
  Tree t = ThousandFiles();
  Buffer out;
  for (auto _ : state) {
    out.clear();
    t.EncodeTo(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kFiles);
  state.SetBytesProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_TreeEncode);

void BM_TreeDecode(benchmark::State& state) {
  Buffer in;
  ThousandFiles().EncodeTo(&in);
  for (auto _ : state) {
    Result<Tree> t = Tree::Decode(in);
    if (!t.ok()) state.SkipWithError(t.status().ToString().c_str());
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations() * kFiles);
  state.SetBytesProcessed(state.iterations() * in.size());
}
BENCHMARK(BM_TreeDecode);

}  // namespace
}  // namespace snap::engine::snapshot
