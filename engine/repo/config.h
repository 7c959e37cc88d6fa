// Config: the repository's fixed parameters, stored in clear as the object
// "config" (FORMAT.md "Config"). Never holds a key.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "engine/bytes.h"
#include "engine/chunk/chunker.h"
#include "engine/result.h"

namespace snap::engine::repo {

inline constexpr uint32_t kConfigVersion = 1;  // On disk.
inline constexpr char kConfigMagic[8] = {'S', 'N', 'A', 'P', 'C', 'O', 'N', 'F'};

struct Config {
  uint32_t version = kConfigVersion;
  std::array<std::byte, 16> repo_id{};
  bool encrypted = true;
  chunk::ChunkerParams file_chunking;
  // Smaller than the file default so changed rows cost less (a changed
  // chunk is stored as a delta either way), large enough to compress well:
  // a 500 MB SQL dump stores 176.5 MB at 64 KiB, 185.4 MB at 32 KiB, and its
  // 1%-changed version adds 5.3 MB and 5.7 MB (bench/e2e.sh data).
  chunk::ChunkerParams dump_chunking{16 * 1024, 64 * 1024, 256 * 1024};
  int32_t zstd_level = 3;
  uint32_t pack_target_size = 16u << 20;  // packs close once they pass this

  std::string RepoIdHex() const { return ToHex(repo_id); }
  void EncodeTo(Buffer* out) const;
  // Corruption on bad magic, checksum or values out of range (InvalidArgument
  // for chunker parameters that fail ChunkerParams::Validate); NotSupported
  // for a newer version.
  static Result<Config> Decode(ByteSpan in);
};

}  // namespace snap::engine::repo
