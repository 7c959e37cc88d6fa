// Snapshot record encoding (FORMAT.md "Snapshot record"). Decode treats its
// input as hostile: counts and lengths are bounded before allocation, and a
// source name must be a valid entry name because restore uses it as one.
#include "engine/snapshot/snapshot_record.h"

#include <algorithm>
#include <limits>
#include <string>

#include "engine/codec/varint.h"
#include "engine/snapshot/field_reader.h"
#include "engine/snapshot/tree.h"

namespace snap::engine::snapshot {
namespace {

using codec::Encoder;

// Bounds on untrusted bytes; FORMAT.md "Snapshot record" lists them.
constexpr size_t kMaxSources = 4096;
constexpr size_t kMaxTags = 4096;
constexpr size_t kMaxNotes = 1u << 20;
constexpr size_t kMaxShortString = 4096;      // host, user, tag, program version
constexpr size_t kMaxLongString = 64u << 10;  // path, commands, one note
// The shortest version-1 source, its length prefix included: a one-byte
// name, the 32-byte root, one byte for every other field.
constexpr size_t kMinSourceBytes = 50;
constexpr size_t kReserveLimit = 4096;

// Objects named in errors: "snapshot record: ..." and
// "snapshot record: source 2: ...".
constexpr const char* kRecord = "snapshot record";
constexpr const char* kSource = "snapshot record: source";

// ---- encoding: the field order is the format; never reorder, only append ----

void EncodeStrings(const std::vector<std::string>& v, Encoder* e) {
  e->PutVarint(v.size());
  for (const std::string& s : v) e->PutString(s);
}

void EncodeHeader(const SnapshotRecord& r, Encoder* e) {
  e->PutSignedVarint(r.time_ns);
  e->PutString(r.host);
  e->PutString(r.user);
  EncodeStrings(r.tags, e);
  e->PutU8(r.parent.has_value() ? 1 : 0);
  if (r.parent) e->PutId(*r.parent);
  e->PutString(r.program_version);
}

void EncodeStats(const SourceStats& s, Encoder* e) {
  for (uint64_t v :
       {s.files, s.dirs, s.others, s.bytes, s.new_chunks, s.new_bytes, s.stored_bytes}) {
    e->PutVarint(v);
  }
}

void EncodeSource(const SourceRecord& s, Encoder* e) {
  e->PutString(s.name);
  e->PutU8(static_cast<uint8_t>(s.kind));
  e->PutString(s.path);
  e->PutId(s.root);
  e->PutString(s.command);
  e->PutString(s.restore_command);
  e->PutSignedVarint(s.exit_status);
  e->PutSignedVarint(s.start_ns);
  e->PutSignedVarint(s.end_ns);
  EncodeStrings(s.notes, e);
  EncodeStats(s.stats, e);
}

// Encodes `fill`'s output as one length-prefixed body.
template <typename Fn>
void PutBody(Encoder* e, Buffer* scratch, Fn fill) {
  scratch->clear();
  Encoder be(scratch);
  fill(&be);
  e->PutBytes(*scratch);
}

// ---- decoding ----

Status ParseStrings(FieldReader& r, std::vector<std::string>* v, size_t max_count, size_t max_len,
                    const char* count_field, const char* field) {
  size_t count = 0;
  SNAP_RETURN_IF_ERROR(r.Count(&count, max_count, 1, count_field));
  // A string is 32 bytes for each byte of its smallest encoding: grow as
  // strings actually parse rather than trusting the count for memory.
  v->reserve(std::min(count, kReserveLimit));
  for (size_t i = 0; i < count; ++i) {
    SNAP_RETURN_IF_ERROR(r.Str(&v->emplace_back(), max_len, field));
  }
  return Status::OK();
}

Status ParseParent(FieldReader& r, std::optional<ChunkId>* parent) {
  bool present = false;
  SNAP_RETURN_IF_ERROR(r.Presence(&present, "parent"));
  if (!present) return Status::OK();
  return r.Id(&parent->emplace(), "parent");
}

// Bytes after the last known field are a later revision's additions: skipped.
Status ParseHeader(ByteSpan body, SnapshotRecord* rec) {
  FieldReader r(body, kRecord);
  SNAP_RETURN_IF_ERROR(r.I64(&rec->time_ns, "time"));
  SNAP_RETURN_IF_ERROR(r.Str(&rec->host, kMaxShortString, "host"));
  SNAP_RETURN_IF_ERROR(r.Str(&rec->user, kMaxShortString, "user"));
  SNAP_RETURN_IF_ERROR(ParseStrings(r, &rec->tags, kMaxTags, kMaxShortString, "tag count", "tag"));
  SNAP_RETURN_IF_ERROR(ParseParent(r, &rec->parent));
  return r.Str(&rec->program_version, kMaxShortString, "program version");
}

Status ParseKind(FieldReader& r, SourceKind* kind) {
  uint8_t k = 0;
  SNAP_RETURN_IF_ERROR(r.U8(&k, "kind"));
  if (k != static_cast<uint8_t>(SourceKind::kDirectory) &&
      k != static_cast<uint8_t>(SourceKind::kDump)) {
    return r.Error("unknown kind " + std::to_string(k));
  }
  *kind = static_cast<SourceKind>(k);
  return Status::OK();
}

Status ParseExitStatus(FieldReader& r, int32_t* status) {
  int64_t v = 0;
  SNAP_RETURN_IF_ERROR(r.I64(&v, "exit status"));
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    return r.Error("exit status " + std::to_string(v) + " does not fit 32 bits");
  }
  *status = static_cast<int32_t>(v);
  return Status::OK();
}

Status ParseStats(FieldReader& r, SourceStats* s) {
  for (uint64_t* v : {&s->files, &s->dirs, &s->others, &s->bytes, &s->new_chunks, &s->new_bytes,
                      &s->stored_bytes}) {
    SNAP_RETURN_IF_ERROR(r.U64(v, "stats"));
  }
  return Status::OK();
}

Status ParseSource(ByteSpan body, size_t index, SourceRecord* s) {
  FieldReader r(body, kSource, index);
  SNAP_RETURN_IF_ERROR(r.Str(&s->name, kMaxNameLength, "name"));
  if (!IsValidName(s->name)) return r.Error("name is not a valid entry name");
  SNAP_RETURN_IF_ERROR(ParseKind(r, &s->kind));
  SNAP_RETURN_IF_ERROR(r.Str(&s->path, kMaxLongString, "path"));
  SNAP_RETURN_IF_ERROR(r.Id(&s->root, "root"));
  SNAP_RETURN_IF_ERROR(r.Str(&s->command, kMaxLongString, "command"));
  SNAP_RETURN_IF_ERROR(r.Str(&s->restore_command, kMaxLongString, "restore command"));
  SNAP_RETURN_IF_ERROR(ParseExitStatus(r, &s->exit_status));
  SNAP_RETURN_IF_ERROR(r.I64(&s->start_ns, "start time"));
  SNAP_RETURN_IF_ERROR(r.I64(&s->end_ns, "end time"));
  SNAP_RETURN_IF_ERROR(ParseStrings(r, &s->notes, kMaxNotes, kMaxLongString, "note count", "note"));
  return ParseStats(r, &s->stats);
}

Status ParseSources(FieldReader& r, std::vector<SourceRecord>* sources) {
  size_t count = 0;
  SNAP_RETURN_IF_ERROR(r.Count(&count, kMaxSources, kMinSourceBytes, "source count"));
  sources->resize(count);
  for (size_t i = 0; i < count; ++i) {
    ByteSpan body;
    if (!r.Bytes(&body, "source length").ok()) {
      return FieldError(kSource, i, "truncated or malformed length");
    }
    SNAP_RETURN_IF_ERROR(ParseSource(body, i, &(*sources)[i]));
    if (i > 0 && !((*sources)[i - 1].name < (*sources)[i].name)) {
      return FieldError(kSource, i, "name does not sort after the previous one's");
    }
  }
  return Status::OK();
}

}  // namespace

void SnapshotRecord::EncodeTo(Buffer* out) const {
  Encoder e(out);
  Buffer scratch;
  e.PutVarint(kSnapshotVersion);
  PutBody(&e, &scratch, [&](Encoder* be) { EncodeHeader(*this, be); });
  e.PutVarint(sources.size());
  for (const SourceRecord& s : sources) {
    PutBody(&e, &scratch, [&](Encoder* be) { EncodeSource(s, be); });
  }
}

Result<SnapshotRecord> SnapshotRecord::Decode(ByteSpan in) {
  FieldReader r(in, kRecord);
  SnapshotRecord rec;
  ByteSpan header;
  SNAP_RETURN_IF_ERROR(r.Version(kSnapshotVersion));
  SNAP_RETURN_IF_ERROR(r.Bytes(&header, "header length"));
  SNAP_RETURN_IF_ERROR(ParseHeader(header, &rec));
  SNAP_RETURN_IF_ERROR(ParseSources(r, &rec.sources));
  if (r.remaining() != 0) {
    return r.Error(std::to_string(r.remaining()) + " trailing bytes after the last source");
  }
  return rec;
}

std::vector<ChunkId> SnapshotRecord::Refs() const {
  std::vector<ChunkId> refs;
  refs.reserve(sources.size());
  for (const SourceRecord& s : sources) refs.push_back(s.root);
  return refs;
}

const SourceRecord* SnapshotRecord::FindSource(std::string_view name) const {
  auto it =
      std::lower_bound(sources.begin(), sources.end(), name,
                       [](const SourceRecord& s, std::string_view key) { return s.name < key; });
  return it != sources.end() && it->name == name ? &*it : nullptr;
}

}  // namespace snap::engine::snapshot
