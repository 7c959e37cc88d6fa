#include "engine/repo/exported_key.h"

#include <cstring>
#include <sstream>

namespace snap::engine::repo {
namespace {

Status Bad(std::string_view what) {
  return Status::InvalidArgument("exported key: " + std::string(what) +
                                 " (expected the three lines `snapctl key export` prints)");
}

template <size_t N>
bool ParseHex(std::string_view hex, std::array<std::byte, N>* out) {
  Buffer b;
  if (hex.size() != 2 * N || !FromHex(hex, &b)) return false;
  std::memcpy(out->data(), b.data(), N);
  return true;
}

}  // namespace

std::string ExportedKey::Encode() const {
  std::string out(kExportedKeyHeader);
  out += "\nrepository " + ToHex(repo_id) + "\nkeys ";
  out += ToHex(keys.seal) + ToHex(keys.id) + ToHex(keys.gear_seed) + "\n";
  return out;
}

Result<ExportedKey> ExportedKey::Decode(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string header, repo_line, keys_line;
  std::getline(in, header);
  std::getline(in, repo_line);
  std::getline(in, keys_line);
  if (header != kExportedKeyHeader) return Bad("first line is not `snapctl-key v1`");
  ExportedKey k;
  if (!repo_line.starts_with("repository ") ||
      !ParseHex(std::string_view(repo_line).substr(11), &k.repo_id))
    return Bad("second line is not `repository <32 hex digits>`");
  std::string_view hex = std::string_view(keys_line);
  if (!hex.starts_with("keys ") || hex.size() != 5 + 192) return Bad("third line is not `keys <192 hex digits>`");
  hex.remove_prefix(5);
  if (!ParseHex(hex.substr(0, 64), &k.keys.seal) || !ParseHex(hex.substr(64, 64), &k.keys.id) ||
      !ParseHex(hex.substr(128, 64), &k.keys.gear_seed))
    return Bad("third line holds a non-hex digit");
  return k;
}

}  // namespace snap::engine::repo
