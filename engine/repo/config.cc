#include "engine/repo/config.h"

#include <cstring>

#include "engine/codec/checksummed.h"
#include "engine/codec/varint.h"

namespace snap::engine::repo {
namespace {

constexpr std::string_view kMagic(kConfigMagic, sizeof kConfigMagic);

void PutParams(codec::Encoder& e, const chunk::ChunkerParams& p) {
  e.PutVarint(p.min_size);
  e.PutVarint(p.avg_size);
  e.PutVarint(p.max_size);
}

bool GetParams(codec::Decoder& d, chunk::ChunkerParams* p) {
  return d.GetVarint32(&p->min_size) && d.GetVarint32(&p->avg_size) &&
         d.GetVarint32(&p->max_size);
}

}  // namespace

void Config::EncodeTo(Buffer* out) const {
  size_t start = codec::BeginChecksummed(out, kMagic);
  codec::Encoder e(out);
  e.PutVarint(version);
  e.PutRaw(repo_id);
  e.PutU8(encrypted ? 1 : 0);
  PutParams(e, file_chunking);
  PutParams(e, dump_chunking);
  e.PutSignedVarint(zstd_level);
  e.PutVarint(pack_target_size);
  codec::EndChecksummed(out, start);
}

Result<Config> Config::Decode(ByteSpan in) {
  SNAP_ASSIGN_OR_RETURN(
      ByteSpan body,
      codec::OpenChecksummed(in, kMagic, "config", "not a snapctl repository config (bad magic)"));
  codec::Decoder d(body);
  Config c;
  uint8_t enc = 0;
  ByteSpan id;
  int64_t level = 0;
  if (!d.GetVarint32(&c.version)) return Status::Corruption("config: truncated");
  if (c.version != kConfigVersion)
    return Status::NotSupported("config: version " + std::to_string(c.version) +
                                " is not understood by this snapctl");
  if (!d.GetRaw(16, &id) || !d.GetU8(&enc) || !GetParams(d, &c.file_chunking) ||
      !GetParams(d, &c.dump_chunking) || !d.GetSignedVarint(&level) ||
      !d.GetVarint32(&c.pack_target_size) || !d.done())
    return Status::Corruption("config: truncated or trailing bytes");
  std::memcpy(c.repo_id.data(), id.data(), 16);
  c.encrypted = enc == 1;
  c.zstd_level = static_cast<int32_t>(level);
  if (enc > 1 || level < 1 || level > 19 || c.pack_target_size < (1u << 20) ||
      c.pack_target_size > (256u << 20))
    return Status::Corruption("config: value out of range");
  SNAP_RETURN_IF_ERROR(c.file_chunking.Validate().WithContext("config: file chunking"));
  SNAP_RETURN_IF_ERROR(c.dump_chunking.Validate().WithContext("config: dump chunking"));
  return c;
}

}  // namespace snap::engine::repo
