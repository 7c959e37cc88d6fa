// Wire messages of the replication protocol (FORMAT.md "Replication
// protocol"). Pure encoding: no sockets, no I/O. Every decoder takes
// untrusted bytes and answers a value or Corruption naming the message and
// the field; none allocates more than the bytes it was given justify.
//
//   message = type u8 | body_length u32 LE | body[body_length]
//
// Inside bodies: fixed-width integers little-endian; `bytes` and `string`
// are a u32 LE length then the bytes; IDs are 32 raw bytes; repository IDs
// 16 raw bytes. A body must be consumed exactly (trailing bytes are
// Corruption). On the wire: never renumber a constant here.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/bytes.h"
#include "engine/chunk_id.h"
#include "engine/result.h"
#include "engine/status.h"

namespace snap::replicator::protocol {

using engine::Buffer;
using engine::ByteSpan;
using engine::ChunkId;
using engine::Result;
using engine::Status;
using RepoId = std::array<std::byte, 16>;

inline constexpr uint32_t kProtocolVersion = 1;  // On the wire.
inline constexpr char kHelloMagic[8] = {'S', 'N', 'A', 'P', 'R', 'P', 'L', 'C'};
inline constexpr size_t kMessageHeaderSize = 5;
// Bounds a receiver enforces before buffering a body. A frame is at most
// 48 + 32 * refs + payload; 96 MiB holds the largest frame a repository
// writes (a 64 MiB payload plus refs) and bounds memory per connection.
inline constexpr uint32_t kMaxBodyLength = 96u << 20;
inline constexpr uint32_t kMaxIdsPerMessage = 65536;
inline constexpr uint32_t kMaxSnapshotsPerList = 1u << 20;
inline constexpr uint32_t kMaxStringLength = 4096;  // names, error messages

// On the wire: never renumber.
enum class MessageType : uint8_t {
  kHello = 1,           // C→S  first message
  kWelcome = 2,         // S→C  answer to Hello
  kError = 3,           // either way; the sender closes after it
  kPutConfig = 10,      // C→S  push: the repository's config object
  kHave = 11,           // C→S  which of these IDs does the replica hold complete?
  kHaveReply = 12,      // S→C  one bit per asked ID
  kFrame = 13,          // C→S  push: one pack frame; S→C answer to GetChunks
  kCommitSnapshot = 14, // C→S  push: a snapshot object, after its chunks
  kCommitted = 15,      // S→C  answer to CommitSnapshot
  kGetConfig = 20,      // C→S  read
  kConfig = 21,         // S→C
  kListSnapshots = 22,  // C→S  read
  kSnapshotList = 23,   // S→C
  kGetSnapshot = 24,    // C→S  read
  kSnapshot = 25,       // S→C
  kGetChunks = 26,      // C→S  read: answered by one kFrame or kMissing per ID, in order
  kMissing = 27,        // S→C
  kBye = 30,            // C→S  clean end of session
};
const char* MessageTypeName(MessageType type);  // "HELLO", ...; "UNKNOWN"

// On the wire: never renumber.
enum class Role : uint8_t {
  kPush = 1,  // owner of the repository: push, and read its own repository
  kRead = 2,  // read-only: list and fetch
};

struct Message {
  MessageType type = MessageType::kBye;
  Buffer body;
};

// Appends one message (header + body) to *out.
void EncodeMessage(MessageType type, ByteSpan body, Buffer* out);

// Incremental reader of messages from a byte stream, like Asio's
// request_parser: feed it what arrived, take whole messages out. Buffers at
// most one message (bounded by kMaxBodyLength) plus what was fed.
// Not thread-safe.
class MessageReader {
 public:
  // Appends bytes that arrived.
  void Feed(ByteSpan bytes);
  // The next whole message; std::nullopt when more bytes are needed;
  // Corruption when the header names an unknown type or a body longer than
  // kMaxBodyLength (the stream is then unusable).
  Result<std::optional<Message>> Next();
  // How many more bytes the message being read needs at least (for sizing
  // reads); 0 when a whole message is ready.
  size_t BytesWanted() const;
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  Buffer buf_;
  size_t pos_ = 0;
};

// ---- bodies ----

struct Hello {
  uint32_t version = kProtocolVersion;
  Role role = Role::kPush;
  RepoId repo_id{};
  std::string client_name;  // host name, for the server's logs; <= kMaxStringLength
  // body: magic[8] | version u32 | role u8 | repo_id[16] | client_name string
  void EncodeTo(Buffer* out) const;
  static Result<Hello> Decode(ByteSpan body);
};

struct Welcome {
  uint32_t version = kProtocolVersion;
  bool repo_exists = false;  // the replica holds this repository's config
  std::string server_name;
  // body: version u32 | repo_exists u8 (0/1) | server_name string
  void EncodeTo(Buffer* out) const;
  static Result<Welcome> Decode(ByteSpan body);
};

struct Error {
  Status::Code code = Status::Code::kAborted;  // never kOk
  std::string message;  // <= kMaxStringLength (longer ones are cut on encode)
  // body: code u8 | message string
  void EncodeTo(Buffer* out) const;
  static Result<Error> Decode(ByteSpan body);
  Status ToStatus() const;  // the same code and message, prefixed "replica: "
};

// A list of IDs: Have, GetChunks. body: count u32 | id[32]*count,
// count <= kMaxIdsPerMessage.
struct IdList {
  std::vector<ChunkId> ids;
  void EncodeTo(Buffer* out) const;
  static Result<IdList> Decode(ByteSpan body);
};

// body: count u32 | bitmap[(count + 7) / 8], bit i (LSB first in byte i/8)
// set when ID i is held complete. Unused high bits must be 0.
struct HaveReply {
  std::vector<bool> have;
  void EncodeTo(Buffer* out) const;
  static Result<HaveReply> Decode(ByteSpan body);
};

// PutConfig, Config: body = the config object's bytes (engine/repo/config.h),
// checked by the receiver with repo::Config::Decode. GetConfig,
// ListSnapshots, Bye: empty body. Frame: body = one pack frame exactly as
// packs hold it (engine/pack/pack_format.h EncodeFrame/DecodeFrame).

// body: id[32]
struct IdMessage {  // GetSnapshot, Missing
  ChunkId id;
  void EncodeTo(Buffer* out) const;
  static Result<IdMessage> Decode(ByteSpan body);
};

// CommitSnapshot and Snapshot. body: id[32] | object bytes (the rest: the
// snapshot object, engine/repo/snapshot_object.h).
struct SnapshotObjectMessage {
  ChunkId id;
  Buffer object;
  void EncodeTo(Buffer* out) const;
  static Result<SnapshotObjectMessage> Decode(ByteSpan body);
};

// body: id[32] | created u8 (1: recorded now, 0: the replica already held it)
struct Committed {
  ChunkId id;
  bool created = false;
  void EncodeTo(Buffer* out) const;
  static Result<Committed> Decode(ByteSpan body);
};

// body: count u32 | per snapshot: id[32] | received_ns i64 | size u32,
// count <= kMaxSnapshotsPerList, in the replica's receive order.
struct SnapshotList {
  struct Entry {
    ChunkId id;
    int64_t received_ns = 0;  // replica clock, when it committed it
    uint32_t size = 0;        // the snapshot object's bytes
    bool operator==(const Entry&) const = default;
  };
  std::vector<Entry> entries;
  void EncodeTo(Buffer* out) const;
  static Result<SnapshotList> Decode(ByteSpan body);
};

}  // namespace snap::replicator::protocol
