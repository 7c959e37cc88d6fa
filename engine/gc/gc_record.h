// GcRecord: the object a gc run leaves under gc/ (FORMAT.md "Garbage
// collection"). It names the packs the run condemned, the packs it wrote by
// repacking and those they replace, and resolves packs of earlier records
// (deleted now, or live again). Writers apply every record to their index
// at open; readers find moved chunks through them.
//
//   "SNAPGCRC" | version varint | time_ns zigzag |
//   5 lists (condemned, replaced, added, deleted, restored):
//     count varint | pack[32] * count |
//   xxh3 u64 of everything before it
//
// No I/O beyond the ObjectStore calls of ReadGcRecords; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/bytes.h"
#include "engine/index/chunk_index.h"
#include "engine/result.h"
#include "engine/store/object_store.h"

namespace snap::engine::gc {

inline constexpr uint32_t kGcRecordVersion = 1;  // On disk.
inline constexpr char kGcPrefix[] = "gc/";        // On disk.
// A list longer than this is refused on decode (16M packs of 16 MiB: 256 TiB).
inline constexpr uint64_t kMaxPacksPerList = 1u << 24;

using index::PackId;

struct GcRecord {
  int64_t time_ns = 0;  // when the run wrote it; also the name's time
  std::vector<PackId> condemned;  // nothing live in them: a later run deletes them
  std::vector<PackId> replaced;   // their live frames were copied into `added`
  std::vector<PackId> added;      // new packs written by repacking
  std::vector<PackId> deleted;    // condemned or replaced earlier, deleted by this run
  std::vector<PackId> restored;   // condemned or replaced earlier, live again: kept

  bool Empty() const {
    return condemned.empty() && replaced.empty() && added.empty() && deleted.empty() &&
           restored.empty();
  }
  void EncodeTo(Buffer* out) const;
  // Corruption naming the field for anything malformed; NotSupported for
  // another version.
  static Result<GcRecord> Decode(ByteSpan in);
};

// "gc/<20-digit zero-padded time_ns>-<8 hex digits>": names sort by time.
std::string GcRecordKey(int64_t time_ns, uint32_t random);
// The time in a record's key, or -1 when the key is not a record's.
int64_t GcRecordKeyTime(std::string_view key);

struct NamedGcRecord {
  std::string key;
  GcRecord record;
};
// Every record whose key sorts after `after` ("" for all), in key (time)
// order. A record that does not decode fails the call: applying the ones
// after it while skipping it could resurrect a condemned pack.
Result<std::vector<NamedGcRecord>> ReadGcRecords(const store::ObjectStore& store,
                                                 std::string_view after = "");

}  // namespace snap::engine::gc
