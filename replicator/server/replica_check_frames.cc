#include "replicator/server/replica_check_frames.h"

#include <unordered_set>

#include "engine/repository.h"

namespace snap::replicator::server {
namespace {

namespace pack = engine::pack;

// In a frame header ("Pack file"): ref_count u32 LE at 4, the ID at 16.
constexpr size_t kRefCountOffset = 4;
constexpr size_t kIdOffset = 16;

std::optional<engine::index::PackId> PackIdFromKey(const std::string& key) {
  std::string hex = key.substr(key.rfind('/') + 1);
  Buffer b;
  engine::index::PackId id{};
  if (hex.size() != id.size() * 2 || !engine::FromHex(hex, &b)) return std::nullopt;
  std::copy(b.begin(), b.end(), id.begin());
  return id;
}

Result<std::vector<pack::PackEntry>> FooterOf(ByteSpan bytes) {
  if (bytes.size() < pack::kPackHeaderSize + pack::kTrailerSize)
    return Status::Corruption("shorter than a pack");
  SNAP_ASSIGN_OR_RETURN(uint32_t length, pack::DecodeTrailer(bytes.last(pack::kTrailerSize)));
  if (uint64_t{length} + pack::kTrailerSize > bytes.size())
    return Status::Corruption("footer longer than the pack");
  return pack::DecodeFooter(bytes.last(length + pack::kTrailerSize), bytes.size());
}

// The problem of the frame `frame`, which the index says is `id` at `w`;
// sets *has_refs when it is sound and has refs.
std::optional<std::string> FrameProblem(const ChunkId& id, const Where& w, ByteSpan frame,
                                        bool* has_refs) {
  Result<pack::DecodedFrame> f = pack::DecodeFrame(frame);
  if (!f.ok()) return f.status().message();
  if (f->header.id != id) return "holds chunk " + f->header.id.ShortHex() + ", not this one";
  *has_refs = !f->header.refs.empty();
  return IndexDisagrees(f->header, w);
}

// Verifies the frames of one pack read whole; see VerifyPacks.
void VerifyPack(const IndexCopy& index, const std::string& key, ByteSpan bytes,
                const std::vector<ChunkId>& indexed, PackVerdicts* out) {
  Result<std::vector<pack::PackEntry>> footer = FooterOf(bytes);
  std::unordered_set<uint64_t> read_offsets;
  for (const ChunkId& id : indexed) {
    const Where& w = *index.Find(id);
    read_offsets.insert(w.offset);
    std::string at = key + " @" + std::to_string(w.offset) + ": ";
    std::optional<std::string> problem;
    bool has_refs = false;
    if (w.offset > bytes.size() || w.length > bytes.size() - w.offset)
      problem = "beyond the end of the pack";
    else
      problem = FrameProblem(id, w, bytes.subspan(w.offset, w.length), &has_refs);
    if (has_refs && !problem) out->with_refs.insert(id);
    if (problem)
      out->damaged[id] = at + *problem;
    else if (!footer.ok())
      out->damaged[id] =
          key + ": footer: " + footer.status().message() + " (an index rebuild would lose it)";
  }
  if (!footer.ok()) {
    if (indexed.empty())
      out->notes.push_back(key + ": footer: " + footer.status().message() +
                           "; no indexed chunk is in it");
    return;
  }
  uint64_t stale = 0;
  for (const pack::PackEntry& e : *footer)  // DecodeFooter kept them inside the pack
    if (!read_offsets.count(e.offset) && !pack::DecodeFrame(bytes.subspan(e.offset, e.length)).ok())
      stale++;
  if (stale)
    out->notes.push_back(key + ": " + std::to_string(stale) +
                         " damaged frame(s) the index no longer reads (stale copies; garbage)");
}

}  // namespace

bool MayHaveRefs(const Where& w) {
  return w.kind != static_cast<uint8_t>(pack::EntryKind::kData) || pack::HasBaseRefs(w.flags);
}

const char* KindName(uint8_t kind) {
  switch (static_cast<pack::EntryKind>(kind)) {
    case pack::EntryKind::kData:
      return "data";
    case pack::EntryKind::kTree:
      return "tree";
    case pack::EntryKind::kStream:
      return "stream";
  }
  return "?";
}

Status IndexCopy::Load(const ReplicaRepo& repo) {
  return repo.ForEachChunk([&](const ChunkId& id, const engine::index::ChunkLocation& loc) {
    auto [it, added] = numbers_.try_emplace(loc.pack, static_cast<uint32_t>(packs_.size()));
    if (added) packs_.push_back(loc.pack);
    Where w;
    w.offset = loc.entry.offset;
    w.length = loc.entry.length;
    w.pack = it->second;
    w.kind = static_cast<uint8_t>(loc.entry.kind);
    w.flags = loc.entry.flags;
    where_.emplace(id, w);
    return true;
  });
}

const Where* IndexCopy::Find(const ChunkId& id) const {
  auto it = where_.find(id);
  return it == where_.end() ? nullptr : &it->second;
}

void IndexCopy::ForEach(const std::function<void(const ChunkId&, const Where&)>& fn) const {
  for (const auto& [id, w] : where_) fn(id, w);
}

engine::index::ChunkLocation IndexCopy::Location(const ChunkId& id, const Where& w) const {
  engine::index::ChunkLocation loc;
  loc.pack = packs_[w.pack];
  loc.entry.id = id;
  loc.entry.kind = static_cast<pack::EntryKind>(w.kind);
  loc.entry.flags = w.flags;
  loc.entry.offset = w.offset;
  loc.entry.length = w.length;
  return loc;
}

std::string IndexCopy::PackKey(const Where& w) const {
  return engine::Repository::PackKey(packs_[w.pack]);
}

std::optional<uint32_t> IndexCopy::PackNumber(const engine::index::PackId& pack) const {
  auto it = numbers_.find(pack);
  if (it == numbers_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> IndexDisagrees(const pack::EntryHeader& h, const Where& w) {
  if (static_cast<uint8_t>(h.kind) != w.kind || h.flags != w.flags)
    return std::string("kind or flags differ from the index record");
  return std::nullopt;
}

std::string ReadProblem(const Status& s, const std::string& key) {
  if (s.IsNotFound()) return "pack " + key + " is missing";
  return s.message();
}

std::optional<std::string> VerifyHeader(const ReplicaRepo& repo, const IndexCopy& index,
                                        const ChunkId& id, const Where& w, uint32_t* ref_count) {
  std::string key = index.PackKey(w);
  std::string at = key + " @" + std::to_string(w.offset) + ": ";
  Result<Buffer> header = repo.store().Get(key, w.offset, pack::kFrameHeaderSize);
  if (!header.ok()) {
    if (header.status().IsNotFound()) return ReadProblem(header.status(), key);
    return at + header.status().message();
  }
  Result<size_t> size = pack::FrameSize(*header);
  if (!size.ok()) return at + size.status().message();
  if (*size != w.length)
    return at + "a frame of " + std::to_string(*size) + " bytes where the index records " +
           std::to_string(w.length);
  ChunkId held = ChunkId::FromSpan(ByteSpan(*header).subspan(kIdOffset, ChunkId::kSize));
  if (held != id) return at + "holds chunk " + held.ShortHex() + ", not this one";
  pack::EntryHeader h;
  h.kind = static_cast<pack::EntryKind>((*header)[0]);
  h.flags = static_cast<uint8_t>((*header)[1]);
  if (std::optional<std::string> p = IndexDisagrees(h, w)) return at + *p;
  *ref_count = 0;
  for (int i = 0; i < 4; i++)
    *ref_count |= uint32_t{static_cast<uint8_t>((*header)[kRefCountOffset + i])} << (8 * i);
  return std::nullopt;
}

void VerifyPacks(const ReplicaRepo& repo, const IndexCopy& index,
                 const std::vector<std::pair<std::string, uint64_t>>& packs, PackVerdicts* out) {
  std::vector<std::vector<ChunkId>> indexed(index.pack_count());
  index.ForEach([&](const ChunkId& id, const Where& w) { indexed[w.pack].push_back(id); });
  const std::vector<ChunkId> none;
  for (const auto& [key, size] : packs) {
    std::optional<engine::index::PackId> id = PackIdFromKey(key);
    if (!id) {
      out->notes.push_back(key + ": not named as a pack; not read");
      continue;
    }
    std::optional<uint32_t> n = index.PackNumber(*id);
    const std::vector<ChunkId>& here = n ? indexed[*n] : none;
    Result<Buffer> bytes = repo.store().Get(key);
    if (!bytes.ok()) {
      for (const ChunkId& c : here) out->damaged[c] = ReadProblem(bytes.status(), key);
      continue;
    }
    out->packs_read++;
    out->bytes_read += bytes->size();
    VerifyPack(index, key, *bytes, here, out);
  }
}

void MarkMissingPacks(const IndexCopy& index,
                      const std::vector<std::pair<std::string, uint64_t>>& packs,
                      PackVerdicts* out) {
  std::vector<bool> listed(index.pack_count(), false);
  for (const auto& [key, size] : packs) {
    std::optional<engine::index::PackId> id = PackIdFromKey(key);
    std::optional<uint32_t> n = id ? index.PackNumber(*id) : std::nullopt;
    if (n) listed[*n] = true;
  }
  index.ForEach([&](const ChunkId& id, const Where& w) {
    if (!listed[w.pack]) out->damaged[id] = "pack " + index.PackKey(w) + " is missing";
  });
}

}  // namespace snap::replicator::server
