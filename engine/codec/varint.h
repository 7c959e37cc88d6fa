// The documented varint encoding every engine record uses (FORMAT.md,
// "Encoding primitives"): unsigned LEB128 varints, zig-zag signed varints,
// fixed-width little-endian integers and length-prefixed byte strings.
//
// Encoder appends to a Buffer; Decoder reads from a span and never reads past
// its end: each Get* returns false on truncation or overflow and leaves the
// decoder failed (ok() false) so a caller may check once at the end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/bytes.h"
#include "engine/chunk_id.h"

namespace snap::engine::codec {

class Encoder {
 public:
  explicit Encoder(Buffer* out) : out_(out) {}

  void PutU8(uint8_t v);
  void PutFixed32(uint32_t v);  // little-endian
  void PutFixed64(uint64_t v);  // little-endian
  void PutVarint(uint64_t v);   // unsigned LEB128, 1-10 bytes
  void PutSignedVarint(int64_t v);  // zig-zag, then PutVarint
  void PutBytes(ByteSpan b);    // varint length, then the bytes
  void PutString(std::string_view s) { PutBytes(AsBytes(s)); }
  void PutRaw(ByteSpan b);      // the bytes, no length
  void PutId(const ChunkId& id) { PutRaw(id.span()); }

 private:
  Buffer* out_;
};

class Decoder {
 public:
  explicit Decoder(ByteSpan in) : in_(in) {}

  bool GetU8(uint8_t* v);
  bool GetFixed32(uint32_t* v);
  bool GetFixed64(uint64_t* v);
  bool GetVarint(uint64_t* v);  // rejects encodings longer than 10 bytes or > 2^64-1
  bool GetVarint32(uint32_t* v);  // as GetVarint, and rejects values >= 2^32
  bool GetSignedVarint(int64_t* v);
  // A length-prefixed string whose length is at most max_len; false otherwise.
  bool GetString(std::string* s, size_t max_len = 1 << 24);
  // View of the next n raw bytes; valid while the input is.
  bool GetRaw(size_t n, ByteSpan* b);
  bool GetId(ChunkId* id);

  size_t remaining() const { return in_.size() - pos_; }
  bool done() const { return pos_ == in_.size(); }
  bool ok() const { return ok_; }

 private:
  bool Fail() { ok_ = false; return false; }

  ByteSpan in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace snap::engine::codec
