// Private to protocol/: the primitives message bodies are built from
// (FORMAT.md "Replication protocol", "Messages"). Fixed-width
// integers little-endian; strings a u32 LE length then the bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/bytes.h"
#include "engine/chunk_id.h"
#include "engine/status.h"

namespace snap::replicator::protocol {

void PutU8(uint8_t v, engine::Buffer* out);
void PutU32(uint32_t v, engine::Buffer* out);
void PutU64(uint64_t v, engine::Buffer* out);
// Length u32 LE, then at most kMaxStringLength bytes of `s`: a longer string
// is cut at a UTF-8 character boundary, so a decoder never sees it too long.
void PutString(std::string_view s, engine::Buffer* out);

// Reads one body front to back. Every failure is Corruption
// "<MESSAGE>: <field> <what>", e.g. "HAVE/GET_CHUNKS: count 70000 exceeds
// 65536".
// Never reads past the end of the span it was given; the span must outlive
// the views Raw() returns.
class BodyReader {
 public:
  BodyReader(engine::ByteSpan in, const char* message) : in_(in), message_(message) {}

  engine::Status U8(const char* field, uint8_t* v);
  engine::Status U32(const char* field, uint32_t* v);
  engine::Status U64(const char* field, uint64_t* v);
  engine::Status Id(const char* field, engine::ChunkId* id);
  // A view of the next n bytes.
  engine::Status Raw(const char* field, size_t n, engine::ByteSpan* b);
  // A string of at most kMaxStringLength bytes; the length is checked
  // against the bound and the remaining bytes before anything is copied.
  engine::Status String(const char* field, std::string* s);
  // OK when the body was consumed exactly.
  engine::Status Done() const;

  engine::Status Fail(std::string_view field, std::string_view what) const;
  size_t remaining() const { return in_.size() - pos_; }

 private:
  engine::ByteSpan in_;
  size_t pos_ = 0;
  const char* message_;
};

}  // namespace snap::replicator::protocol
