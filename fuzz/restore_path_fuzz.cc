// libFuzzer target for the path checks a restore relies on: IsValidName
// (tree entry names) and GlobMatch (--exclude/--include patterns). The input
// is "pattern NUL path"; without a NUL it serves as both. Names and globs
// come from hostile snapshots and long paths, so besides not crashing, a
// match must not take super-linear time: run with -timeout to catch that.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "engine/capture/glob.h"
#include "engine/snapshot/tree.h"

namespace {

using snap::engine::capture::GlobMatch;
using snap::engine::snapshot::IsValidName;
using snap::engine::snapshot::kMaxNameLength;

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "restore_path_fuzz: %s\n", what);
  __builtin_trap();
}

// tree.h's contract for IsValidName, spelled out independently.
bool ExpectValidName(std::string_view n) {
  return !n.empty() && n != "." && n != ".." && n.size() <= kMaxNameLength &&
         n.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

void CheckNames(std::string_view path) {
  Check(IsValidName(path) == ExpectValidName(path), "IsValidName disagrees with its contract");
  size_t start = 0;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    std::string_view part = path.substr(start, i - start);
    Check(IsValidName(part) == ExpectValidName(part), "IsValidName disagrees on a component");
    start = i + 1;
  }
}

// A pattern that escapes every character matches exactly its text.
std::string Escaped(std::string_view s) {
  std::string out;
  for (char c : s) (out += '\\') += c;
  return out;
}

bool IsLiteral(std::string_view p) {
  return !p.starts_with('/') && p.find_first_of("*?[\\") == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nul = in.find('\0');
  std::string_view pattern = in.substr(0, nul);
  std::string_view path = nul == std::string_view::npos ? in : in.substr(nul + 1);
  CheckNames(path);
  (void)GlobMatch(pattern, path);
  if (IsLiteral(pattern)) Check(GlobMatch(pattern, pattern), "a literal does not match itself");
  Check(GlobMatch(Escaped(path), path), "an escaped path does not match itself");
  return 0;
}
