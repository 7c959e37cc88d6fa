// Glob patterns for --exclude and --include, matched against a path
// relative to a source root ("www/cache/a.jpg").
//
//   *   any run of characters except '/'     ?    one character except '/'
//   **  any run of characters including '/'  [a-z] [!a-z]  a class
//   A pattern without '/' matches the last component at any depth
//   ("*.tmp"); one with '/' matches the whole relative path ("cache/**");
//   a leading '/' is ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace snap::engine::capture {

bool GlobMatch(std::string_view pattern, std::string_view path);

class GlobSet {
 public:
  GlobSet() = default;
  explicit GlobSet(std::vector<std::string> patterns);
  bool empty() const { return patterns_.empty(); }
  // True when any pattern matches `rel_path`.
  bool Matches(std::string_view rel_path) const;

 private:
  std::vector<std::string> patterns_;
};

}  // namespace snap::engine::capture
