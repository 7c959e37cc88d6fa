// MessageReader: splits a byte stream into messages. It judges a header as
// soon as its 5 bytes are there, so a hostile length or type ends the
// stream before any of the body is buffered.
#include "replicator/protocol/messages.h"

#include <algorithm>

namespace snap::replicator::protocol {

namespace {

// After a large message the buffer's capacity is given back, so an idle
// connection does not keep up to kMaxBodyLength of memory.
constexpr size_t kKeepCapacity = 1 << 20;

bool IsKnownType(uint8_t t) {
  return MessageTypeName(static_cast<MessageType>(t)) != std::string_view("UNKNOWN");
}

uint32_t BodyLength(const std::byte* header) {
  uint32_t v = 0;
  for (int i = 4; i >= 1; --i) v = (v << 8) | std::to_integer<uint32_t>(header[i]);
  return v;
}

// REQUIRES: header points at kMessageHeaderSize bytes.
bool IsBadHeader(const std::byte* header) {
  return !IsKnownType(std::to_integer<uint8_t>(header[0])) || BodyLength(header) > kMaxBodyLength;
}

}  // namespace

void MessageReader::Feed(ByteSpan bytes) {
  // A refused stream is dead: keeping what follows would only grow memory.
  if (buffered() >= kMessageHeaderSize && IsBadHeader(buf_.data() + pos_)) return;
  // Drop what Next() consumed, so the buffer holds only unread bytes.
  if (pos_ > 0) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(pos_));
    pos_ = 0;
    if (buf_.capacity() > kKeepCapacity && (buf_.size() + bytes.size()) * 4 < buf_.capacity()) {
      buf_.shrink_to_fit();
    }
  }
  engine::Append(&buf_, bytes);
}

Result<std::optional<Message>> MessageReader::Next() {
  if (buffered() < kMessageHeaderSize) return std::optional<Message>();
  const std::byte* header = buf_.data() + pos_;
  uint8_t type = std::to_integer<uint8_t>(header[0]);
  uint32_t length = BodyLength(header);
  if (!IsKnownType(type)) {
    return Status::Corruption("message header: unknown type " + std::to_string(type));
  }
  if (length > kMaxBodyLength) {
    return Status::Corruption(std::string("message header: ") +
                              MessageTypeName(static_cast<MessageType>(type)) + " body length " +
                              std::to_string(length) + " exceeds " +
                              std::to_string(kMaxBodyLength));
  }
  if (buffered() - kMessageHeaderSize < length) return std::optional<Message>();
  Message m;
  m.type = static_cast<MessageType>(type);
  if (pos_ == 0 && buf_.size() == kMessageHeaderSize + length && length >= kKeepCapacity) {
    // The buffer is this large message alone (read to the byte, as
    // BytesWanted() suggests): hand it over rather than hold it twice.
    buf_.erase(buf_.begin(), buf_.begin() + kMessageHeaderSize);
    m.body = std::move(buf_);
    buf_ = Buffer();
    return std::optional<Message>(std::move(m));
  }
  const std::byte* body = header + kMessageHeaderSize;
  m.body.assign(body, body + length);
  pos_ += kMessageHeaderSize + length;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
    if (buf_.capacity() > kKeepCapacity) Buffer().swap(buf_);
  }
  return std::optional<Message>(std::move(m));
}

size_t MessageReader::BytesWanted() const {
  if (buffered() < kMessageHeaderSize) return kMessageHeaderSize - buffered();
  const std::byte* header = buf_.data() + pos_;
  // A bad header is "ready": the next Next() reports it.
  if (IsBadHeader(header)) return 0;
  size_t whole = kMessageHeaderSize + size_t{BodyLength(header)};
  return whole > buffered() ? whole - buffered() : 0;
}

}  // namespace snap::replicator::protocol
