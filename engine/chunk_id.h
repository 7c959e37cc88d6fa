// ChunkId: the 32-byte identity of a chunk, tree or snapshot record.
//
// It is HMAC-SHA-256 of the object's plaintext under the repository's ID key
// (see codec/crypto.h), never a non-cryptographic hash: stored bytes are
// attacker-chosen. Value type; thread-compatible.
#pragma once

#include <array>
#include <compare>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/bytes.h"

namespace snap::engine {

struct ChunkId {
  static constexpr size_t kSize = 32;  // On disk: never change.
  std::array<std::byte, kSize> bytes{};

  ByteSpan span() const { return bytes; }
  std::string ToHex() const { return engine::ToHex(bytes); }
  // First 12 hex digits, for messages and listings.
  std::string ShortHex() const { return ToHex().substr(0, 12); }
  bool IsZero() const {
    for (std::byte b : bytes)
      if (b != std::byte{0}) return false;
    return true;
  }

  static std::optional<ChunkId> FromHex(std::string_view hex);
  static ChunkId FromSpan(ByteSpan b) {  // REQUIRES: b.size() == kSize
    ChunkId id;
    std::memcpy(id.bytes.data(), b.data(), kSize);
    return id;
  }

  auto operator<=>(const ChunkId&) const = default;
  bool operator==(const ChunkId&) const = default;
};

struct ChunkIdHash {
  size_t operator()(const ChunkId& id) const {
    size_t h;
    std::memcpy(&h, id.bytes.data(), sizeof h);  // already uniformly distributed
    return h;
  }
};

inline std::optional<ChunkId> ChunkId::FromHex(std::string_view hex) {
  Buffer b;
  if (hex.size() != kSize * 2 || !engine::FromHex(hex, &b)) return std::nullopt;
  return FromSpan(b);
}

}  // namespace snap::engine
