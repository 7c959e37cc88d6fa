// Checksummed framing shared by the small whole-file objects (repository
// config, key file, snapshot object; FORMAT.md describes each):
//
//   magic    the object's magic bytes (8 for every object today)
//   body     the object's own fields
//   checksum u64 LE, XXH3-64 over magic and body
//
// Encoding appends to a Buffer; decoding checks a span and hands back a view
// of the body. No I/O; thread-compatible.
#pragma once

#include <cstddef>
#include <string_view>

#include "engine/bytes.h"
#include "engine/result.h"

namespace snap::engine::codec {

// Appends `magic` to *out and returns the offset where the frame starts, to
// be passed to EndChecksummed once the body has been appended.
size_t BeginChecksummed(Buffer* out, std::string_view magic);

// Appends the XXH3-64 of (*out)[start..] as u64 LE, closing the frame.
// REQUIRES: start came from BeginChecksummed on this buffer, and nothing
// before it has changed since.
void EndChecksummed(Buffer* out, size_t start);

// Checks that `in` is exactly one frame: long enough for magic and checksum,
// starting with `magic`, with a checksum that matches. On success returns the
// body (between magic and checksum), a view into `in`. On failure returns
// Corruption("<what>: <bad_magic>") for a short input or a wrong magic, or
// Corruption("<what>: checksum mismatch").
Result<ByteSpan> OpenChecksummed(ByteSpan in, std::string_view magic, std::string_view what,
                                 std::string_view bad_magic = "bad magic");

}  // namespace snap::engine::codec
