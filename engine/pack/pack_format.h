// Pack files: immutable containers of framed entries plus a footer.
// Layout, widths and checksums: FORMAT.md "Pack file". On disk: never
// renumber a constant here.
//
//   pack    = header(12) frame* footer trailer(20)
//   header  = "SNAPPACK" | version fixed32
//   frame   = kind u8 | flags u8 | reserved u16 (0) | ref_count u32 |
//             raw_length u32 | stored_length u32 | id[32] |
//             refs[32 * ref_count] | payload[stored_length] |
//             xxh3 u64 (of everything before it)
//   footer  = count varint | per entry: id[32] kind u8 flags u8
//             offset varint length varint raw_length varint
//   trailer = footer_length u32 | xxh3(footer) u64 | "SNAPPEND"
//
// All fixed-width integers little-endian.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/bytes.h"
#include "engine/chunk_id.h"
#include "engine/result.h"

namespace snap::engine::pack {

inline constexpr char kPackMagic[8] = {'S', 'N', 'A', 'P', 'P', 'A', 'C', 'K'};
inline constexpr char kPackEndMagic[8] = {'S', 'N', 'A', 'P', 'P', 'E', 'N', 'D'};
inline constexpr uint32_t kPackVersion = 1;
inline constexpr size_t kPackHeaderSize = 12;
inline constexpr size_t kFrameHeaderSize = 48;  // before refs
inline constexpr size_t kFrameChecksumSize = 8;
inline constexpr size_t kTrailerSize = 20;
// Bounds a decoder enforces on untrusted bytes.
inline constexpr uint32_t kMaxRawLength = 64u << 20;
// A tree references every subtree and content chunk of its directory.
inline constexpr uint32_t kMaxRefs = 1u << 22;

// What an entry holds. On disk: never renumber.
enum class EntryKind : uint8_t {
  kData = 1,    // file or dump content
  kTree = 2,    // an encoded Tree (snapshot/tree.h); refs = its children
  kStream = 3,  // an encoded list of a dump stream's chunk IDs; refs = them
};

// Entry flags. On disk: never renumber.
inline constexpr uint8_t kFlagCompressed = 1 << 0;  // payload is zstd
inline constexpr uint8_t kFlagSealed = 1 << 1;      // payload is AEAD-sealed
inline constexpr uint8_t kFlagDelta = 1 << 2;       // zstd delta against refs[0]
// zstd with the refs' IDs, concatenated, as its prefix: a tree or stream
// list spells out the IDs its refs already hold.
inline constexpr uint8_t kFlagRefsPrefix = 1 << 3;
// A small chunk stored inside another: its plaintext is the raw_length bytes
// at an offset (the payload, a varint, in clear) of refs[0]'s plaintext, a
// bundle of small chunks compressed as one (FORMAT.md "Slices").
inline constexpr uint8_t kFlagSlice = 1 << 4;
// A bundle whose plaintext ends in its member table and whose ID is the
// keyed hash of its members' IDs, not of its plaintext (FORMAT.md
// "Slices"; engine/pack/bundle_table.h).
inline constexpr uint8_t kFlagBundle = 1 << 5;
// The largest chunk a slice may be cut from: a reader decodes (and keeps a
// few of) them on the word of a slice.
inline constexpr uint32_t kMaxBundleLength = 1u << 20;

// Whether decoding the entry reads the chunks its refs name.
inline bool HasBaseRefs(uint8_t flags) { return flags & (kFlagDelta | kFlagSlice); }

// The cleartext header of one entry.
struct EntryHeader {
  EntryKind kind = EntryKind::kData;
  uint8_t flags = 0;
  uint32_t raw_length = 0;   // plaintext size of the chunk
  ChunkId id;
  // IDs this entry references, in clear, so that a replica holding only
  // ciphertext can check a snapshot is complete: a tree's subtrees and
  // content chunks, a stream's chunks, a delta's base (first).
  std::vector<ChunkId> refs;
};

// A footer line: where one entry's frame sits in its pack.
struct PackEntry {
  ChunkId id;
  EntryKind kind = EntryKind::kData;
  uint8_t flags = 0;
  uint64_t offset = 0;   // of the frame within the pack
  uint32_t length = 0;   // of the whole frame
  uint32_t raw_length = 0;

  bool operator==(const PackEntry&) const = default;
};

// Builds a pack in memory, whole or (with Take) piece by piece for a
// writer that streams it to disk. Not thread-safe.
class PackWriter {
 public:
  // Writes into `storage` (cleared; its capacity kept), so that a caller
  // can hand the buffer of a finished pack to the next one: no copy at
  // every doubling, no fresh pages to fault in for every pack.
  explicit PackWriter(Buffer storage = {});
  // Appends one frame. REQUIRES: payload.size() < 4 GiB, refs <= kMaxRefs.
  void Add(const EntryHeader& header, ByteSpan payload);
  // The pack's size so far, including bytes already taken.
  size_t size() const { return taken_ + buf_.size(); }
  // Bytes held here, not yet taken.
  size_t held() const { return buf_.size(); }
  size_t entry_count() const { return entries_.size(); }
  const std::vector<PackEntry>& entries() const { return entries_; }
  // Hands out the bytes held so far (to write them while the pack fills)
  // and goes on in `next` (cleared; its capacity kept).
  Buffer Take(Buffer next);
  // Appends footer and trailer and returns the pack's bytes not yet taken.
  // Spent afterwards.
  Buffer Finish();
  // The same, also handing out the entries.
  Buffer Finish(std::vector<PackEntry>* entries);

 private:
  Buffer buf_;
  size_t taken_ = 0;
  std::vector<PackEntry> entries_;
};

// Encodes one frame into *out (appending). The replication wire carries
// frames exactly as packs hold them.
void EncodeFrame(const EntryHeader& header, ByteSpan payload, Buffer* out);

struct DecodedFrame {
  EntryHeader header;
  ByteSpan payload;  // view into the input
};
// Decodes and verifies one whole frame (checksum, bounds, known kind).
// Corruption names what is wrong.
Result<DecodedFrame> DecodeFrame(ByteSpan frame);

// Size of the frame starting at `data` from its header alone, or Corruption
// when the header is implausible; NotFound when fewer than
// kFrameHeaderSize bytes are given.
Result<size_t> FrameSize(ByteSpan data);

// Returns the footer length stated by the trailer (the pack's last
// kTrailerSize bytes), checking its magic.
Result<uint32_t> DecodeTrailer(ByteSpan trailer);
// Decodes footer + trailer (the pack's last footer_length + kTrailerSize
// bytes) of a pack of `pack_size` bytes, checking the checksum and that
// every entry lies inside the pack's frame area.
Result<std::vector<PackEntry>> DecodeFooter(ByteSpan footer_and_trailer, uint64_t pack_size);

// A slice's payload: its offset in the bundle's plaintext. Decode rejects
// anything but one canonical varint below 2^32.
void EncodeSlicePayload(uint32_t offset, Buffer* out);
Result<uint32_t> DecodeSlicePayload(ByteSpan payload);

// Walks the frames of a whole pack from its header without the footer (for
// index rebuilds when a footer is damaged). Calls fn for each verified
// frame; stops at the footer or the first bad frame, which it reports.
Status ScanFrames(ByteSpan pack,
                  const std::function<void(const PackEntry&, const DecodedFrame&)>& fn);

}  // namespace snap::engine::pack
