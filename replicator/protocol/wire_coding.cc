#include "replicator/protocol/wire_coding.h"

#include "replicator/protocol/messages.h"

namespace snap::replicator::protocol {

using engine::Buffer;
using engine::ByteSpan;
using engine::ChunkId;
using engine::Status;

void PutU8(uint8_t v, Buffer* out) { out->push_back(std::byte{v}); }

void PutU32(uint32_t v, Buffer* out) {
  for (int i = 0; i < 4; ++i) out->push_back(std::byte(v >> (8 * i)));
}

void PutU64(uint64_t v, Buffer* out) {
  for (int i = 0; i < 8; ++i) out->push_back(std::byte(v >> (8 * i)));
}

void PutString(std::string_view s, Buffer* out) {
  if (s.size() > kMaxStringLength) {
    size_t n = kMaxStringLength;
    // Back up over continuation bytes (10xxxxxx) so no character is split.
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
  }
  PutU32(static_cast<uint32_t>(s.size()), out);
  engine::Append(out, engine::AsBytes(s));
}

Status BodyReader::Raw(const char* field, size_t n, ByteSpan* b) {
  if (n > remaining()) {
    return Fail(field, "truncated (" + std::to_string(n) + " bytes wanted, " +
                           std::to_string(remaining()) + " left)");
  }
  *b = in_.subspan(pos_, n);
  pos_ += n;
  return Status::OK();
}

Status BodyReader::U8(const char* field, uint8_t* v) {
  ByteSpan b;
  SNAP_RETURN_IF_ERROR(Raw(field, 1, &b));
  *v = std::to_integer<uint8_t>(b[0]);
  return Status::OK();
}

Status BodyReader::U32(const char* field, uint32_t* v) {
  ByteSpan b;
  SNAP_RETURN_IF_ERROR(Raw(field, 4, &b));
  *v = 0;
  for (int i = 3; i >= 0; --i) *v = (*v << 8) | std::to_integer<uint32_t>(b[i]);
  return Status::OK();
}

Status BodyReader::U64(const char* field, uint64_t* v) {
  ByteSpan b;
  SNAP_RETURN_IF_ERROR(Raw(field, 8, &b));
  *v = 0;
  for (int i = 7; i >= 0; --i) *v = (*v << 8) | std::to_integer<uint64_t>(b[i]);
  return Status::OK();
}

Status BodyReader::Id(const char* field, ChunkId* id) {
  ByteSpan b;
  SNAP_RETURN_IF_ERROR(Raw(field, ChunkId::kSize, &b));
  *id = ChunkId::FromSpan(b);
  return Status::OK();
}

Status BodyReader::String(const char* field, std::string* s) {
  uint32_t len = 0;
  SNAP_RETURN_IF_ERROR(U32(field, &len));
  if (len > kMaxStringLength) {
    return Fail(field, "length " + std::to_string(len) + " exceeds " +
                           std::to_string(kMaxStringLength));
  }
  ByteSpan b;
  SNAP_RETURN_IF_ERROR(Raw(field, len, &b));
  s->assign(engine::AsChars(b));
  return Status::OK();
}

Status BodyReader::Done() const {
  if (remaining() == 0) return Status::OK();
  return Status::Corruption(std::string(message_) + ": " + std::to_string(remaining()) +
                            " trailing bytes");
}

Status BodyReader::Fail(std::string_view field, std::string_view what) const {
  return Status::Corruption(std::string(message_) + ": " + std::string(field) + " " +
                            std::string(what));
}

}  // namespace snap::replicator::protocol
