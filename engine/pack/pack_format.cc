#include "engine/pack/pack_format.h"

#include <cassert>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "engine/codec/checksum.h"
#include "engine/codec/varint.h"

namespace snap::engine::pack {
namespace {

using codec::Decoder;
using codec::Encoder;
using codec::Xxh3;

constexpr uint8_t kKnownFlags =
    kFlagCompressed | kFlagSealed | kFlagDelta | kFlagRefsPrefix | kFlagSlice | kFlagBundle;
// zstd's worst-case growth of a kMaxRawLength input (~256 KiB) plus an AEAD
// nonce and tag fit well inside this slack. Bounds what a reader of a
// hostile frame header would allocate.
constexpr uint64_t kMaxStoredLength = uint64_t{kMaxRawLength} + (1u << 20);
constexpr size_t kMinFrameSize = kFrameHeaderSize + kFrameChecksumSize;
constexpr uint32_t kMaxVarint32Length = 5;
// id, kind, flags and three one-byte varints: the least a footer entry takes.
constexpr size_t kMinFooterEntrySize = ChunkId::kSize + 5;

std::string Num(uint64_t v) { return std::to_string(v); }
std::string Hex8(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v & 0xff);
  return buf;
}

Status FrameError(const std::string& what) { return Status::Corruption("pack frame: " + what); }
Status FooterError(const std::string& what) { return Status::Corruption("pack footer: " + what); }

// Checks shared by a frame header and a footer line.
Status CheckEntryFields(uint8_t kind, uint8_t flags, uint64_t raw_length) {
  if (kind < static_cast<uint8_t>(EntryKind::kData) ||
      kind > static_cast<uint8_t>(EntryKind::kStream)) {
    return Status::Corruption("unknown kind " + Num(kind));
  }
  if (flags & ~kKnownFlags) {
    return Status::Corruption("unknown flag bits " + Hex8(flags & ~kKnownFlags));
  }
  if (raw_length > kMaxRawLength) {
    return Status::Corruption("raw_length " + Num(raw_length) + " exceeds " + Num(kMaxRawLength));
  }
  return Status::OK();
}

void PutU16(Buffer* out, uint16_t v) {
  out->push_back(static_cast<std::byte>(v & 0xff));
  out->push_back(static_cast<std::byte>(v >> 8));
}

uint16_t LoadU16(ByteSpan b) {
  return static_cast<uint16_t>(static_cast<uint16_t>(b[0]) | static_cast<uint16_t>(b[1]) << 8);
}

uint64_t LoadU64(ByteSpan b) {
  uint64_t v = 0;
  Decoder(b).GetFixed64(&v);
  return v;
}

// The fixed-width fields of a frame header, before the id.
struct FrameFields {
  uint8_t kind = 0;
  uint8_t flags = 0;
  uint32_t ref_count = 0;
  uint32_t raw_length = 0;
  uint32_t stored_length = 0;

  size_t RefsSize() const { return size_t{ref_count} * ChunkId::kSize; }
  size_t FrameSize() const {
    return kFrameHeaderSize + RefsSize() + stored_length + kFrameChecksumSize;
  }
};

// REQUIRES: data.size() >= kFrameHeaderSize.
Result<FrameFields> ParseFrameFields(ByteSpan data) {
  FrameFields f;
  Decoder d(data);
  d.GetU8(&f.kind);
  d.GetU8(&f.flags);
  uint16_t reserved = LoadU16(data.subspan(2, 2));
  Decoder tail(data.subspan(4));
  tail.GetFixed32(&f.ref_count);
  tail.GetFixed32(&f.raw_length);
  tail.GetFixed32(&f.stored_length);
  Status s = CheckEntryFields(f.kind, f.flags, f.raw_length);
  if (!s.ok()) return s.WithContext("pack frame");
  if (reserved != 0) return FrameError("reserved field is " + Num(reserved) + ", not 0");
  // Bounds the refs a reader allocates; the caller then checks the frame
  // actually holds them before any are read.
  if (f.ref_count > kMaxRefs) {
    return FrameError("ref_count " + Num(f.ref_count) + " exceeds " + Num(kMaxRefs));
  }
  if (f.stored_length > kMaxStoredLength) {
    return FrameError("stored_length " + Num(f.stored_length) + " exceeds " +
                      Num(kMaxStoredLength));
  }
  if ((f.flags & kFlagDelta) && f.ref_count == 0) {
    return FrameError("delta entry without a base ref");
  }
  if (f.flags & kFlagRefsPrefix) {
    if (f.flags & kFlagDelta) return FrameError("flags " + Hex8(f.flags) + " name two prefixes");
    if (!(f.flags & kFlagCompressed)) return FrameError("refs prefix on an uncompressed payload");
    if (f.ref_count == 0) return FrameError("refs prefix without refs");
  }
  if (f.flags & kFlagSlice) {
    if (f.flags != kFlagSlice) return FrameError("slice with flags " + Hex8(f.flags));
    if (f.kind != static_cast<uint8_t>(EntryKind::kData)) return FrameError("slice of kind " + Num(f.kind));
    if (f.ref_count != 1) return FrameError("slice with " + Num(f.ref_count) + " refs, not 1");
    if (f.stored_length == 0 || f.stored_length > kMaxVarint32Length)
      return FrameError("slice payload of " + Num(f.stored_length) + " bytes");
  }
  if (f.flags & kFlagBundle) {
    if (f.flags & (kFlagDelta | kFlagRefsPrefix | kFlagSlice))
      return FrameError("bundle with flags " + Hex8(f.flags));
    if (f.kind != static_cast<uint8_t>(EntryKind::kData)) return FrameError("bundle of kind " + Num(f.kind));
    if (f.ref_count != 0) return FrameError("bundle with " + Num(f.ref_count) + " refs");
    if (f.raw_length > kMaxBundleLength)
      return FrameError("bundle of " + Num(f.raw_length) + " bytes exceeds " + Num(kMaxBundleLength));
  }
  return f;
}

// REQUIRES: frame.size() == f.FrameSize(), so every ref read is in bounds.
DecodedFrame BuildDecodedFrame(const FrameFields& f, ByteSpan frame) {
  DecodedFrame out;
  out.header.kind = static_cast<EntryKind>(f.kind);
  out.header.flags = f.flags;
  out.header.raw_length = f.raw_length;
  Decoder d(frame.subspan(kFrameHeaderSize - ChunkId::kSize));
  d.GetId(&out.header.id);
  out.header.refs.resize(f.ref_count);
  for (ChunkId& ref : out.header.refs) d.GetId(&ref);
  d.GetRaw(f.stored_length, &out.payload);
  return out;
}

bool FooterChecksumMatches(ByteSpan footer, ByteSpan trailer) {
  return Xxh3(footer) == LoadU64(trailer.subspan(4, 8));
}

// Where the footer starts when the trailer's magic, length and checksum hold.
std::optional<size_t> ValidFooterStart(ByteSpan pack) {
  if (pack.size() < kPackHeaderSize + kTrailerSize) return std::nullopt;
  Result<uint32_t> fl = DecodeTrailer(pack);
  if (!fl.ok() || *fl > pack.size() - kPackHeaderSize - kTrailerSize) return std::nullopt;
  size_t start = pack.size() - kTrailerSize - *fl;
  if (!FooterChecksumMatches(pack.subspan(start, *fl), pack.last(kTrailerSize))) {
    return std::nullopt;
  }
  return start;
}

Result<PackEntry> ParseFooterEntry(Decoder* d, uint64_t i) {
  PackEntry e;
  uint8_t kind = 0;
  if (!(d->GetId(&e.id) && d->GetU8(&kind) && d->GetU8(&e.flags) && d->GetVarint(&e.offset) &&
        d->GetVarint32(&e.length) && d->GetVarint32(&e.raw_length))) {
    return FooterError("entry " + Num(i) + " is truncated or malformed");
  }
  Status s = CheckEntryFields(kind, e.flags, e.raw_length);
  if (!s.ok()) return s.WithContext("pack footer: entry " + Num(i));
  e.kind = static_cast<EntryKind>(kind);
  return e;
}

// Entries must ascend without overlap inside [*next, end); advances *next.
Status CheckPlacement(const PackEntry& e, uint64_t i, uint64_t* next, uint64_t end) {
  if (e.offset < kPackHeaderSize) return FooterError("entry " + Num(i) + " starts in the header");
  if (e.offset < *next) {
    return FooterError("entry " + Num(i) + " is out of order or overlaps entry " + Num(i - 1));
  }
  size_t min_size = kMinFrameSize + (HasBaseRefs(e.flags) ? ChunkId::kSize : 0);
  if (e.length < min_size) {
    return FooterError("entry " + Num(i) + " length " + Num(e.length) + " is below a frame's " +
                       Num(min_size));
  }
  if (e.offset > end || e.length > end - e.offset) {
    return FooterError("entry " + Num(i) + " overruns the pack");
  }
  *next = e.offset + e.length;
  return Status::OK();
}

Result<std::vector<PackEntry>> ParseFooter(ByteSpan footer, uint64_t frames_end) {
  Decoder d(footer);
  uint64_t count = 0;
  if (!d.GetVarint(&count)) return FooterError("malformed entry count");
  if (count > d.remaining() / kMinFooterEntrySize) {
    return FooterError(Num(count) + " entries cannot fit in " + Num(footer.size()) + " bytes");
  }
  std::vector<PackEntry> entries;
  entries.reserve(count);
  uint64_t next = kPackHeaderSize;
  for (uint64_t i = 0; i < count; ++i) {
    SNAP_ASSIGN_OR_RETURN(PackEntry e, ParseFooterEntry(&d, i));
    SNAP_RETURN_IF_ERROR(CheckPlacement(e, i, &next, frames_end));
    entries.push_back(e);
  }
  if (!d.done()) return FooterError(Num(d.remaining()) + " trailing bytes");
  return entries;
}

Status CheckPackHeader(ByteSpan pack) {
  if (pack.size() < kPackHeaderSize) return Status::Corruption("pack: shorter than its header");
  if (std::memcmp(pack.data(), kPackMagic, sizeof kPackMagic) != 0) {
    return Status::Corruption("pack: bad magic");
  }
  uint32_t version = 0;
  Decoder(pack.subspan(sizeof kPackMagic)).GetFixed32(&version);
  if (version != kPackVersion) {
    return Status::NotSupported("pack: version " + Num(version) + " not supported");
  }
  return Status::OK();
}

// Verifies the frame at the start of `rest`, which sits at `offset` in the
// pack; on success returns its size.
Result<size_t> ScanOneFrame(ByteSpan rest, size_t offset,
                            const std::function<void(const PackEntry&, const DecodedFrame&)>& fn) {
  std::string where = "pack: frame at offset " + Num(offset);
  Result<size_t> size = FrameSize(rest);
  if (!size.ok()) {
    if (size.status().IsNotFound()) return Status::Corruption(where + ": truncated header");
    return size.status().WithContext(where);
  }
  if (*size > rest.size()) return Status::Corruption(where + ": overruns the pack");
  Result<DecodedFrame> frame = DecodeFrame(rest.first(*size));
  if (!frame.ok()) return frame.status().WithContext(where);
  const EntryHeader& h = frame->header;
  PackEntry e{h.id, h.kind, h.flags, offset, static_cast<uint32_t>(*size), h.raw_length};
  fn(e, *frame);
  return *size;
}

}  // namespace

PackWriter::PackWriter(Buffer storage) : buf_(std::move(storage)) {
  buf_.clear();
  Encoder e(&buf_);
  e.PutRaw(AsBytes({kPackMagic, sizeof kPackMagic}));
  e.PutFixed32(kPackVersion);
}

void PackWriter::Add(const EntryHeader& header, ByteSpan payload) {
  PackEntry e{header.id, header.kind, header.flags, size(), 0, header.raw_length};
  EncodeFrame(header, payload, &buf_);
  assert(size() - e.offset <= UINT32_MAX);
  e.length = static_cast<uint32_t>(size() - e.offset);
  entries_.push_back(e);
}

Buffer PackWriter::Take(Buffer next) {
  next.clear();
  taken_ += buf_.size();
  std::swap(next, buf_);
  return next;
}

Buffer PackWriter::Finish() {
  std::vector<PackEntry> entries;
  return Finish(&entries);
}

Buffer PackWriter::Finish(std::vector<PackEntry>* entries) {
  size_t footer_start = buf_.size();
  Encoder e(&buf_);
  e.PutVarint(entries_.size());
  for (const PackEntry& entry : entries_) {
    e.PutId(entry.id);
    e.PutU8(static_cast<uint8_t>(entry.kind));
    e.PutU8(entry.flags);
    e.PutVarint(entry.offset);
    e.PutVarint(entry.length);
    e.PutVarint(entry.raw_length);
  }
  size_t footer_length = buf_.size() - footer_start;
  uint64_t sum = Xxh3(ByteSpan(buf_).subspan(footer_start));
  e.PutFixed32(static_cast<uint32_t>(footer_length));
  e.PutFixed64(sum);
  e.PutRaw(AsBytes({kPackEndMagic, sizeof kPackEndMagic}));
  *entries = std::move(entries_);
  entries_.clear();
  return std::move(buf_);
}

void EncodeFrame(const EntryHeader& header, ByteSpan payload, Buffer* out) {
  assert(header.refs.size() <= kMaxRefs && payload.size() <= UINT32_MAX);
  size_t start = out->size();
  Encoder e(out);
  e.PutU8(static_cast<uint8_t>(header.kind));
  e.PutU8(header.flags);
  PutU16(out, 0);  // reserved
  e.PutFixed32(static_cast<uint32_t>(header.refs.size()));
  e.PutFixed32(header.raw_length);
  e.PutFixed32(static_cast<uint32_t>(payload.size()));
  e.PutId(header.id);
  for (const ChunkId& ref : header.refs) e.PutId(ref);
  e.PutRaw(payload);
  e.PutFixed64(Xxh3(ByteSpan(*out).subspan(start)));
}

Result<size_t> FrameSize(ByteSpan data) {
  if (data.size() < kFrameHeaderSize) {
    return Status::NotFound("pack frame: " + Num(data.size()) + " bytes, header needs " +
                            Num(kFrameHeaderSize));
  }
  SNAP_ASSIGN_OR_RETURN(FrameFields f, ParseFrameFields(data));
  return f.FrameSize();
}

Result<DecodedFrame> DecodeFrame(ByteSpan frame) {
  if (frame.size() < kFrameHeaderSize) return FrameError("truncated header");
  SNAP_ASSIGN_OR_RETURN(FrameFields f, ParseFrameFields(frame));
  size_t size = f.FrameSize();
  if (frame.size() < size) {
    return FrameError("truncated: " + Num(frame.size()) + " of " + Num(size) + " bytes");
  }
  if (frame.size() > size) return FrameError(Num(frame.size() - size) + " trailing bytes");
  ByteSpan body = frame.first(size - kFrameChecksumSize);
  if (Xxh3(body) != LoadU64(frame.last(kFrameChecksumSize))) {
    return FrameError("checksum mismatch");
  }
  return BuildDecodedFrame(f, frame);
}

Result<uint32_t> DecodeTrailer(ByteSpan trailer) {
  if (trailer.size() < kTrailerSize) {
    return Status::Corruption("pack trailer: " + Num(trailer.size()) + " bytes, needs " +
                              Num(kTrailerSize));
  }
  ByteSpan t = trailer.last(kTrailerSize);
  if (std::memcmp(t.data() + 12, kPackEndMagic, sizeof kPackEndMagic) != 0) {
    return Status::Corruption("pack trailer: bad end magic");
  }
  uint32_t footer_length = 0;
  Decoder(t).GetFixed32(&footer_length);
  return footer_length;
}

Result<std::vector<PackEntry>> DecodeFooter(ByteSpan footer_and_trailer, uint64_t pack_size) {
  SNAP_ASSIGN_OR_RETURN(uint32_t fl, DecodeTrailer(footer_and_trailer));
  if (pack_size < kPackHeaderSize + kTrailerSize ||
      fl > pack_size - kPackHeaderSize - kTrailerSize) {
    return FooterError("footer_length " + Num(fl) + " does not fit a pack of " + Num(pack_size) +
                       " bytes");
  }
  if (footer_and_trailer.size() < size_t{fl} + kTrailerSize) {
    return FooterError("footer_length " + Num(fl) + " exceeds the " +
                       Num(footer_and_trailer.size()) + " bytes given");
  }
  ByteSpan trailer = footer_and_trailer.last(kTrailerSize);
  ByteSpan footer = footer_and_trailer.last(fl + kTrailerSize).first(fl);
  if (!FooterChecksumMatches(footer, trailer)) return FooterError("checksum mismatch");
  return ParseFooter(footer, pack_size - fl - kTrailerSize);
}

void EncodeSlicePayload(uint32_t offset, Buffer* out) { Encoder(out).PutVarint(offset); }

Result<uint32_t> DecodeSlicePayload(ByteSpan payload) {
  Decoder d(payload);
  uint32_t offset = 0;
  // GetVarint32 takes the shortest form only: one offset, one encoding.
  if (!d.GetVarint32(&offset) || !d.done()) return FrameError("malformed slice offset");
  return offset;
}

Status ScanFrames(ByteSpan pack,
                  const std::function<void(const PackEntry&, const DecodedFrame&)>& fn) {
  SNAP_RETURN_IF_ERROR(CheckPackHeader(pack));
  size_t end = ValidFooterStart(pack).value_or(pack.size());
  size_t offset = kPackHeaderSize;
  while (offset < end) {
    SNAP_ASSIGN_OR_RETURN(size_t size,
                          ScanOneFrame(pack.subspan(offset, end - offset), offset, fn));
    offset += size;
  }
  return Status::OK();
}

}  // namespace snap::engine::pack
