// libFuzzer target for MessageReader (replicator/protocol/messages.h).
//
// Input: n u8 | piece sizes u8[n] | stream. The stream is fed in pieces of
// the sizes in turn (a size s feeds s + 1 bytes; n = 0 feeds it whole),
// draining every whole message after each piece. Checks: the messages taken
// out re-encode to exactly the stream's prefix; only unread bytes stay
// buffered; a refused stream had a bad header right where reading stopped.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_support.h"
#include "replicator/protocol/messages.h"

namespace {

using namespace snap::replicator::protocol;
using snap::engine::Buffer;
using snap::engine::ByteSpan;

void Check(bool ok, const char* what) { snap::fuzz::Check(ok, "message_reader_fuzz", what); }

bool BadHeader(ByteSpan header) {
  uint32_t length = 0;
  for (int i = 4; i >= 1; --i) length = (length << 8) | std::to_integer<uint32_t>(header[i]);
  auto type = static_cast<MessageType>(std::to_integer<uint8_t>(header[0]));
  return MessageTypeName(type) == std::string_view("UNKNOWN") || length > kMaxBodyLength;
}

struct Run {
  ByteSpan stream;
  MessageReader reader;
  size_t fed = 0;
  size_t consumed = 0;  // bytes of the messages taken out
  bool refused = false;

  // Takes out every whole message; false once the reader refused the stream.
  bool Drain() {
    for (;;) {
      size_t wanted = reader.BytesWanted();
      Result<std::optional<Message>> m = reader.Next();
      if (!m.ok()) {
        Check(stream.size() - consumed >= kMessageHeaderSize &&
                  BadHeader(stream.subspan(consumed, kMessageHeaderSize)),
              "the reader refused a good header");
        Check(wanted == 0, "BytesWanted was not 0 before a refused header");
        refused = true;
        return false;
      }
      if (!m->has_value()) {
        Check(wanted > 0, "BytesWanted was 0 but no message came");
        return true;
      }
      Check(wanted == 0, "a message came while BytesWanted was not 0");
      Buffer again;
      EncodeMessage((*m)->type, (*m)->body, &again);
      Check(again.size() <= stream.size() - consumed &&
                std::equal(again.begin(), again.end(), stream.begin() + consumed),
            "a message does not re-encode to the bytes it came from");
      consumed += again.size();
    }
  }

  void CheckBounded() const {
    Check(reader.buffered() == fed - consumed, "buffered() is not the unread bytes");
    Check(reader.buffered() + reader.BytesWanted() <= kMessageHeaderSize + kMaxBodyLength,
          "the reader waits for more than one bounded message");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t n = std::min<size_t>(data[0], size - 1);
  const uint8_t* sizes = data + 1;
  Run run;
  run.stream = ByteSpan(reinterpret_cast<const std::byte*>(data) + 1 + n, size - 1 - n);
  for (size_t i = 0; run.fed < run.stream.size(); ++i) {
    size_t piece = n == 0 ? run.stream.size() : size_t{sizes[i % n]} + 1;
    piece = std::min(piece, run.stream.size() - run.fed);
    run.reader.Feed(run.stream.subspan(run.fed, piece));
    run.fed += piece;
    if (!run.Drain()) break;
    run.CheckBounded();
  }
  if (!run.refused) {
    Check(run.stream.size() - run.consumed == run.reader.buffered(),
          "bytes were lost at the end of the stream");
  }
  return 0;
}
