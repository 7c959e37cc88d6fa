#include "engine/repo/key_file.h"

#include <cstring>

#include "engine/codec/checksummed.h"
#include "engine/codec/varint.h"

namespace snap::engine::repo {
namespace {

constexpr std::string_view kMagic(kKeyFileMagic, sizeof kKeyFileMagic);
constexpr size_t kKeysSize = 3 * 32;
constexpr std::string_view kAadLabel = "snapctl-keys-v1:";

Buffer KeysAad(ByteSpan repo_id) {
  Buffer aad = ToBuffer(kAadLabel);
  Append(&aad, repo_id);
  return aad;
}

Buffer SerializeKeys(const MasterKeys& k) {
  Buffer b;
  Append(&b, k.seal);
  Append(&b, k.id);
  Append(&b, k.gear_seed);
  return b;
}

MasterKeys ParseKeys(ByteSpan b) {  // REQUIRES: b.size() == kKeysSize
  MasterKeys k;
  std::memcpy(k.seal.data(), b.data(), 32);
  std::memcpy(k.id.data(), b.data() + 32, 32);
  std::memcpy(k.gear_seed.data(), b.data() + 64, 32);
  return k;
}

}  // namespace

MasterKeys MasterKeys::Generate() {
  return {codec::RandomKey(), codec::RandomKey(), codec::RandomKey()};
}

void KeyFile::EncodeTo(Buffer* out) const {
  size_t start = codec::BeginChecksummed(out, kMagic);
  codec::Encoder e(out);
  e.PutVarint(kKeyFileVersion);
  e.PutU8(static_cast<uint8_t>(wrap));
  e.PutVarint(scrypt.n);
  e.PutVarint(scrypt.r);
  e.PutVarint(scrypt.p);
  e.PutRaw(salt);
  e.PutBytes(blob);
  codec::EndChecksummed(out, start);
}

Result<KeyFile> KeyFile::Decode(ByteSpan in) {
  SNAP_ASSIGN_OR_RETURN(ByteSpan body, codec::OpenChecksummed(in, kMagic, "key file"));
  codec::Decoder d(body);
  KeyFile k;
  uint32_t version = 0;
  uint8_t wrap = 0;
  ByteSpan salt;
  std::string blob;
  if (!d.GetVarint32(&version)) return Status::Corruption("key file: truncated");
  if (version != kKeyFileVersion)
    return Status::NotSupported("key file: version " + std::to_string(version) + " unknown");
  if (!d.GetU8(&wrap) || !d.GetVarint(&k.scrypt.n) || !d.GetVarint32(&k.scrypt.r) ||
      !d.GetVarint32(&k.scrypt.p) || !d.GetRaw(16, &salt) || !d.GetString(&blob, 1024) ||
      !d.done())
    return Status::Corruption("key file: truncated or trailing bytes");
  if (wrap > 2) return Status::Corruption("key file: unknown wrap kind");
  k.wrap = static_cast<WrapKind>(wrap);
  std::memcpy(k.salt.data(), salt.data(), 16);
  k.blob = ToBuffer(blob);
  return k;
}

KeyFile KeyFile::Wrap(const MasterKeys& keys, WrapKind wrap, const codec::Key256& kek,
                      ByteSpan repo_id) {
  KeyFile k;
  k.wrap = wrap;
  Buffer plain = SerializeKeys(keys);
  if (wrap == WrapKind::kClear) {
    k.blob = std::move(plain);
  } else {
    codec::Sealer(kek).Seal(plain, KeysAad(repo_id), &k.blob);
  }
  return k;
}

Result<MasterKeys> KeyFile::Unwrap(const codec::Key256& kek, ByteSpan repo_id) const {
  if (wrap == WrapKind::kClear) {
    if (blob.size() != kKeysSize) return Status::Corruption("key file: bad key length");
    return ParseKeys(blob);
  }
  Result<Buffer> plain = codec::Sealer(kek).Open(blob, KeysAad(repo_id));
  if (!plain.ok() || plain->size() != kKeysSize)
    return Status::InvalidArgument(
        "key file: wrong passphrase or key file (the key does not open this repository)");
  return ParseKeys(*plain);
}

std::string EncodeKekFile(const codec::Key256& kek) { return ToHex(kek) + "\n"; }

Result<codec::Key256> DecodeKekFile(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  Buffer b;
  if (text.size() != 64 || !FromHex(text, &b))
    return Status::InvalidArgument("key file: expected 64 hex digits");
  codec::Key256 k;
  std::memcpy(k.data(), b.data(), 32);
  return k;
}

}  // namespace snap::engine::repo
