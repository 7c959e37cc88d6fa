// Helpers shared by the protocol tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "replicator/protocol/messages.h"

namespace snap::replicator::protocol::test {

// An ID whose bytes count up from `first`.
inline ChunkId Id(uint8_t first) {
  ChunkId id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = std::byte(first + i);
  return id;
}

inline Buffer Encoded(const auto& value) {
  Buffer b;
  value.EncodeTo(&b);
  return b;
}

inline Buffer Bytes(std::initializer_list<int> v) {
  Buffer b;
  for (int x : v) b.push_back(std::byte(x));
  return b;
}

inline Buffer Cat(Buffer a, const Buffer& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline void AppendU32(uint32_t v, Buffer* out) {
  for (int i = 0; i < 4; ++i) out->push_back(std::byte(v >> (8 * i)));
}

// Expects Corruption whose message contains `what`.
template <typename T>
void ExpectCorrupt(const Result<T>& r, const std::string& what) {
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
}

// HELLO of the FORMAT.md worked example: read, repository a0a1…af, "web1".
inline Hello SampleHello() {
  Hello h;
  h.role = Role::kRead;
  for (size_t i = 0; i < h.repo_id.size(); ++i) h.repo_id[i] = std::byte(0xa0 + i);
  h.client_name = "web1";
  return h;
}

}  // namespace snap::replicator::protocol::test
