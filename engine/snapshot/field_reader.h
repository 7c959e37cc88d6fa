// FieldReader: reads the fields of one tree node or snapshot record over a
// codec::Decoder and words each failure as a Corruption naming the object,
// its index and the field. Private to engine/snapshot/: only its .cc files
// include this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/bytes.h"
#include "engine/chunk_id.h"
#include "engine/codec/varint.h"
#include "engine/status.h"

namespace snap::engine::snapshot {

// Corruption("<object> <index>: <msg>"), or Corruption("<object>: <msg>")
// when index is FieldReader::kNoIndex. E.g. ("tree: node", 12, "name is
// empty") gives "tree: node 12: name is empty".
Status FieldError(const char* object, size_t index, const std::string& msg);

// Reads fields in order from a span of untrusted bytes. Every method returns
// OK and stores the value, or returns FieldError(object, index, ...) naming
// the field; after a failure the reader is spent. Builds no string on
// success. Not thread-safe; `in` and `object` must outlive the reader, and
// spans it returns point into `in`.
class FieldReader {
 public:
  static constexpr size_t kNoIndex = ~size_t{0};

  FieldReader(ByteSpan in, const char* object, size_t index = kNoIndex)
      : d_(in), object_(object), index_(index) {}

  // A Corruption for this object and index, whatever the failure.
  Status Error(const std::string& msg) const { return FieldError(object_, index_, msg); }

  Status U8(uint8_t* v, const char* field) { return Check(d_.GetU8(v), field); }
  Status U32(uint32_t* v, const char* field) { return Check(d_.GetVarint32(v), field); }
  Status U64(uint64_t* v, const char* field) { return Check(d_.GetVarint(v), field); }
  Status I64(int64_t* v, const char* field) { return Check(d_.GetSignedVarint(v), field); }
  Status Id(ChunkId* id, const char* field) { return Check(d_.GetId(id), field); }
  // A length-prefixed string of at most `max` bytes.
  Status Str(std::string* s, size_t max, const char* field);
  // A length-prefixed byte string; `*b` views the input.
  Status Bytes(ByteSpan* b, const char* field);
  // A count of at most `max` items, each at least `min_item_bytes` long, so
  // that the count cannot claim more items than the input holds.
  // REQUIRES: min_item_bytes > 0.
  Status Count(size_t* n, size_t max, size_t min_item_bytes, const char* field);
  // A presence byte: 0 (absent) or 1 (present); anything else is corrupt.
  Status Presence(bool* present, const char* field);
  // A format version that must equal `known`. NotSupported("<object>:
  // version N is newer than this snapctl understands") when it is larger;
  // Corruption when it is smaller (no valid version is).
  Status Version(uint64_t known);

  size_t remaining() const { return d_.remaining(); }

 private:
  Status Check(bool ok, const char* field) const {
    return ok ? Status::OK() : Error(std::string("truncated or malformed ") + field);
  }

  codec::Decoder d_;
  const char* object_;
  size_t index_;
};

}  // namespace snap::engine::snapshot
