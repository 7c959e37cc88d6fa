#include "engine/capture/dir_entries.h"

#include "engine/codec/varint.h"
#include "engine/fs/fs.h"
#include "engine/snapshot/tree.h"

namespace snap::engine::capture {
namespace {

// Bump when what a tree records of an entry changes in a way the stat key
// does not show (a new node field, another rule for atimes or hardlink
// groups): every cached directory is then captured in full once.
constexpr uint64_t kDigestVersion = 1;  // On disk (through the digests).
constexpr std::string_view kDigestTag = "snapctl directory digest";

}  // namespace

bool IsCapturedType(mode_t mode) {
  return S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode) || S_ISFIFO(mode) || S_ISCHR(mode) ||
         S_ISBLK(mode) || S_ISSOCK(mode);
}

void AppendDigestInput(const std::vector<DirEntry>& entries, Buffer* out) {
  out->reserve(out->size() + 64 + entries.size() * 128);  // an entry's key is ~100 bytes
  codec::Encoder enc(out);
  enc.PutString(kDigestTag);
  enc.PutVarint(kDigestVersion);
  enc.PutVarint(snapshot::kTreeVersion);
  enc.PutVarint(entries.size());
  for (const DirEntry& e : entries) {
    fs::AppendStatKey(e.name, e.st, out);
    enc.PutU8(e.subtree ? 1 : 0);
    if (e.subtree) enc.PutId(*e.subtree);
  }
}

}  // namespace snap::engine::capture
