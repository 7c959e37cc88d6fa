// GcRecord encoding (FORMAT.md "Garbage collection") and listing.
#include "engine/gc/gc_record.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "engine/codec/checksummed.h"
#include "engine/codec/varint.h"

namespace snap::engine::gc {
namespace {

constexpr std::string_view kMagic = "SNAPGCRC";  // On disk.

void PutList(codec::Encoder* enc, const std::vector<PackId>& packs) {
  enc->PutVarint(packs.size());
  for (const PackId& p : packs) enc->PutRaw(p);
}

bool GetList(codec::Decoder* dec, std::vector<PackId>* packs) {
  uint64_t n = 0;
  if (!dec->GetVarint(&n) || n > kMaxPacksPerList || n > dec->remaining() / 32) return false;
  packs->resize(n);
  for (PackId& p : *packs) {
    ByteSpan raw;
    if (!dec->GetRaw(p.size(), &raw)) return false;
    std::copy(raw.begin(), raw.end(), p.begin());
  }
  return true;
}

}  // namespace

void GcRecord::EncodeTo(Buffer* out) const {
  size_t start = codec::BeginChecksummed(out, kMagic);
  codec::Encoder enc(out);
  enc.PutVarint(kGcRecordVersion);
  enc.PutSignedVarint(time_ns);
  for (const auto* list : {&condemned, &replaced, &added, &deleted, &restored})
    PutList(&enc, *list);
  codec::EndChecksummed(out, start);
}

Result<GcRecord> GcRecord::Decode(ByteSpan in) {
  SNAP_ASSIGN_OR_RETURN(ByteSpan body, codec::OpenChecksummed(in, kMagic, "gc record"));
  codec::Decoder dec(body);
  uint64_t version = 0;
  if (!dec.GetVarint(&version)) return Status::Corruption("gc record: truncated version");
  if (version != kGcRecordVersion)
    return Status::NotSupported("gc record: version " + std::to_string(version) +
                                " is not supported by this snapctl");
  GcRecord r;
  if (!dec.GetSignedVarint(&r.time_ns)) return Status::Corruption("gc record: truncated time");
  const char* names[] = {"condemned", "replaced", "added", "deleted", "restored"};
  std::vector<PackId>* lists[] = {&r.condemned, &r.replaced, &r.added, &r.deleted, &r.restored};
  for (int i = 0; i < 5; ++i)
    if (!GetList(&dec, lists[i]))
      return Status::Corruption(std::string("gc record: bad list of ") + names[i] + " packs");
  if (!dec.done()) return Status::Corruption("gc record: trailing bytes");
  return r;
}

std::string GcRecordKey(int64_t time_ns, uint32_t random) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%020lld-%08x", kGcPrefix, static_cast<long long>(time_ns),
                random);
  return buf;
}

int64_t GcRecordKeyTime(std::string_view key) {
  std::string_view prefix = kGcPrefix;
  if (!key.starts_with(prefix) || key.size() != prefix.size() + 29 || key[prefix.size() + 20] != '-')
    return -1;
  int64_t t = 0;
  for (char c : key.substr(prefix.size(), 20)) {
    if (c < '0' || c > '9') return -1;
    t = t * 10 + (c - '0');
  }
  for (char c : key.substr(prefix.size() + 21))
    if (!std::isxdigit(static_cast<unsigned char>(c))) return -1;
  return t;
}

Result<std::vector<NamedGcRecord>> ReadGcRecords(const store::ObjectStore& store,
                                                 std::string_view after) {
  std::vector<std::string> keys;
  SNAP_RETURN_IF_ERROR(store.List(kGcPrefix, [&](std::string_view key, uint64_t) {
    if (GcRecordKeyTime(key) >= 0 && key > after) keys.emplace_back(key);
    return Status::OK();
  }));
  std::sort(keys.begin(), keys.end());
  std::vector<NamedGcRecord> out;
  for (const std::string& key : keys) {
    Result<Buffer> bytes = store.Get(key);
    if (bytes.status().IsNotFound()) continue;  // withdrawn by its run (FORMAT.md)
    if (!bytes.ok()) return bytes.status().WithContext(key);
    Result<GcRecord> r = GcRecord::Decode(*bytes);
    if (!r.ok()) return r.status().WithContext(key);
    out.push_back({key, std::move(*r)});
  }
  return out;
}

}  // namespace snap::engine::gc
