#include "engine/codec/varint.h"

#include <cstring>

namespace snap::engine::codec {

void Encoder::PutU8(uint8_t v) { out_->push_back(static_cast<std::byte>(v)); }

void Encoder::PutFixed32(uint32_t v) {
  for (int i = 0; i < 4; ++i) out_->push_back(static_cast<std::byte>(v >> (8 * i)));
}

void Encoder::PutFixed64(uint64_t v) {
  for (int i = 0; i < 8; ++i) out_->push_back(static_cast<std::byte>(v >> (8 * i)));
}

void Encoder::PutVarint(uint64_t v) {
  // Into a local array, then one append: trees and cache entries are mostly
  // varints, and a push_back per byte checked the capacity per byte.
  std::byte b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<std::byte>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<std::byte>(v);
  out_->insert(out_->end(), b, b + n);
}

void Encoder::PutSignedVarint(int64_t v) {
  PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void Encoder::PutBytes(ByteSpan b) {
  PutVarint(b.size());
  PutRaw(b);
}

void Encoder::PutRaw(ByteSpan b) { out_->insert(out_->end(), b.begin(), b.end()); }

bool Decoder::GetU8(uint8_t* v) {
  if (!ok_ || remaining() < 1) return Fail();
  *v = static_cast<uint8_t>(in_[pos_++]);
  return true;
}

bool Decoder::GetFixed32(uint32_t* v) {
  if (!ok_ || remaining() < 4) return Fail();
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r |= static_cast<uint32_t>(in_[pos_ + i]) << (8 * i);
  pos_ += 4;
  *v = r;
  return true;
}

bool Decoder::GetFixed64(uint64_t* v) {
  if (!ok_ || remaining() < 8) return Fail();
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r |= static_cast<uint64_t>(in_[pos_ + i]) << (8 * i);
  pos_ += 8;
  *v = r;
  return true;
}

bool Decoder::GetVarint(uint64_t* v) {
  if (!ok_) return false;
  uint64_t r = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= in_.size()) return Fail();
    auto b = static_cast<uint8_t>(in_[pos_++]);
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (shift == 63 && b > 1) return Fail();
    // Only the shortest encoding is accepted: one value, one byte string.
    if (b == 0 && shift > 0) return Fail();
    r |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = r;
      return true;
    }
  }
  return Fail();
}

bool Decoder::GetVarint32(uint32_t* v) {
  uint64_t r;
  if (!GetVarint(&r)) return false;
  if (r > 0xffffffffu) return Fail();
  *v = static_cast<uint32_t>(r);
  return true;
}

bool Decoder::GetSignedVarint(int64_t* v) {
  uint64_t r;
  if (!GetVarint(&r)) return false;
  *v = static_cast<int64_t>((r >> 1) ^ (~(r & 1) + 1));
  return true;
}

bool Decoder::GetString(std::string* s, size_t max_len) {
  uint64_t n;
  if (!GetVarint(&n)) return false;
  if (n > max_len || n > remaining()) return Fail();
  s->assign(reinterpret_cast<const char*>(in_.data() + pos_), n);
  pos_ += n;
  return true;
}

bool Decoder::GetRaw(size_t n, ByteSpan* b) {
  if (!ok_ || n > remaining()) return Fail();
  *b = in_.subspan(pos_, n);
  pos_ += n;
  return true;
}

bool Decoder::GetId(ChunkId* id) {
  ByteSpan b;
  if (!GetRaw(ChunkId::kSize, &b)) return false;
  *id = ChunkId::FromSpan(b);
  return true;
}

}  // namespace snap::engine::codec
