// Exported key: the repository's master keys as text, printed by
// `snapctl key export` for a machine that restores without the repository
// (FORMAT.md "Client identity and exported key"). Whoever holds it reads
// the repository: it is the plaintext master key.
//
//   snapctl-key v1
//   repository <32 hex digits>
//   keys <192 hex digits: seal key | ID key | gear seed>
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "engine/repo/key_file.h"
#include "engine/result.h"

namespace snap::engine::repo {

inline constexpr std::string_view kExportedKeyHeader = "snapctl-key v1";  // On disk.

struct ExportedKey {
  std::array<std::byte, 16> repo_id{};
  MasterKeys keys;

  std::string Encode() const;
  // InvalidArgument naming the line that is wrong.
  static Result<ExportedKey> Decode(std::string_view text);
  // True when `text` starts like an exported key (and not like a KEK file).
  static bool Looks(std::string_view text) { return text.starts_with(kExportedKeyHeader); }
};

}  // namespace snap::engine::repo
