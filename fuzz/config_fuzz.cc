// libFuzzer target for Config::Decode (the repository's "config" object).
// Each input is also tried with its trailing XXH3 repaired so the fuzzer
// reaches the fields and range checks behind the checksum. Whatever decodes
// must re-encode to bytes that decode equal, and its chunker parameters
// must be valid (Decode promises to check them).
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "fuzz/fuzz_support.h"
#include "engine/repo/config.h"

namespace {

using namespace snap::engine;
namespace fuzz = snap::fuzz;
using repo::Config;

void Check(bool ok, const char* what) { fuzz::Check(ok, "config_fuzz", what); }

bool Same(const chunk::ChunkerParams& a, const chunk::ChunkerParams& b) {
  return a.min_size == b.min_size && a.avg_size == b.avg_size && a.max_size == b.max_size;
}

bool Same(const Config& a, const Config& b) {
  return a.version == b.version && a.repo_id == b.repo_id && a.encrypted == b.encrypted &&
         Same(a.file_chunking, b.file_chunking) && Same(a.dump_chunking, b.dump_chunking) &&
         a.zstd_level == b.zstd_level && a.pack_target_size == b.pack_target_size;
}

void DecodeAndVerify(ByteSpan in) {
  Result<Config> c = Config::Decode(in);
  if (!c.ok()) return;
  Check(c->file_chunking.Validate().ok() && c->dump_chunking.Validate().ok(),
        "decoded config has invalid chunker parameters");
  Buffer encoded;
  c->EncodeTo(&encoded);
  Result<Config> again = Config::Decode(encoded);
  Check(again.ok() && Same(*again, *c), "re-encoded config does not decode equal");
  Buffer twice;
  again->EncodeTo(&twice);
  Check(twice == encoded, "config encoding is not stable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(reinterpret_cast<const std::byte*>(data), size);
  snap::fuzz::WithRepairedChecksum(in, DecodeAndVerify);
  return 0;
}
