#include "engine/gc/pack_footer.h"

#include <algorithm>

namespace snap::engine::gc {
namespace {

Result<std::vector<pack::PackEntry>> FromFooter(const store::ObjectStore& store,
                                                const std::string& key, uint64_t size) {
  if (size < pack::kPackHeaderSize + pack::kTrailerSize) return Status::Corruption("pack too short");
  SNAP_ASSIGN_OR_RETURN(Buffer trailer,
                        store.Get(key, size - pack::kTrailerSize, pack::kTrailerSize));
  SNAP_ASSIGN_OR_RETURN(uint32_t flen, pack::DecodeTrailer(trailer));
  if (uint64_t{flen} + pack::kTrailerSize > size) return Status::Corruption("footer overruns");
  SNAP_ASSIGN_OR_RETURN(Buffer tail, store.Get(key, size - flen - pack::kTrailerSize));
  return pack::DecodeFooter(tail, size);
}

}  // namespace

Result<PackEntries> ReadPackEntries(const store::ObjectStore& store, const std::string& key,
                                    uint64_t size) {
  Result<std::vector<pack::PackEntry>> footer = FromFooter(store, key, size);
  if (footer.ok()) return PackEntries{std::move(*footer), true};
  if (footer.status().IsNotFound()) return footer.status();
  SNAP_ASSIGN_OR_RETURN(Buffer whole, store.Get(key));
  PackEntries out;
  Status scan = pack::ScanFrames(whole, [&](const pack::PackEntry& e, const pack::DecodedFrame&) {
    out.entries.push_back(e);
  });
  // A damaged footer also ends the scan with an error: the frames were all
  // delivered then, but nothing tells that apart from a damaged frame.
  out.complete = scan.ok();
  return out;
}

Result<PackEntries> ReadPackEntries(const store::ObjectStore& store, const std::string& key) {
  SNAP_ASSIGN_OR_RETURN(uint64_t size, store.Head(key));
  return ReadPackEntries(store, key, size);
}

std::optional<index::PackId> PackIdOfKey(std::string_view key) {
  constexpr std::string_view kPrefix = "packs/";
  if (!key.starts_with(kPrefix) || key.size() != kPrefix.size() + 3 + 64) return std::nullopt;
  std::string_view hex = key.substr(kPrefix.size() + 3);
  if (key.substr(kPrefix.size(), 2) != hex.substr(0, 2) || key[kPrefix.size() + 2] != '/')
    return std::nullopt;
  Buffer b;
  if (!FromHex(hex, &b)) return std::nullopt;
  index::PackId id{};
  if (b.size() != id.size()) return std::nullopt;
  std::copy(b.begin(), b.end(), id.begin());
  return id;
}

}  // namespace snap::engine::gc
