#include "engine/codec/checksummed.h"

#include <algorithm>
#include <string>

#include "engine/codec/checksum.h"
#include "engine/codec/varint.h"

namespace snap::engine::codec {
namespace {

constexpr size_t kChecksumSize = 8;

Status Corrupt(std::string_view what, std::string_view problem) {
  std::string msg(what);
  msg += ": ";
  msg += problem;
  return Status::Corruption(msg);
}

}  // namespace

size_t BeginChecksummed(Buffer* out, std::string_view magic) {
  size_t start = out->size();
  Append(out, AsBytes(magic));
  return start;
}

void EndChecksummed(Buffer* out, size_t start) {
  uint64_t sum = Xxh3(ByteSpan(*out).subspan(start));
  Encoder(out).PutFixed64(sum);
}

Result<ByteSpan> OpenChecksummed(ByteSpan in, std::string_view magic, std::string_view what,
                                 std::string_view bad_magic) {
  // A short input is reported as bad magic: it is not this object at all.
  if (in.size() < magic.size() + kChecksumSize ||
      !std::equal(magic.begin(), magic.end(), AsChars(in).begin())) {
    return Corrupt(what, bad_magic);
  }
  ByteSpan framed = in.first(in.size() - kChecksumSize);
  uint64_t sum = 0;
  (void)Decoder(in.last(kChecksumSize)).GetFixed64(&sum);
  if (Xxh3(framed) != sum) return Corrupt(what, "checksum mismatch");
  return framed.subspan(magic.size());
}

}  // namespace snap::engine::codec
