// Encoders and decoders of the wire messages (FORMAT.md "Replication
// protocol"). Decoders check every length against the bytes that remain
// before they reserve or copy anything, so a hostile length costs nothing.
#include "replicator/protocol/messages.h"

#include <algorithm>
#include <cassert>
#include <string_view>

#include "replicator/protocol/wire_coding.h"

namespace snap::replicator::protocol {

using engine::Append;
using engine::AsBytes;
using engine::AsChars;

namespace {

// A bool travels as one byte, 0 or 1; anything else is Corruption.
Status GetBool(BodyReader* in, const char* field, bool* v) {
  uint8_t b = 0;
  SNAP_RETURN_IF_ERROR(in->U8(field, &b));
  if (b > 1) return in->Fail(field, "is " + std::to_string(b) + ", not 0 or 1");
  *v = b == 1;
  return Status::OK();
}

// Reads an ID count and proves that `per_item` bytes each fit in what is
// left, so the caller may reserve `*count` items.
Status GetCount(BodyReader* in, uint32_t max, size_t per_item, uint32_t* count) {
  SNAP_RETURN_IF_ERROR(in->U32("count", count));
  if (*count > max) {
    return in->Fail("count", std::to_string(*count) + " exceeds " + std::to_string(max));
  }
  if (in->remaining() / per_item < *count) {
    return in->Fail("count", std::to_string(*count) + " needs " +
                                 std::to_string(uint64_t{*count} * per_item) + " bytes, " +
                                 std::to_string(in->remaining()) + " left");
  }
  return Status::OK();
}

}  // namespace

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kHello: return "HELLO";
    case MessageType::kWelcome: return "WELCOME";
    case MessageType::kError: return "ERROR";
    case MessageType::kPutConfig: return "PUT_CONFIG";
    case MessageType::kHave: return "HAVE";
    case MessageType::kHaveReply: return "HAVE_REPLY";
    case MessageType::kFrame: return "FRAME";
    case MessageType::kCommitSnapshot: return "COMMIT_SNAPSHOT";
    case MessageType::kCommitted: return "COMMITTED";
    case MessageType::kGetConfig: return "GET_CONFIG";
    case MessageType::kConfig: return "CONFIG";
    case MessageType::kListSnapshots: return "LIST_SNAPSHOTS";
    case MessageType::kSnapshotList: return "SNAPSHOT_LIST";
    case MessageType::kGetSnapshot: return "GET_SNAPSHOT";
    case MessageType::kSnapshot: return "SNAPSHOT";
    case MessageType::kGetChunks: return "GET_CHUNKS";
    case MessageType::kMissing: return "MISSING";
    case MessageType::kBye: return "BYE";
  }
  return "UNKNOWN";
}

void EncodeMessage(MessageType type, ByteSpan body, Buffer* out) {
  assert(body.size() <= kMaxBodyLength);
  PutU8(static_cast<uint8_t>(type), out);
  PutU32(static_cast<uint32_t>(body.size()), out);
  Append(out, body);
}

// ---- Hello ----

void Hello::EncodeTo(Buffer* out) const {
  Append(out, AsBytes(std::string_view(kHelloMagic, sizeof kHelloMagic)));
  PutU32(version, out);
  PutU8(static_cast<uint8_t>(role), out);
  Append(out, repo_id);
  PutString(client_name, out);
}

Result<Hello> Hello::Decode(ByteSpan body) {
  BodyReader in(body, "HELLO");
  ByteSpan magic;
  SNAP_RETURN_IF_ERROR(in.Raw("magic", sizeof kHelloMagic, &magic));
  if (AsChars(magic) != std::string_view(kHelloMagic, sizeof kHelloMagic)) {
    return in.Fail("magic", "not SNAPRPLC");
  }
  Hello h;
  SNAP_RETURN_IF_ERROR(in.U32("version", &h.version));
  uint8_t role = 0;
  SNAP_RETURN_IF_ERROR(in.U8("role", &role));
  if (role != static_cast<uint8_t>(Role::kPush) && role != static_cast<uint8_t>(Role::kRead)) {
    return in.Fail("role", "unknown role " + std::to_string(role));
  }
  h.role = static_cast<Role>(role);
  ByteSpan repo;
  SNAP_RETURN_IF_ERROR(in.Raw("repository ID", h.repo_id.size(), &repo));
  std::copy(repo.begin(), repo.end(), h.repo_id.begin());
  SNAP_RETURN_IF_ERROR(in.String("client name", &h.client_name));
  SNAP_RETURN_IF_ERROR(in.Done());
  return h;
}

// ---- Welcome ----

void Welcome::EncodeTo(Buffer* out) const {
  PutU32(version, out);
  PutU8(repo_exists ? 1 : 0, out);
  PutString(server_name, out);
}

Result<Welcome> Welcome::Decode(ByteSpan body) {
  BodyReader in(body, "WELCOME");
  Welcome w;
  SNAP_RETURN_IF_ERROR(in.U32("version", &w.version));
  SNAP_RETURN_IF_ERROR(GetBool(&in, "repository exists", &w.repo_exists));
  SNAP_RETURN_IF_ERROR(in.String("server name", &w.server_name));
  SNAP_RETURN_IF_ERROR(in.Done());
  return w;
}

// ---- Error ----

void Error::EncodeTo(Buffer* out) const {
  assert(code != Status::Code::kOk);
  PutU8(static_cast<uint8_t>(code), out);
  PutString(message, out);
}

Result<Error> Error::Decode(ByteSpan body) {
  BodyReader in(body, "ERROR");
  uint8_t code = 0;
  SNAP_RETURN_IF_ERROR(in.U8("code", &code));
  if (code < static_cast<uint8_t>(Status::Code::kNotFound) ||
      code > static_cast<uint8_t>(Status::Code::kAborted)) {
    return in.Fail("code", std::to_string(code) + " is not in 1..7");
  }
  Error e;
  e.code = static_cast<Status::Code>(code);
  SNAP_RETURN_IF_ERROR(in.String("message", &e.message));
  SNAP_RETURN_IF_ERROR(in.Done());
  return e;
}

Status Error::ToStatus() const {
  std::string msg = "replica: " + message;
  switch (code) {
    case Status::Code::kNotFound: return Status::NotFound(std::move(msg));
    case Status::Code::kCorruption: return Status::Corruption(std::move(msg));
    case Status::Code::kIOError: return Status::IOError(std::move(msg));
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(std::move(msg));
    case Status::Code::kNotSupported: return Status::NotSupported(std::move(msg));
    case Status::Code::kUnavailable: return Status::Unavailable(std::move(msg));
    case Status::Code::kOk:  // a peer's error is never success
    case Status::Code::kAborted: break;
  }
  return Status::Aborted(std::move(msg));
}

// ---- IdList ----

void IdList::EncodeTo(Buffer* out) const {
  assert(ids.size() <= kMaxIdsPerMessage);
  PutU32(static_cast<uint32_t>(ids.size()), out);
  for (const ChunkId& id : ids) Append(out, id.span());
}

Result<IdList> IdList::Decode(ByteSpan body) {
  BodyReader in(body, "HAVE/GET_CHUNKS");
  uint32_t count = 0;
  SNAP_RETURN_IF_ERROR(GetCount(&in, kMaxIdsPerMessage, ChunkId::kSize, &count));
  IdList list;
  list.ids.resize(count);
  for (ChunkId& id : list.ids) SNAP_RETURN_IF_ERROR(in.Id("id", &id));
  SNAP_RETURN_IF_ERROR(in.Done());
  return list;
}

// ---- HaveReply ----

void HaveReply::EncodeTo(Buffer* out) const {
  assert(have.size() <= kMaxIdsPerMessage);
  PutU32(static_cast<uint32_t>(have.size()), out);
  size_t start = out->size();
  out->resize(start + (have.size() + 7) / 8);
  for (size_t i = 0; i < have.size(); ++i) {
    if (have[i]) (*out)[start + i / 8] |= std::byte{1} << (i % 8);
  }
}

Result<HaveReply> HaveReply::Decode(ByteSpan body) {
  BodyReader in(body, "HAVE_REPLY");
  uint32_t count = 0;
  SNAP_RETURN_IF_ERROR(in.U32("count", &count));
  if (count > kMaxIdsPerMessage) {
    return in.Fail("count", std::to_string(count) + " exceeds " +
                                std::to_string(kMaxIdsPerMessage));
  }
  ByteSpan bits;
  SNAP_RETURN_IF_ERROR(in.Raw("bitmap", (size_t{count} + 7) / 8, &bits));
  SNAP_RETURN_IF_ERROR(in.Done());
  // Unused high bits must be 0, so that each reply has one encoding.
  if (count % 8 != 0 && (std::to_integer<unsigned>(bits.back()) >> (count % 8)) != 0) {
    return in.Fail("bitmap", "unused bits set");
  }
  HaveReply r;
  r.have.resize(count);
  for (size_t i = 0; i < count; ++i) {
    r.have[i] = ((std::to_integer<unsigned>(bits[i / 8]) >> (i % 8)) & 1) != 0;
  }
  return r;
}

// ---- IdMessage ----

void IdMessage::EncodeTo(Buffer* out) const { Append(out, id.span()); }

Result<IdMessage> IdMessage::Decode(ByteSpan body) {
  BodyReader in(body, "GET_SNAPSHOT/MISSING");
  IdMessage m;
  SNAP_RETURN_IF_ERROR(in.Id("id", &m.id));
  SNAP_RETURN_IF_ERROR(in.Done());
  return m;
}

// ---- SnapshotObjectMessage ----

void SnapshotObjectMessage::EncodeTo(Buffer* out) const {
  Append(out, id.span());
  Append(out, object);
}

Result<SnapshotObjectMessage> SnapshotObjectMessage::Decode(ByteSpan body) {
  BodyReader in(body, "COMMIT_SNAPSHOT/SNAPSHOT");
  SnapshotObjectMessage m;
  SNAP_RETURN_IF_ERROR(in.Id("id", &m.id));
  ByteSpan rest;
  SNAP_RETURN_IF_ERROR(in.Raw("object", in.remaining(), &rest));
  m.object.assign(rest.begin(), rest.end());
  return m;
}

// ---- Committed ----

void Committed::EncodeTo(Buffer* out) const {
  Append(out, id.span());
  PutU8(created ? 1 : 0, out);
}

Result<Committed> Committed::Decode(ByteSpan body) {
  BodyReader in(body, "COMMITTED");
  Committed c;
  SNAP_RETURN_IF_ERROR(in.Id("id", &c.id));
  SNAP_RETURN_IF_ERROR(GetBool(&in, "created", &c.created));
  SNAP_RETURN_IF_ERROR(in.Done());
  return c;
}

// ---- SnapshotList ----

namespace {
constexpr size_t kSnapshotEntrySize = ChunkId::kSize + 8 + 4;
}  // namespace

void SnapshotList::EncodeTo(Buffer* out) const {
  assert(entries.size() <= kMaxSnapshotsPerList);
  PutU32(static_cast<uint32_t>(entries.size()), out);
  for (const Entry& e : entries) {
    Append(out, e.id.span());
    PutU64(static_cast<uint64_t>(e.received_ns), out);
    PutU32(e.size, out);
  }
}

Result<SnapshotList> SnapshotList::Decode(ByteSpan body) {
  BodyReader in(body, "SNAPSHOT_LIST");
  uint32_t count = 0;
  SNAP_RETURN_IF_ERROR(GetCount(&in, kMaxSnapshotsPerList, kSnapshotEntrySize, &count));
  SnapshotList list;
  list.entries.resize(count);
  for (Entry& e : list.entries) {
    uint64_t ns = 0;
    SNAP_RETURN_IF_ERROR(in.Id("id", &e.id));
    SNAP_RETURN_IF_ERROR(in.U64("received_ns", &ns));
    SNAP_RETURN_IF_ERROR(in.U32("size", &e.size));
    e.received_ns = static_cast<int64_t>(ns);
  }
  SNAP_RETURN_IF_ERROR(in.Done());
  return list;
}

}  // namespace snap::replicator::protocol
