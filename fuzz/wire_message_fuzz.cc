// libFuzzer target for the replication wire decoders (replicator/protocol/
// messages.h). The first byte is a message type as on the wire, the rest is
// that message's body, given to the type's decoder. Each encoding is
// canonical, so whatever decodes must re-encode to exactly the same bytes.
#include <cstddef>
#include <cstdint>

#include "engine/pack/pack_format.h"
#include "engine/repo/config.h"
#include "fuzz/fuzz_support.h"
#include "replicator/protocol/messages.h"

namespace {

using namespace snap::replicator::protocol;
using snap::engine::Buffer;
using snap::engine::ByteSpan;

void Check(bool ok, const char* what) { snap::fuzz::Check(ok, "wire_message_fuzz", what); }

template <typename T>
void RoundTrip(ByteSpan body) {
  Result<T> v = T::Decode(body);
  if (!v.ok()) {
    Check(v.status().IsCorruption(), "a decoder failed with another code than Corruption");
    return;
  }
  Buffer again;
  v->EncodeTo(&again);
  Check(ByteSpan(again).size() == body.size() &&
            std::equal(again.begin(), again.end(), body.begin()),
        "a decoded body does not re-encode to the same bytes");
}

// Frames and configs are the engine's own objects (their own targets go
// deeper, with checksums repaired); here they only must not crash.
void FrameBody(ByteSpan body) {
  auto frame = snap::engine::pack::DecodeFrame(body);
  if (!frame.ok()) return;
  Buffer again;
  snap::engine::pack::EncodeFrame(frame->header, frame->payload, &again);
  Check(std::equal(again.begin(), again.end(), body.begin(), body.end()),
        "a decoded frame does not re-encode to the same bytes");
}

void DecodeBody(MessageType type, ByteSpan body) {
  switch (type) {
    case MessageType::kHello: return RoundTrip<Hello>(body);
    case MessageType::kWelcome: return RoundTrip<Welcome>(body);
    case MessageType::kError: return RoundTrip<Error>(body);
    case MessageType::kHave:
    case MessageType::kGetChunks: return RoundTrip<IdList>(body);
    case MessageType::kHaveReply: return RoundTrip<HaveReply>(body);
    case MessageType::kGetSnapshot:
    case MessageType::kMissing: return RoundTrip<IdMessage>(body);
    case MessageType::kCommitSnapshot:
    case MessageType::kSnapshot: return RoundTrip<SnapshotObjectMessage>(body);
    case MessageType::kCommitted: return RoundTrip<Committed>(body);
    case MessageType::kSnapshotList: return RoundTrip<SnapshotList>(body);
    case MessageType::kFrame: return FrameBody(body);
    case MessageType::kPutConfig:
    case MessageType::kConfig: (void)snap::engine::repo::Config::Decode(body); return;
    case MessageType::kGetConfig:
    case MessageType::kListSnapshots:
    case MessageType::kBye: return;  // empty bodies: nothing to decode
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto type = static_cast<MessageType>(data[0]);
  if (MessageTypeName(type) == std::string_view("UNKNOWN")) return 0;
  DecodeBody(type, ByteSpan(reinterpret_cast<const std::byte*>(data) + 1, size - 1));
  return 0;
}
